"""The Python API the CLI calls: `render()` for one clip, `Pipeline` to render many with models loaded once.

>>> from announcer import Pipeline, RenderConfig, RenderRequest
>>> with Pipeline(RenderConfig()) as pipeline:  # doctest: +SKIP
...     pipeline.render(RenderRequest(script="news.md", avatar="anchor.jpg", output="news.mp4"))
"""
from __future__ import annotations

import logging
import platform
import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import soundfile
import torch
from tqdm import tqdm

from . import voice as voice_package
from .assets import sha256_of
from .cache import cache_key
from .compose import (
    Bookend,
    BurnedCaptions,
    Canvas,
    OnScreenText,
    background_file,
    compose,
    face_region,
    graphics_entries,
    graphics_file,
    overlays,
    presenter_height,
)
from .compose.cutout import Matte
from .compose.programme import Programme
from .compose.soundtrack import PROGRAMME_RATE, Soundtrack, fitted
from .config import (
    ASPECTS,
    GraphicsConfig,
    LayoutConfig,
    MotionConfig,
    ProgrammeConfig,
    RenderConfig,
    VoiceConfig,
    aspect_from_yaml,
    aspects_named,
)
from .deliver import (
    OutputSet,
    StagedOutputs,
    bytes_needed,
    disk_full,
    manifest_file,
    manifest_number,
    missing_folders,
    refuse_overwriting_inputs,
    refuse_too_little_space,
    remove_empty,
)
from .errors import InputError
from .eval.closeups import closeup_png, pick_moments
from .face import Avatar, FaceStage, FaceTrack, frames_with_face, load_avatar
from .face.presenter import CREDIT, default_presenter
from .media.encode import VideoEncoder, encode_command
from .media.ffmpeg import ffmpeg_binary
from .media.subtitles import to_srt, to_vtt
from .motion import plan_motion
from .motion.model import TRAINED_WEIGHTS_NAME
from .presenters import Presenter, find_presenter
from .runtime import Runtime, resolve_device  # noqa: F401 (resolve_device: part of the API)
from .scratch import scratch_file, sweep
from .templates import Template, find_template
from .version import __version__
from .script import Script, read_script
from .voice import (
    MIN_SHARE_HEARD,
    Speech,
    TimedUnit,
    choose_engine,
    load_narration,
    script_share_heard,
    synthesize,
)

log = logging.getLogger(__name__)


@dataclass
class RenderRequest:
    avatar: str | Path | None
    """A photo, a video, or a prepared avatar's name; None takes the script's front matter."""
    output: str | Path
    """The .mp4 to write; .srt, .vtt, .jpg and .json go beside it."""
    script: str | Path | None = None
    audio: str | Path | None = None
    """Recorded narration instead of TTS (the script, if any, then only gives subtitles)."""
    voice_overrides: dict = field(default_factory=dict)
    """VoiceConfig fields set explicitly for this clip (the CLI's flags); they win over the script's front matter."""
    closeups: bool = False
    """Also write OUT.closeups.png: eyes and mouth at 1:1 and 2x at the widest mouths and a blink, for review."""
    presenter: str | None = None
    """A presenter's name (presenters/NAME.yaml) or file: avatar, voice and captions together; None takes the script's
    front matter `presenter:`, if any."""
    default_avatar: str | Path | None = None
    """A batch's or schedule's avatar: used only where neither the script's front matter nor its presenter names one
    (the script knows its own presenter; a batch-wide setting must not put someone else on air)."""
    default_presenter: str | None = None
    """A batch's presenter: used only where the script's front matter names none."""
    layout_overrides: dict = field(default_factory=dict)
    """LayoutConfig fields set explicitly for this clip (the CLI's flags); they win over the script's front matter."""
    template: str | None = None
    """A template's name (templates/NAME.yaml) or file: layout and graphics together; None takes the script's front
    matter `template:`, if any."""
    layouts: list[str] = field(default_factory=list)
    """Several aspects from one render ('16:9', '9:16'): the voice, face and generation stages run once and each
    layout is composed and encoded to its own files, OUT.16x9.mp4 and so on. Empty: the one layout configured."""
    programme_overrides: dict = field(default_factory=dict)
    """ProgrammeConfig fields set explicitly for this clip (--intro, --outro, --music); they win over the front matter."""
    job: str | None = None
    """The job's key, when a job store renders this clip: recorded in the manifest, so a worker that finds the clip
    delivered (its predecessor died before recording it) does not deliver it again."""


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
    script: Script | None
    renderer: "_RendererChoice"
    avatar: Avatar
    track: FaceTrack
    speech: Speech
    presenter: Presenter | None
    layouts: list[LayoutConfig]
    graphics: GraphicsConfig
    template: Template | None
    programme: ProgrammeConfig
    voice: VoiceConfig


