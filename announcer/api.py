"""The Python API the CLI calls: `render()` for one clip, `Pipeline` to render many with models loaded once.

>>> from announcer import Pipeline, RenderConfig, RenderRequest
>>> with Pipeline(RenderConfig()) as pipeline:  # doctest: +SKIP
...     pipeline.render(RenderRequest(script="news.md", avatar="anchor.jpg", output="news.mp4", settings={"speed": 1.1}))
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from .avatar import RendererChoice, renderer_for
from .compose import OnScreenText, height_for_layouts
from .compose.produce import Delivery, Narration, PresenterFrames, Production, delivery_for, produce
from .compose.programme import Programme
from .config import LayoutConfig, RenderConfig, VoiceConfig, aspects_named
from .deliver import (OutputSet, StagedOutputs, bytes_needed, missing_folders, refuse_overwriting_inputs,
                      refuse_too_little_space, remove_empty, write_companions)
from .deliver.closeups import closeup_png, pick_moments
from .deliver.tone_sheet import sentence_frames, tone_sheet_for
from .errors import InputError
from .face import Avatar, FaceStage, FaceTrack, frames_with_face, load_avatar
from .manifest import MadeClip, write_manifest
from .motion import ActingInput, plan_motion
from .motion.model import with_trained_mouth
from .runtime import Runtime, resolve_device  # noqa: F401 (resolve_device: part of the API)
from .script import Script
from .settings import ClipSettings, ClipSources, Source, resolve
from .voice import Speech, check_narration_holds
from .voice.stage import VoiceRequest

log = logging.getLogger(__name__)


@dataclass
class RenderRequest:
    avatar: str | Path | None
    """A photo, a video, or a prepared avatar's name; None takes the script's front matter or its presenter's."""
    output: str | Path
    """The .mp4 to write; .srt, .vtt, .jpg and .json go beside it."""
    script: str | Path | None = None
    audio: str | Path | None = None
    """Recorded narration instead of TTS (the script, if any, then only gives subtitles)."""
    settings: dict = field(default_factory=dict)
    """This clip's own settings, by key (announcer.settings.SETTINGS: voice, speed, layout, layouts, presenter,
    template, intro ...): they win over the template, the presenter and the script's front matter."""
    defaults: dict = field(default_factory=dict)
    """A batch's or schedule's avatar and presenter: used only where the script and its presenter name none (the
    script knows its own presenter; a batch-wide setting must not put someone else on air)."""
    closeups: bool = False
    """Also write OUT.closeups.png: eyes and mouth at 1:1 and 2x at the widest mouths and a blink, for review."""
    job: str | None = None
    """The job's key, when a job store renders this clip: recorded in the manifest, so a worker that finds the clip
    delivered (its predecessor died before recording it) does not deliver it again."""
    settings_source: Source | None = None
    """Where `settings` were written, for errors (a spreadsheet's row); None: given as flags or through the API."""

    def sources(self) -> ClipSources:
        given = {key: value for key, value in {**self.settings, "avatar": self.avatar}.items() if value is not None}
        overrides = replace(self.settings_source, values=given) if self.settings_source else Source.flags(given)
        return ClipSources(_path(self.script), overrides, Source("{key}", self.defaults), _path(self.audio))


@dataclass
class RenderResult:
    outputs: OutputSet
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)
    other_layouts: list[OutputSet] = field(default_factory=list)
    """With several layouts: the files of every layout after the first (which is `outputs`)."""

    def all_outputs(self) -> list[OutputSet]:
        return [self.outputs, *self.other_layouts]


class _Inputs(NamedTuple):
    settings: ClipSettings
    renderer: RendererChoice
    avatar: Avatar
    track: FaceTrack
    speech: Speech


