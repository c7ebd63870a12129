"""`announcer eval`: lip sync measured on real footage by self-reenactment.

The talking video is its own avatar. Every source mouth is closed first (so none of the real
mouth leaks into the result), the video's own audio drives the recorded-narration path, and the
mouth re-detected on each generated frame is compared with the real one on the same frame.
The same run with a mouth that only follows loudness gives the baseline.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..face import layout, load_avatar
from ..generate import WarpRenderer
from ..motion import ActingInput, plan_motion
from ..motion.expression import ExpressionConfig
from ..script import read_script
from ..motion.audio import frame_levels_db, mouth_from_loudness, voice_activity
from ..motion.train import estimate_offset
from ..runtime import Runtime
from ..voice import load_narration
from . import metrics
from .acting import acting_statistics
from .report import write_plot, write_side_by_side

log = logging.getLogger(__name__)
CLOSED_BELOW = 0.05
"""Inner-lip gap (inter-ocular units) under which a re-detected mouth counts as closed."""


@dataclass
class MouthRun:
    """One rendering of the video's speech, measured against the real mouth."""
    frames: np.ndarray
    landmarks: np.ndarray
    opening: np.ndarray
    figures: dict


def evaluate(video: Path, out_dir: Path, runtime: Runtime, max_seconds: float = 30.0, script: Path | None = None) -> dict:
    """Write report.json, mouth.png and side_by_side.mp4 to `out_dir`; return the report. With the video's `script`
    (its transcript), the speech is aligned to it and the face acts it as a render would; the report's `acting`
    compares the head, brows and smile of the real footage and the render either way."""
    video = Path(video)
    avatar = load_avatar(video, None, 720, max_seconds)
    if not avatar.is_video:
        raise InputError("eval needs a talking video with its own speech", path=video, fix="give an .mp4 of a presenter talking")
    real_track = runtime.face_stage(avatar)
    transcript = read_script(script) if script is not None else None
    speech = load_narration(video, runtime.config.voice, transcript, recogniser=runtime.aligner,
                            phone_recogniser=runtime.phone_recogniser)
    fps = int(round(avatar.fps))
    motion = replace(runtime.config.motion, fps=fps)
    renderer = WarpRenderer(replace(runtime.config.generate, close_mouths_above=0.0), runtime.device)
    plan = plan_motion(speech, motion, len(avatar.frames), avatar.fps, runtime.mouth_model,
                       ActingInput.of(transcript, ExpressionConfig()))
    n = min(plan.n_frames, len(avatar.frames))
    real = real_track.landmarks[:n]
    real_opening = layout.mouth_opening(real)
    speaking = _speaking(speech, fps, n)
    pipeline_run = _measure(runtime, renderer, avatar, real_track, plan, n, real, real_opening, speaking)
    baseline_plan = replace(plan, mouth=mouth_from_loudness(speech.audio, speech.sample_rate, fps, plan.n_frames))
    baseline_run = _measure(runtime, renderer, avatar, real_track, baseline_plan, n, real, real_opening, speaking)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = _frame_phone_classes(speech.phonemes, speaking, fps)
    pipeline_run.figures["by_phone_class"] = metrics.errors_by_phone_class(
        pipeline_run.opening, real_opening, classes, pipeline_run.figures["offset_frames"])
    report = {"video": str(video.resolve()), "frames": n, "fps": fps, "motion_driver": plan.driver,
              "timing_models": sorted(Path(path).name for path in speech.model_files),
              "source_av_offset_frames": estimate_offset(speech.audio, speech.sample_rate, real_opening, avatar.fps),
              "real_silence_close_ms": round(metrics.silence_close_ms(real_opening, speaking, fps, CLOSED_BELOW), 1),
              **pipeline_run.figures, "baseline": baseline_run.figures,
              "acting": {"real": acting_statistics(runtime.face_meter.read(avatar.frames[:n]), fps, speaking),
                         "generated": acting_statistics(runtime.face_meter.read(pipeline_run.frames), fps, speaking)}}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_plot(out_dir / "mouth.png", fps, real_opening, pipeline_run.opening, baseline_run.opening, speaking, video.name)
    write_side_by_side(out_dir / "side_by_side.mp4", avatar.frames[:n], pipeline_run.frames, speech, fps, runtime.config.encode)
    return report


def _frame_phone_classes(phones, speaking: np.ndarray, fps: int) -> list[str]:
    """The class of the phone under each frame's centre; 'silence' where the voice is not active or no phone is."""
    starts, ends = np.array([p.start for p in phones]), np.array([p.end for p in phones])
    classes = []
    for frame, at in enumerate((np.arange(len(speaking)) + 0.5) / fps):
        under = np.flatnonzero((starts <= at) & (ends > at))
        classes.append(metrics.phone_class(phones[under[-1]].label) if speaking[frame] and len(under) else "silence")
    return classes


def _speaking(speech, fps: int, n: int) -> np.ndarray:
    return voice_activity(frame_levels_db(speech.audio, speech.sample_rate, fps, n), fps)


def _measure(runtime: Runtime, renderer, avatar, real_track, plan, n, real, real_opening, speaking) -> MouthRun:
    frames = np.concatenate(list(renderer(avatar, real_track, plan)))[:n]
    landmarks = runtime.face_stage.landmarker.landmarks(frames, plan.fps)
    found = ~np.isnan(landmarks[:, 0, 0])
    # An undetected frame counts as the real mouth. That is credit: it agrees with the real opening perfectly, so
    # a renderer whose frames the landmarker misses scores a little better than it is (`frames_detected`: the share found).
    landmarks[~found] = real[~found]
    opening = layout.mouth_opening(landmarks)
    silent = ~speaking
    offset = metrics.best_offset(opening, real_opening)
    figures = {
        "mouth_open_r": round(metrics.pearson(opening, real_opening), 4),
        "lip_landmark_distance": round(metrics.lip_landmark_distance(landmarks, real), 4),
        "offset_frames": offset,
        "mouth_open_r_at_offset": round(metrics.lagged_pearson(opening, real_opening, offset), 4),
        "silence_close_ms": round(metrics.silence_close_ms(opening, speaking, plan.fps, CLOSED_BELOW), 1),
        "silence_jitter": round(metrics.silence_jitter(opening, silent), 5),
        "above_mouth_psnr_db": round(_region_score(frames, avatar.frames, real, metrics.psnr), 2),
        "above_mouth_ssim": round(_region_score(frames, avatar.frames, real, metrics.ssim), 4),
        "background_psnr_db": round(_background_psnr(frames, avatar.frames[:n], real), 2),
        "frames_detected": round(float(found.mean()), 4),
    }
    return MouthRun(frames, landmarks, opening, figures)


def _region_score(frames, sources, real, score) -> float:
    values = []
    for k in range(0, len(frames), 2):
        rows, cols = metrics.above_mouth_box(real[k], frames[k].shape)
        values.append(score(frames[k][rows, cols], sources[k][rows, cols]))
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


def _background_psnr(frames, sources, real) -> float:
    outside = np.ones(frames.shape[1:3], bool)
    iod = float(np.median(layout.inter_ocular(real)))
    x0, y0 = np.maximum(real.reshape(-1, 2).min(axis=0) - iod, 0).astype(int)
    x1, y1 = (real.reshape(-1, 2).max(axis=0) + iod).astype(int)
    outside[y0:y1, x0:x1] = False
    if not outside.any():
        return float("inf")
    return metrics.psnr(frames[:, outside], sources[:, outside])


__all__ = ["evaluate"]