@dataclass
class _Delivery:
    """One layout's clip: its canvas and graphics, written to its own files."""
    outputs: OutputSet
    layout: LayoutConfig
    canvas: Canvas | None
    graphics: list
    staged: StagedOutputs
    thumbnail: np.ndarray | None = None

    def size(self, avatar: Avatar) -> tuple[int, int]:
        return self.canvas.size if self.canvas is not None else avatar.size


@dataclass(frozen=True)
class _RendererChoice:
    renderer: object
    avatar_video: Path | None
    """A prepared avatar's own video (None: the avatar path itself)."""
    bundle_name: str | None


def parse_voice(spec: str) -> tuple[str, str | None]:
    """'piper', 'espeak:ko', 'coqui:tts_models/en/ljspeech/glow-tts', 'piper:/voices/x.onnx'."""
    engine, _, voice = spec.partition(":")
    return engine.strip().lower(), (voice.strip() or None)


class Pipeline:
    """Request -> inputs -> render -> deliver, on a Runtime that owns the device and the loaded models; `render()`
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
            return self._render(request, on_stage)
        except BaseException:
            remove_empty(new_folders)
            raise

    def _render(self, request: RenderRequest, on_stage: Callable[[str, float], None] | None) -> RenderResult:
        timings = _StageTimes(on_stage)
        first = OutputSet.for_path(request.output)  # an output that cannot be written fails now, before any work
        refuse_overwriting_inputs(_output_sets(first, request.layouts), _requested_files(request))
        inputs = self._inputs(request, timings)
        output_sets = _output_sets(first, [layout.aspect for layout in inputs.layouts])
        refuse_overwriting_inputs(output_sets, _input_files(request, inputs))
        StagedOutputs.remove_leftovers(first)  # every layout's files are in the first one's folder
        avatar, track, speech = inputs.avatar, inputs.track, inputs.speech
        with _timed(timings, "motion"):
            plan = plan_motion(speech, self._motion_config(), len(avatar.frames), avatar.fps, self.runtime.mouth_model)
            try:
                programme = Programme.load(inputs.programme, plan.fps)
            except InputError as error:
                raise _at_setting(error, inputs, inputs.layouts[0]) from None
        deliveries: list[_Delivery] = []
        captions = _shifted(speech.captions, programme.intro_seconds)
        if not captions:
            log.warning("%s: no script came with the narration, so the clip's subtitles are empty (give the script "
                        "too, and the narration is captioned by it)", Path(request.audio or request.output).name)
        try:
            deliveries += [self._delivery(outputs, layout, inputs) for outputs, layout in zip(output_sets, inputs.layouts,
                                                                                              strict=True)]
            seconds = (plan.n_frames + programme.frames_around()) / plan.fps
            needed = bytes_needed(seconds, [d.size(avatar) for d in deliveries], plan.fps)
            refuse_too_little_space(first.video.parent, needed)
            with _timed(timings, "generate+encode"):
                moments = pick_moments(track.landmarks[plan.source_frame], plan.blink, plan.fps, plan.mouth[:, 0]) \
                    if request.closeups else []
                kept, soundtrack = self._generate_and_encode(inputs, plan, deliveries, [m.frame for m in moments], programme)
            with _timed(timings, "deliver"):
                closeups = closeup_png(kept, track.landmarks[plan.source_frame], moments) if moments else None
                for delivery in deliveries:
                    _write_companions(delivery, captions, closeups)
            manifests = []
            for delivery in deliveries:
                siblings = [other.outputs.video.name for other in deliveries if other is not delivery]
                manifest = self._manifest(request, inputs, plan, delivery, timings, programme, soundtrack, captions,
                                          siblings)
                delivery.staged.write_text(delivery.outputs.manifest, _json(manifest))
                manifests.append(manifest)
            for delivery in deliveries:
                delivery.staged.commit()
        except BaseException:
            for delivery in deliveries:
                delivery.staged.discard()
            raise
        finally:
            for delivery in deliveries:
                if delivery.canvas is not None:
                    delivery.canvas.close()
        log.debug("delivered %s (%.1fs of video in %.1fs)", output_sets[0].video, plan.n_frames / plan.fps,
                  sum(timings.values()))
        return RenderResult(output_sets[0], manifests[0], dict(timings), output_sets[1:])

    def _motion_config(self) -> MotionConfig:
        """'auto' speech-to-mouth weights: those `announcer train-mouth` wrote into the home, else the packaged ones."""
        motion, trained = self.config.motion, self.home.models_dir / TRAINED_WEIGHTS_NAME
        return replace(motion, mouth_model=str(trained)) if motion.mouth_model == "auto" and trained.is_file() else motion

    def _delivery(self, outputs: OutputSet, layout: LayoutConfig, inputs: "_Inputs") -> _Delivery:
        """A layout's canvas and its graphics (placed for that picture's size and the face's place on it). A bad
        background, logo or font is reported where it was set: the script's front matter, the template or the
        presenter's file."""
        try:
            return self._placed_delivery(outputs, layout, inputs)
        except InputError as error:
            raise _at_setting(error, inputs, layout) from None

    def _placed_delivery(self, outputs: OutputSet, layout: LayoutConfig, inputs: "_Inputs") -> _Delivery:
        script, avatar, presenter = inputs.script, inputs.avatar, inputs.presenter
        base = script.path.parent if script else None
        canvas = Canvas.for_layout(layout, avatar.size, base, self.config.motion.fps) if layout.aspect else None
        delivered = canvas.size if canvas else avatar.size
        text = OnScreenText(presenter.name if presenter else None, presenter.title if presenter else None,
                            str(script.options["headline"]) if script and script.options.get("headline") else None)
        graphics = overlays(inputs.graphics, delivered, text, base,
                            face_region(inputs.track.landmarks, avatar.size, canvas), canvas.box[1] if canvas else None)
        if inputs.graphics.burn_captions:
            graphics.append(BurnedCaptions(inputs.speech.captions, inputs.graphics, delivered))
        return _Delivery(outputs, layout, canvas, graphics, StagedOutputs(outputs))

    def prepare(self, request: RenderRequest, on_stage: Callable[[str, float], None] | None = None) -> dict[str, float]:
        """Run the stages before generation (script, avatar, face, voice) so their artifacts are cached; their timings.

        A cluster runs this as a CPU task, then the render itself (which finds these artifacts) as a GPU task.
        """
        timings = _StageTimes(on_stage)
        OutputSet.for_path(request.output)
        self._inputs(request, timings, load_renderer=False)
        return dict(timings)

    def _inputs(self, request: RenderRequest, timings: "_StageTimes", load_renderer: bool = True):
        if request.script is None and request.audio is None:
            raise InputError("nothing to read", fix="give a script, or --audio with recorded narration")
        with _timed(timings, "script"):
            language = request.voice_overrides.get("language") or self.config.voice.language
            script = read_script(request.script, language) if request.script else None
            presenter = self._presenter(request.presenter, script, request.default_presenter)
            if presenter and presenter.language and script and not language and "language" not in script.options:
                script = read_script(request.script, presenter.language)  # the presenter's language reads the text
            voice_config = self._voice_config(script, request.voice_overrides, presenter)
            template = self._template(request.template, script)
            layout, graphics, programme = template.applied(self.config.layout, self.config.graphics, self.config.programme) \
                if template else (self.config.layout, self.config.graphics, self.config.programme)
            layout = self._layout_config(layout, script, request.layout_overrides)
            layouts = _each_layout(layout, request.layouts or _front_matter_layouts(script))
            programme = self._programme_config(programme, script, request.programme_overrides)
        avatar_path = self._avatar_path(request.avatar, script, presenter, request.default_avatar)
        renderer = self._renderer_for(avatar_path, load_renderer)
        with _timed(timings, "avatar"):
            avatar = self._load_avatar(renderer.avatar_video or avatar_path, layouts)
        with _timed(timings, "face"):
            avatar, track = frames_with_face(avatar, self.face_track(avatar))
        with _timed(timings, "voice"):
            speech = self._speech(script, request.audio, voice_config)
            if request.audio is not None and script is not None:
                self._check_narration_holds(script, speech, Path(request.audio))
        return _Inputs(script, renderer, avatar, track, speech, presenter, layouts, graphics, template, programme,
                       voice_config)

    def _load_avatar(self, path: Path, layouts: list[LayoutConfig]) -> Avatar:
        """At the height its tallest box on a canvas needs, when every clip has a layout (rendering more lines than
        are shown costs time, and scaling each delivered frame down instead costs more)."""
        encode = self.config.encode
        avatar = load_avatar(path, encode.height, encode.max_height, self.config.face.max_avatar_seconds)
        if any(layout.aspect is None for layout in layouts) or encode.height is not None:
            return avatar
        needed = max(presenter_height(layout, avatar.size) for layout in layouts)
        return avatar if needed >= avatar.size[1] - 2 else avatar.scaled_down(needed)

    def _programme_config(self, programme: ProgrammeConfig, script: Script | None, overrides: dict) -> ProgrammeConfig:
        """`programme` (the run's, or its template's), then the script's front matter (`intro`, `outro`, `music`,
        files beside the script), then this clip's flags; every file named is checked now, before any work."""
        for key in PROGRAMME_FILES:
            if script is not None and key in script.options:
                named = (script.path.parent / str(script.options[key])).expanduser()
                if not named.is_file():
                    raise InputError(f"front matter {key}: file not found: {named}", path=script.path,
                                     line=script.option_lines.get(key),
                                     fix=f"give the {key} file's path, relative to the script")
                programme = replace(programme, **{key: str(named)})
        programme = replace(programme, **overrides).validate()
        for key in PROGRAMME_FILES:
            if getattr(programme, key):
                named = Path(getattr(programme, key)).expanduser()
                if not named.is_file():
                    raise InputError(f"{key} file not found", path=named, fix=f"give an existing file as the {key}")
                programme = replace(programme, **{key: str(named)})
        return programme

    def _template(self, asked: str | None, script: Script | None) -> Template | None:
        """The template asked for on the command line, else in the script's front matter; None when neither asks."""
        return self._named_file("template", asked, script, None, find_template, self.home.root / "templates")

    def _layout_config(self, layout: LayoutConfig, script: Script | None, overrides: dict) -> LayoutConfig:
        """`layout` (the run's, or its template's), then the script's front matter (`layout`, `background`,
        `position`), then this clip's flags."""
        for key, field_name in LAYOUT_KEYS.items():
            if script is None or key not in script.options:
                continue
            value = script.options[key]
            value = aspect_from_yaml(value) if key == "layout" else value if key == "cutout" else str(value)
            try:
                layout = replace(layout, **{field_name: value}).validate()
            except InputError as error:
                raise InputError(f"front matter {key}: {error.what}", path=script.path, line=script.option_lines.get(key),
                                 fix=error.fix) from None
        return replace(layout, **overrides).validate()

    def _presenter(self, asked: str | None, script: Script | None, default: str | None = None) -> Presenter | None:
        """The presenter asked for on the command line, else in the script's front matter, else the batch's default;
        None when none asks."""
        return self._named_file("presenter", asked, script, default,
                                lambda name, folders: find_presenter(name, folders, self.home.avatars_dir),
                                self.home.presenters_dir)

    def _named_file(self, key: str, asked: str | None, script: Script | None, default: str | None, find, home_folder: Path):
        """A presenter or template (`key`) by the name asked for, else the script's front matter names, else
        `default`; looked for in a `{key}s` folder beside the script, then in the current folder's, then in
        `home_folder`. A name from the front matter that is not found is reported at its line."""
        in_script = str(script.options[key]) if script and key in script.options else None
        name = asked or in_script or default
        if name is None:
            return None
        folders = [script.path.parent / f"{key}s"] if script else []
        folders += [Path.cwd() / f"{key}s", home_folder]
        try:
            return find(name, list(dict.fromkeys(folders)))
        except InputError as error:
            if asked or in_script is None:
                raise
            raise InputError(f"front matter {key}: {error.what}", path=script.path, line=script.option_lines.get(key),
                             fix=error.fix) from None

    def _check_narration_holds(self, script: Script, speech: Speech, audio: Path) -> None:
        """Warn (fail with `strict`) when the recording is far too short for the script it comes with."""
        words = script.word_count
        share = script_share_heard(speech, words)
        if share >= MIN_SHARE_HEARD:
            return
        problem = (f"narration of {speech.duration:.1f}s can hold at most {share:.0%} of the script's {words} words; "
                   f"the subtitles will not match")
        if self.config.strict:
            raise InputError(problem, path=audio, fix="check that the recording and the script belong together")
        log.warning("%s: %s", audio.name, problem)

    def _voice_config(self, script: Script | None, overrides: dict, presenter: Presenter | None = None) -> VoiceConfig:
        """The run's config, then the presenter's, then the script's front matter, then this clip's explicit overrides."""
        voice = replace(self.config.voice, device=str(self.device))
        if presenter is not None:
            voice = self._presenter_voice(voice, presenter)
        if script is not None:
            voice = replace(self._front_matter_voice(voice, script), language=script.language)
        voice = replace(voice, **overrides)
        replace(self.config, voice=voice).validate()
        return voice

    def _presenter_voice(self, voice: VoiceConfig, presenter: Presenter) -> VoiceConfig:
        try:
            voice = _with_front_matter(voice, presenter.voice_options())
            if presenter.language:
                voice = replace(voice, language=presenter.language)
            replace(self.config, voice=voice).validate()
        except (InputError, TypeError, ValueError) as error:
            what = error.what if isinstance(error, InputError) else str(error)
            raise InputError(f"presenter {presenter.key}: {what}", path=presenter.path,
                             fix=error.fix if isinstance(error, InputError) else "check its voice, speed and loudness") from None
        return voice

    def _front_matter_voice(self, voice: VoiceConfig, script: Script) -> VoiceConfig:
        """The voice with the script's front matter applied, one key at a time, so a bad value is reported at its line."""
        for key in ("voice", "speed", "loudness"):
            if key not in script.options:
                continue
            try:
                voice = _with_front_matter(voice, {key: script.options[key]})
                replace(self.config, voice=voice).validate()
            except (InputError, TypeError, ValueError) as error:
                what = error.what if isinstance(error, InputError) else f"'{script.options[key]}' is not a number"
                fix = error.fix if isinstance(error, InputError) else "write a number"
                raise InputError(f"front matter {key}: {what}", path=script.path, line=script.option_lines.get(key),
                                 fix=fix) from None
        return voice

    def _avatar_path(self, avatar: str | Path | None, script: Script | None, presenter: Presenter | None = None,
                     default: str | Path | None = None) -> Path:
        """--avatar, then the script's `avatar:`, then the presenter's, then a batch's default, then the default
        presenter."""
        if avatar is not None:
            return Path(avatar).expanduser()
        if script is not None and "avatar" in script.options:
            return (script.path.parent / str(script.options["avatar"])).expanduser()
        presenters_avatar = presenter.avatar_path() if presenter is not None else None
        if presenters_avatar is not None:
            return presenters_avatar
        if default is not None:
            return Path(default).expanduser()
        log.info("no avatar given: using the default presenter (%s); choose one with --avatar", CREDIT)
        return default_presenter(self.home.avatars_dir)

    def _renderer_for(self, avatar: Path, load: bool = True) -> "_RendererChoice":
        """A prepared avatar's name picks its neural renderer and its own video; anything else is a file for the warp renderer.

        With `load` off (the stages before generation, a cluster's CPU task) a prepared avatar's models are not loaded."""
        from .avatar import find_bundle, load_renderer

        if avatar.exists() or len(avatar.parts) != 1:
            return _RendererChoice(self.renderer, None, None)
        name = avatar.name
        bundle = find_bundle(self.home.avatars_dir, name)
        if bundle is None:
            return _RendererChoice(self.renderer, None, None)
        if not load:
            return _RendererChoice(None, bundle.video, name)
        renderer = self.runtime.model(("avatar", name), lambda: load_renderer(bundle, self.config.generate, self.device))
        return _RendererChoice(renderer, bundle.video, name)

    def _speech(self, script: Script | None, audio: str | Path | None, voice: VoiceConfig) -> Speech:
        """TTS, or the recorded narration (aligned to phonemes): from the work dir when made before."""
        segments = [(s.spoken, s.display, s.pause_after_ms, s.start_s) for s in script.segments] if script else None
        if audio is None:
            voice = choose_engine(voice, self.home.models_dir)
        if audio is not None and not Path(audio).is_file():
            return load_narration(Path(audio), voice, script)  # says what is wrong with the path
        source = sha256_of(Path(audio)) if audio is not None else None
        # Not keyed by the device: speech made on a cluster's CPU task is what its GPU task then renders.
        key = cache_key("voice", voice_package.ARTIFACT_VERSION, segments, asdict(replace(voice, device="")), source,
                        voice_package.voice_file_identity(voice))
        cached = self.cache.load("voice", key)
        if cached is not None:
            return _speech_from_cache(*cached)
        if audio is not None:
            speech = load_narration(Path(audio), voice, script, self.runtime.aligner, self.runtime.phone_recogniser)
        else:
            speech = synthesize(script, voice, self.runtime.voice_engine(voice), self.registry, progress=self.config.progress)
        self.cache.save("voice", key, *_speech_to_cache(speech))
        return speech

    def _generate_and_encode(self, inputs: "_Inputs", plan, deliveries: list[_Delivery], keep: list[int],
                             programme: Programme) -> tuple[dict[int, np.ndarray], Soundtrack | None]:
        """Render the presenter once; compose and encode each delivery, between its intro and outro. Each delivery
        gets its thumbnail; returned: copies of the presenter's frames numbered in `keep`, and the programme's sound
        (None where the narration is delivered as it is)."""
        scratch = self.home.work_dir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        sweep(scratch, "sound.*")
        audio_path = scratch_file(scratch, "sound", ".wav", mode=0o600)
        kept: dict[int, np.ndarray] = {}
        try:
            soundtrack = self._write_sound_or_say_disk_full(audio_path, inputs, plan, programme)
            total = plan.n_frames + programme.frames_around()
            with ExitStack() as stack:
                encoders = [stack.enter_context(VideoEncoder(encode_command(
                    d.staged.temp_for(d.outputs.video), audio_path, d.size(inputs.avatar), plan.fps, total, self.config.encode),
                    d.outputs.video)) for d in deliveries]
                bar = stack.enter_context(tqdm(total=total * len(deliveries), unit="frame", desc="render",
                                               disable=not self.config.progress or None))
                self._write_bookend(programme.intro, deliveries, encoders, inputs.avatar, bar)
                self._write_presenter(inputs, plan, deliveries, encoders, keep, kept, bar)
                self._write_bookend(programme.outro, deliveries, encoders, inputs.avatar, bar)
        finally:
            audio_path.unlink(missing_ok=True)
        return kept, soundtrack

    def _write_presenter(self, inputs: "_Inputs", plan, deliveries: list[_Delivery], encoders: list[VideoEncoder],
                         keep: list[int], kept: dict[int, np.ndarray], bar) -> None:
        thumbnail_index = int(plan.n_frames * self.config.encode.thumbnail_at)
        matte = Matte(self.runtime.segmenter) if any(d.canvas is not None and d.canvas.cutout for d in deliveries) else None
        done = 0
        for batch in inputs.renderer.renderer(inputs.avatar, inputs.track, plan):
            kept.update({k: batch[k - done].copy() for k in keep if done <= k < done + len(batch)})
            cutout = matte(batch) if matte is not None else None
            for delivery, encoder in zip(deliveries, encoders, strict=True):
                composed = compose(batch, delivery.canvas, delivery.graphics, done, plan.fps, cutout)
                if delivery.thumbnail is None and done + len(batch) > thumbnail_index:
                    delivery.thumbnail = composed[thumbnail_index - done].copy()
                encoder.write(composed)
                bar.update(len(batch))
            done += len(batch)

    @staticmethod
    def _write_bookend(bookend: Bookend | None, deliveries: list[_Delivery], encoders: list[VideoEncoder], avatar: Avatar,
                       bar) -> None:
        if bookend is None:
            return
        for delivery, encoder in zip(deliveries, encoders, strict=True):
            for batch in bookend.frames(delivery.size(avatar)):
                encoder.write(batch)
                bar.update(len(batch))

    def _write_sound_or_say_disk_full(self, path: Path, inputs: "_Inputs", plan, programme: Programme) -> Soundtrack | None:
        try:
            return self._write_sound(path, inputs, plan, programme)
        except (OSError, RuntimeError):  # libsndfile says only "System error" when the disk is full
            needed = int((plan.n_frames / plan.fps + 1) * PROGRAMME_RATE * 3)
            if shutil.disk_usage(path.parent).free < needed:
                raise disk_full(path.parent, needed) from None
            raise

    def _write_sound(self, path: Path, inputs: "_Inputs", plan, programme: Programme) -> Soundtrack | None:
        """The narration as the clip's sound (padded to the pictures); or, with an intro, outro or music bed, the whole
        programme's sound mixed to the loudness target."""
        speech, voice = inputs.speech, inputs.voice
        if programme.is_plain:
            padded = fitted(speech.audio, int(round(plan.n_frames / plan.fps * speech.sample_rate)))
            soundfile.write(path, padded, speech.sample_rate, subtype="PCM_16", format="WAV")
            return None
        soundtrack = programme.sound(speech.audio, speech.sample_rate, plan.n_frames / plan.fps, voice.loudness_lufs,
                                     voice.true_peak_dbtp)
        soundfile.write(path, soundtrack.audio, soundtrack.sample_rate, subtype="PCM_24", format="WAV")
        return soundtrack

    def _manifest(self, request: RenderRequest, inputs: "_Inputs", plan, delivery: _Delivery, timings,
                  programme: Programme, soundtrack: Soundtrack | None, captions: list[TimedUnit],
                  other_layouts: list[str]) -> dict:
        avatar, track, speech, script, renderer = inputs.avatar, inputs.track, inputs.speech, inputs.script, inputs.renderer
        canvas, outputs = delivery.canvas, delivery.outputs
        width, height = delivery.size(avatar)
        models = {**track.model_files, **speech.model_files}
        if canvas is not None and canvas.cutout:
            path, digest = self.registry.resolve("selfie_segmenter")
            models[str(path)] = digest
        n_frames = plan.n_frames + programme.frames_around()
        return {
            "announcer": __version__,
            "job": request.job,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "inputs": {
                "script": manifest_file(request.script),
                "avatar": {"path": str(avatar.source.resolve()), "sha256": avatar.sha256, "kind": "video" if avatar.is_video else "photo",
                           "frames": int(len(avatar.frames)), "prepared": renderer.bundle_name,
                           "frames_used": list(avatar.used_frames) if avatar.used_frames else "all"},
                "audio": manifest_file(request.audio),
                "language": script.language if script else inputs.voice.language,
                "title": script.title if script else None,
                "presenter": inputs.presenter.manifest_entry() if inputs.presenter else None,
                "template": inputs.template.manifest_entry() if inputs.template else None,
            },
            "voice": {"engine": speech.engine, "voice": speech.voice,
                      "loudness_lufs": manifest_number(speech.loudness_lufs),
                      "true_peak_dbtp": manifest_number(speech.true_peak_dbtp), "sample_rate": speech.sample_rate},
            "programme": programme.manifest_entry(soundtrack),
            "models": [{"path": path, "sha256": digest} for path, digest in sorted(models.items())],
            "layout": {**asdict(delivery.layout), "presenter_box": list(canvas.box)} if canvas is not None else None,
            "other_layouts": other_layouts,
            "graphics": graphics_entries(delivery.graphics, programme.intro_seconds),
            "video": {"width": width, "height": height, "fps": plan.fps, "frames": n_frames,
                      "duration_s": round(n_frames / plan.fps, 3), "presenter_from_s": round(programme.intro_seconds, 3),
                      "motion_driver": plan.driver, "renderer": renderer.renderer.name},
            "audio_duration_s": round(speech.duration, 3),
            "captions": [{"text": c.label, "start": round(c.start, 3), "end": round(c.end, 3)} for c in captions],
            "outputs": {"video": outputs.video.name, "srt": outputs.subtitles_srt.name, "vtt": outputs.subtitles_vtt.name,
                        "thumbnail": outputs.thumbnail.name},
            "stage_seconds": {name: round(value, 3) for name, value in timings.items()},
            "environment": {"device": str(self.device), "torch": torch.__version__, "python": platform.python_version(),
                            "ffmpeg": ffmpeg_binary()},
            "config": asdict(self.config),
        }


