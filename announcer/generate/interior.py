"""Mouth interiors from real pixels: the presenter's own teeth, tongue and cavity, moved with the lips.

A bank holds a few mouth interiors, each at one opening, in an upright mouth-centred square
("canonical" space, the avatar's own pixel scale). For each output frame the two levels around
the target opening are warped onto the target inner lips (a thin-plate spline through the eight
inner-lip points, so the upper teeth stay under the upper lip and the lower teeth ride on the
lower lip) and mixed by how close each is. The mix is a smooth function of the target shape, so
nothing flickers from frame to frame.

Where the levels come from:
- a video avatar: its own frames with the mouth open, grouped by opening; each level is the
  per-pixel median of the frames nearest to it, warped to their mean shape (after Suwajanakorn et
  al., "Synthesizing Obama", 2017): real teeth, without one frame's motion blur or noise;
- a photo with its mouth open: that one mouth;
- a photo with its mouth closed: teeth rendered tooth by tooth, shaded, in the photo's colours,
  with its sharpness and grain (generate.teeth).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ..face import layout
from .mouth import polygon_mask
from .warp import evaluate_tps, fit_tps

LEVELS = 6
DONORS_PER_LEVEL = 5
OPEN_DONOR = 0.06
"""Frames whose inner-lip gap (inter-ocular units) is at least this show enough interior to be a donor."""
CAVITY_FADE_PX = 3.0
"""Past the level's middle the interior darkens to the cavity's colour over this many canonical pixels."""
HALF_WIDTH, HALF_HEIGHT = 0.5, 0.38
"""The canonical square around the inner lips' centre, in inter-ocular distances."""