class Pipeline:
    """Request -> settings -> stages -> deliver, on a Runtime that owns the device and the loaded models; `render()`
    may be called for many clips."""

    def __init__(self, config: RenderConfig | None = None, runtime: Runtime | None = None):
        self.runtime = runtime if runtime is not None else Runtime(config)
        self._owns_runtime = runtime is None
        self.config = self.runtime.config
        self.home, self.device, self.cache = self.runtime.home, self.runtime.device, self.runtime.cache
        self.registry, self.renderer = self.runtime.registry, self.runtime.renderer

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the Runtime only if this pipeline made it: a shared one stays open for its other users."""
        if self._owns_runtime:
            self.runtime.close()

    @property
    def face_stage(self) -> FaceStage:
        return self.runtime.face_stage

    def face_track(self, avatar: Avatar) -> FaceTrack:
        return self.runtime.face_track(avatar)

    def render(self, request: RenderRequest, on_stage: Callable[[str, float], None] | None = None) -> RenderResult:
        """Render one clip (one per layout asked for). `on_stage(name, seconds)` hears of each stage as it finishes
        (the job store records them). On any failure nothing new is left at the output path, folders included."""
        new_folders = missing_folders(Path(request.output).parent)
        try:
            return self._render(request, _StageTimes(on_stage))
        except BaseException:
            remove_empty(new_folders)
            raise

    def prepare(self, request: RenderRequest, on_stage: Callable[[str, float], None] | None = None) -> dict[str, float]:
        """Run the stages before generation (script, avatar, face, voice) so their artifacts are cached; their timings.

        A cluster runs this as a CPU task, then the render itself (which finds these artifacts) as a GPU task.
        """
        timings = _StageTimes(on_stage)
        OutputSet.for_path(request.output)
        self._inputs(request, timings, load_renderer=False)
        return dict(timings)

    def _render(self, request: RenderRequest, timings: "_StageTimes") -> RenderResult:
        first = OutputSet.for_path(request.output)  # an output that cannot be written fails now, before any work
        sources = request.sources()
        refuse_overwriting_inputs(first.for_layouts(aspects_named(request.settings.get("layouts") or [])), sources.files())
        inputs = self._inputs(request, timings)
        output_sets = first.for_layouts([layout.aspect for layout in inputs.settings.layouts])
        refuse_overwriting_inputs(output_sets, inputs.settings.input_files(sources, inputs.avatar.source))
        StagedOutputs.remove_leftovers(first)  # every layout's files are in the first one's folder
        with _timed(timings, "motion"):
            motion = with_trained_mouth(inputs.settings.motion, self.home.models_dir)
            plan = plan_motion(inputs.speech, motion, len(inputs.avatar.frames), inputs.avatar.fps, self.runtime.mouth_model,
                               ActingInput.of(inputs.settings.script, inputs.settings.expression))
            programme = _programme(inputs.settings, plan.fps)
        manifests = self._deliver(request, inputs, plan, programme, output_sets, timings)
        log.debug("delivered %s (%.1fs of video in %.1fs)", output_sets[0].video, plan.n_frames / plan.fps,
                  sum(timings.values()))
        return RenderResult(output_sets[0], manifests[0], dict(timings), output_sets[1:])

    def _deliver(self, request: RenderRequest, inputs: _Inputs, plan, programme: Programme,
                 output_sets: list[OutputSet], timings: "_StageTimes") -> list[dict]:
        """Generate once, encode every layout, write their companions and manifests; all of them or none."""
        avatar, track = inputs.avatar, inputs.track
        captions = [c.shifted(programme.intro_seconds) for c in inputs.speech.captions]
        if not captions:
            log.warning("%s: no script came with the narration, so the clip's subtitles are empty (give the script "
                        "too, and the narration is captioned by it)", Path(request.audio or request.output).name)
        deliveries: list[Delivery] = []
        try:
            deliveries += [self._delivery(outputs, layout, inputs, plan.fps)
                           for outputs, layout in zip(output_sets, inputs.settings.layouts, strict=True)]
            seconds = (plan.n_frames + programme.frames_around()) / plan.fps
            refuse_too_little_space(output_sets[0].video.parent,
                                    bytes_needed(seconds, [d.size(avatar.size) for d in deliveries], plan.fps))
            with _timed(timings, "generate+encode"):
                moments = pick_moments(track.landmarks[plan.source_frame], plan.blink, plan.fps, plan.mouth[:, 0]) \
                    if request.closeups else []
                shown = sentence_frames(inputs.speech.captions, plan.fps, plan.n_frames, plan.mouth[:, 0]) \
                    if request.closeups else []
                kept, soundtrack = produce(self._production(inputs, plan, programme),
                                           inputs.renderer.renderer(avatar, track, plan), deliveries,
                                           [m.frame for m in moments] + shown)
            with _timed(timings, "deliver"):
                closeups = closeup_png(kept, track.landmarks[plan.source_frame], moments) if moments else None
                tones = tone_sheet_for(inputs.settings.script, inputs.settings.expression.tone, kept,
                                       track.landmarks[plan.source_frame], shown, self.runtime.face_meter) if shown else None
                for delivery in deliveries:
                    write_companions(delivery.staged, captions, delivery.thumbnail, closeups, tones)
            made = self._made(request, inputs, plan, programme, soundtrack, captions)
            manifests = [write_manifest(made, delivery, deliveries, dict(timings)) for delivery in deliveries]
            for delivery in deliveries:
                delivery.staged.commit()
        except BaseException:
            for delivery in deliveries:
                delivery.staged.discard()
            raise
        finally:
            for delivery in deliveries:
                delivery.close()
        return manifests

    def _delivery(self, outputs: OutputSet, layout: LayoutConfig, inputs: _Inputs, fps: int) -> Delivery:
        """A layout's canvas and graphics. A bad background, logo or font is reported where it was set."""
        clip, presenter = inputs.settings, inputs.settings.presenter
        text = OnScreenText(presenter.name if presenter else None, presenter.title if presenter else None, clip.headline)
        frames = PresenterFrames(inputs.avatar.size, inputs.track.landmarks, fps, 0)
        try:
            return delivery_for(outputs, layout, clip.graphics, text, clip.base, frames, inputs.speech.captions)
        except InputError as error:
            raise clip.at_source(error, layout) from None

    def _production(self, inputs: _Inputs, plan, programme: Programme) -> Production:
        speech, voice = inputs.speech, inputs.settings.voice
        return Production(PresenterFrames(inputs.avatar.size, inputs.track.landmarks, plan.fps, plan.n_frames), programme,
                          Narration(speech.audio, speech.sample_rate, voice.loudness_lufs, voice.true_peak_dbtp),
                          self.config.encode, self.home.work_dir / "tmp", self.config.progress,
                          self.runtime.segmenter if inputs.settings.cuts_out else None)

    def _made(self, request: RenderRequest, inputs: _Inputs, plan, programme: Programme, soundtrack, captions) -> MadeClip:
        renderer = inputs.renderer
        return MadeClip(_path(request.script), _path(request.audio), request.job, inputs.settings, inputs.avatar,
                        renderer.bundle_name, renderer.renderer.name, inputs.track, inputs.speech, plan.driver, plan.fps,
                        plan.n_frames, programme, soundtrack, captions,
                        {**inputs.track.model_files, **inputs.speech.model_files}, str(self.device), self.config,
                        self.registry.resolve("selfie_segmenter") if inputs.settings.cuts_out else None, plan.acting)

    def _inputs(self, request: RenderRequest, timings: "_StageTimes", load_renderer: bool = True) -> _Inputs:
        if request.script is None and request.audio is None:
            raise InputError("nothing to read", fix="give a script, or --audio with recorded narration")
        with _timed(timings, "script"):
            settings = resolve(request.sources(), self.config, self.home)
        renderer = renderer_for(settings.avatar, self.runtime, load_renderer)
        with _timed(timings, "avatar"):
            avatar = self._load_avatar(renderer.avatar_video or settings.avatar, settings.layouts)
        with _timed(timings, "face"):
            avatar, track = frames_with_face(avatar, self.face_track(avatar))
        with _timed(timings, "voice"):
            speech = self._speech(settings.script, request.audio, replace(settings.voice, device=str(self.device)))
            if request.audio is not None and settings.script is not None:
                check_narration_holds(settings.script, speech, Path(request.audio), self.config.strict)
        return _Inputs(settings, renderer, avatar, track, speech)

    def _load_avatar(self, path: Path, layouts: tuple[LayoutConfig, ...]) -> Avatar:
        """At the height its tallest box on a canvas needs, when every clip has a layout."""
        encode = self.config.encode
        avatar = load_avatar(path, encode.height, encode.max_height, self.config.face.max_avatar_seconds)
        needed = height_for_layouts(layouts, avatar.size) if encode.height is None else None
        return avatar.scaled_down(needed) if needed is not None else avatar

    def _speech(self, script: Script | None, audio: str | Path | None, voice: VoiceConfig) -> Speech:
        """TTS, or the recorded narration (aligned to phonemes): from the work dir when made before."""
        stage = self.runtime.voice_stage
        request = stage.settled(VoiceRequest(script, _path(audio), voice))
        return self.cache.through("voice", stage.cache_key(request), lambda: stage(request), Speech)