LAYOUT_KEYS = {"layout": "aspect", "background": "background", "position": "position", "cutout": "cutout"}
"""Front matter keys -> LayoutConfig fields."""
PROGRAMME_FILES = ("intro", "outro", "music")
"""ProgrammeConfig fields (and front matter keys) that name a file."""


def _at_setting(error: InputError, inputs: _Inputs, layout: LayoutConfig) -> InputError:
    """`error` (about a file a setting names, or a font missing a presenter's letters) at the setting's own source."""
    script, template, presenter = inputs.script, inputs.template, inputs.presenter
    key = next((key for key, path in _setting_files(inputs, layout).items() if path is not None and error.path is not None
                and path.resolve() == error.path.resolve()), None)
    what = f"{error.what} ({error.path.name})" if error.path is not None else error.what
    if key and script is not None and key in script.options:
        return InputError(f"front matter {key}: {what}", path=script.path, line=script.option_lines.get(key), fix=error.fix)
    if key and template is not None and key in {**template.layout, **template.graphics, **template.programme}:
        return InputError(f"template {template.key} {key}: {what}", path=template.path, fix=error.fix)
    if "glyph" in error.what and presenter is not None:
        return InputError(f"presenter {presenter.key}'s name or title: {what}", path=presenter.path, fix=error.fix)
    return error


