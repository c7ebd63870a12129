"""The programme's sound: the intro's own sound, then the narration with a music bed ducked under it, then the
outro's, mixed at 48 kHz to the loudness target.

The bed is looped to the narration's length, faded in and out, set `music_level_db` against the speech where no one
speaks, and dips a further `music_duck_db` while someone does (a sidechain ducker keyed by the narration, with a
little lookahead so the bed is already down when a sentence starts). Both stems are reported, measured as BS.1770
loudness, so the manifest says how far the speech sits above the bed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import resample_poly

from ..config import ProgrammeConfig
from ..errors import InputError
from ..media.ffmpeg import decode_audio
from ..voice.loudness import integrated_loudness, normalize_loudness

PROGRAMME_RATE = 48000
"""The delivered audio's rate (the encoder writes AAC at 48 kHz)."""
ENVELOPE_HOP_S = 0.01
SPEECH_GATE_DB = -25.0
"""Narration counts as speaking where its 10 ms level is within this of its own loudness (breaths are quieter)..."""
ABOVE_NOISE_DB = 10.0
"""...and this far above the recording's noise floor (its quietest tenth), so a room's hum never holds the bed down."""
DUCK_ATTACK_S = 0.06
DUCK_RELEASE_S = 0.45
DUCK_LOOKAHEAD_S = 0.06
HOLD_S = 0.15
"""A dip between two words shorter than this keeps the bed down (otherwise it would pump between syllables)."""
BED_FADE_IN_S = 0.4
BED_FADE_OUT_S = 1.5
LOOP_CROSSFADE_S = 0.4
JOIN_FADE_S = 0.005
"""At each join (intro to narration, narration to outro) both sides fade over 5 ms, so no click is heard."""


@dataclass(frozen=True)
class Soundtrack:
    audio: np.ndarray
    """The whole programme, mono float32 at `sample_rate`."""
    sample_rate: int
    loudness_lufs: float
    true_peak_dbtp: float
    speech: np.ndarray | None = None
    """The narration stem as mixed (after the final gain), the length of the narration part; None without a bed."""
    bed: np.ndarray | None = None
    """The music stem as mixed, ducked (after the final gain)."""

    def bed_report(self) -> dict | None:
        """The stems' loudness, for the manifest: how far the speech sits above the bed overall and while speaking."""
        if self.bed is None:
            return None
        speaking = speaking_mask(self.speech, self.sample_rate)
        speech_lufs = integrated_loudness(self.speech, self.sample_rate)
        bed_lufs = integrated_loudness(self.bed, self.sample_rate)
        return {"speech_lufs": round(speech_lufs, 2), "bed_lufs": round(bed_lufs, 2),
                "speech_over_bed_db": round(speech_lufs - bed_lufs, 2),
                "speech_over_bed_while_speaking_db": round(
                    speech_lufs - integrated_loudness(self.bed[speaking], self.sample_rate), 2) if speaking.any() else None}


def programme_sound(speech: np.ndarray, speech_rate: int, main_seconds: float, intro: np.ndarray | None,
                    outro: np.ndarray | None, music: Path | None, config: ProgrammeConfig, target_lufs: float,
                    ceiling_dbtp: float) -> Soundtrack:
    """`speech` (already at the target loudness) padded to `main_seconds`, with the bed under it and the intro's and
    outro's sound (at PROGRAMME_RATE, each as long as its pictures) around it, normalised as one programme."""
    narration = fitted(_to_programme_rate(speech, speech_rate), round(main_seconds * PROGRAMME_RATE))
    bed = None
    if music is not None:
        bed = music_bed(music, len(narration))
        bed *= _level_against(narration, bed, config.music_level_db)
        bed *= duck_gain(narration, PROGRAMME_RATE, config.music_duck_db)
    main = narration + bed if bed is not None else narration
    parts = [_capped(part, target_lufs) for part in (intro, outro)]
    whole = np.concatenate([_faded_ends(p) for p in (parts[0], main, parts[1]) if p is not None and len(p)])
    mixed, loudness, peak = normalize_loudness(whole, PROGRAMME_RATE, target_lufs, ceiling_dbtp)
    if bed is None:
        return Soundtrack(mixed, PROGRAMME_RATE, loudness, peak)
    gain = _applied_gain(whole, mixed)
    return Soundtrack(mixed, PROGRAMME_RATE, loudness, peak, (narration * gain).astype(np.float32),
                      (bed * gain).astype(np.float32))


