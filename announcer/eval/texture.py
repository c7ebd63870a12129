"""`announcer eval --drive landmarks`: texture apart from timing.

A stretch of HELD_OUT_SHARE of the video, the one where the mouth opens most, is held out (a
stretch of silence would show no interior at all). Each held-out frame is rendered from its own
real landmarks (its mouth first closed, then opened by the renderer to the real shape), with
mouth interiors taken only from frames at least GUARD_FRAMES away from the stretch, so the pixels inside the lips can be compared
with the real ones. The painted interior is scored on the same frames, as the comparison, but not as strictly:
its palette is sampled from the whole video's widest mouth, which lies inside the held-out stretch on 4 of the 8
shared videos, so its scores may have seen the answer.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..face import layout, load_avatar
from ..generate import WarpRenderer
from ..generate.mouth import polygon_mask
from ..runtime import Runtime
from . import metrics
from ..deliver.closeups import closeup_png, pick_moments
from .eyes import blink_depths

HELD_OUT_SHARE = 0.15
GUARD_FRAMES = 5
"""Frames next to the held-out stretch look almost like its edges, so they give no interiors either."""
INTERIORS = ("real", "painted")


def evaluate_texture(video: Path, out_dir: Path, runtime: Runtime, max_seconds: float = 30.0) -> dict:
    """Write report.json and closeups.png to `out_dir`; return the report."""
    video = Path(video)
    avatar = load_avatar(video, None, 720, max_seconds)
    if not avatar.is_video or len(avatar.frames) < 20:
        raise InputError("eval --drive landmarks needs a video of at least 20 frames", path=video,
                         fix="give an .mp4 of a presenter talking")
    track = runtime.face_track(avatar)
    held_out, donors = split_held_out(layout.mouth_opening(track.landmarks))
    real = avatar.frames[held_out]
    points = track.landmarks[held_out]
    scores, rendered = {}, {}
    for choice in INTERIORS:
        renderer = WarpRenderer(replace(runtime.config.generate, close_mouths_above=0.0, mouth_interior=choice),
                                runtime.device)
        rendered[choice] = np.concatenate(list(renderer.render_landmarks(avatar, track, held_out, points, donors)))
        scores[choice] = mouth_scores(rendered[choice], real, points)
    report = {"video": str(video.resolve()), "drive": "landmarks", "held_out_frames": [int(held_out[0]), int(held_out[-1]) + 1],
              **scores["real"], "painted": scores["painted"],
              "real_interior_flicker": round(interior_flicker(real, points), 3),
              "real_blinks": _real_blinks(avatar.frames, runtime)}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    moments = pick_moments(points, fps=avatar.fps, first_frame=int(held_out[0]))
    (out_dir / "closeups.png").write_bytes(closeup_png(rendered["real"], points, moments, real))
    return report


def split_held_out(openings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(held-out frames, donor frames): the stretch of HELD_OUT_SHARE with the widest mouths, and every frame at
    least GUARD_FRAMES away from it."""
    length = max(2, int(round(len(openings) * HELD_OUT_SHARE)))
    sums = np.convolve(openings, np.ones(length), mode="valid")
    start = int(np.argmax(sums))
    frames = np.arange(len(openings))
    donors = frames[(frames < start - GUARD_FRAMES) | (frames >= start + length + GUARD_FRAMES)]
    return frames[start:start + length], donors


def mouth_scores(frames: np.ndarray, real: np.ndarray, points: np.ndarray) -> dict:
    """PSNR and SSIM inside the real outer lips, averaged over the frames, and the interior's frame-to-frame change."""
    psnrs, ssims = [], []
    for frame, truth, face in zip(frames, real, points, strict=True):
        mask, (rows, cols) = _lips_mask(face, frame.shape)
        psnrs.append(metrics.psnr(frame[mask], truth[mask]))
        ssims.append(_masked_ssim(frame[rows, cols], truth[rows, cols], mask[rows, cols]))
    finite = [p for p in psnrs if np.isfinite(p)]
    return {"mouth_psnr_db": round(float(np.mean(finite)), 2) if finite else float("inf"),
            "mouth_ssim": round(float(np.mean(ssims)), 4),
            "interior_flicker": round(interior_flicker(frames, points), 3)}


def interior_flicker(frames: np.ndarray, points: np.ndarray) -> float:
    """Mean absolute change (grey levels) between consecutive frames inside both frames' inner lips."""
    changes = []
    insides = [polygon_mask(frame.shape, face[layout.INNER_LIPS]) for frame, face in zip(frames, points, strict=True)]
    for k in range(1, len(frames)):
        both = insides[k] & insides[k - 1]
        if both.sum() >= 20:
            changes.append(np.abs(frames[k][both].astype(np.float32) - frames[k - 1][both].astype(np.float32)).mean())
    return float(np.mean(changes)) if changes else 0.0


def _real_blinks(frames: np.ndarray, runtime: Runtime) -> dict:
    """The video's own blinks as MediaPipe sees them, the yardstick for generated ones."""
    readings = runtime.face_meter.read(frames)
    usual = float(np.nanmedian(readings.opening))
    return {"usual_opening": round(usual, 4), "blinks": blink_depths(readings, usual)}


def _lips_mask(points: np.ndarray, shape) -> tuple[np.ndarray, tuple[slice, slice]]:
    mask = polygon_mask(shape, points[layout.OUTER_LIPS])
    x0, y0 = np.floor(points[layout.OUTER_LIPS].min(axis=0)).astype(int)
    x1, y1 = np.ceil(points[layout.OUTER_LIPS].max(axis=0)).astype(int) + 1
    return mask, (slice(max(y0, 0), y1), slice(max(x0, 0), x1))


def _masked_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    if min(a.shape[:2]) < 7:
        return float("nan")
    _, full = structural_similarity(a, b, channel_axis=-1, data_range=255, full=True)
    return float(full.mean(axis=-1)[mask].mean())