def _requested_files(request: RenderRequest) -> dict[str, Path | None]:
    """The files the request itself names (checked before any work; the front matter's are checked once read)."""
    avatar = Path(request.avatar).expanduser() if request.avatar is not None else None
    files = {"script": request.script, "narration": request.audio, "avatar": avatar if avatar and avatar.suffix else None,
             **{key: request.programme_overrides.get(key) for key in PROGRAMME_FILES},
             "background": background_file(str(request.layout_overrides.get("background", "#")), None)}
    return {role: Path(path) if path is not None else None for role, path in files.items()}


def _setting_files(inputs: _Inputs, layout: LayoutConfig) -> dict[str, Path | None]:
    """The files the clip's settings name, by setting: a layout's background, the logo, font, intro, outro and music."""
    base = inputs.script.path.parent if inputs.script else None
    files = {"background": background_file(layout.background, base), "logo": graphics_file(inputs.graphics.logo, base),
             "font": graphics_file(inputs.graphics.font, None), **{key: getattr(inputs.programme, key) for key in PROGRAMME_FILES}}
    return {key: Path(path) if path is not None else None for key, path in files.items()}


def _input_files(request: RenderRequest, inputs: _Inputs) -> dict[str, Path | None]:
    """Every file a clip is made from, by the role it plays (for the check that none is overwritten)."""
    files = {"script": request.script, "narration": request.audio, "avatar": inputs.avatar.source,
             "presenter file": inputs.presenter.path if inputs.presenter else None,
             "template file": inputs.template.path if inputs.template else None}
    for layout in inputs.layouts:
        files.update({f"background ({layout.aspect})" if key == "background" else key: path
                      for key, path in _setting_files(inputs, layout).items()})
    return {role: Path(path) if path is not None else None for role, path in files.items()}


