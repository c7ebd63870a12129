"""Phonemes (IPA) to mouth shapes, blended over time with a dominance model of coarticulation.

Each phoneme pulls the mouth towards its target (open, wide, round) with a strength (dominance)
that is full inside its span and decays outside it, so neighbours shape each other as in real
speech (Cohen & Massaro). Silence and the sounds made with the lips dominate strongly: the lips
really shut on p/b/m, touch the teeth on f/v and purse on w, whatever vowels surround them (at a
dominance of 6, a 'b' between two 'ɑ's left them 13% open), and the mouth shuts in pauses.
"""
from __future__ import annotations

import unicodedata

import numpy as np

from ..voice.types import TimedUnit

# label: (open 0..1, wide -1..1, round 0..1, dominance)
VISEMES: dict[str, tuple[float, float, float, float]] = {
    # open vowels
    "a": (0.85, 0.15, 0.0, 1.0), "ɑ": (0.85, 0.0, 0.05, 1.0), "ɐ": (0.7, 0.1, 0.0, 1.0), "æ": (0.75, 0.35, 0.0, 1.0),
    "ɒ": (0.75, -0.1, 0.4, 1.0), "ɔ": (0.6, -0.2, 0.6, 1.0), "o": (0.5, -0.3, 0.75, 1.0), "ɵ": (0.45, -0.2, 0.5, 1.0),
    # mid vowels
    "ʌ": (0.55, 0.05, 0.0, 1.0), "ə": (0.42, 0.0, 0.0, 0.8), "ɜ": (0.45, 0.05, 0.1, 1.0), "ɚ": (0.4, -0.05, 0.3, 1.0),
    "ɝ": (0.4, -0.05, 0.3, 1.0), "ɛ": (0.55, 0.35, 0.0, 1.0), "e": (0.45, 0.45, 0.0, 1.0), "ø": (0.4, -0.3, 0.7, 1.0),
    "œ": (0.5, -0.2, 0.6, 1.0),
    # close vowels
    "ɪ": (0.3, 0.55, 0.0, 1.0), "i": (0.22, 0.7, 0.0, 1.0), "ɨ": (0.25, 0.3, 0.0, 1.0), "y": (0.2, -0.4, 0.8, 1.0),
    "ʊ": (0.28, -0.4, 0.7, 1.0), "u": (0.2, -0.6, 0.9, 1.0), "ɯ": (0.25, 0.35, 0.0, 1.0), "ʉ": (0.22, -0.3, 0.7, 1.0),
    # consonants
    "p": (0.0, 0.0, 0.0, 25.0), "b": (0.0, 0.0, 0.0, 25.0), "m": (0.0, 0.0, 0.0, 25.0),
    "f": (0.07, 0.1, 0.0, 12.0), "v": (0.07, 0.1, 0.0, 12.0), "ɸ": (0.05, 0.0, 0.3, 3.0), "β": (0.05, 0.0, 0.3, 3.0),
    "θ": (0.16, 0.1, 0.0, 1.5), "ð": (0.16, 0.1, 0.0, 1.5),
    "t": (0.18, 0.15, 0.0, 0.8), "d": (0.18, 0.15, 0.0, 0.8), "n": (0.18, 0.1, 0.0, 0.7), "l": (0.22, 0.1, 0.0, 0.6),
    "ɾ": (0.2, 0.1, 0.0, 0.5), "ɫ": (0.24, 0.0, 0.1, 0.6), "s": (0.12, 0.35, 0.0, 1.2), "z": (0.12, 0.35, 0.0, 1.2),
    "ʃ": (0.18, -0.2, 0.6, 1.5), "ʒ": (0.18, -0.2, 0.6, 1.5), "ɕ": (0.15, 0.2, 0.2, 1.2), "ʑ": (0.15, 0.2, 0.2, 1.2),
    "ç": (0.18, 0.3, 0.0, 0.8), "k": (0.28, 0.05, 0.0, 0.5), "ɡ": (0.28, 0.05, 0.0, 0.5), "g": (0.28, 0.05, 0.0, 0.5),
    "ŋ": (0.25, 0.05, 0.0, 0.5), "x": (0.28, 0.0, 0.0, 0.5), "ɹ": (0.22, -0.15, 0.4, 1.0), "r": (0.22, 0.0, 0.2, 0.8),
    "w": (0.1, -0.6, 0.9, 8.0), "ʍ": (0.1, -0.6, 0.9, 8.0), "j": (0.2, 0.4, 0.0, 0.8), "ɥ": (0.15, -0.4, 0.8, 2.0),
    "h": (0.3, 0.0, 0.0, 0.2), "ɦ": (0.3, 0.0, 0.0, 0.2), "ʔ": (0.2, 0.0, 0.0, 0.3),
}
SILENCE = (0.0, 0.0, 0.0, 8.0)
WORD_GAP = (0.1, 0.0, 0.0, 0.3)
LONG_GAP_S = 0.15
SILENCE_LABELS = set("^$_.,;:!?…—–-\"'()[]{}") | {""}
MODIFIERS = set("ˈˌːˑ̆ʰʲʷ͈̚˞̩̯̃")
VOWEL_SPREAD_S = 0.08
CONSONANT_SPREAD_S = 0.045
CLOSURE_SPREAD_S = 0.018
"""How far (seconds) a phoneme's influence reaches beyond its span, as an exponential decay.
Vowels colour their neighbours longest; the strong lip shapes (p, b, m, f, v, w, silence) act hard but
briefly, as the lips shut and open again quickly."""
GAP_IS_SILENCE_S = 0.03
"""Time between phonemes longer than this is silence (sentence pauses, [pause] markers)."""
BILABIALS = frozenset("pbm")
MIN_CLOSURE_S = 0.1
"""A p, b or m keeps the lips shut at least this long, the time taken from the sound before it. Timed phones give a
bilabial the stretch its sound is heard in (often 40-60 ms, under two frames), but the lips shut before the burst
and stay shut through the silent closure: on the eight shared talking videos, holding them 0.1 s raised the plan's
lag-0 r with the real mouth on every timing source (benchmarks/RESULTS.md)."""


