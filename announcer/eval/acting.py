"""How a face acts, measured the same way on real footage and on renders, from MediaPipe's readings (face.meter): the
head's spread, speed and beats, the brows' and the smile's spread, and how well head beats and brow raises land on
the words they should. Pure functions of per-frame arrays."""
from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from ..face.meter import BROW_CHANNELS, FaceReadings
from ..signals import runs

SMOOTHING_FRAMES = 5
"""Angles are smoothed over this many frames (a quadratic Savitzky-Golay fit) before speeds are taken: MediaPipe's
frame-to-frame jitter would otherwise read as speed. Real footage and renders are smoothed alike."""
BEAT_PROMINENCE_DEG_S = 4.0
"""A head-speed peak counts as a beat when it stands this far above its surroundings."""
FROZEN_DEG_S, FROZEN_S = 1.0, 2.0
"""The head counts as frozen where it turns slower than FROZEN_DEG_S for longer than FROZEN_S while speaking."""
BEAT_WINDOW_S = (-0.1, 0.2)
"""A word's beat lands when a head-speed peak falls this close to its stressed vowel (before, after)."""
BROW_PROMINENCE = 0.15
BLINKING, AROUND_BLINK = 0.2, 2
"""Frames whose blink score passes BLINKING, and AROUND_BLINK frames either side, are left out of the brow signal:
MediaPipe reads the brows higher as the lids close."""
BROW_WINDOW_S = (-0.25, 0.5)
SHUFFLES = 50


def head_speed(readings: FaceReadings, fps: float) -> np.ndarray:
    """(N,) the head's angular speed in degrees per second (pitch, yaw and roll together), NaN where no face was read."""
    angles = _filled(readings.head)
    if len(angles) < SMOOTHING_FRAMES:
        return np.full(len(angles), np.nan)
    rates = savgol_filter(angles, SMOOTHING_FRAMES, 2, deriv=1, axis=0) * fps
    speed = np.linalg.norm(rates, axis=1)
    speed[np.isnan(readings.head[:, 0])] = np.nan
    return speed


def pitch_speed(readings: FaceReadings, fps: float) -> np.ndarray:
    angles = _filled(readings.head[:, :1])
    return np.abs(savgol_filter(angles[:, 0], SMOOTHING_FRAMES, 2, deriv=1)) * fps


def beat_times(readings: FaceReadings, fps: float) -> np.ndarray:
    speed = np.nan_to_num(head_speed(readings, fps))
    peaks, _ = find_peaks(speed, prominence=BEAT_PROMINENCE_DEG_S)
    return peaks / fps


def brow_signal(readings: FaceReadings) -> np.ndarray:
    """(N,) how raised the brows are: the mean of the raising channels."""
    return readings.score(*BROW_CHANNELS)


def brow_raise_times(readings: FaceReadings, fps: float) -> np.ndarray:
    signal = brow_signal(readings)
    blinking = np.convolve(readings.blink > BLINKING, np.ones(2 * AROUND_BLINK + 1), mode="same") > 0
    signal[blinking] = np.nan
    if len(signal) < SMOOTHING_FRAMES or np.isnan(signal).all():
        return np.zeros(0)
    signal = savgol_filter(_filled(signal[:, None])[:, 0], SMOOTHING_FRAMES, 2)
    peaks, _ = find_peaks(signal, prominence=BROW_PROMINENCE)
    return peaks / fps


def hit_rate(events: np.ndarray, moments: np.ndarray, window: tuple[float, float]) -> float:
    """The share of `moments` (word times) with an event (a head beat, a brow raise) inside `window` around them."""
    if not len(moments):
        return float("nan")
    if not len(events):
        return 0.0
    offsets = events[None, :] - moments[:, None]
    return float(((offsets >= window[0]) & (offsets <= window[1])).any(axis=1).mean())


def shuffled_hit_rate(events: np.ndarray, moments: np.ndarray, window: tuple[float, float], duration: float,
                      seed: int = 0) -> float:
    """The hit rate of the same events against the word times moved by a random shift around the clip (a circular
    shift keeps their spacing), averaged over SHUFFLES shifts: what chance alone scores."""
    if not len(moments) or duration <= 2.0:
        return float("nan")
    rng = np.random.default_rng(seed)
    shifts = rng.uniform(1.0, duration - 1.0, SHUFFLES)
    return float(np.mean([hit_rate(events, (moments + shift) % duration, window) for shift in shifts]))


def frozen_stretches(readings: FaceReadings, fps: float, speaking: np.ndarray) -> list[float]:
    """The lengths (s) of stretches of speech longer than FROZEN_S where the head hardly turns."""
    slow = np.nan_to_num(head_speed(readings, fps), nan=0.0) < FROZEN_DEG_S
    return [(stop - start) / fps for start, stop in runs(slow & speaking) if (stop - start) / fps > FROZEN_S]


def acting_statistics(readings: FaceReadings, fps: float, speaking: np.ndarray | None = None) -> dict:
    """The figures `announcer eval` and benchmarks/acting.py report, for real footage and renders alike."""
    speaking = np.ones(len(readings.head), bool) if speaking is None else speaking
    duration = len(readings.head) / fps
    brows = readings.blendshapes[:, [readings.names.index(name) for name in (*BROW_CHANNELS, "browDownLeft")]]
    return {
        "pitch_std_deg": _round(np.nanstd(readings.head[:, 0])), "yaw_std_deg": _round(np.nanstd(readings.head[:, 1])),
        "roll_std_deg": _round(np.nanstd(readings.head[:, 2])),
        "pitch_speed_p95_deg_s": _round(np.nanpercentile(pitch_speed(readings, fps), 95)),
        "beats_per_s": _round(len(beat_times(readings, fps)) / duration),
        "longest_frozen_s": _round(max(frozen_stretches(readings, fps, speaking), default=0.0)),
        "brow_std": _round(float(np.nanmax(np.nanstd(brows, axis=0)))),
        "brow_raises_per_s": _round(len(brow_raise_times(readings, fps)) / duration),
        "smile_mean": _round(np.nanmean(readings.smile)), "smile_std": _round(np.nanstd(readings.smile)),
    }


def _filled(values: np.ndarray) -> np.ndarray:
    """Columns with their NaN gaps bridged linearly (a frame the meter lost must not break a speed)."""
    values = np.array(values, np.float64)
    frames = np.arange(len(values))
    for column in range(values.shape[1]):
        found = ~np.isnan(values[:, column])
        if found.any() and not found.all():
            values[:, column] = np.interp(frames, frames[found], values[found, column])
    return values


def _round(value: float) -> float:
    return round(float(value), 3)


__all__ = ["acting_statistics", "beat_times", "brow_raise_times", "frozen_stretches", "head_speed", "hit_rate",
           "shuffled_hit_rate"]
