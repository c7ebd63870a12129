"""A clip's settings: each one declared once (SETTINGS), every source read the same way (Source), and one `resolve()`
that applies the precedence and says where a bad value came from.

Sources, lowest first: the run's config, a batch's defaults, the template, the presenter, the script's front matter,
then the clip's own overrides (the command line's flags, a spreadsheet's row, the studio's form). The front matter's
keys, a spreadsheet's columns, the studio's form and API schema and the `render` command's flags are all made from
SETTINGS, so a new setting is added here and in the stage that uses it.

>>> clip = resolve(ClipSources(script=Path("news.md"), overrides=Source.flags({"speed": 1.1})), RenderConfig(), home)  # doctest: +SKIP
>>> clip.voice.speed  # doctest: +SKIP
1.1
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .compose import background_file, graphics_file
from .config import (
    ASPECTS,
    LOUDNESS_PRESETS,
    POSITIONS,
    TONES,
    GraphicsConfig,
    LayoutConfig,
    MotionConfig,
    ProgrammeConfig,
    RenderConfig,
    VoiceConfig,
    aspect_from_yaml,
    aspects_named,
)
from .errors import InputError
from .face.presenter import CREDIT, default_presenter
from .home import Home
from .languages import checked_language
from .motion.expression import STYLES, ExpressionConfig
from .presenters import Presenter, find_presenter
from .script import Script, read_script
from .templates import Template, find_template

log = logging.getLogger(__name__)

KINDS = ("text", "number", "integer", "switch", "choice", "file", "aspects", "voice", "loudness", "language", "name",
         "avatar")


@dataclass(frozen=True)
class Setting:
    key: str
    """As written in front matter, a spreadsheet's header and the studio's form; `--key` (with dashes) as a flag."""
    help: str
    kind: str = "text"
    """How a value is read (KINDS): a file's name starts at its source's folder; a switch is true or false."""
    target: str | None = None
    """The config field it sets, 'group.field'; None for the clip's own fields (ClipSettings)."""
    choices: tuple[str, ...] = ()
    limits: tuple[float, float] | None = None
    """The range a number must lie in (where its stage's config does not check one itself)."""
    studio: bool = True
    """Whether a studio client may set it: never one that names a file (those come from presenters and templates)."""

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


SETTINGS: dict[str, Setting] = {setting.key: setting for setting in (
    Setting("title", "the clip's title (default: the script's file name)"),
    Setting("headline", "a headline for the on-screen text"),
    Setting("presenter", "a presenter's name (presenters/NAME.yaml: avatar, voice, language, name, title, style) or its .yaml "
                         "file", "name"),
    Setting("template", "a brand template's name (templates/NAME.yaml: layout, colours, fonts, logo, captions) or its "
                        ".yaml file", "name"),
    Setting("avatar", "presenter photo or video, or a prepared avatar's name", "avatar"),
    Setting("voice", "piper | supertonic | espeak | coqui, optionally :VOICE (e.g. piper:en_US-lessac-low, espeak:ko, "
                     "piper:/v/x.onnx); `announcer voices` lists them", "voice"),
    Setting("language", "en, ko, ... (default: detected from the text)", "language", "voice.language"),
    Setting("speed", "speaking rate, 1.0 normal", "number", "voice.speed"),
    Setting("loudness", f"target LUFS (e.g. -16) or a preset: {', '.join(LOUDNESS_PRESETS)}", "loudness"),
    Setting("layout", "deliver a broadcast canvas, 1080 pixels on its shorter side", "choice", "layout.aspect",
            tuple(ASPECTS)),
    Setting("layouts", "several layouts from one render, each to its own OUT.16x9.mp4, OUT.9x16.mp4 ...", "aspects"),
    Setting("short_side", "the canvas's shorter side in pixels (default 1080)", "integer", "layout.short_side"),
    Setting("position", "where the presenter stands on the canvas", "choice", "layout.position", POSITIONS),
    Setting("scale", "the presenter's height as a share of the canvas's (default 0.9)", "number", "layout.scale"),
    Setting("cutout", "cut the presenter out of their frame onto the background (MediaPipe selfie segmenter) instead "
                      "of showing their frame in a box", "switch", "layout.cutout"),
    Setting("background", "behind the presenter on the canvas: a colour (#rrggbb), an image or a video",
            target="layout.background", studio=False),
    Setting("burn_captions", "draw the subtitles into the picture too", "switch", "graphics.burn_captions"),
    Setting("intro", "a video played before the presenter", "file", "programme.intro", studio=False),
    Setting("outro", "a video played after the presenter", "file", "programme.outro", studio=False),
    Setting("music", "a music bed looped under the presenter, ducked while they speak", "file", "programme.music",
            studio=False),
    Setting("tone", "the tone the whole clip is read in, where no [tone X] tag sets one (default: each sentence's "
                    "own, from the text)", "choice", "expression.tone", TONES),
    Setting("expressiveness", "how far the face acts the script: the smile follows the tone, the brows rise on "
                              "emphasis, the head beats on stressed words (0 a still face, 1 a lively host; default: the "
                              "style's)", "number", "expression.expressiveness", limits=(0.0, 1.0)),
    Setting("style", "the presenter's manner where no expressiveness is given: "
                     + ", ".join(f"{name} ({level:g})" for name, level in STYLES.items()),
            "choice", "expression.style", tuple(STYLES)),
    Setting("head_motion", "how far a photo presenter's head sways as they read: 0 keeps it still, 1 is the usual",
            "number", "motion.head_motion", limits=(0.0, 2.0)),
    Setting("output", "the clip's file name", studio=False),
)}
FILE_KINDS = ("file", "avatar")