def _base_symbols(label: str) -> str:
    decomposed = unicodedata.normalize("NFD", label)
    return "".join(ch for ch in decomposed if ch not in MODIFIERS and not unicodedata.combining(ch))


def expand(phonemes: list[TimedUnit]) -> list[tuple[float, float, tuple[float, float, float, float]]]:
    """Timed phoneme labels (Piper, espeak, Coqui) to (start, end, viseme) spans.

    Stress and length marks carry no shape and give their time to the next phoneme; a label of
    several symbols (diphthongs, affricates) shares its span between them.
    """
    spans: list[tuple[float, float, tuple]] = []
    carried_start: float | None = None
    for unit in phonemes:
        symbols = _base_symbols(unit.label)
        start = carried_start if carried_start is not None else unit.start
        if unit.label.strip() and not symbols:
            carried_start = start
            continue
        carried_start = None
        if unit.label == " ":
            spans.append((start, unit.end, SILENCE if unit.end - start > LONG_GAP_S else WORD_GAP))
            continue
        shapes = [VISEMES[s] for s in symbols if s in VISEMES]
        if not shapes:
            spans.append((start, unit.end, SILENCE if symbols[:1] in SILENCE_LABELS or not symbols.isalpha() else WORD_GAP))
            continue
        step = (unit.end - start) / len(shapes)
        spans += [(start + k * step, start + (k + 1) * step, shape) for k, shape in enumerate(shapes)]
        if symbols in BILABIALS:
            _hold_closure(spans)
    return _fill_gaps_with_silence(spans)


def _hold_closure(spans) -> None:
    """Start the last span (a bilabial) MIN_CLOSURE_S before its end, shortening the span before it, which keeps at
    least a third of its own length."""
    start, end, shape = spans[-1]
    wanted = end - MIN_CLOSURE_S
    if wanted >= start:
        return
    if len(spans) > 1 and spans[-2][1] > wanted:
        before_start, before_end, before_shape = spans[-2]
        wanted = max(wanted, before_start + (before_end - before_start) / 3)
        spans[-2] = (before_start, min(before_end, wanted), before_shape)
    spans[-1] = (max(wanted, 0.0), end, shape)


def _fill_gaps_with_silence(spans):
    filled = []
    for span in spans:
        if filled and span[0] - filled[-1][1] > GAP_IS_SILENCE_S:
            filled.append((filled[-1][1], span[0], SILENCE))
        filled.append(span)
    return filled


def _spread(dominance: np.ndarray, opening: np.ndarray) -> np.ndarray:
    strong_closure = dominance >= 2.5
    vowel_like = opening >= 0.3
    return np.where(strong_closure, CLOSURE_SPREAD_S, np.where(vowel_like, VOWEL_SPREAD_S, CONSONANT_SPREAD_S))


def blend(spans, times: np.ndarray) -> np.ndarray:
    """(len(times), 3) mouth parameters: a dominance-weighted mix of every nearby target."""
    if not spans:
        return np.zeros((len(times), 3), np.float32)
    starts = np.array([s for s, _, _ in spans])
    ends = np.array([e for _, e, _ in spans])
    targets = np.array([v[:3] for _, _, v in spans])
    dominance = np.array([v[3] for _, _, v in spans])
    # Before the first phoneme and after the last the mouth rests, closed.
    starts = np.concatenate([[-np.inf], starts, [ends.max()]])
    ends = np.concatenate([[spans[0][0]], ends, [np.inf]])
    targets = np.vstack([SILENCE[:3], targets, SILENCE[:3]])
    dominance = np.concatenate([[SILENCE[3]], dominance, [SILENCE[3]]])
    distance = np.maximum(0, np.maximum(starts[None] - times[:, None], times[:, None] - ends[None]))
    weights = dominance[None] * np.exp(-distance / _spread(dominance, targets[:, 0])[None])
    return ((weights @ targets) / weights.sum(axis=1, keepdims=True)).astype(np.float32)
