"""Loudness normalisation to an integrated target (ITU-R BS.1770 via pyloudnorm) under a true-peak ceiling."""
from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

OVERSAMPLE = 4
LIMITER_WINDOW_S = 0.005
MIN_MEASURABLE_S = 0.4
TOLERANCE_LU = 0.3
MAX_PASSES = 6


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    padded = audio if len(audio) >= MIN_MEASURABLE_S * sample_rate else np.pad(audio, (0, int(MIN_MEASURABLE_S * sample_rate)))
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(padded.astype(np.float64)))


def true_peak_dbtp(audio: np.ndarray) -> float:
    """Peak of the 4x oversampled signal (BS.1770-4 annex 2), in dBTP."""
    oversampled = resample_poly(audio.astype(np.float64), OVERSAMPLE, 1)
    peak = float(np.max(np.abs(oversampled))) if len(oversampled) else 0.0
    return 20 * np.log10(max(peak, 1e-9))


def normalize_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float,
                       ceiling_dbtp: float) -> tuple[np.ndarray, float, float]:
    """Gain to the target under a true-peak limiter; returns (audio, measured LUFS, true peak).

    Limiting lowers loudness, so gain and limiting alternate until the result is within
    TOLERANCE_LU of the target (make-up gain, as a broadcast limiter chain does).
    """
    measured = integrated_loudness(audio, sample_rate)
    if not np.isfinite(measured):  # digital silence
        return audio, measured, true_peak_dbtp(audio)
    result = audio.astype(np.float64)
    for _ in range(MAX_PASSES):
        result = _limit_true_peak(result * 10 ** ((target_lufs - measured) / 20), sample_rate, ceiling_dbtp)
        measured = integrated_loudness(result, sample_rate)
        if abs(measured - target_lufs) <= TOLERANCE_LU:
            break
    return result.astype(np.float32), measured, true_peak_dbtp(result)


def _limit_true_peak(audio: np.ndarray, sample_rate: int, ceiling_dbtp: float) -> np.ndarray:
    ceiling = 10 ** (ceiling_dbtp / 20)
    for _ in range(4):  # a smooth gain curve can leave tiny overs: tighten until none remain
        envelope = np.abs(resample_poly(audio.astype(np.float64), OVERSAMPLE, 1)).reshape(-1, OVERSAMPLE).max(axis=1)
        needed = np.minimum(1.0, ceiling * 0.995 / np.maximum(envelope[:len(audio)], 1e-9))
        if needed.min() >= 1.0:
            return audio
        window = max(1, int(LIMITER_WINDOW_S * sample_rate))
        gain = uniform_filter1d(minimum_filter1d(needed, size=2 * window + 1), size=window)
        audio = audio * np.minimum(gain, needed)
    return audio


def voiced_span(audio: np.ndarray, sample_rate: int, threshold: float = 0.02) -> tuple[float, float] | None:
    """(first, last) second where the signal rises above `threshold` of its peak; None for silence."""
    voiced = np.flatnonzero(np.abs(audio) > threshold * max(float(np.abs(audio).max(initial=0.0)), 1e-6))
    if len(voiced) == 0:
        return None
    return voiced[0] / sample_rate, voiced[-1] / sample_rate
