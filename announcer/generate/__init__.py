"""Stage 5, face generation: move the avatar's mouth, jaw and eyelids to each frame's target landmarks.

The warp renderer bends the avatar's own pixels with a thin-plate spline (torch, batched, on the
configured device), fills the parted lips with the presenter's own mouth interior (their teeth and cavity
from the footage, or teeth rendered in their colours when a photo's mouth is shut; `mouth_interior`
'painted' keeps the old flat cavity for comparison), and pastes the region back with a feathered edge.
Colours match by construction: every pixel comes from the avatar.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..config import GenerateConfig
from ..face import Avatar, FaceTrack, layout
from ..motion import MotionPlan
from .composite import CropBox, crop_margin, feather_mask, paste_into
from .eyes import close_lids, smooth_curve
from .interior import InteriorBank
from .mouth import MouthPalette, PaintedPatch, inner_gap, paint_interior, parting, polygon_alpha
from .preclose import ClosedMouths, close_open_mouths
from .targets import plan_targets
from .warp import border_anchors, warp_crops

log = logging.getLogger(__name__)


class WarpRenderer:
    """Landmark-driven generation by warping. It keeps two caches between clips, both keyed by the avatar: the
    frames whose mouths it has closed (ClosedMouths, bounded in bytes) and each avatar's bank of mouth interiors."""

    name = "warp"

    def __init__(self, config: GenerateConfig, device: torch.device):
        self.config = config
        self.device = device
        self.closed_mouths = ClosedMouths()
        self._banks: dict[tuple, InteriorBank] = {}

    def __call__(self, avatar: Avatar, track: FaceTrack, plan: MotionPlan) -> Iterator[np.ndarray]:
        """Yield batches of finished frames, (B, H, W, 3) uint8 RGB, in order."""
        closed_frames, closed_landmarks = self._close_mouths(avatar, track, plan.source_frame)
        targets = plan_targets(closed_landmarks, plan)
        for frames in self._render(avatar, track, replace(avatar, frames=closed_frames), closed_landmarks,
                                   plan.source_frame, targets, plan.blink):
            yield frames.cpu().numpy()

    def render_landmarks(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray, targets: np.ndarray,
                         interior_frames: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Frames whose landmarks are moved to explicit `targets` (T, 68, 2): evaluation drives real mouths this way.
        `interior_frames`: the avatar frames the mouth interiors may come from (all by default)."""
        for frames in self.landmark_batches_on_device(avatar, track, source_frames, targets, interior_frames):
            yield frames.cpu().numpy()

    def landmark_batches_on_device(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray, targets: np.ndarray,
                                   interior_frames: np.ndarray | None = None) -> Iterator[torch.Tensor]:
        """`render_landmarks`' batches left on the device as (B, H, W, 3) uint8, for a stage that goes on there."""
        closed_frames, closed_landmarks = self._close_mouths(avatar, track, source_frames)
        yield from self._render(avatar, track, replace(avatar, frames=closed_frames), closed_landmarks, source_frames,
                                targets, np.zeros(len(source_frames), np.float32), interior_frames)

    def _close_mouths(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return close_open_mouths(avatar.frames, track.landmarks, source_frames, self.config.close_mouths_above,
                                 self.closed_mouths, f"{avatar.sha256}@{avatar.fps}")

    def _render(self, original: Avatar, track: FaceTrack, avatar: Avatar, landmarks: np.ndarray, source_frame: np.ndarray,
                targets: np.ndarray, blink: np.ndarray, interior_frames: np.ndarray | None = None) -> Iterator[torch.Tensor]:
        sources = landmarks[source_frame]
        box = CropBox.around([sources, targets], avatar.size, crop_margin(landmarks))
        scene = _Scene(avatar, box, feather_mask(box, avatar.size).to(self.device), self._interior(original, track, interior_frames),
                       border_anchors(box.width, box.height).to(self.device))
        for start in range(0, len(source_frame), self.config.batch_size):
            batch = slice(start, min(start + self.config.batch_size, len(source_frame)))
            yield self._render_batch(scene, source_frame[batch], sources[batch] - box.offset, targets[batch] - box.offset,
                                     blink[batch])

    @torch.no_grad()
    def _render_batch(self, scene: "_Scene", frame_indices, sources, targets, blink) -> torch.Tensor:
        avatar, box, interior, anchors = scene.avatar, scene.box, scene.interior, scene.anchors
        frames = torch.from_numpy(avatar.frames[frame_indices]).to(self.device)  # the batch's own copy, pasted into
        count = len(frame_indices)
        source_points = torch.cat([torch.from_numpy(sources).to(self.device), anchors.expand(count, -1, -1)], 1)
        target_points = torch.cat([torch.from_numpy(targets).to(self.device), anchors.expand(count, -1, -1)], 1)
        warped = warp_crops(frames[:, box.y0:box.y1, box.x0:box.x1], source_points, target_points)
        if interior is not None:
            iod = float(np.median(layout.inter_ocular(targets)))
            for k in range(count):
                self._add_interior(warped[k], interior(targets[k], iod))
        for k in np.flatnonzero(blink > 0):
            close_lids(warped[k], targets[k], float(blink[k]))
        return paste_into(frames, warped, box, scene.mask)

    def _interior(self, avatar: Avatar, track: FaceTrack, candidates: np.ndarray | None):
        """A function (target landmarks in crop pixels, inter-ocular distance) -> the mouth interior's patch, or None."""
        choice = self.config.mouth_interior
        if choice == "off":
            return None
        if choice == "painted":
            # The palette comes from the untouched avatar: an open mouth shows its real teeth.
            widest = int(np.argmax(layout.mouth_opening(track.landmarks)))
            palette = MouthPalette.from_avatar(avatar.frames[widest], track.landmarks[widest])
            return lambda points, iod: paint_interior(points[layout.INNER_LIPS], iod, palette)
        bank = self.interior_bank(avatar, track, candidates)
        return lambda points, iod: real_interior(bank, points, iod)

    def interior_bank(self, avatar: Avatar, track: FaceTrack, candidates: np.ndarray | None = None) -> InteriorBank:
        """The avatar's bank of mouth interiors, made once per avatar (and set of frames it may use)."""
        key = (avatar.sha256, avatar.frames.shape, None if candidates is None else np.asarray(candidates).tobytes())
        if key not in self._banks:
            bank = InteriorBank.from_frames(avatar.frames, track.landmarks, candidates)
            if bank is None:
                from .teeth import rendered_bank

                usable = np.arange(len(avatar.frames)) if candidates is None else np.asarray(candidates)
                closed = usable[int(np.argmin(layout.mouth_opening(track.landmarks[usable])))]
                bank = rendered_bank(avatar.frames[closed], track.landmarks[closed])
            log.debug("mouth interiors for %s: %d levels from %s", avatar.source.name, len(bank.openings), bank.source)
            self._banks = {key: bank}  # one avatar at a time: a batch renders many clips of one presenter
        return self._banks[key]

    def _add_interior(self, crop: torch.Tensor, patch) -> None:
        """Blend a painted patch (mouth interior, closed lid) into one warped crop (h, w, 3), in place."""
        if patch is None:
            return
        height, width = patch.alpha.shape
        region = crop[patch.y0:patch.y0 + height, patch.x0:patch.x0 + width]
        height, width = region.shape[:2]
        colour = torch.from_numpy(patch.colour[:height, :width]).to(self.device)
        alpha = torch.from_numpy(patch.alpha[:height, :width]).to(self.device)[..., None]
        region.mul_(1 - alpha).add_(colour * alpha)


@dataclass(frozen=True)
class _Scene:
    """What stays the same for every batch of one clip: the avatar, the crop around the face and its feathered
    mask, the mouth interiors, and the fixed points on the crop's border."""
    avatar: Avatar
    box: CropBox
    mask: torch.Tensor
    interior: object
    anchors: torch.Tensor


def real_interior(bank: InteriorBank, points: np.ndarray, iod: float) -> PaintedPatch | None:
    """The bank's interior inside one frame's target inner lips (crop pixels), behind a smooth lip line; None when shut."""
    inner = points[layout.INNER_LIPS]
    gap = inner_gap(inner)
    if gap < 1.0:
        return None
    colour, corner = bank.interior(inner, gap / iod)
    height, width = colour.shape[:2]
    outline = smooth_curve(np.concatenate([inner, inner[:1]]), 6)
    alpha = polygon_alpha(outline - corner, height, width) * parting(gap)
    return PaintedPatch(int(corner[0]), int(corner[1]), colour, alpha)


__all__ = ["WarpRenderer", "CropBox"]