@dataclass(frozen=True)
class Source:
    """Settings from one place, by key, with what it takes to report a bad one there."""
    label: str
    """How an error names where a key was set; '{key}' is replaced by the key, '{flag}' by its flag."""
    values: Mapping[str, object] = field(default_factory=dict)
    path: Path | str | None = None
    lines: Mapping[str, int] = field(default_factory=dict)
    base: Path | None = None
    """The folder its file names start at (None: the current folder)."""

    @classmethod
    def flags(cls, values: Mapping[str, object]) -> "Source":
        """Settings given on the command line or through the Python API, by key (None values are left out)."""
        return cls("{flag}", {k: v for k, v in values.items() if v is not None})

    @classmethod
    def front_matter(cls, script: Script) -> "Source":
        return cls("front matter {key}", script.options, script.path, script.option_lines, script.path.parent)

    @classmethod
    def of_template(cls, template: Template) -> "Source":
        """A template's clip settings (its expression section; its layout, graphics and programme go in whole)."""
        return cls(f"template {template.key} {{key}}", template.expression, template.path, template.expression_lines,
                   base=template.path.parent)

    @classmethod
    def of_presenter(cls, presenter: Presenter) -> "Source":
        return cls(f"presenter {presenter.key}", presenter.settings(), presenter.path, base=presenter.path.parent)

    def where(self, key: str) -> str:
        return self.label.format(key=key, flag=SETTINGS[key].flag if key in SETTINGS else key)

    def error(self, key: str, what: str, fix: str | None) -> InputError:
        return InputError(f"{self.where(key)}: {what}", path=self.path, line=self.lines.get(key), fix=fix)

    def unknown_keys(self) -> None:
        """Refuse a key that is no setting, at its line."""
        unknown = sorted(set(self.values) - set(SETTINGS))
        if unknown:
            raise InputError(f"unknown {self.where('').rstrip()} key '{unknown[0]}'", path=self.path,
                             line=self.lines.get(unknown[0]), fix=f"use {', '.join(sorted(SETTINGS))}")

    def files(self) -> dict[str, Path]:
        """The files it names, by setting (checked before any work that no output overwrites one)."""
        named = {key: _file_named(self, key, value) for key, value in self.values.items()
                 if key in SETTINGS and SETTINGS[key].kind in FILE_KINDS}
        if "background" in self.values:
            named["background"] = background_file(str(self.values["background"]), self.base)
        return {key: path for key, path in named.items() if path is not None}


@dataclass(frozen=True)
class ClipSources:
    """What a clip's settings are made from, besides the run's config."""
    script: Path | None = None
    overrides: Source = field(default_factory=lambda: Source.flags({}))
    defaults: Source = field(default_factory=lambda: Source("{key}"))
    """A batch's: an avatar or presenter for the scripts that name none (their own front matter wins)."""
    audio: Path | None = None
    """Recorded narration, if any (a file, not a setting; listed among the files the clip is made from)."""

    def files(self) -> dict[str, Path | None]:
        """The files named before any is read (checked before any work that no output overwrites one; the front
        matter's are checked once it is read)."""
        return {"script": self.script, "narration": self.audio, **self.overrides.files()}