def music_bed(path: Path, n_samples: int) -> np.ndarray:
    """The music at PROGRAMME_RATE, looped (with a crossfade at each seam) to `n_samples`, faded in and out."""
    music = decode_audio(path, PROGRAMME_RATE)
    if len(music) < PROGRAMME_RATE or not np.any(np.abs(music) > 1e-4):
        raise InputError("music bed is shorter than a second or silent", path=path,
                         fix="give a music file of a few seconds or more")
    bed = _looped(music.astype(np.float32), n_samples)
    fade_in, fade_out = min(n_samples, int(BED_FADE_IN_S * PROGRAMME_RATE)), min(n_samples, int(BED_FADE_OUT_S * PROGRAMME_RATE))
    bed[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    bed[len(bed) - fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return bed


def duck_gain(speech: np.ndarray, sample_rate: int, duck_db: float) -> np.ndarray:
    """Per-sample linear gain for the bed: 1 where no one speaks, down `duck_db` while someone does, with attack,
    release, a short hold and lookahead (the bed starts to dip just before a sentence does)."""
    hop = int(ENVELOPE_HOP_S * sample_rate)
    speaking = _speaking_hops(speech, sample_rate).astype(np.float64)
    speaking = maximum_filter1d(speaking, size=max(1, int(HOLD_S / ENVELOPE_HOP_S)), origin=0)
    lookahead = int(DUCK_LOOKAHEAD_S / ENVELOPE_HOP_S)
    speaking = np.concatenate([speaking[lookahead:], np.zeros(lookahead)]) if lookahead else speaking
    reduction = _attack_release(speaking * duck_db)
    gain_db = -np.repeat(reduction, hop)[:len(speech)]
    gain_db = np.pad(gain_db, (0, len(speech) - len(gain_db)), mode="edge") if len(gain_db) else np.zeros(len(speech))
    return (10 ** (gain_db / 20)).astype(np.float32)


def speaking_mask(speech: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per sample: True where the narration is speaking (its 10 ms level within SPEECH_GATE_DB of its loudness)."""
    hop = int(ENVELOPE_HOP_S * sample_rate)
    mask = np.repeat(_speaking_hops(speech, sample_rate), hop)[:len(speech)]
    return np.pad(mask, (0, len(speech) - len(mask)))


def _speaking_hops(speech: np.ndarray, sample_rate: int) -> np.ndarray:
    hop = int(ENVELOPE_HOP_S * sample_rate)
    n = len(speech) // hop
    if n == 0:
        return np.zeros(0, bool)
    rms = np.sqrt(np.mean(speech[:n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    level = 20 * np.log10(np.maximum(rms, 1e-9))
    loudness = integrated_loudness(speech, sample_rate)
    reference = loudness if np.isfinite(loudness) else level.max()
    return level > max(reference + SPEECH_GATE_DB, np.percentile(level, 10) + ABOVE_NOISE_DB)


def _attack_release(target_db: np.ndarray) -> np.ndarray:
    """Follow `target_db` (per hop) quickly when it rises and slowly when it falls, as a ducker's gain does."""
    attack = np.exp(-ENVELOPE_HOP_S / DUCK_ATTACK_S)
    release = np.exp(-ENVELOPE_HOP_S / DUCK_RELEASE_S)
    out = np.empty_like(target_db)
    level = 0.0
    for i, target in enumerate(target_db):  # per 10 ms hop: a few thousand steps for a minute
        coefficient = attack if target > level else release
        level = coefficient * level + (1 - coefficient) * target
        out[i] = level
    return out


def _level_against(narration: np.ndarray, bed: np.ndarray, level_db: float) -> float:
    """The gain that sets the bed `level_db` against the narration (both as BS.1770 loudness)."""
    speech_lufs, bed_lufs = integrated_loudness(narration, PROGRAMME_RATE), integrated_loudness(bed, PROGRAMME_RATE)
    if not (np.isfinite(speech_lufs) and np.isfinite(bed_lufs)):
        return 10 ** (level_db / 20)
    return float(10 ** ((speech_lufs + level_db - bed_lufs) / 20))


def _looped(music: np.ndarray, n_samples: int) -> np.ndarray:
    if len(music) >= n_samples:
        return music[:n_samples].copy()
    overlap = min(int(LOOP_CROSSFADE_S * PROGRAMME_RATE), len(music) // 4)
    ramp = np.linspace(0, 1, overlap, dtype=np.float32)
    out = music.copy()
    while len(out) < n_samples:
        seam = out[len(out) - overlap:] * (1 - ramp) + music[:overlap] * ramp
        out = np.concatenate([out[:len(out) - overlap], seam, music[overlap:]])
    return out[:n_samples]


def _to_programme_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == PROGRAMME_RATE:
        return audio.astype(np.float32)
    divisor = np.gcd(rate, PROGRAMME_RATE)
    return resample_poly(audio.astype(np.float64), PROGRAMME_RATE // divisor, rate // divisor).astype(np.float32)


def fitted(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """`audio` cut or padded with silence to `n_samples`."""
    out = np.zeros(n_samples, np.float32)
    out[:min(n_samples, len(audio))] = audio[:n_samples]
    return out


def _capped(audio: np.ndarray | None, target_lufs: float) -> np.ndarray | None:
    """An intro's or outro's own sound, turned down to the target if louder (a quieter sting is left as made)."""
    if audio is None or not len(audio):
        return audio
    loudness = integrated_loudness(audio, PROGRAMME_RATE)
    return audio * 10 ** ((target_lufs - loudness) / 20) if np.isfinite(loudness) and loudness > target_lufs else audio


def _faded_ends(audio: np.ndarray) -> np.ndarray:
    fade = min(int(JOIN_FADE_S * PROGRAMME_RATE), len(audio) // 2)
    out = audio.astype(np.float32)
    if fade:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[len(out) - fade:] *= ramp[::-1]
    return out


def _applied_gain(before: np.ndarray, after: np.ndarray) -> float:
    """The overall gain normalisation applied (the limiter only touches rare peaks, so the ratio of levels holds)."""
    return float(np.sqrt(np.mean(after.astype(np.float64) ** 2) / max(np.mean(before.astype(np.float64) ** 2), 1e-20)))


__all__ = ["PROGRAMME_RATE", "Soundtrack", "duck_gain", "fitted", "music_bed", "programme_sound", "speaking_mask"]
