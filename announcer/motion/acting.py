"""How the presenter acts the script, frame by frame: the smile and brows each sentence's tone asks for, head beats on
accented words, brow raises on emphasised ones, small tilts at phrase ends and a settle in long pauses.

Newsreaders move their heads on about a quarter of their words and their brows on a few, both on focal accents
(Ambrazaitis & House 2017), and read a grave story with a graver face (Swerts & Krahmer 2010). A nod here is a pitch
beat whose downward stroke peaks at the stressed vowel; tone changes ease over EASE_S, while speech motion stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..script.parse import Script
from ..script.tone import script_tones
from .expression import ExpressionConfig
from ..timeline import TimedUnit
from .words import SpokenWord, emphasised, focal_words, spoken_words

SMILE_LEVEL = {"warm": 1.0, "neutral": 0.5, "urgent": 0.3, "grave": 0.0}
"""The smile a tone asks for: 0 a neutral mouth (a smiling photo's smile taken away), 1 a warm smile."""
BROW_LEVEL = {"warm": 0.0, "neutral": 0.0, "urgent": 0.15, "grave": -0.6}
"""The brows' resting pose in a tone: below 0 lowered and knitted, above 0 raised."""
HEAD_ENERGY = {"warm": 1.0, "neutral": 0.9, "urgent": 1.15, "grave": 0.7}
"""How strongly the head beats in a tone."""
EASE_S = 0.7
"""A change of tone eases over this long."""
NOD_DEGREES, NOD_S, NOD_LEAD_S = 8.0, 0.5, 0.1
"""A beat: the chin dips this far and comes back over NOD_S, starting NOD_LEAD_S before the stressed vowel, so the
head moves fastest just as the vowel begins."""
EMPHASIS_NOD = 1.3
NOD_SPACING_S = 0.55
"""Beats closer than this merge into the more important one (emphasis first, then order)."""
SIDE_BEAT_SHARE, SIDE_BEAT_DEGREES = 0.35, 1.2
"""Some beats turn the head a little too."""
DRIFT_DEGREES = {"pitch": 2.4, "yaw": 2.2}
"""Slow wandering of the head between beats, so it is never frozen while speaking."""
TILT_DEGREES, TILT_IN_S, TILT_OUT_S = 2.2, 0.35, 0.9
"""A phrase ends with a small tilt of the head, which eases back."""
SETTLE_AFTER_S, SETTLE_SHARE = 0.7, 0.3
"""In a pause longer than SETTLE_AFTER_S the wandering settles to SETTLE_SHARE of itself."""
BROW_RISE_S, BROW_HOLD_S, BROW_FALL_S = 0.15, 0.3, 0.45
BROW_SPACING_S, FOCAL_BROW_SHARE = 1.5, 0.35
"""Brows rise on every emphasised word and on the first accent of some sentences that are not grave, never closer
together than BROW_SPACING_S."""
VIDEO_SHARE = 0.6
"""Footage has its own head motion: a video presenter's beats are this much smaller, and nothing else is added."""


@dataclass(frozen=True)
class Acting:
    """Per frame: head pitch, yaw and roll to add (degrees), the smile the tone asks for and the brows; with the times
    they were built from."""
    head: np.ndarray
    """(T, 3) pitch (chin down is positive), yaw and roll in degrees, on top of the idle sway."""
    smile: np.ndarray
    """(T,) 0 (neutral mouth) .. 1 (warm smile): what the tone asks for; `weight` says how much of it to apply."""
    brow: np.ndarray
    """(T,) -1 (lowered and knitted) .. 1 (raised), already scaled by the weight."""
    weight: float
    """The presenter's expressiveness, 0 (the still face) .. 1."""
    beats: np.ndarray
    """Times (s) of the stressed vowels the head beats on."""
    brow_raises: np.ndarray
    """Times (s) of the stressed vowels the brows rise on."""
    emphasised: np.ndarray
    """Times (s) of the stressed vowels of the script's *emphasised* words."""
    phrase_ends: np.ndarray
    """Times (s) where phrases end: blinks lean there."""


@dataclass(frozen=True)
class ActingInput:
    """What the motion stage acts: the script, each sentence's tone (script.tone) and how expressive the presenter is."""
    script: Script
    tones: list[str]
    expressiveness: float

    @staticmethod
    def of(script: Script | None, expression: ExpressionConfig) -> "ActingInput | None":
        if script is None:
            return None
        tones = [heard.tone for heard in script_tones(script, expression.tone)]
        return ActingInput(script, tones, expression.level)


def plan_acting(acting: ActingInput, captions: list[TimedUnit], phonemes: list[TimedUnit], n_frames: int, fps: int,
                rng: np.random.Generator, is_photo: bool, head_amount: float) -> Acting | None:
    """None where the face stays still (expressiveness 0, or no script to act)."""
    weight = float(acting.expressiveness)
    if weight <= 0 or not captions:
        return None
    times = (np.arange(n_frames) + 0.5) / fps
    words = spoken_words(acting.script, captions, phonemes)
    emphasis = {k: segment.emphasis for k, segment in enumerate(acting.script.segments)}
    tone_at = _tone_steps(acting.tones, captions, times)
    energy = _eased(np.array([HEAD_ENERGY[t] for t in acting.tones])[tone_at], fps)
    stressed = set(emphasised(words, emphasis))
    beats = _spaced(words, focal_words(words, emphasis, acting.script.language), stressed, NOD_SPACING_S)
    head = _beats(words, beats, stressed, times, energy, rng) * (1.0 if is_photo else VIDEO_SHARE)
    if is_photo:
        head += _wandering(times, captions, rng, fps) * energy[:, None]
        head[:, 2] += _tilts(words, times, rng)
    raises = _brow_raises(words, beats, stressed, acting.tones, rng)
    brow = _eased(np.array([BROW_LEVEL[t] for t in acting.tones])[tone_at], fps) + _brow_pulses(words, raises, times)
    smile = _eased(np.array([SMILE_LEVEL[t] for t in acting.tones])[tone_at], fps)
    return Acting((head * weight * head_amount).astype(np.float32), smile.astype(np.float32),
                  (np.clip(brow, -1, 1) * weight).astype(np.float32), weight,
                  np.array([words[k].stress for k in beats]), np.array([words[k].stress for k in raises]),
                  np.array([words[k].stress for k in sorted(stressed)]),
                  np.array([w.end for w in words if w.phrase_end]))


def _tone_steps(tones: list[str], captions: list[TimedUnit], times: np.ndarray) -> np.ndarray:
    """(T,) the sentence whose tone holds at each frame: each changes halfway through the pause before the next."""
    changes = np.array([(a.end + b.start) / 2 for a, b in zip(captions, captions[1:], strict=False)])
    return np.minimum(np.searchsorted(changes, times), len(tones) - 1)


def _eased(values: np.ndarray, fps: int) -> np.ndarray:
    """A step signal smoothed with a raised-cosine window EASE_S long (its ends held)."""
    width = max(int(round(EASE_S * fps)), 1)
    window = np.hanning(width + 2)[1:-1]
    padded = np.concatenate([np.full(width, values[0]), values, np.full(width, values[-1])])
    return np.convolve(padded, window / window.sum(), mode="same")[width:-width]


def _spaced(words: list[SpokenWord], chosen: list[int], first: set[int], spacing: float) -> list[int]:
    """`chosen` thinned so no two are closer than `spacing`, keeping the words in `first` before the others."""
    kept: list[int] = []
    for index in sorted(chosen, key=lambda k: (k not in first, words[k].stress)):
        if all(abs(words[index].stress - words[other].stress) >= spacing for other in kept):
            kept.append(index)
    return sorted(kept, key=lambda k: words[k].stress)


def _pulse(times: np.ndarray, start: float, length: float) -> np.ndarray:
    """sin² from `start` over `length`: 0 .. 1 .. 0, smooth at both ends."""
    phase = np.clip((times - start) / length, 0, 1)
    return np.sin(np.pi * phase) ** 2


def _beats(words: list[SpokenWord], beats: list[int], stressed: set[int], times: np.ndarray, energy: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    head = np.zeros((len(times), 3))
    for index in beats:
        at = words[index].stress
        size = NOD_DEGREES * energy[min(int(np.searchsorted(times, at)), len(times) - 1)] * rng.uniform(0.75, 1.15) * (EMPHASIS_NOD if index in stressed else 1.0)
        shape = _pulse(times, at - NOD_LEAD_S, NOD_S)
        head[:, 0] += size * shape
        if rng.random() < SIDE_BEAT_SHARE:
            head[:, 1] += SIDE_BEAT_DEGREES * rng.choice([-1.0, 1.0]) * shape
    return head


def _wandering(times: np.ndarray, captions: list[TimedUnit], rng: np.random.Generator, fps: int) -> np.ndarray:
    """Slow pitch and yaw drift (three incommensurate sines each), settling in long pauses."""
    drift = np.zeros((len(times), 3))
    for axis, degrees in enumerate(DRIFT_DEGREES.values()):
        for period in (6.1, 3.7, 2.3):
            drift[:, axis] += degrees / 2 * np.sin(2 * np.pi * times / (period * rng.uniform(0.85, 1.2)) + rng.uniform(0, 2 * np.pi))
    settle = np.ones(len(times))
    for before, after in zip(captions, captions[1:], strict=False):
        if after.start - before.end > SETTLE_AFTER_S:
            settle[(times > before.end) & (times < after.start)] = SETTLE_SHARE
    return drift * _eased(settle, fps)[:, None]


def _tilts(words: list[SpokenWord], times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    roll = np.zeros(len(times))
    for word in words:
        if word.phrase_end:
            rising = np.clip((times - word.end + TILT_IN_S) / TILT_IN_S, 0, 1)
            falling = np.clip(1 - (times - word.end) / TILT_OUT_S, 0, 1)
            shape = np.where(times < word.end, rising, falling)
            roll += TILT_DEGREES * rng.choice([-1.0, 1.0]) * (0.5 - 0.5 * np.cos(np.pi * shape))
    return roll


def _brow_raises(words: list[SpokenWord], beats: list[int], stressed: set[int], tones: list[str],
                 rng: np.random.Generator) -> list[int]:
    candidates = set(stressed)
    first_accents: dict[int, int] = {}
    for index in beats:
        first_accents.setdefault(words[index].sentence, index)
    for sentence, index in first_accents.items():
        if tones[sentence] != "grave" and rng.random() < FOCAL_BROW_SHARE:
            candidates.add(index)
    return _spaced(words, sorted(candidates), stressed, BROW_SPACING_S)


def _brow_pulses(words: list[SpokenWord], raises: list[int], times: np.ndarray) -> np.ndarray:
    brow = np.zeros(len(times))
    for index in raises:
        top = words[index].stress + 0.05
        rising = np.clip((times - top + BROW_RISE_S) / BROW_RISE_S, 0, 1)
        falling = np.clip(1 - (times - top - BROW_HOLD_S) / BROW_FALL_S, 0, 1)
        shape = np.where(times < top, rising, np.where(times < top + BROW_HOLD_S, 1.0, falling))
        brow = np.maximum(brow, 0.5 - 0.5 * np.cos(np.pi * shape))
    return brow


__all__ = ["Acting", "ActingInput", "plan_acting"]
