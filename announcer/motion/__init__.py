"""Stage 4, motion: speech in, one mouth shape (plus blink and head pose) per output frame out.

>>> plan = plan_motion(speech, MotionConfig(fps=25), avatar_frames=1, avatar_fps=0)  # doctest: +SKIP
>>> plan.mouth.shape  # (frames, [open, wide, round])  # doctest: +SKIP
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import MotionConfig
from ..voice.types import Speech
from .acting import Acting, ActingInput, plan_acting
from .audio import mouth_from_audio
from .idle import blinks, head_sway, ping_pong
from .units import MAX_GAP
from .visemes import blend, expand

CLOSED_BELOW = 0.02
"""Openings smaller than this are snapped shut, so silence has no sub-pixel jitter."""


@dataclass
class MotionPlan:
    fps: int
    mouth: np.ndarray
    """(T, 3) per frame: open 0..1, wide -1..1 (spread vs pursed), round 0..1."""
    blink: np.ndarray
    """(T,) eyelid closure 0..1 (zeros for video avatars, which keep their own blinks)."""
    head: np.ndarray
    """(T, 3) roll in degrees and shift in inter-ocular units (zeros for video avatars)."""
    source_frame: np.ndarray
    """(T,) which avatar frame each output frame is drawn from."""
    driver: str
    """'phonemes' (a TTS engine's timings, or aligned to recorded narration), 'audio' or 'audio-model' (read from the recording)."""
    acting: Acting | None = None
    """How the face acts the script: tone, beats, brows; None for a still face."""

    @property
    def n_frames(self) -> int:
        return len(self.mouth)


def frame_count(duration_s: float, fps: int) -> int:
    return max(1, math.ceil(duration_s * fps - 1e-6))


def plan_motion(speech: Speech, config: MotionConfig, avatar_frames: int, avatar_fps: float,
                mouth_model: Callable[[Path], object] | None = None, acting: ActingInput | None = None) -> MotionPlan:
    """`mouth_model(weights)` gives the loaded speech-to-mouth model (a Runtime keeps it between clips); without it,
    a recording read by the model loads it for this clip. `acting`: the script and its tones to act (none: a still
    face)."""
    n_frames = frame_count(speech.duration, config.fps)
    times = (np.arange(n_frames) + 0.5) / config.fps
    if speech.phonemes:
        mouth, driver = blend(expand(speech.phonemes), times), "phonemes"
    else:
        mouth, driver = _mouth_from_recording(speech, config, n_frames, mouth_model)
    mouth[:, 0] = np.clip(mouth[:, 0] * config.mouth_scale, 0, 1)
    mouth[mouth[:, 0] < CLOSED_BELOW] = 0
    rng = np.random.default_rng(config.seed)
    is_photo = avatar_frames <= 1
    acted = None if acting is None else plan_acting(
        acting, speech.captions, speech.phonemes, n_frames, config.fps, np.random.default_rng([config.seed, 1]), is_photo,
        config.head_motion)
    blink = blinks(n_frames, config.fps, rng, acted.phrase_ends if acted else None) if (is_photo and config.blinks) \
        else np.zeros(n_frames, np.float32)
    head = head_sway(n_frames, config.fps, rng, config.head_motion) if is_photo else np.zeros((n_frames, 3), np.float32)
    source = ping_pong(n_frames, config.fps, avatar_frames, avatar_fps)
    return MotionPlan(config.fps, mouth.astype(np.float32), blink, head, source, driver, acted)


def _mouth_from_recording(speech: Speech, config: MotionConfig, n_frames: int,
                          mouth_model: Callable[[Path], object] | None) -> tuple[np.ndarray, str]:
    weights = _mouth_weights(config.mouth_model)
    if weights is None:
        return mouth_from_audio(speech.audio, speech.sample_rate, config.fps, n_frames), "audio"
    from .audio import close_in_silence
    from .model import MouthNet, predict_mouth

    model = mouth_model(weights) if mouth_model is not None else MouthNet.load(str(weights))
    shapes = predict_mouth(model, speech.audio, speech.sample_rate, config.fps, n_frames)
    return close_in_silence(shapes, speech.audio, speech.sample_rate, config.fps), "audio-model"


def _mouth_weights(choice: str) -> Path | None:
    from .model import DEFAULT_WEIGHTS

    if choice == "heuristic":
        return None
    if choice == "auto":
        return DEFAULT_WEIGHTS if DEFAULT_WEIGHTS.is_file() else None
    return Path(choice)



__all__ = ["MAX_GAP", "Acting", "ActingInput", "MotionPlan", "plan_motion", "frame_count"]
