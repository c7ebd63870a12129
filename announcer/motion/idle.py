"""What a presenter does while reading: blinks, a little head motion, and looped footage."""
from __future__ import annotations

import numpy as np

BLINK_INTERVAL_S = (2.0, 6.0)
BLINK_CLOSE_S = 0.07
BLINK_HOLD_S = 0.04
"""Lids stay shut this long, so every blink reaches full closure on at least one frame at 25 fps."""
BLINK_OPEN_S = 0.11
LEAN_S, LEAN_AFTER_S = 1.2, 0.08
"""A blink due this long before a phrase end moves to just after it."""
SWAY_DEGREES = 1.2
SWAY_SHIFT = 0.025
"""Head translation amplitude, in inter-ocular distances."""


def blinks(n_frames: int, fps: int, rng: np.random.Generator, lean_to: np.ndarray | None = None) -> np.ndarray:
    """(n_frames,) eyelid closure 0..1: quick close, slower open, every 2 to 6 seconds. A blink due within
    LEAN_S before one of the times `lean_to` (phrase ends) waits for it, as readers blink at phrase boundaries."""
    closure = np.zeros(n_frames, np.float32)
    times = np.arange(n_frames) / fps
    moment = rng.uniform(0.8, 2.5)
    while moment < n_frames / fps:
        moment = _leaning(moment, lean_to)
        rising = (times - moment + BLINK_CLOSE_S) / BLINK_CLOSE_S
        falling = 1 - (times - moment - BLINK_HOLD_S) / BLINK_OPEN_S
        shape = np.where(times <= moment, rising, np.where(times <= moment + BLINK_HOLD_S, 1.0, falling))
        closure = np.maximum(closure, np.clip(shape, 0, 1))
        moment += BLINK_HOLD_S + rng.uniform(*BLINK_INTERVAL_S)
    return closure


def _leaning(moment: float, lean_to: np.ndarray | None) -> float:
    if lean_to is None or not len(lean_to):
        return moment
    ahead = lean_to[(lean_to >= moment) & (lean_to - moment <= LEAN_S)]
    return float(ahead[0]) + LEAN_AFTER_S if len(ahead) else moment


def head_sway(n_frames: int, fps: int, rng: np.random.Generator, amount: float) -> np.ndarray:
    """(n_frames, 3): roll in degrees, dx and dy in inter-ocular units; slow, smooth, seeded."""
    times = np.arange(n_frames) / fps
    sway = np.zeros((n_frames, 3), np.float32)
    for axis, amplitude in enumerate((SWAY_DEGREES, SWAY_SHIFT, SWAY_SHIFT * 0.6)):
        for period in (7.0, 3.3, 1.9):
            phase = rng.uniform(0, 2 * np.pi)
            sway[:, axis] += amplitude / 3 * np.sin(2 * np.pi * times / (period * rng.uniform(0.8, 1.25)) + phase)
    return sway * amount


def ping_pong(n_frames: int, fps: int, source_frames: int, source_fps: float) -> np.ndarray:
    """Avatar frame index for each output frame: the footage plays forward, then backward, with no jump."""
    if source_frames <= 1:
        return np.zeros(n_frames, np.int64)
    position = np.round(np.arange(n_frames) * (source_fps or fps) / fps).astype(np.int64)
    period = 2 * (source_frames - 1)
    phase = position % period
    return np.where(phase < source_frames, phase, period - phase)
