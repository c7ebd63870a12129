"""Templates, a brand kit: a newsroom's layout, colours, fonts, logo, lower-third and caption style in one file.

`templates/evening-news.yaml`

    layout:
      aspect: "16:9"
      position: right
      background: studio.jpg     # relative paths start at this file's folder
    graphics:
      font: fonts/Brand-Bold.ttf
      accent_colour: "#f0b429"
      logo: logo.png
      logo_corner: top-right
      burn_captions: true
    programme:
      intro: sting.mp4           # played before the presenter, fitted to the picture
      outro: sting.mp4
      music: bed.m4a             # looped under the presenter, ducked while they speak
      music_level_db: -14
    expression:
      style: calm                # how the face acts: still, calm, anchor or lively (or expressiveness: 0..1)
      tone: neutral              # a fixed tone for every clip (default: each sentence's own)

`--template evening-news` (or `template: evening-news` in a script's front matter) looks for it in a `templates`
folder beside the script, then in the current folder's, then in the home's. Every key is optional and is a field of
LayoutConfig, GraphicsConfig or ProgrammeConfig, or (under `expression`) one of the clip settings EXPRESSION_KEYS; the
script's own front matter and the command line's flags win over it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .config import GraphicsConfig, LayoutConfig, ProgrammeConfig, aspect_from_yaml
from .errors import InputError
from .named_files import find_named_file, line_of, read_yaml_file

SECTIONS = {"layout": LayoutConfig, "graphics": GraphicsConfig, "programme": ProgrammeConfig}
EXPRESSION_KEYS = ("tone", "expressiveness", "style")
"""The clip settings a template's `expression` section may hold (announcer.settings checks their values)."""
PATH_FIELDS = {"background", "font", "logo", "intro", "outro", "music"}
"""Fields that may name a file, read relative to the template's folder."""


@dataclass(frozen=True)
class Template:
    key: str
    path: Path
    layout: dict
    graphics: dict
    programme: dict
    expression: dict = field(default_factory=dict)
    """Clip settings (EXPRESSION_KEYS) as written, with their lines in `expression_lines`."""
    expression_lines: dict = field(default_factory=dict)

    def applied(self, layout: LayoutConfig, graphics: GraphicsConfig,
                programme: ProgrammeConfig) -> tuple[LayoutConfig, GraphicsConfig, ProgrammeConfig]:
        try:
            return (replace(layout, **self.layout).validate(), replace(graphics, **self.graphics).validate(),
                    replace(programme, **self.programme).validate())
        except InputError as error:
            raise InputError(f"template {self.key}: {error.what}", path=self.path, fix=error.fix) from None

    def manifest_entry(self) -> dict:
        return {"key": self.key, "file": str(self.path.resolve())}


def find_template(name: str, folders: list[Path]) -> Template:
    return read_template(find_named_file(name, folders, "template", "--template evening-news"))


def read_template(path: Path) -> Template:
    raw, lines = read_yaml_file(path, "template", "write sections of key: value lines")
    if not isinstance(raw, dict):
        raise InputError("template file must be sections of key: value lines", path=path, line=1,
                         fix=f"use the sections {', '.join(SECTIONS)}")
    sections = {}
    for section, values in raw.items():
        if section not in (*SECTIONS, "expression"):
            raise InputError(f"unknown template section '{section}'", path=path, line=line_of(lines, section),
                             fix=f"use {', '.join([*SECTIONS, 'expression'])}")
        reader = _expression if section == "expression" else _section
        sections[section] = reader(path, lines, section, values or {})
    expression = sections.get("expression", {})
    return Template(path.stem, path, sections.get("layout", {}), sections.get("graphics", {}), sections.get("programme", {}),
                    expression, {key: line_of(lines, key) for key in expression})


def _expression(path: Path, lines: list[str], section: str, values) -> dict:
    if not isinstance(values, dict):
        raise InputError(f"template {section} must be key: value lines", path=path, line=line_of(lines, section),
                         fix=f"indent its keys under {section}:")
    for key, value in values.items():
        if key not in EXPRESSION_KEYS:
            raise InputError(f"unknown {section} key '{key}'", path=path, line=line_of(lines, key),
                             fix=f"use {', '.join(EXPRESSION_KEYS)}")
        if isinstance(value, (dict, list)):
            raise InputError(f"template {key} must be a single value", path=path, line=line_of(lines, key),
                             fix=f"write {key}: VALUE")
    return dict(values)


def _section(path: Path, lines: list[str], section: str, values) -> dict:
    if not isinstance(values, dict):
        raise InputError(f"template {section} must be key: value lines", path=path, line=line_of(lines, section),
                         fix=f"indent its keys under {section}:")
    defaults = SECTIONS[section]()
    known = {f.name for f in fields(defaults)}
    chosen = {}
    for key, value in values.items():
        if key not in known:
            raise InputError(f"unknown {section} key '{key}'", path=path, line=line_of(lines, key),
                             fix=f"use {', '.join(sorted(known))}")
        if key == "aspect":
            value = aspect_from_yaml(value)
        value = _typed(value, getattr(defaults, key), path, line_of(lines, key), key)
        if key in PATH_FIELDS and isinstance(value, str) and not value.startswith("#"):
            value = str((path.parent / value).expanduser())
        chosen[key] = value
    return chosen


def _typed(value, default, path: Path, line: int | None, key: str):
    """`value` as the type of the field's default: a number where a number goes, yes/no where a switch does."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"template {key} must be true or false", path=path, line=line, fix=f"write {key}: true")
        return value
    if isinstance(default, (int, float)) and not isinstance(value, bool):
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            raise InputError(f"template {key} '{value}' is not a number", path=path, line=line,
                             fix="write a number") from None
    if isinstance(value, (dict, list)):
        raise InputError(f"template {key} must be a single value", path=path, line=line, fix=f"write {key}: VALUE")
    return str(value)


__all__ = ["Template", "find_template", "read_template"]
