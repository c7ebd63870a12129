"""Mouth shapes from recorded speech (no phoneme timings): features of the mel spectrogram.

The signal-processing driver, used when no learned speech-to-mouth model is loaded: jaw opening
follows energy in the first formant's band, lip spread and rounding follow the balance of
second-formant energy, and a voice-activity gate with hysteresis keeps the mouth shut in silence.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_closing, binary_dilation, binary_opening, uniform_filter1d
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
    voiced = voice_activity(speech_db, fps)
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


def voice_activity(speech_db: np.ndarray, fps: int) -> np.ndarray:
    """Speech frames: level well above the recording's floor, short gaps bridged, single blips dropped."""
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


def frame_levels_db(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """RMS level of the audio under each video frame, in dB."""
    hop = sample_rate / fps
    levels = np.array([np.sqrt(np.mean(audio[int(k * hop):int((k + 1) * hop)] ** 2)) if int(k * hop) < len(audio) else 0.0
                       for k in range(n_frames)])
    return 20 * np.log10(levels + 1e-6)


def mouth_from_loudness(audio: np.ndarray, sample_rate: int, fps: int, n_frames: int) -> np.ndarray:
    """The naive baseline: the mouth opens with loudness (dB above the floor), nothing else."""
    db = frame_levels_db(audio, sample_rate, fps, n_frames)
    floor = np.percentile(db, 5)
    opening = np.clip((db - floor - 10) / 30, 0, 1)
    return np.stack([opening, np.zeros_like(opening), np.zeros_like(opening)], axis=1).astype(np.float32)


def close_in_silence(shapes: np.ndarray, audio: np.ndarray, sample_rate: int, fps: int) -> np.ndarray:
    """Shut the mouth where nobody speaks: open up to two frames before sound (mouths lead speech),
    and close over a few frames after it, so silence is still and closed."""
    speaking = voice_activity(frame_levels_db(audio, sample_rate, fps, len(shapes)), fps)
    reach = binary_dilation(speaking, np.ones(5, bool))
    ramp = uniform_filter1d(reach.astype(np.float32), 3, mode="nearest")  # speech running off an edge stays open
    return (shapes * ramp[:, None]).astype(np.float32)
