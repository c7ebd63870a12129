"""Blinks as MediaPipe sees them (face.meter: how open each eye is re-detected, and the model's own eyeBlink scores),
and the grain of the eyes and lids."""
from __future__ import annotations

import numpy as np

from ..face import layout
from ..face.meter import FaceReadings
from .metrics import runs

CLOSING = 0.6
"""A real blink: the eye's opening falls below this share of its usual opening."""


def blink_depths(readings: FaceReadings, usual_opening: float) -> list[dict]:
    """Each blink's deepest frame: its opening as a share of `usual_opening`, and its eyeBlink score."""
    ratio = readings.opening / usual_opening
    blinks = []
    for start, stop in runs(np.nan_to_num(ratio, nan=1.0) < CLOSING):
        deepest = start + int(np.nanargmin(ratio[start:stop]))
        blinks.append({"frame": deepest, "open_ratio": round(float(ratio[deepest]), 3),
                       "eye_blink": round(float(readings.blink[deepest]), 3)})
    return blinks


def grain(frame: np.ndarray, points: np.ndarray) -> float:
    """Fine-grain energy over both eyes and their lids, grey levels squared: the robust variance (from the median
    absolute value) of detail finer than 1 px. The median makes it a measure of the texture everywhere in the region,
    not of its few strong edges (iris, lid line), which any shut eye loses, a real one too."""
    import cv2

    mask = np.zeros(frame.shape[:2], np.uint8)
    for eye in (layout.RIGHT_EYE, layout.LEFT_EYE):
        hull = cv2.convexHull(_eye_and_lid(points[eye]).astype(np.float32))[:, 0]
        cv2.fillPoly(mask, [np.round(hull).astype(np.int32)], 1)
    return fine_grain(frame, mask.astype(bool))


def fine_grain(frame: np.ndarray, mask: np.ndarray) -> float:
    """Robust variance (from the median absolute value) of a frame's detail finer than 1 px inside `mask` (h, w)."""
    import cv2

    grey = frame.astype(np.float32).mean(axis=2)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    return float((np.median(np.abs(detail[mask])) / 0.6745) ** 2)


def _eye_and_lid(eye: np.ndarray) -> np.ndarray:
    """The eye's six points and the same points raised by half the eye's width: the eye and the lid that covers it."""
    width = float(np.ptp(eye[:, 0]))
    return np.concatenate([eye, eye - (0, 0.5 * width)])
