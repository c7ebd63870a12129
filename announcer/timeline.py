"""Time spans on a clip's timeline: phonemes, words and captions, shared by the voice stage and the subtitle writer."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimedUnit:
    """A phoneme (IPA), word or caption with its time span in seconds."""
    label: str
    start: float
    end: float

    def shifted(self, seconds: float) -> "TimedUnit":
        return TimedUnit(self.label, self.start + seconds, self.end + seconds)


def spread_by_length(labels: list[str], begin: float, end: float) -> list[TimedUnit]:
    """Labels laid end to end over [begin, end], each for a time in proportion to its length:
    for text whose own timing is not known."""
    weights = np.array([max(len(label), 1) for label in labels], dtype=float)
    edges = begin + np.concatenate([[0], np.cumsum(weights)]) / max(weights.sum(), 1) * (end - begin)
    return [TimedUnit(label, float(a), float(b)) for label, a, b in zip(labels, edges[:-1], edges[1:], strict=True)]
