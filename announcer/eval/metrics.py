"""Lip-sync and preservation metrics on per-frame arrays. Pure functions, so they can be tested on known inputs."""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from ..face import layout
from ..signals import best_offset, lagged_pearson, pearson, psnr, runs  # noqa: F401 (the metrics' own vocabulary)

MIN_PAUSE_S = 0.2
"""Shorter silences do not count towards silence_close_ms."""


def lip_landmark_distance(generated: np.ndarray, real: np.ndarray) -> float:
    """Mean distance of the 20 lip points, in inter-ocular distances of the real face."""
    distances = np.linalg.norm(generated[:, layout.LIPS] - real[:, layout.LIPS], axis=-1)
    return float((distances / layout.inter_ocular(real)[:, None]).mean())


def silence_close_ms(opening: np.ndarray, speaking: np.ndarray, fps: float, closed_below: float,
                     min_pause_s: float = MIN_PAUSE_S) -> float:
    """Mean time from the end of each speech stretch until the mouth is closed (ms).

    Only pauses of at least `min_pause_s` count (a breath between phrases is too short for any mouth to
    shut), and a mouth still open when speech resumes counts the whole pause: the wait never runs on
    into the next phrase.
    """
    delays = []
    for start, stop in runs(~speaking):
        if start == 0 or (stop - start) / fps < min_pause_s:  # a silence before any speech has nothing to close
            continue
        closed = np.flatnonzero(opening[start:stop] < closed_below)
        delays.append((closed[0] if len(closed) else stop - start) / fps * 1000)
    return float(np.mean(delays)) if delays else 0.0


def silence_jitter(opening: np.ndarray, silent: np.ndarray) -> float:
    """Frame-to-frame change of the mouth opening inside silence (inter-ocular units)."""
    steps = np.abs(np.diff(opening))[silent[1:] & silent[:-1]]
    return float(steps.mean()) if len(steps) else 0.0


PHONE_CLASSES = {
    "bilabial": set("pbm"),
    "labiodental": set("fvɸβ"),
    "open vowel": set("aɑɐæɒɔʌɛ"),
    "other vowel": set("oɵəɜɚɝeøœɪiɨyʊuɯʉ"),
}
"""What the phone driving each frame asks of the lips; anything else spoken is 'other consonant'."""


def phone_class(label: str) -> str:
    first = label[:1]
    return next((name for name, symbols in PHONE_CLASSES.items() if first in symbols), "other consonant")


def errors_by_phone_class(generated: np.ndarray, real: np.ndarray, classes: list[str], offset: int) -> dict:
    """Per class of driving phone: frames, and the mean real and generated openings and their difference, each
    opening standardised over the clip (so a mouth that moves less overall shows as a scale, not as every class
    too small) and the generated one shifted by the clip's best `offset` (so a constant lag does not smear
    closures into their neighbours). Negative error: our mouth opens less than the real one for that class."""
    shifted = np.roll(generated, -offset)
    valid = np.ones(len(real), bool)
    if offset > 0:
        valid[-offset:] = False
    elif offset < 0:
        valid[:-offset] = False
    z_generated = (shifted - shifted[valid].mean()) / (shifted[valid].std() + 1e-9)
    z_real = (real - real[valid].mean()) / (real[valid].std() + 1e-9)
    table = {}
    for name in dict.fromkeys(classes):
        chosen = valid & (np.asarray(classes) == name)
        if chosen.sum() < 3:
            continue
        table[name] = {"frames": int(chosen.sum()), "real": round(float(z_real[chosen].mean()), 3),
                       "generated": round(float(z_generated[chosen].mean()), 3),
                       "error": round(float((z_generated - z_real)[chosen].mean()), 3),
                       "abs_error": round(float(np.abs(z_generated - z_real)[chosen].mean()), 3)}
    return table


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=-1, data_range=255))


def above_mouth_box(points: np.ndarray, frame_shape) -> tuple[slice, slice]:
    """Rows from above the brows down to the nose tip, columns across the face: what lip sync must not touch."""
    iod = float(layout.inter_ocular(points))
    top = int(max(0, points[layout.BROWS, 1].min() - 0.3 * iod))
    bottom = int(points[33, 1] - 0.05 * iod)
    left = int(max(0, points[layout.JAW, 0].min()))
    right = int(min(frame_shape[1], points[layout.JAW, 0].max()))
    return slice(top, bottom), slice(left, right)
