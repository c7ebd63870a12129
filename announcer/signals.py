"""Small signal helpers shared by the stages and their evaluation: correlation, lag, and runs of a mask."""
from __future__ import annotations

import numpy as np


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def lagged_pearson(generated: np.ndarray, real: np.ndarray, lag: int) -> float:
    """Pearson r of generated[t + lag] against real[t]."""
    n = min(len(generated), len(real))
    if lag >= 0:
        return pearson(generated[lag:n], real[:n - lag])
    return pearson(generated[:n + lag], real[-lag:n])


def best_offset(generated: np.ndarray, real: np.ndarray, max_lag: int = 8) -> int:
    """The lag (frames) at which the correlation peaks; positive when the generated mouth comes late."""
    scores = {lag: lagged_pearson(generated, real, lag) for lag in range(-max_lag, max_lag + 1)}
    return max(scores, key=lambda lag: (scores[lag], -abs(lag)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every stretch of True in a 1-D mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.asarray(mask).astype(int), [0]])))
    return [(int(start), int(stop)) for start, stop in zip(edges[::2], edges[1::2], strict=True)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two 8-bit images, in dB (inf when they are the same)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
