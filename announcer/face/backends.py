"""Face detectors and landmarkers behind one small interface, each loading its model once."""
from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..config import MAX_FACES_TO_CHOOSE
from .layout import MEDIAPIPE_TO_IBUG68

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    box: np.ndarray
    """x0, y0, x1, y1 in pixels."""
    score: float


class YuNetDetector:
    """OpenCV's YuNet: fast, robust face boxes; tells a face from a cat."""

    def __init__(self, model_path: Path, score_threshold: float = 0.6):
        self._detector = cv2.FaceDetectorYN.create(str(model_path), "", (320, 320), score_threshold, 0.3, 50)

    def detect(self, rgb: np.ndarray) -> Detection | None:
        """The most confident face, or None."""
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, faces = self._detector.detect(bgr)
        if faces is None or len(faces) == 0:
            return None
        best = faces[np.argmax(faces[:, 14])]
        x, y, w, h = best[:4]
        return Detection(np.array([x, y, x + w, y + h], np.float32), float(best[14]))


MAX_FACES = MAX_FACES_TO_CHOOSE
"""Faces the landmarker looks for on a frame, so that the presenter can be chosen among them."""


@dataclass(frozen=True)
class FaceChoice:
    """Which face is the presenter when a frame shows several: `number` counts from the left (1 is the leftmost);
    None takes the largest. On video, after the first frame, the face nearest the last one is kept."""
    number: int | None = None

    def pick(self, faces: list[np.ndarray], previous: np.ndarray | None) -> np.ndarray:
        if len(faces) == 1:
            return faces[0]
        if previous is not None:
            return min(faces, key=lambda face: float(np.abs(face - previous).mean()))
        if self.number is None:
            return max(faces, key=lambda face: float(np.ptp(face[:, 0]) * np.ptp(face[:, 1])))
        by_left = sorted(faces, key=lambda face: float(face[:, 0].mean()))
        return by_left[min(self.number, len(by_left)) - 1]


class Landmarker:
    """Maps frames to canonical 68-point landmarks; NaN rows where no face was found."""

    name = "base"

    def landmarks(self, frames: np.ndarray, fps: float, progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Free native resources; the landmarker is unusable afterwards."""


@contextmanager
def native_logs_hidden():
    """MediaPipe's C++ core writes INFO and WARNING lines straight to file descriptor 2, with no switch that
    works for every version; hide them (errors still raise in Python) unless debug logging is on."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class MediaPipeLandmarker(Landmarker):
    """MediaPipe Face Landmarker (478 points), in IMAGE mode for photos and VIDEO mode for footage."""

    name = "mediapipe"

    def __init__(self, model_path: Path, min_confidence: float = 0.5, choose: "FaceChoice | None" = None):
        from mediapipe.tasks.python import BaseOptions, vision

        self._vision = vision
        self.faces_seen = 0
        """The most faces found on one frame by the last `landmarks` call."""
        self.choose = choose or FaceChoice()
        self._options = dict(base_options=BaseOptions(model_asset_path=str(model_path)), num_faces=MAX_FACES,
                             min_face_detection_confidence=min_confidence, min_face_presence_confidence=min_confidence,
                             min_tracking_confidence=min_confidence)
        with native_logs_hidden():
            self._image = vision.FaceLandmarker.create_from_options(
                vision.FaceLandmarkerOptions(running_mode=vision.RunningMode.IMAGE, **self._options))

    def close(self) -> None:
        """Release the graph now: MediaPipe's own __del__ fails if left to interpreter shutdown."""
        self._image.close()

    def landmarks(self, frames: np.ndarray, fps: float, progress: bool = False) -> np.ndarray:
        import mediapipe as mp

        with native_logs_hidden():
            return self._landmarks(frames, fps, mp, progress)

    def _landmarks(self, frames: np.ndarray, fps: float, mp, progress: bool) -> np.ndarray:
        out = np.full((len(frames), 68, 2), np.nan, np.float32)
        self.faces_seen = 0
        video = None
        if len(frames) > 1:
            # VIDEO mode tracks between frames; timestamps must restart, so one instance per clip. It looks for as
            # many faces as the first frame shows: asked for more, it runs its detector on every frame, which
            # makes the track jitter.
            first = self._image.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frames[0])))
            options = {**self._options, "num_faces": max(1, len(first.face_landmarks))}
            video = self._vision.FaceLandmarker.create_from_options(
                self._vision.FaceLandmarkerOptions(running_mode=self._vision.RunningMode.VIDEO, **options))
        try:
            for index, frame in enumerate(tqdm(frames, desc="face", unit="frame", disable=None if progress else True,
                                               leave=False)):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
                result = video.detect_for_video(image, int(index * 1000 / (fps or 25))) if video else self._image.detect(image)
                faces = [np.array([(p.x, p.y) for p in mesh], np.float32)[MEDIAPIPE_TO_IBUG68] * (frame.shape[1], frame.shape[0])
                         for mesh in result.face_landmarks]
                self.faces_seen = max(self.faces_seen, len(faces))
                if faces:
                    previous = out[index - 1] if index and not np.isnan(out[index - 1, 0, 0]) else None
                    out[index] = self.choose.pick(faces, previous)
        finally:
            if video is not None:
                video.close()
        return out


class FanLandmarker(Landmarker):
    """face-alignment's FAN (68 points) on face crops, batched on the device.

    Boxes come from YuNet, so no pickled S3FD detector is ever loaded; the FAN weights are a
    plain state dict read with `torch.load(weights_only=True)`.
    """

    name = "fan"
    REFERENCE_SCALE = 195.0

    def __init__(self, weights_path: Path, detector: YuNetDetector, device: str = "cpu", num_modules: int = 4,
                 batch_size: int = 16):
        import torch
        from face_alignment.models.fan import FAN

        self._torch = torch
        self.device = device
        self.batch_size = batch_size
        self.detector = detector
        self.net = FAN(num_modules)
        self.net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        self.net.to(device).eval()

    def landmarks(self, frames: np.ndarray, fps: float, progress: bool = False) -> np.ndarray:
        from face_alignment.utils import CENTER_Y_OFFSET, crop, get_preds_fromhm

        out = np.full((len(frames), 68, 2), np.nan, np.float32)
        found = [(i, self.detector.detect(frame)) for i, frame in enumerate(frames)]
        found = [(i, d) for i, d in found if d is not None]
        for start in range(0, len(found), self.batch_size):
            chunk = found[start:start + self.batch_size]
            centers, scales, crops = [], [], []
            for index, detection in chunk:
                x0, y0, x1, y1 = (float(v) for v in detection.box)  # face-alignment's crop wants Python floats
                center = np.array([(x0 + x1) / 2, (y0 + y1) / 2 - (y1 - y0) * CENTER_Y_OFFSET])
                scale = ((x1 - x0) + (y1 - y0)) / self.REFERENCE_SCALE
                centers.append(center)
                scales.append(scale)
                crops.append(crop(frames[index], center, scale).transpose(2, 0, 1).astype(np.float32) / 255.0)
            with self._torch.no_grad():
                heatmaps = self.net(self._torch.from_numpy(np.stack(crops)).to(self.device))
                heatmaps = (heatmaps[-1] if isinstance(heatmaps, (list, tuple)) else heatmaps).float().cpu().numpy()
            for row, (index, _) in enumerate(chunk):
                _, points, _ = get_preds_fromhm(heatmaps[row:row + 1], centers[row], scales[row])
                out[index] = points.reshape(68, 2)
        return out
