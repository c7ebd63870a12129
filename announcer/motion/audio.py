"""Mouth shapes from recorded speech (no phoneme timings): features of the mel spectrogram.

A placeholder for the learned speech-to-mouth model: jaw opening follows energy in the first
formant's band, lip spread and rounding follow the balance of second-formant energy, and a
voice-activity gate with hysteresis keeps the mouth shut in silence.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_closing, binary_opening
from scipy.signal import butter, filtfilt

ANALYSIS_RATE = 16000
N_MELS = 64
GATE_ABOVE_FLOOR_DB = 14.0
MIN_GAP_S = 0.12
MOTION_CUTOFF_HZ = 6.0


def mouth_from_audio(audio: np.ndarray, sample_rate: int, fps: int, n_frames: int) -> np.ndarray:
    import librosa

    signal = librosa.resample(audio, orig_sr=sample_rate, target_sr=ANALYSIS_RATE) if sample_rate != ANALYSIS_RATE else audio
    hop = ANALYSIS_RATE // fps
    mel = librosa.feature.melspectrogram(y=signal, sr=ANALYSIS_RATE, n_fft=1024, hop_length=hop, win_length=800,
                                         n_mels=N_MELS, fmin=80, fmax=7600, center=True)
    mel = _fit_length(mel, n_frames)
    freqs = librosa.mel_frequencies(n_mels=N_MELS, fmin=80, fmax=7600)
    db = 10 * np.log10(mel + 1e-10)
    speech_db = 10 * np.log10(mel[(freqs > 250) & (freqs < 4000)].sum(axis=0) + 1e-10)
    voiced = _voice_activity(speech_db, fps)
    jaw_band = mel[(freqs > 300) & (freqs < 1000)].sum(axis=0)
    lip_band = mel[(freqs > 1200) & (freqs < 3000)].sum(axis=0)
    level = np.clip((speech_db - np.percentile(speech_db[voiced], 10) if voiced.any() else speech_db) / 25, 0, 1)
    f1_share = jaw_band / (jaw_band + lip_band + 1e-10)
    opening = level * (0.45 + 0.55 * f1_share) * voiced
    wide = np.clip((lip_band / (jaw_band + 1e-10) - 0.5) * 0.6, -0.6, 0.6) * voiced
    rounding = np.clip(0.6 - 1.2 * _spectral_tilt(db, freqs), 0, 1) * voiced * 0.5
    shapes = np.stack([opening, wide, rounding], axis=1)
    return _smooth(shapes, fps) * voiced[:, None]


def _fit_length(features: np.ndarray, n_frames: int) -> np.ndarray:
    if features.shape[1] >= n_frames:
        return features[:, :n_frames]
    return np.pad(features, ((0, 0), (0, n_frames - features.shape[1])), mode="edge")


def _voice_activity(speech_db: np.ndarray, fps: int) -> np.ndarray:
    floor = np.percentile(speech_db, 5)
    voiced = speech_db > floor + GATE_ABOVE_FLOOR_DB
    gap = max(1, int(MIN_GAP_S * fps))
    return binary_opening(binary_closing(voiced, np.ones(gap)), np.ones(2))


def _spectral_tilt(db: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    low = db[freqs < 1000].mean(axis=0)
    high = db[(freqs > 1500) & (freqs < 4000)].mean(axis=0)
    return np.clip((high - low + 30) / 30, 0, 1)


def _smooth(shapes: np.ndarray, fps: int) -> np.ndarray:
    if len(shapes) < 16:
        return shapes
    b, a = butter(2, MOTION_CUTOFF_HZ / (fps / 2))
    return np.clip(filtfilt(b, a, shapes, axis=0), [0, -1, 0], [1, 1, 1]).astype(np.float32)
