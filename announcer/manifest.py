"""A delivered clip's manifest (OUT.json): what it was made from, with which models and settings, and what came out."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .compose import graphics_entries
from .compose.produce import Delivery
from .compose.programme import Programme
from .compose.soundtrack import Soundtrack
from .config import RenderConfig
from .deliver import manifest_file, manifest_number
from .face import Avatar, FaceTrack
from .media.ffmpeg import ffmpeg_binary
from .motion import Acting
from .script.tone import script_tones
from .settings import ClipSettings
from .timeline import TimedUnit
from .version import __version__
from .voice import Speech


@dataclass(frozen=True)
class MadeClip:
    """Everything a clip was made from and of, for its manifest; one per render, shared by its layouts."""
    script: Path | None
    audio: Path | None
    job: str | None
    settings: ClipSettings
    avatar: Avatar
    prepared_avatar: str | None
    renderer: str
    track: FaceTrack
    speech: Speech
    motion_driver: str
    fps: int
    n_frames: int
    programme: Programme
    soundtrack: Soundtrack | None
    captions: list[TimedUnit]
    models: dict[str, str]
    """Every model file used, by path: its sha256."""
    device: str
    config: RenderConfig
    segmenter_model: tuple[Path, str] | None = None
    """The selfie segmenter's file and sha256, listed for the layouts that cut the presenter out."""
    acting: Acting | None = None
    """How the face acted the script (None: a still face)."""


def clip_manifest(clip: MadeClip, delivery: Delivery, timings: dict[str, float], other_layouts: list[str]) -> dict:
    canvas, outputs = delivery.canvas, delivery.outputs
    width, height = delivery.size(clip.avatar.size)
    n_frames = clip.n_frames + clip.programme.frames_around()
    models = dict(clip.models)
    if canvas is not None and canvas.cutout and clip.segmenter_model is not None:
        models[str(clip.segmenter_model[0])] = clip.segmenter_model[1]
    return {
        "announcer": __version__,
        "job": clip.job,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "inputs": _inputs(clip),
        "voice": {"engine": clip.speech.engine, "voice": clip.speech.voice,
                  "loudness_lufs": manifest_number(clip.speech.loudness_lufs),
                  "true_peak_dbtp": manifest_number(clip.speech.true_peak_dbtp), "sample_rate": clip.speech.sample_rate},
        "programme": clip.programme.manifest_entry(clip.soundtrack),
        "models": [{"path": path, "sha256": digest} for path, digest in sorted(models.items())],
        "layout": {**asdict(delivery.layout), "presenter_box": list(canvas.box)} if canvas is not None else None,
        "other_layouts": other_layouts,
        "graphics": graphics_entries(delivery.graphics, clip.programme.intro_seconds),
        "video": {"width": width, "height": height, "fps": clip.fps, "frames": n_frames,
                  "duration_s": round(n_frames / clip.fps, 3), "presenter_from_s": round(clip.programme.intro_seconds, 3),
                  "motion_driver": clip.motion_driver, "renderer": clip.renderer},
        "audio_duration_s": round(clip.speech.duration, 3),
        "captions": [{"text": c.label, "start": round(c.start, 3), "end": round(c.end, 3)} for c in clip.captions],
        "tones": _tones(clip.settings),
        "acting": _acting(clip),
        "outputs": {"video": outputs.video.name, "srt": outputs.subtitles_srt.name, "vtt": outputs.subtitles_vtt.name,
                    "thumbnail": outputs.thumbnail.name},
        "stage_seconds": {name: round(value, 3) for name, value in timings.items()},
        "environment": {"device": clip.device, "torch": torch.__version__, "python": platform.python_version(),
                        "ffmpeg": ffmpeg_binary()},
        "config": asdict(_as_rendered(clip.config, clip.settings)),
    }


def _as_rendered(run: RenderConfig, settings: ClipSettings) -> RenderConfig:
    """The run's config with the clip's own settings in it: what this clip was rendered with."""
    return replace(run, voice=replace(settings.voice, device=run.voice.device), layout=settings.layouts[0],
                   graphics=settings.graphics, programme=settings.programme, motion=settings.motion)


def _tones(settings: ClipSettings) -> list[dict]:
    """Each sentence's tone and where it came from: a tag, the clip's setting, its own words, or its story's."""
    script = settings.script
    if script is None:
        return []
    return [{"text": segment.display, "tone": tone.tone, "source": tone.source, "cues": list(tone.cues)}
            for segment, tone in zip(script.segments, script_tones(script, settings.expression.tone), strict=True)]


def _acting(clip: MadeClip) -> dict:
    """The expressiveness, and when (on the clip's timeline) the head beat, the brows rose and emphasis fell."""
    acting, shift = clip.acting, clip.programme.intro_seconds
    if acting is None:
        return {"expressiveness": 0.0, "head_beats_s": [], "brow_raises_s": [], "emphasised_s": []}
    return {"expressiveness": acting.weight,
            **{name: [round(float(t) + shift, 3) for t in times] for name, times in (
                ("head_beats_s", acting.beats), ("brow_raises_s", acting.brow_raises), ("emphasised_s", acting.emphasised))}}


def _inputs(clip: MadeClip) -> dict:
    avatar, settings = clip.avatar, clip.settings
    return {
        "script": manifest_file(clip.script),
        "avatar": {"path": str(avatar.source.resolve()), "sha256": avatar.sha256, "kind": "video" if avatar.is_video else "photo",
                   "frames": int(len(avatar.frames)), "prepared": clip.prepared_avatar,
                   "frames_used": list(avatar.used_frames) if avatar.used_frames else "all"},
        "audio": manifest_file(clip.audio),
        "language": settings.voice.language if settings.script is None else settings.script.language,
        "title": settings.title if settings.script else None,
        "presenter": settings.presenter.manifest_entry() if settings.presenter else None,
        "template": settings.template.manifest_entry() if settings.template else None,
    }


def write_manifest(clip: MadeClip, delivery: Delivery, deliveries: list[Delivery], timings: dict[str, float]) -> dict:
    """The delivery's manifest, staged beside its video; it names the other layouts' clips."""
    siblings = [other.outputs.video.name for other in deliveries if other is not delivery]
    manifest = clip_manifest(clip, delivery, timings, siblings)
    delivery.staged.write_text(delivery.outputs.manifest, as_json(manifest))
    return manifest


def as_json(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"  # Paths as strings


__all__ = ["MadeClip", "as_json", "clip_manifest", "write_manifest"]