@dataclass(frozen=True)
class ClipSettings:
    script: Script | None
    voice: VoiceConfig
    layouts: tuple[LayoutConfig, ...]
    """One per delivered layout: the configured one, or one per aspect asked for."""
    graphics: GraphicsConfig
    programme: ProgrammeConfig
    motion: MotionConfig
    expression: ExpressionConfig
    avatar: Path
    presenter: Presenter | None
    template: Template | None
    title: str | None
    headline: str | None
    origins: Mapping[str, Source] = field(default_factory=dict)
    """The source that set each key last: a problem found later (a file that will not decode) is reported there."""

    @property
    def cuts_out(self) -> bool:
        """Whether a layout cuts the presenter out of their frame (MediaPipe's selfie segmenter does)."""
        return any(layout.aspect is not None and layout.cutout for layout in self.layouts)

    @property
    def base(self) -> Path | None:
        """Where the script's relative file names start."""
        return self.script.path.parent if self.script else None

    def files(self, layout: LayoutConfig) -> dict[str, Path | None]:
        """The files the settings name, by setting: a layout's background, the logo, font, intro, outro and music."""
        files = {"background": background_file(layout.background, self.base), "logo": graphics_file(self.graphics.logo, self.base),
                 "font": graphics_file(self.graphics.font, None),
                 **{key: getattr(self.programme, key) for key in ("intro", "outro", "music")}}
        return {key: Path(path) if path is not None else None for key, path in files.items()}

    def input_files(self, sources: ClipSources, avatar: Path) -> dict[str, Path | None]:
        """Every file the clip is made from, by the role it plays (for the check that none is overwritten)."""
        files = {"script": sources.script, "narration": sources.audio, "avatar": avatar,
                 "presenter file": self.presenter.path if self.presenter else None,
                 "template file": self.template.path if self.template else None}
        for layout in self.layouts:
            files.update({f"background ({layout.aspect})" if key == "background" else key: path
                          for key, path in self.files(layout).items()})
        return files

    def at_source(self, error: InputError, layout: LayoutConfig) -> InputError:
        """`error` (about a file a setting names, or a font missing a presenter's letters) at the setting's source."""
        key = next((key for key, path in self.files(layout).items() if path is not None and error.path is not None
                    and path.resolve() == error.path.resolve()), None)
        what = f"{error.what} ({error.path.name})" if error.path is not None else error.what
        template, presenter = self.template, self.presenter
        if key in self.origins and self.origins[key].path is not None:
            return self.origins[key].error(key, what, error.fix)
        if key and template is not None and key in {**template.layout, **template.graphics, **template.programme}:
            return InputError(f"template {template.key} {key}: {what}", path=template.path, fix=error.fix)
        if "glyph" in error.what and presenter is not None:
            return InputError(f"presenter {presenter.key}'s name or title: {what}", path=presenter.path, fix=error.fix)
        return error


def resolve(sources: ClipSources, run: RenderConfig, home: Home) -> ClipSettings:
    """The clip's settings: the run's, then a batch's defaults, the template, the presenter, the front matter and the
    clip's overrides, each later one winning. Every file a setting names is checked now, before any work."""
    for source in (sources.overrides, sources.defaults):
        source.unknown_keys()
    script, presenter = _script_and_presenter(sources, run, home)
    front_matter = Source.front_matter(script) if script is not None else Source("front matter {key}")
    front_matter.unknown_keys()
    template = _named("template", (sources.overrides, front_matter, sources.defaults), script, home.root / "templates",
                      find_template)
    layout, graphics, programme = template.applied(run.layout, run.graphics, run.programme) if template \
        else (run.layout, run.graphics, run.programme)
    layers = [*([Source.of_template(template)] if template else []), sources.defaults,
              *([Source.of_presenter(presenter)] if presenter else []), front_matter, sources.overrides]
    builder = _Builder(run, {"voice": run.voice, "layout": layout, "graphics": graphics, "programme": programme,
                             "motion": run.motion, "expression": ExpressionConfig()})
    for source in layers:
        for key, value in source.values.items():
            if key not in ("presenter", "template"):
                builder.apply(SETTINGS[key], value, source)
    if script is not None:
        builder.groups["voice"] = replace(builder.groups["voice"], language=script.language)
        if "language" in sources.overrides.values:
            builder.apply(SETTINGS["language"], sources.overrides.values["language"], sources.overrides)
    return builder.settings(script, presenter, template, home)