def _each_layout(layout: LayoutConfig, aspects: list[str]) -> list[LayoutConfig]:
    """The configured layout, or one per aspect asked for (otherwise alike)."""
    if not aspects:
        return [layout]
    if len(set(aspects)) != len(aspects):
        raise InputError(f"layouts {','.join(aspects)} name one twice", fix="name each layout once, as --layouts 16:9,9:16")
    return [replace(layout, aspect=aspect).validate() for aspect in aspects]


def _front_matter_layouts(script: Script | None) -> list[str]:
    """Front matter `layouts: 16:9, 9:16` (or a YAML list), each aspect checked, a bad one reported at its line."""
    if script is None or "layouts" not in script.options:
        return []
    aspects = aspects_named(script.options["layouts"])
    for aspect in aspects:
        if aspect not in ASPECTS:
            raise InputError(f"front matter layouts: unknown layout '{aspect}'", path=script.path,
                             line=script.option_lines.get("layouts"), fix=f"use {', '.join(ASPECTS)}, e.g. layouts: 16:9, 9:16")
    return aspects


def _output_sets(first: OutputSet, aspects: list[str | None]) -> list[OutputSet]:
    """`first` (OUT.mp4) for one layout; OUT.16x9.mp4, OUT.9x16.mp4 ... for several."""
    if len(aspects) < 2:
        return [first]
    return [OutputSet.for_path(OutputSet.layout_video(first.video, aspect)) for aspect in aspects]


