"""Stage 5, face generation: move the avatar's mouth, jaw and eyelids to each frame's target landmarks.

The warp renderer bends the avatar's own pixels with a thin-plate spline (torch, batched, on the
configured device), paints a mouth interior where the lips part, and pastes the region back with
a feathered edge. Colours match by construction: every pixel comes from the avatar, and the
interior's palette is sampled from its lips, skin and teeth.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import torch

from ..config import GenerateConfig
from ..face import Avatar, FaceTrack, layout
from ..motion import MotionPlan
from .composite import CropBox, crop_margin, feather_mask, paste
from .eyes import close_lids
from .mouth import MouthPalette, paint_interior
from .preclose import ClosedMouths, close_open_mouths
from .targets import plan_targets
from .warp import border_anchors, warp_crops

log = logging.getLogger(__name__)


class WarpRenderer:
    """Landmark-driven generation by warping. Stateless between clips; holds only its device."""

    name = "warp"

    def __init__(self, config: GenerateConfig, device: torch.device):
        self.config = config
        self.device = device
        self.closed_mouths = ClosedMouths()

    def __call__(self, avatar: Avatar, track: FaceTrack, plan: MotionPlan) -> Iterator[np.ndarray]:
        """Yield batches of finished frames, (B, H, W, 3) uint8 RGB, in order."""
        closed_frames, closed_landmarks = self._close_mouths(avatar, track, plan.source_frame)
        targets = plan_targets(closed_landmarks, plan)
        for frames in self._render(avatar, track, replace(avatar, frames=closed_frames), closed_landmarks,
                                   plan.source_frame, targets, plan.blink):
            yield frames.cpu().numpy()

    def render_landmarks(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray,
                         targets: np.ndarray) -> Iterator[np.ndarray]:
        """Frames whose landmarks are moved to explicit `targets` (T, 68, 2): evaluation drives real mouths this way."""
        for frames in self.landmark_batches_on_device(avatar, track, source_frames, targets):
            yield frames.cpu().numpy()

    def landmark_batches_on_device(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray,
                                   targets: np.ndarray) -> Iterator[torch.Tensor]:
        """`render_landmarks`' batches left on the device as (B, H, W, 3) uint8, for a stage that goes on there."""
        closed_frames, closed_landmarks = self._close_mouths(avatar, track, source_frames)
        yield from self._render(avatar, track, replace(avatar, frames=closed_frames), closed_landmarks, source_frames,
                                targets, np.zeros(len(source_frames), np.float32))

    def _close_mouths(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return close_open_mouths(avatar.frames, track.landmarks, source_frames, self.config.close_mouths_above,
                                 self.closed_mouths, f"{avatar.sha256}@{avatar.fps}")

    def _render(self, original: Avatar, track: FaceTrack, avatar: Avatar, landmarks: np.ndarray, source_frame: np.ndarray,
                targets: np.ndarray, blink: np.ndarray) -> Iterator[torch.Tensor]:
        sources = landmarks[source_frame]
        box = CropBox.around([sources, targets], avatar.size, crop_margin(landmarks))
        mask = feather_mask(box, avatar.size)
        # The palette comes from the untouched avatar: an open mouth shows its real teeth.
        original_reference = int(np.argmax(layout.mouth_opening(track.landmarks)))
        palette = MouthPalette.from_avatar(original.frames[original_reference], track.landmarks[original_reference])
        anchors = border_anchors(box.width, box.height).to(self.device)
        for start in range(0, len(source_frame), self.config.batch_size):
            batch = slice(start, min(start + self.config.batch_size, len(source_frame)))
            yield self._render_batch(avatar, source_frame[batch], sources[batch] - box.offset,
                                     targets[batch] - box.offset, blink[batch], box, mask, palette, anchors)

    @torch.no_grad()
    def _render_batch(self, avatar, frame_indices, sources, targets, blink, box, mask, palette, anchors) -> torch.Tensor:
        unique, inverse = np.unique(frame_indices, return_inverse=True)
        originals = torch.from_numpy(avatar.frames[unique]).to(self.device)[torch.from_numpy(inverse).to(self.device)]
        crops = originals[:, box.y0:box.y1, box.x0:box.x1].permute(0, 3, 1, 2).float()
        count = len(frame_indices)
        source_points = torch.cat([torch.from_numpy(sources).to(self.device), anchors.expand(count, -1, -1)], 1)
        target_points = torch.cat([torch.from_numpy(targets).to(self.device), anchors.expand(count, -1, -1)], 1)
        warped = warp_crops(crops, source_points, target_points).permute(0, 2, 3, 1).contiguous()
        if self.config.mouth_interior:
            iod = float(np.median(layout.inter_ocular(targets)))
            for k in range(count):
                self._add_interior(warped[k], paint_interior(targets[k, layout.INNER_LIPS], iod, palette))
        for k in np.flatnonzero(blink > 0):
            close_lids(warped[k], targets[k], float(blink[k]))
        return paste(originals, warped, box, mask.to(self.device))

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


__all__ = ["WarpRenderer", "CropBox"]
