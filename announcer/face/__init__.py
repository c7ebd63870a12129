"""Stage 3, face: find the presenter's face and its canonical 68 landmarks on every avatar frame.

>>> stage = FaceStage(FaceConfig(models_dir="../shared/models"))  # doctest: +SKIP
>>> track = stage(load_avatar(Path("photo.jpg"), None, 1080, 20))  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..assets import ModelRegistry
from ..config import FaceConfig
from ..errors import InputError
from . import layout
from .avatar import Avatar, load_avatar, output_size
from .backends import FanLandmarker, MediaPipeLandmarker, YuNetDetector
from .track import fill_gaps, smooth

log = logging.getLogger(__name__)
MIN_DETECTED_FRACTION = 0.5


@dataclass
class FaceTrack:
    landmarks: np.ndarray
    """(N, 68, 2) float32 pixels, one row per avatar frame, gaps filled and smoothed."""
    detected: np.ndarray
    """(N,) bool: where the landmarker really found the face (others are interpolated)."""
    backend: str
    model_files: dict[str, str] = field(default_factory=dict)

    @property
    def inter_ocular(self) -> float:
        return float(np.median(layout.inter_ocular(self.landmarks)))


class FaceStage:
    """Loads the detector and landmarker once; call it on each avatar."""

    def __init__(self, config: FaceConfig, registry: ModelRegistry | None = None, device: str = "cpu",
                 progress: bool = False):
        self.config = config
        self.progress = progress
        self.registry = registry or ModelRegistry.load(config.models_dir)
        yunet_path, yunet_sha = self.registry.resolve("yunet")
        self.detector = YuNetDetector(yunet_path, config.min_detection_confidence)
        self.model_files = {str(yunet_path): yunet_sha}
        if config.backend == "fan":
            fan_path, fan_sha = self.registry.resolve("fan_2d")
            self.landmarker = FanLandmarker(fan_path, self.detector, device)
            self.model_files[str(fan_path)] = fan_sha
        else:
            landmarker_path, landmarker_sha = self.registry.resolve("face_landmarker")
            self.landmarker = MediaPipeLandmarker(landmarker_path)
            self.model_files[str(landmarker_path)] = landmarker_sha

    def close(self) -> None:
        self.landmarker.close()

    def __enter__(self) -> "FaceStage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, avatar: Avatar) -> FaceTrack:
        self._require_a_human_face(avatar)
        raw = self.landmarker.landmarks(avatar.frames, avatar.fps, progress=self.progress and avatar.is_video)
        detected = ~np.isnan(raw[:, 0, 0])
        if detected.mean() < MIN_DETECTED_FRACTION:
            raise InputError(f"the face was found in only {detected.sum()} of {len(raw)} frames", path=avatar.source,
                             fix="use footage where the presenter faces the camera throughout")
        landmarks = smooth(fill_gaps(raw), avatar.fps, self.config.smoothing_cutoff_hz) if avatar.is_video else raw
        return FaceTrack(landmarks, detected, self.landmarker.name, dict(self.model_files))

    def _require_a_human_face(self, avatar: Avatar) -> None:
        """YuNet must see a face on the first frames: MediaPipe alone will fit a mesh to a cat."""
        probes = avatar.frames[:: max(1, len(avatar.frames) // 5)][:5]
        if not any(self.detector.detect(frame) is not None for frame in probes):
            raise InputError("no human face found in the avatar", path=avatar.source,
                             fix="use a photo or video where the presenter's face is clearly visible, frontal and unobstructed")


__all__ = ["FaceStage", "FaceTrack", "Avatar", "load_avatar", "output_size", "layout"]