def _write_companions(delivery: _Delivery, captions: list[TimedUnit], closeups: bytes | None) -> None:
    """A clip's subtitles, thumbnail and (when asked for) close-up sheet, staged beside its video."""
    staged, outputs = delivery.staged, delivery.outputs
    staged.write_text(outputs.subtitles_srt, to_srt(captions))
    staged.write_text(outputs.subtitles_vtt, to_vtt(captions))
    staged.write_bytes(outputs.thumbnail, _jpeg(delivery.thumbnail))
    if closeups is not None:
        staged.write_bytes(outputs.closeups, closeups)


def _shifted(captions: list[TimedUnit], seconds: float) -> list[TimedUnit]:
    """Cue times in the delivered clip: after the intro, if any."""
    return [TimedUnit(c.label, c.start + seconds, c.end + seconds) for c in captions] if seconds else captions


def _with_front_matter(voice: VoiceConfig, options: dict) -> VoiceConfig:
    if "voice" in options:
        engine, name = parse_voice(str(options["voice"]))
        voice = replace(voice, engine=engine, voice=name)
    if "speed" in options:
        voice = replace(voice, speed=float(options["speed"]))
    if options.get("loudness") is not None:
        voice = voice.with_loudness(options["loudness"])
    return voice


def render(script: str | Path | None = None, avatar: str | Path | None = None, output: str | Path = "clip.mp4",
           audio: str | Path | None = None, config: RenderConfig | None = None) -> RenderResult:
    """Render one clip. For many clips, keep one `Pipeline` so models load once."""
    with Pipeline(config) as pipeline:
        return pipeline.render(RenderRequest(avatar=avatar, output=output, script=script, audio=audio))


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


