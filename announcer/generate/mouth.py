"""A believable mouth interior where the lips part: dark cavity, upper and lower teeth, tongue.

Colours come from the avatar itself (its lips and skin, and its teeth where the photo shows
them), so the interior sits in the same light as the face.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import layout

SUPERSAMPLE = 4
TEETH_FALLBACK = np.array([214, 208, 196], np.float32)


@dataclass(frozen=True)
class MouthPalette:
    cavity: np.ndarray
    teeth: np.ndarray
    tongue: np.ndarray

    @staticmethod
    def from_avatar(frame: np.ndarray, points: np.ndarray) -> "MouthPalette":
        lips = mean_colour(frame, points[layout.OUTER_LIPS])
        skin = mean_colour(frame, points[layout.CHEEKS_AND_NOSE_BASE], convex=True)
        brightness = float(np.clip(skin.mean() / 170.0, 0.35, 1.2))
        teeth = _visible_teeth(frame, points)
        teeth = teeth if teeth is not None else TEETH_FALLBACK * brightness
        # Teeth sit in the mouth's shade, a little towards the lips' colour.
        return MouthPalette(cavity=lips * 0.2, teeth=0.8 * teeth + 0.1 * lips, tongue=lips * 0.7)


def mean_colour(frame: np.ndarray, polygon: np.ndarray, convex: bool = False, hole: np.ndarray | None = None) -> np.ndarray:
    """Mean RGB inside a polygon (its convex hull with `convex`), less an inner polygon `hole`; the frame's when empty."""
    mask = polygon_mask(frame.shape, cv2.convexHull(polygon.astype(np.float32))[:, 0] if convex else polygon)
    if hole is not None:
        mask &= ~polygon_mask(frame.shape, hole)
    if not mask.any():
        return frame.reshape(-1, 3).mean(axis=0).astype(np.float32)
    return frame[mask].mean(axis=0).astype(np.float32)


def _visible_teeth(frame: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """The avatar's own teeth colour, if its mouth is open and shows bright pixels."""
    if layout.mouth_opening(points) < 0.05:
        return None
    inside = frame[polygon_mask(frame.shape, points[layout.INNER_LIPS])].astype(np.float32)
    if len(inside) < 20:
        return None
    luma = inside @ np.array([0.299, 0.587, 0.114], np.float32)
    bright = inside[luma > np.percentile(luma, 80)]
    return bright.mean(axis=0) if bright.mean() > 110 else None


@dataclass(frozen=True)
class PaintedPatch:
    """Painted pixels (a mouth interior, a closed lid): colours and coverage for a small box at (x0, y0) of the crop."""
    x0: int
    y0: int
    colour: np.ndarray
    """(h, w, 3) float32."""
    alpha: np.ndarray
    """(h, w) float32 coverage, anti-aliased at the lip line."""


def paint_interior(inner_lips: np.ndarray, iod: float, palette: MouthPalette) -> PaintedPatch | None:
    """The interior inside one frame's target inner-lip polygon (crop pixels), or None when closed."""
    gap = inner_gap(inner_lips)
    if gap < 1.0:
        return None
    x0, y0 = np.floor(inner_lips.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(inner_lips.max(axis=0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    local = inner_lips - (x0, y0)
    height, width = y1 - y0, x1 - x0
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = palette.cavity
    upper_y, lower_y = local[layout.OF_INNER_LIPS_UPPER, 1].mean(), local[layout.OF_INNER_LIPS_LOWER, 1].mean()
    left, right = local[:, 0].min(), local[:, 0].max()
    middle_x, mouth_width = (left + right) / 2, right - left
    teeth_height = min(0.08 * iod, 0.35 * gap)
    cv2.ellipse(canvas, (int(middle_x), int(upper_y)), (int(mouth_width * 0.4), max(int(teeth_height), 1)), 0, 0, 180,
                palette.teeth.tolist(), -1, cv2.LINE_AA)
    lower_teeth = min(0.035 * iod, 0.15 * gap)
    if lower_teeth >= 1:
        cv2.ellipse(canvas, (int(middle_x), int(lower_y)), (int(mouth_width * 0.34), int(lower_teeth)), 0, 180, 360,
                    (palette.teeth * 0.75).tolist(), -1, cv2.LINE_AA)
    if gap > 0.12 * iod:
        cv2.ellipse(canvas, (int(middle_x), int(lower_y - lower_teeth)), (int(mouth_width * 0.28), int(0.22 * gap)), 0,
                    180, 360, palette.tongue.tolist(), -1, cv2.LINE_AA)
    canvas = cv2.GaussianBlur(canvas, (3, 3), 0.7)
    alpha = polygon_alpha(local, height, width) * parting(gap)
    return PaintedPatch(int(x0), int(y0), canvas, alpha)


def inner_gap(inner_lips: np.ndarray) -> float:
    """How far apart the inner lips (8, 2) are, in pixels: the mean of their three upper-to-lower distances."""
    return float(np.mean([inner_lips[8 - k, 1] - inner_lips[k, 1] for k in (1, 2, 3)]))


def parting(gap: float) -> float:
    """How much of an interior shows at a gap of `gap` pixels: none under one pixel, all from four, so lips part softly."""
    return float(np.clip((gap - 1.0) / 3.0, 0, 1))


def polygon_mask(shape, polygon: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels inside a polygon given in (x, y) pixels."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def polygon_alpha(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased mask of a polygon, with a one-pixel soft edge."""
    big = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    cv2.fillPoly(big, [np.round(polygon * SUPERSAMPLE).astype(np.int32)], 255, cv2.LINE_AA)
    small = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return cv2.GaussianBlur(small, (3, 3), 0.8)