def _programme(settings: ClipSettings, fps: int) -> Programme:
    try:
        return Programme.load(settings.programme, fps)
    except InputError as error:
        raise settings.at_source(error, settings.layouts[0]) from None


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None


def render(script: str | Path | None = None, avatar: str | Path | None = None, output: str | Path = "clip.mp4",
           audio: str | Path | None = None, config: RenderConfig | None = None, **settings) -> RenderResult:
    """Render one clip, with any of its settings by key (speed=1.1, layout="16:9"). For many clips, keep one
    `Pipeline` so models load once."""
    with Pipeline(config) as pipeline:
        return pipeline.render(RenderRequest(avatar=avatar, output=output, script=script, audio=audio, settings=settings))


@contextmanager
def _timed(timings: "_StageTimes", stage: str):
    start = time.perf_counter()
    yield
    timings.finished(stage, time.perf_counter() - start)
    log.debug("stage %s took %.2fs", stage, timings[stage])


class _StageTimes(dict):
    """Seconds per finished stage; `on_stage` hears of each one as it finishes."""

    def __init__(self, on_stage: Callable[[str, float], None] | None = None):
        super().__init__()
        self.on_stage = on_stage

    def finished(self, stage: str, seconds: float) -> None:
        self[stage] = seconds
        if self.on_stage is not None:
            self.on_stage(stage, seconds)