@dataclass(frozen=True)
class InteriorBank:
    openings: np.ndarray
    """(L,) inner-lip gap of each level, inter-ocular units, ascending."""
    patches: np.ndarray
    """(L, h, w, 3) float32 RGB in canonical space."""
    inner_lips: np.ndarray
    """(L, 8, 2) each level's inner lips in canonical pixels."""
    cavity: np.ndarray
    """(L, 3) the darkest colour inside each level's inner lips: the back of the mouth."""
    scale: float
    """Canonical pixels per inter-ocular distance."""
    source: str
    """Where the pixels come from: 'video', 'photo' or 'rendered'."""

    @staticmethod
    def from_frames(frames: np.ndarray, landmarks: np.ndarray, candidates: np.ndarray | None = None) -> "InteriorBank | None":
        """A bank from the frames (N, H, W, 3) whose mouths open (None when none does). `candidates`: the frames it may
        use (all by default); evaluation keeps its held-out frames out."""
        indices = np.arange(len(frames)) if candidates is None else np.asarray(candidates)
        openings = layout.mouth_opening(landmarks[indices])
        is_donor = openings >= OPEN_DONOR
        donors, donor_openings = indices[is_donor], openings[is_donor]
        if len(donors) == 0:
            return None
        scale = float(np.median(layout.inter_ocular(landmarks[donors])))
        canonical = [to_canonical(frames[i], landmarks[i], scale) for i in donors]
        levels = _level_openings(donor_openings)
        patches, shapes = [], []
        for level in levels:
            nearest = np.argsort(np.abs(donor_openings - level))[:DONORS_PER_LEVEL]
            shape = np.mean([canonical[i][1] for i in nearest], axis=0)
            aligned = [warp_to_shape(canonical[i][0], canonical[i][1], shape) for i in nearest]
            patches.append(np.median(aligned, axis=0))
            shapes.append(shape)
        source = "video" if len(frames) > 1 else "photo"
        return InteriorBank.of(levels, np.stack(patches), np.stack(shapes), scale, source)

    @staticmethod
    def of(openings, patches: np.ndarray, inner_lips: np.ndarray, scale: float, source: str) -> "InteriorBank":
        """A bank from its levels, finding each level's cavity colour."""
        patches, inner_lips = patches.astype(np.float32), inner_lips.astype(np.float32)
        cavity = np.stack([_darkest_inside(patch, lips) for patch, lips in zip(patches, inner_lips, strict=True)])
        return InteriorBank(np.asarray(openings, np.float32), patches, inner_lips, cavity, scale, source)

    def interior(self, inner_lips: np.ndarray, opening: float) -> tuple[np.ndarray, np.ndarray]:
        """Colours (h, w, 3) float32 for the box around target inner lips (8, 2) in crop pixels, and the box's corner
        (x0, y0). Small and per frame, so it runs on the CPU whatever the device (OpenCV's remap)."""
        x0, y0 = np.floor(inner_lips.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(inner_lips.max(axis=0)).astype(int) + 3
        x0, y0 = max(x0, 0), max(y0, 0)
        below = int(np.searchsorted(self.openings, opening).clip(1, len(self.openings) - 1)) - 1
        above = min(below + 1, len(self.openings) - 1)
        span = self.openings[above] - self.openings[below]
        share = float(np.clip((opening - self.openings[below]) / span, 0, 1)) if span > 0 else 0.0
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        pixels = np.stack([xs, ys], -1)
        if share == 0:
            return self._sample_levels([below], inner_lips, pixels)[0], np.array([x0, y0])
        colours = self._sample_levels([below, above], inner_lips, pixels)
        return colours[0] * (1 - share) + colours[1] * share, np.array([x0, y0])

    def _sample_levels(self, levels: list[int], inner_lips: np.ndarray, pixels: np.ndarray) -> list[np.ndarray]:
        """Each level's interior on the target's pixels. Teeth keep their size whatever the opening: the half of the
        mouth above its middle follows the upper lip, the half below follows the lower lip, and where the target opens
        wider than the level the cavity's middle row fills the difference (where it opens less, the middle is hidden)."""
        across = _unit_normal(inner_lips)
        anchored = [_anchored_to_each_lip(inner_lips, self.inner_lips[level], across) for level in levels]
        # One batch of splines for all levels and both lips: two per level, target -> level.
        mapped = _splines(np.concatenate(anchored), np.repeat(self.inner_lips[levels], 2, axis=0))(pixels.reshape(-1, 2))
        mapped = mapped.reshape(len(levels), 2, *pixels.shape)
        target_middle = (inner_lips[UPPER_INNER].mean(axis=0) + inner_lips[LOWER_INNER].mean(axis=0)) / 2
        above = ((pixels - target_middle) @ across) < 0
        return [self._level_colour(level, np.where(above[..., None], from_upper, from_lower).astype(np.float32), above)
                for level, (from_upper, from_lower) in zip(levels, mapped, strict=True)]

    def _level_colour(self, level: int, canonical: np.ndarray, above: np.ndarray) -> np.ndarray:
        """The level's colours at canonical positions (h, w, 2), in place; past the level's middle (a wider mouth than
        the level's) lies the dark of the mouth, not more teeth."""
        level_lips = self.inner_lips[level]
        middle = (level_lips[UPPER_INNER, 1].mean() + level_lips[LOWER_INNER, 1].mean()) / 2
        beyond = np.where(above, canonical[..., 1] - middle, middle - canonical[..., 1])
        canonical[..., 1] = np.where(above, np.minimum(canonical[..., 1], middle), np.maximum(canonical[..., 1], middle))
        colour = cv2.remap(self.patches[level], canonical[..., 0], canonical[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        dark = np.clip(beyond / CAVITY_FADE_PX, 0.0, 1.0)[..., None].astype(np.float32)
        return colour * (1 - dark) + self.cavity[level] * dark


def _anchored_to_each_lip(inner_lips: np.ndarray, level_lips: np.ndarray, across: np.ndarray) -> np.ndarray:
    """(2, 8, 2): the target inner lips with the lower lip moved to where the upper lip's teeth end at the level's
    size, and with the upper lip moved likewise for the lower teeth."""
    scale = _width(inner_lips) / max(_width(level_lips), 1e-6)
    extra = _gap(inner_lips) - _gap(level_lips) * scale
    upper_anchored, lower_anchored = inner_lips.copy(), inner_lips.copy()
    upper_anchored[LOWER_INNER] -= across * extra
    lower_anchored[UPPER_INNER] += across * extra
    return np.stack([upper_anchored, lower_anchored])


def _level_openings(openings: np.ndarray) -> np.ndarray:
    """LEVELS openings spread over the donors' range (fewer when the donors are few or alike)."""
    if len(openings) < 2 * DONORS_PER_LEVEL or np.ptp(openings) < 0.02:
        return np.array([float(np.median(openings))])
    return np.unique(np.round(np.quantile(openings, np.linspace(0.05, 0.95, LEVELS)), 4))


def _darkest_inside(patch: np.ndarray, inner_lips: np.ndarray) -> np.ndarray:
    mask = polygon_mask(patch.shape, inner_lips)
    inside = patch[mask] if mask.any() else patch.reshape(-1, 3)
    luma = inside @ np.array([0.299, 0.587, 0.114], np.float32)
    return inside[luma <= np.percentile(luma, 10)].mean(axis=0).astype(np.float32)


def canonical_size(scale: float) -> tuple[int, int]:
    return int(round(2 * HALF_WIDTH * scale)) | 1, int(round(2 * HALF_HEIGHT * scale)) | 1


def to_canonical(frame: np.ndarray, points: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The mouth of one frame upright and centred at `scale` pixels per inter-ocular distance, and its inner lips there."""
    origin, x_axis, y_axis = layout.face_frame(points[None])
    x_axis, y_axis = x_axis[0], y_axis[0]
    centre = points[layout.INNER_LIPS].mean(axis=0)
    width, height = canonical_size(scale)
    unit = float(np.linalg.norm(x_axis))
    # canonical = R (p - centre) * scale / iod + (width/2, height/2), with R taking the face's axes to x and y
    rotation = np.stack([x_axis, y_axis]) / unit ** 2 * scale
    offset = np.array([width / 2, height / 2]) - rotation @ centre
    affine = np.concatenate([rotation, offset[:, None]], 1).astype(np.float32)
    patch = cv2.warpAffine(frame, affine, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    inner = points[layout.INNER_LIPS] @ rotation.T + offset
    return patch.astype(np.float32), inner.astype(np.float32)


def warp_to_shape(patch: np.ndarray, inner_lips: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """A canonical patch warped so its inner lips land on `shape` (both (8, 2) canonical pixels)."""
    height, width = patch.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    sources = _splines(shape[None], inner_lips[None])(np.stack([xs, ys], -1).reshape(-1, 2))[0].reshape(height, width, 2)
    return cv2.remap(patch, sources[..., 0], sources[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _splines(from_sets: np.ndarray, to_sets: np.ndarray):
    """Thin-plate splines taking each of `from_sets` (N, 8, 2) onto the matching `to_sets`, each with four far points
    held to the similarity between them, so it bends inside the mouth and stays calm around it. Returns a function
    taking points (P, 2) through all N at once, to (N, P, 2) float32."""
    anchors_from = np.stack([_far_points(points) for points in from_sets])
    anchors_to = np.stack([_far_points(points) for points in to_sets])
    source = torch.from_numpy(np.concatenate([from_sets, anchors_from], 1).astype(np.float32))
    target = torch.from_numpy(np.concatenate([to_sets, anchors_to], 1).astype(np.float32))
    scale = torch.from_numpy(np.maximum(np.ptp(from_sets[..., 0], axis=1), 1.0).astype(np.float32)).view(-1, 1, 1)
    coefficients = fit_tps(source / scale, target / scale)

    def mapping(points: np.ndarray) -> np.ndarray:
        spread = torch.from_numpy(points.astype(np.float32))[None].expand(len(from_sets), -1, -1) / scale
        return (evaluate_tps(coefficients, source / scale, spread) * scale).numpy()
    return mapping


UPPER_INNER, LOWER_INNER = layout.OF_INNER_LIPS_UPPER, layout.OF_INNER_LIPS_LOWER


def _gap(inner_lips: np.ndarray) -> float:
    return float(np.linalg.norm(inner_lips[LOWER_INNER].mean(axis=0) - inner_lips[UPPER_INNER].mean(axis=0)))


def _width(inner_lips: np.ndarray) -> float:
    return float(np.linalg.norm(inner_lips[4] - inner_lips[0]))


def _unit_normal(inner_lips: np.ndarray) -> np.ndarray:
    """Across the mouth, from the upper lip towards the lower, unit length."""
    along = inner_lips[4] - inner_lips[0]
    normal = np.array([-along[1], along[0]]) / max(float(np.linalg.norm(along)), 1e-6)
    return normal if normal @ (inner_lips[LOWER_INNER].mean(axis=0) - inner_lips[UPPER_INNER].mean(axis=0)) >= 0 else -normal


def _far_points(inner_lips: np.ndarray) -> np.ndarray:
    """Four points one mouth-width out from the inner lips' centre, along the corners' line and across it."""
    centre = inner_lips.mean(axis=0)
    along = inner_lips[4] - inner_lips[0]
    across = np.array([-along[1], along[0]])
    return np.stack([centre - along, centre + along, centre - across, centre + across]).astype(np.float32)
