"""Stage 3, face: find the presenter's face and its canonical 68 landmarks on every avatar frame.

>>> stage = FaceStage(FaceConfig(models_dir="../shared/models"))  # doctest: +SKIP
>>> track = stage(load_avatar(Path("photo.jpg"), None, 1080, 20))  # doctest: +SKIP
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from ..assets import ModelRegistry
from ..cache import cache_key
from ..config import FaceConfig
from ..errors import InputError
from . import layout
from .avatar import Avatar, load_avatar, output_size
from .backends import FaceChoice, FanLandmarker, MediaPipeLandmarker, YuNetDetector
from .track import fill_gaps, smooth

log = logging.getLogger(__name__)
ARTIFACT_VERSION = 2
"""Raise when the landmark tracks made from the same avatar change (see cache.py)."""
MIN_DETECTED_FRACTION = 0.5
MAX_BRIDGED_GAP_S = 0.5
"""Shorter stretches without a face (a hand, a quick turn) are bridged by interpolation; longer ones are cut out."""
MIN_FACE_SECONDS = 1.0


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

    def to_artifact(self) -> tuple[dict, dict]:
        return ({"landmarks": self.landmarks, "detected": self.detected},
                {"backend": self.backend, "model_files": self.model_files})

    @classmethod
    def from_artifact(cls, arrays: dict, record: dict) -> "FaceTrack":
        return cls(arrays["landmarks"], arrays["detected"], record["backend"], record["model_files"])


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
            self.landmarker = MediaPipeLandmarker(landmarker_path, choose=FaceChoice(config.face_number))
            self.model_files[str(landmarker_path)] = landmarker_sha

    def close(self) -> None:
        self.landmarker.close()

    def __enter__(self) -> "FaceStage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cache_key(self, avatar: Avatar) -> str:
        """What the track is made from: the avatar file's content and the frames taken from it, and the settings."""
        face = self.config
        return cache_key("face", ARTIFACT_VERSION, avatar.sha256, avatar.frames.shape, face.backend,
                         face.smoothing_cutoff_hz, face.max_avatar_seconds, face.face_number)

    def __call__(self, avatar: Avatar) -> FaceTrack:
        self._require_a_human_face(avatar)
        raw = self.landmarker.landmarks(avatar.frames, avatar.fps, progress=self.progress and avatar.is_video)
        detected = ~np.isnan(raw[:, 0, 0])
        self._check_face_number(avatar)
        self._say_which_face(avatar)
        if detected.mean() < MIN_DETECTED_FRACTION:
            raise InputError(f"the face was found in only {detected.sum()} of {len(raw)} frames", path=avatar.source,
                             fix="use footage where the presenter faces the camera throughout")
        landmarks = smooth(fill_gaps(raw), avatar.fps, self.config.smoothing_cutoff_hz) if avatar.is_video else raw
        return FaceTrack(landmarks, detected, self.landmarker.name, dict(self.model_files))

    def _check_face_number(self, avatar: Avatar) -> None:
        seen = getattr(self.landmarker, "faces_seen", None)  # a landmarker that does not count faces is not asked
        number = self.config.face_number
        if number is not None and seen is not None and number > seen:
            raise InputError(f"face {number} was asked for, and the avatar shows {seen} face{'s' if seen > 1 else ''}",
                             path=avatar.source, fix=f"use --face 1 to {seen}, counted from the left" if seen > 1 else
                             "leave out --face: the one face is the presenter")

    def _say_which_face(self, avatar: Avatar) -> None:
        seen = getattr(self.landmarker, "faces_seen", 1)
        if seen > 1:
            which = "the largest" if self.config.face_number is None else f"number {self.config.face_number} from the left"
            log.warning("%s: %d faces in the picture; the presenter is %s (choose another with --face N, counted from "
                        "the left)", avatar.source.name, seen, which)

    def _require_a_human_face(self, avatar: Avatar) -> None:
        """YuNet must see a face on the first frames: MediaPipe alone will fit a mesh to a cat."""
        probes = avatar.frames[:: max(1, len(avatar.frames) // 5)][:5]
        if not any(self.detector.detect(frame) is not None for frame in probes):
            raise InputError("no human face found in the avatar", path=avatar.source,
                             fix="use a photo or video where the presenter's face is clearly visible, frontal and unobstructed")


def frames_with_face(avatar: Avatar, track: FaceTrack) -> tuple[Avatar, FaceTrack]:
    """A video avatar cut to its longest stretch with the whole face in the picture (gaps up to MAX_BRIDGED_GAP_S
    bridged), so no frame without a face is drawn; the avatar records which frames it kept."""
    if not avatar.is_video:
        return avatar, track
    width, height = avatar.size
    in_view = track.detected & np.all((track.landmarks >= 0) & (track.landmarks <= (width - 1, height - 1)), axis=(1, 2))
    if in_view.sum() < MIN_FACE_SECONDS * avatar.fps:
        in_view = track.detected  # framed tight (the chin cut off throughout): what the landmarker found will do
    if in_view.all():
        return avatar, track
    start, stop = _longest_bridged_run(in_view, int(round(MAX_BRIDGED_GAP_S * avatar.fps)))
    if (stop - start) / avatar.fps < MIN_FACE_SECONDS:
        raise InputError(f"the face is in the picture for at most {(stop - start) / avatar.fps:.1f}s at a time",
                         path=avatar.source, fix=f"use footage where the presenter's face stays in view for "
                                                 f"{MIN_FACE_SECONDS:g}s or more")
    if (start, stop) == (0, len(track.detected)):
        return avatar, track
    log.warning("%s: the face is out of the picture in parts of the video; using frames %d-%d of %d",
                avatar.source.name, start, stop - 1, len(track.detected))
    kept = slice(start, stop)
    return (replace(avatar, frames=avatar.frames[kept], used_frames=(start, stop)),
            replace(track, landmarks=track.landmarks[kept], detected=track.detected[kept]))


def _longest_bridged_run(detected: np.ndarray, max_gap: int) -> tuple[int, int]:
    """[start, stop) of the longest stretch that begins and ends with a detection and has no gap over `max_gap`."""
    found = np.flatnonzero(detected)
    breaks = np.flatnonzero(np.diff(found) > max_gap + 1)
    starts, stops = np.r_[found[0], found[breaks + 1]], np.r_[found[breaks], found[-1]] + 1
    longest = int(np.argmax(stops - starts))
    return int(starts[longest]), int(stops[longest])


__all__ = ["FaceStage", "FaceTrack", "Avatar", "load_avatar", "output_size", "layout", "frames_with_face"]