def _script_and_presenter(sources: ClipSources, run: RenderConfig, home: Home) -> tuple[Script | None, Presenter | None]:
    """The script, read in its language: the one asked for, else its front matter's, else its presenter's, else the
    one its text is written in."""
    asked = sources.overrides.values.get("language")
    language = checked_language(str(asked), "--language") if asked else run.voice.language
    script = read_script(sources.script, language) if sources.script is not None else None
    front_matter = Source.front_matter(script) if script is not None else Source("front matter {key}")
    presenter = _named("presenter", (sources.overrides, front_matter, sources.defaults), script, home.presenters_dir,
                       lambda name, folders: find_presenter(name, folders, home.avatars_dir))
    if presenter and presenter.language and script and not language and "language" not in script.options:
        script = read_script(sources.script, presenter.language)
    return script, presenter


def _named(key: str, sources: tuple[Source, ...], script: Script | None, home_folder: Path, find):
    """A presenter or template (`key`) by the name the first source that has one gives; looked for in a `{key}s`
    folder beside the script, then in the current folder's, then in `home_folder`."""
    source = next((source for source in sources if source.values.get(key)), None)
    if source is None:
        return None
    folders = [script.path.parent / f"{key}s"] if script else []
    folders += [Path.cwd() / f"{key}s", home_folder]
    try:
        return find(str(source.values[key]), list(dict.fromkeys(folders)))
    except InputError as error:
        if source.path is None:
            raise
        raise source.error(key, error.what, error.fix) from None


class _Builder:
    """The settings as sources are applied, one key at a time, each checked as it lands."""

    def __init__(self, run: RenderConfig, groups: dict):
        self.run, self.groups = run, groups
        self.clip: dict[str, object] = {}
        self.origins: dict[str, Source] = {}

    def apply(self, setting: Setting, value, source: Source) -> None:
        try:
            updates = _read(setting, value, source)
            for target, typed in updates.items():
                group, _, name = target.partition(".")
                if name:
                    self.groups[group] = replace(self.groups[group], **{name: typed})
                else:
                    self.clip[group] = typed
            self._validate()
        except InputError as error:
            raise source.error(setting.key, error.what, error.fix) from None
        self.origins[setting.key] = source

    def _validate(self) -> None:
        groups = self.groups
        replace(self.run, voice=groups["voice"], motion=groups["motion"]).validate()
        for name in ("layout", "graphics", "programme"):
            groups[name].validate()

    def settings(self, script: Script | None, presenter: Presenter | None, template: Template | None,
                 home: Home) -> ClipSettings:
        clip, groups = self.clip, self.groups
        avatar = clip.get("avatar") or _default_avatar(home)
        programme = _checked_files(groups["programme"])
        layouts = _each_layout(groups["layout"], list(clip.get("layouts") or []))
        title = str(clip["title"]) if "title" in clip else (script.title if script else None)
        return ClipSettings(script, groups["voice"], tuple(layouts), groups["graphics"], programme, groups["motion"],
                            groups["expression"], avatar, presenter, template, title, clip.get("headline"), self.origins)


def _read(setting: Setting, value, source: Source) -> dict[str, object]:
    """`value` as written at `source`, as the config fields it sets."""
    target = setting.target or setting.key
    kind = setting.kind
    if kind == "voice":
        engine, voice = parse_voice(str(value))
        return {"voice.engine": engine, "voice.voice": voice}
    if kind == "loudness":
        loud = VoiceConfig().with_loudness(value, setting.key)
        preset = isinstance(value, str) and value.strip() in LOUDNESS_PRESETS
        return {"voice.loudness_lufs": loud.loudness_lufs, **({"voice.true_peak_dbtp": loud.true_peak_dbtp} if preset else {})}
    if kind in ("number", "integer"):
        return {target: _within(setting, _number(value, int if kind == "integer" else float))}
    if kind == "switch":
        return {target: _switch(setting.key, value)}
    if kind == "choice":
        value = aspect_from_yaml(value) if setting.choices == tuple(ASPECTS) else str(value)
        if value not in setting.choices:
            raise InputError(f"unknown {setting.key} '{value}'", fix=f"use one of {', '.join(setting.choices)}")
        return {target: value}
    if kind == "aspects":
        return {target: _aspects(value)}
    if kind == "language":
        return {target: checked_language(str(value), setting.key)}
    if kind in FILE_KINDS:
        return {target: _existing_file(source, setting.key, value)}
    return {target: str(value)}


