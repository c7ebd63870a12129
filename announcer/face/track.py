"""Per-frame landmarks into a smooth track: gaps interpolated, jitter filtered without lag."""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, filtfilt

MIN_FRAMES_TO_FILTER = 16


def fill_gaps(landmarks: np.ndarray) -> np.ndarray:
    """Linear interpolation over frames with no face (NaN); the ends hold the nearest detection."""
    found = ~np.isnan(landmarks[:, 0, 0])
    if found.all():
        return landmarks
    frames = np.arange(len(landmarks))
    flat = landmarks.reshape(len(landmarks), -1)
    filled = np.stack([np.interp(frames, frames[found], flat[found, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(landmarks.shape).astype(np.float32)


def smooth(landmarks: np.ndarray, fps: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass (forward-backward Butterworth): removes detector jitter, keeps timing."""
    if len(landmarks) < MIN_FRAMES_TO_FILTER or not fps or cutoff_hz >= fps / 2:
        return landmarks
    b, a = butter(2, cutoff_hz / (fps / 2))
    flat = landmarks.reshape(len(landmarks), -1)
    return filtfilt(b, a, flat, axis=0, padlen=min(3 * max(len(a), len(b)), len(flat) - 1)).reshape(
        landmarks.shape).astype(np.float32)
