"""A face as a viewer reads it, frame by frame: MediaPipe Face Landmarker's 52 blendshapes (smile, brows, blinks ...)
and its facial transformation matrix (the head's pitch, yaw and roll). Real footage and renders are measured the same
way, so the real footage is the yardstick (evaluation, the close-up and tone sheets, tests)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import layout
from .backends import native_logs_hidden
from .layout import MEDIAPIPE_TO_IBUG68


BLENDSHAPE_NAMES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker",
    "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft",
    "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)
"""MediaPipe's 52 blendshapes, in the order the model gives them."""
BROW_CHANNELS = ("browInnerUp", "browOuterUpLeft", "browOuterUpRight")
"""The blendshapes that raise the brows: their mean is how raised the brows read."""


@dataclass
class FaceReadings:
    blendshapes: np.ndarray
    """(N, 52) MediaPipe's blendshape scores, 0..1, in the order of `names`; NaN where no face was found."""
    names: tuple[str, ...]
    head: np.ndarray
    """(N, 3) the head's pitch, yaw and roll in degrees from the facial transformation matrix (roll grows as the head
    tips counter-clockwise in the picture; a frontal photo reads a pitch of about 10, so compare spreads and changes,
    not levels); NaN where no face was found."""
    opening: np.ndarray
    """(N,) eye opening (inter-ocular units) from the re-detected landmarks."""

    def score(self, *names: str) -> np.ndarray:
        """(N,) the mean of the named blendshapes, e.g. score("mouthSmileLeft", "mouthSmileRight")."""
        return self.blendshapes[:, [self.names.index(name) for name in names]].mean(axis=1)

    @property
    def blink(self) -> np.ndarray:
        return self.score("eyeBlinkLeft", "eyeBlinkRight")

    @property
    def smile(self) -> np.ndarray:
        return self.score("mouthSmileLeft", "mouthSmileRight")


class FaceMeter:
    """MediaPipe Face Landmarker with blendshapes and the transformation matrix, one frame at a time (no tracking
    between frames, so each frame is read on its own)."""

    def __init__(self, model_path: Path):
        from mediapipe.tasks.python import BaseOptions, vision

        with native_logs_hidden():
            self._landmarker = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model_path)), output_face_blendshapes=True,
                output_facial_transformation_matrixes=True, num_faces=1))

    def close(self) -> None:
        self._landmarker.close()

    def read(self, frames: np.ndarray) -> FaceReadings:
        import mediapipe as mp

        scores = np.full((len(frames), len(BLENDSHAPE_NAMES)), np.nan, np.float32)
        head = np.full((len(frames), 3), np.nan, np.float32)
        opening = np.full(len(frames), np.nan, np.float32)
        with native_logs_hidden():
            for index, frame in enumerate(frames):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
                found = self._landmarker.detect(image)
                if not found.face_landmarks:
                    continue
                mesh = np.array([(p.x, p.y) for p in found.face_landmarks[0]], np.float32)
                opening[index] = layout.eye_opening(mesh[MEDIAPIPE_TO_IBUG68] * (frame.shape[1], frame.shape[0]))
                scores[index] = [c.score for c in found.face_blendshapes[0]]
                head[index] = head_angles(np.asarray(found.facial_transformation_matrixes[0]))
        return FaceReadings(scores, BLENDSHAPE_NAMES, head, opening)


def head_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """Pitch, yaw and roll in degrees from a 4x4 facial transformation matrix (rotation applied as R = Rz Ry Rx)."""
    rotation = matrix[:3, :3] / np.linalg.norm(matrix[:3, :3], axis=0)
    pitch = np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2]))
    yaw = np.degrees(np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return float(pitch), float(yaw), float(roll)




__all__ = ["BROW_CHANNELS", "FaceMeter", "FaceReadings", "head_angles"]
