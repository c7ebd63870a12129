"""Blinks: a short warp brings the upper lid down, then the closed lid is painted over the eye.

A warp alone cannot draw skin over the eye; squeezing the eye shut stretches the lid crease and
looks swollen. So the lids move only part of the way and the rest is painted: lid skin sampled
just above each eye, shading towards a lash line along the lower lid.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import layout
from .mouth import PaintedPatch, polygon_alpha, polygon_mask

LID_TRAVEL = 0.35
"""How far, as a share of the eye's opening, the warp moves the upper lid at full closure."""
EYES = (layout.RIGHT_EYE, layout.LEFT_EYE)


@dataclass(frozen=True)
class LidPalette:
    skin: tuple[np.ndarray, np.ndarray]
    """Lid colour of each eye (right, left)."""
    lash: np.ndarray

    @staticmethod
    def from_avatar(frame: np.ndarray, points: np.ndarray) -> "LidPalette":
        skins = tuple(_skin_above(frame, points[eye]) for eye in EYES)
        lash = np.minimum(skins[0], skins[1]) * 0.4
        return LidPalette(skins, lash)


def _skin_above(frame: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Mean colour of a band one eye-height above the upper lid: the skin that covers the eye in a blink."""
    height = max(2.0, float(np.ptp(eye[:, 1])))
    upper = eye[[0, 1, 2, 3]].copy()
    band = np.concatenate([upper - (0, 0.6 * height), (upper - (0, 1.4 * height))[::-1]])
    pixels = frame[polygon_mask(frame.shape, band)].astype(np.float32)
    if len(pixels) == 0:
        return frame.reshape(-1, 3).mean(axis=0).astype(np.float32)
    # The band holds crease shadow, make-up and stray lashes; the lid is the brighter skin among them.
    luma = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    return pixels[luma >= np.percentile(luma, 60)].mean(axis=0)


def paint_lid(eye: np.ndarray, closure: float, skin: np.ndarray, lash: np.ndarray) -> PaintedPatch | None:
    """The lid over one eye (6 target points, crop pixels), slid down to `closure` (0 open, 1 shut).

    Opaque skin from just above the upper lashes down to the lid's edge, which carries the lashes.
    """
    if closure < 0.05:
        return None
    eye_width = float(np.ptp(eye[:, 0]))
    upper = smooth_curve(eye[[0, 1, 2, 3]] - (0, 0.06 * eye_width))  # cover the real upper lashes too
    lower = eye[[3, 4, 5, 0]]
    edge = lower.copy()
    edge[1] = eye[2] + closure * (eye[4] - eye[2])
    edge[2] = eye[1] + closure * (eye[5] - eye[1])
    edge = smooth_curve(edge)
    lid = np.concatenate([upper, edge[1:-1]])
    x0, y0 = np.floor(np.concatenate([lid, lower]).min(axis=0)).astype(int) - 3
    x1, y1 = np.ceil(np.concatenate([lid, lower]).max(axis=0)).astype(int) + 4
    x0, y0 = max(x0, 0), max(y0, 0)
    height, width = y1 - y0, x1 - x0
    canvas = np.empty((height, width, 3), np.float32)
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    canvas[:] = skin * (1.0 - 0.12 * rows)  # the lid darkens slightly towards the lashes
    thickness = max(1, int(round(eye_width / 30)))
    lash_line = np.round(edge[2:-2] - (x0, y0)).astype(np.int32)  # lashes thin out towards the corners
    cv2.polylines(canvas, [lash_line], False, lash.tolist(), thickness, cv2.LINE_AA)
    canvas = cv2.GaussianBlur(canvas, (3, 3), 0.8)
    alpha = polygon_alpha(lid - (x0, y0), height, width)
    alpha = np.maximum(alpha, _line_alpha(lash_line, height, width, thickness))
    return PaintedPatch(int(x0), int(y0), canvas, alpha)


def smooth_curve(points: np.ndarray, samples_per_segment: int = 6) -> np.ndarray:
    """A Catmull-Rom curve through the points (ends kept), so six landmarks make a round eye, not a hexagon."""
    padded = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    t = np.linspace(0, 1, samples_per_segment, endpoint=False)[:, None]
    curve = []
    for k in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[k - 1:k + 3]
        curve.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                            + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return np.concatenate(curve + [points[-1:]])


def _line_alpha(points: np.ndarray, height: int, width: int, thickness: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    cv2.polylines(mask, [points], False, 1.0, thickness, cv2.LINE_AA)
    return mask