def checked_value(key: str, value, source: Source) -> None:
    """Refuse a value that `key` cannot take, at `source` (the studio checks a form before queueing it)."""
    setting = SETTINGS[key]
    if setting.kind not in FILE_KINDS:
        try:
            _read(setting, value, source)
        except InputError as error:
            raise source.error(key, error.what, error.fix) from None


def parse_voice(spec: str) -> tuple[str, str | None]:
    """'piper', 'espeak:ko', 'coqui:tts_models/en/ljspeech/glow-tts', 'piper:/voices/x.onnx'."""
    engine, _, voice = spec.partition(":")
    return engine.strip().lower(), (voice.strip() or None)


def _number(value, kind: type):
    if isinstance(value, bool):
        raise InputError(f"'{value}' is not a number", fix="write a number")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise InputError(f"'{value}' is not a number", fix="write a number") from None


def _within(setting: Setting, number: float) -> float:
    if setting.limits is not None and not setting.limits[0] <= number <= setting.limits[1]:
        low, high = setting.limits
        raise InputError(f"{setting.key} {number:g} is out of range", fix=f"use {low:g} to {high:g}")
    return number


SWITCHES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
"""A switch as text (a form's field, a spreadsheet's cell)."""


def _switch(key: str, value) -> bool:
    if isinstance(value, str) and value.strip().lower() in SWITCHES:
        return SWITCHES[value.strip().lower()]
    if not isinstance(value, bool):
        raise InputError(f"'{value}' is not a switch", fix=f"write {key}: true or {key}: false")
    return value


def _aspects(value) -> tuple[str, ...]:
    aspects = aspects_named(value)
    for aspect in aspects:
        if aspect not in ASPECTS:
            raise InputError(f"unknown layout '{aspect}'", fix=f"use {', '.join(ASPECTS)}, e.g. layouts: 16:9, 9:16")
    return tuple(aspects)


def _file_named(source: Source, key: str, value) -> Path | None:
    """The file a source names: relative to its folder; a prepared avatar's bare name (no suffix, no such file) stays
    a name."""
    written = Path(str(value)).expanduser()
    beside = source.base / written if source.base is not None else written
    if SETTINGS[key].kind == "avatar" and len(written.parts) == 1 and not written.suffix and not beside.exists():
        return None
    return beside


def _existing_file(source: Source, key: str, value) -> Path:
    named = _file_named(source, key, value)
    if named is None:
        return Path(str(value))  # a prepared avatar's name
    if SETTINGS[key].kind == "file" and not named.is_file():
        relative = ", relative to the script" if source.base is not None else ""
        raise InputError(f"file not found: {named}", fix=f"give the {key} file's path{relative}")
    return named


def _checked_files(programme: ProgrammeConfig) -> ProgrammeConfig:
    """The programme's files (a template's included) each exist."""
    for key in ("intro", "outro", "music"):
        named = getattr(programme, key)
        if named and not Path(named).expanduser().is_file():
            raise InputError(f"{key} file not found", path=Path(named).expanduser(), fix=f"give an existing file as the {key}")
        if named:
            programme = replace(programme, **{key: str(Path(named).expanduser())})
    return programme


def _each_layout(layout: LayoutConfig, aspects: list[str]) -> list[LayoutConfig]:
    """The configured layout, or one per aspect asked for (otherwise alike)."""
    if not aspects:
        return [layout]
    if len(set(aspects)) != len(aspects):
        raise InputError(f"layouts {','.join(aspects)} name one twice", fix="name each layout once, as --layouts 16:9,9:16")
    return [replace(layout, aspect=aspect).validate() for aspect in aspects]


def _default_avatar(home: Home) -> Path:
    log.info("no avatar given: using the default presenter (%s); choose one with --avatar", CREDIT)
    return default_presenter(home.avatars_dir)


__all__ = ["SETTINGS", "ClipSettings", "ClipSources", "Setting", "Source", "checked_value", "parse_voice", "resolve"]