def _speech_to_cache(speech: Speech) -> tuple[dict, dict]:
    arrays = {"audio": speech.audio, "phoneme_times": np.array([[p.start, p.end] for p in speech.phonemes], np.float64).reshape(-1, 2)}
    meta = {"sample_rate": speech.sample_rate, "phonemes": [p.label for p in speech.phonemes],
            "captions": [[c.label, c.start, c.end] for c in speech.captions], "engine": speech.engine, "voice": speech.voice,
            "loudness_lufs": speech.loudness_lufs, "true_peak_dbtp": speech.true_peak_dbtp, "model_files": speech.model_files}
    return arrays, meta


def _speech_from_cache(arrays: dict, meta: dict) -> Speech:
    phonemes = [TimedUnit(label, float(start), float(end))
                for label, (start, end) in zip(meta["phonemes"], arrays["phoneme_times"], strict=True)]
    captions = [TimedUnit(label, start, end) for label, start, end in meta["captions"]]
    return Speech(arrays["audio"], meta["sample_rate"], phonemes, captions, meta["engine"], meta["voice"],
                  meta["loudness_lufs"], meta["true_peak_dbtp"], meta["model_files"])


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode the thumbnail")
    return data.tobytes()


def _json(manifest: dict) -> str:
    import json

    return json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"  # Paths as strings
