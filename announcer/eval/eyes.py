"""Blinks as MediaPipe sees them: how open each eye is re-detected, and the model's own eyeBlink scores."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..face import layout
from ..face.backends import native_logs_hidden
from ..face.layout import MEDIAPIPE_TO_IBUG68
from .metrics import runs

CLOSING = 0.6
"""A real blink: the eye's opening falls below this share of its usual opening."""


@dataclass
class EyeReadings:
    opening: np.ndarray
    """(N,) eye opening (inter-ocular units) re-detected on each frame; NaN where no face was found."""
    blink: np.ndarray
    """(N,) mean of MediaPipe's eyeBlinkLeft and eyeBlinkRight blendshapes."""


class EyeMeter:
    """MediaPipe Face Landmarker with blendshapes, one frame at a time (no tracking between frames)."""

    def __init__(self, model_path: Path):
        from mediapipe.tasks.python import BaseOptions, vision

        with native_logs_hidden():
            self._landmarker = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model_path)), output_face_blendshapes=True, num_faces=1))

    def close(self) -> None:
        self._landmarker.close()

    def read(self, frames: np.ndarray) -> EyeReadings:
        import mediapipe as mp

        opening = np.full(len(frames), np.nan, np.float32)
        blink = np.full(len(frames), np.nan, np.float32)
        with native_logs_hidden():
            for index, frame in enumerate(frames):
                result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame)))
                if not result.face_landmarks:
                    continue
                mesh = np.array([(p.x, p.y) for p in result.face_landmarks[0]], np.float32)
                opening[index] = layout.eye_opening(mesh[MEDIAPIPE_TO_IBUG68] * (frame.shape[1], frame.shape[0]))
                scores = {c.category_name: c.score for c in result.face_blendshapes[0]}
                blink[index] = (scores["eyeBlinkLeft"] + scores["eyeBlinkRight"]) / 2
        return EyeReadings(opening, blink)


def blink_depths(readings: EyeReadings, usual_opening: float) -> list[dict]:
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
