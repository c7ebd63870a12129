"""Presenters: an avatar and a voice that belong together, with the name and title for on-screen captions.

A newsroom's "Anna" always reads with Anna's voice, speed and loudness: `presenters/anna.yaml`

    name: Anna Kim
    title: Evening news
    avatar: anna.jpg          # a photo or video (relative to this file), or a prepared avatar's name
    voice: piper              # as --voice: piper, espeak:ko, coqui:MODEL, piper:/voices/x.onnx
    language: en
    speed: 1.0
    loudness: broadcast       # a preset or LUFS

`--presenter anna` (or `presenter: anna` in a script's front matter) looks for `anna.yaml` in a
`presenters` folder beside the script, then in the current folder's, then in the home's, and last
for `presenter.yaml` inside the prepared avatar `anna` (whose avatar is then that prepared avatar).
Every field is optional; the script's own front matter and the command line's flags win over it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import InputError

FIELDS = ("name", "title", "avatar", "voice", "language", "speed", "loudness")
MAX_FILE_BYTES = 64_000


@dataclass(frozen=True)
class Presenter:
    key: str
    """What it was asked for by: the file's stem."""
    path: Path
    name: str | None = None
    title: str | None = None
    avatar: str | None = None
    """As written: a path relative to the file, or a prepared avatar's name."""
    voice: str | None = None
    language: str | None = None
    speed: float | None = None
    loudness: str | float | None = None

    def avatar_path(self) -> Path | None:
        """The avatar to render: a file (relative to the presenter's file), or a prepared avatar's name (a bare name
        with no suffix and no such file beside it)."""
        if self.avatar is None:
            return None
        written = Path(self.avatar).expanduser()
        beside = self.path.parent / written
        is_name = len(written.parts) == 1 and not written.suffix and not beside.exists()
        return written if is_name else beside

    def voice_options(self) -> dict:
        """The fields that set the voice, as front-matter options (so they are read the same way)."""
        return {key: value for key in ("voice", "speed", "loudness") if (value := getattr(self, key)) is not None}

    def manifest_entry(self) -> dict:
        return {"key": self.key, "file": str(self.path.resolve()), "name": self.name, "title": self.title}


BUNDLE_FILE = "presenter.yaml"
"""A prepared avatar's own presenter: AVATARS_DIR/NAME/presenter.yaml."""


def find_presenter(name: str, folders: list[Path], avatars_dir: Path | None = None) -> Presenter:
    """The presenter called `name` (or the .yaml file `name` names), from the first folder that has it, else from
    the prepared avatar of that name in `avatars_dir`."""
    wanted = Path(name).expanduser()
    if wanted.suffix in (".yaml", ".yml"):
        candidates = [wanted]
    elif len(wanted.parts) == 1 and wanted.name:
        candidates = [folder / f"{name}.{suffix}" for folder in folders for suffix in ("yaml", "yml")]
    else:
        raise InputError(f"presenter '{name}' is not a name", fix="give a presenter's name, e.g. --presenter anna, or a .yaml file")
    found = next((path for path in candidates if path.is_file()), None)
    in_bundle = avatars_dir / name / BUNDLE_FILE if avatars_dir is not None and len(candidates) > 1 else None
    if found is None and in_bundle is not None and in_bundle.is_file():
        return read_presenter(in_bundle, asked_as=name, prepared_avatar=name)
    if found is None:
        looked = ", ".join(str(folder) for folder in folders) if len(candidates) > 1 else str(wanted)
        raise InputError(f"no presenter '{name}'", fix=f"write {name}.yaml in a presenters folder (looked in: {looked})")
    return read_presenter(found)


def read_presenter(path: Path, asked_as: str | None = None, prepared_avatar: str | None = None) -> Presenter:
    """`asked_as`: the name it was asked by (default: the file's stem). `prepared_avatar`: the avatar when the file
    names none (a prepared avatar's own presenter.yaml)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError("presenter file is too large", path=path, fix="a presenter is a few lines of YAML")
    try:
        text = path.read_text(encoding="utf-8-sig")
        fields = yaml.safe_load(text) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(f"presenter file is not valid YAML ({getattr(error, 'problem', error)})", path=path,
                         line=mark.line + 1 if mark else None, fix="write key: value lines") from None
    if not isinstance(fields, dict):
        raise InputError("presenter file must be key: value lines", path=path, line=1, fix=f"use the keys {', '.join(FIELDS)}")
    lines = text.splitlines()

    def line_of(key: str) -> int | None:
        return next((n for n, written in enumerate(lines, 1) if written.startswith(f"{key}:")), None)

    for key, value in fields.items():
        if key not in FIELDS:
            raise InputError(f"unknown presenter key '{key}'", path=path, line=line_of(key), fix=f"use the keys {', '.join(FIELDS)}")
        if isinstance(value, (dict, list)):
            raise InputError(f"presenter {key} must be a single value", path=path, line=line_of(key), fix=f"write {key}: VALUE")
    if "speed" in fields:
        try:
            fields["speed"] = float(fields["speed"])
        except (TypeError, ValueError):
            raise InputError(f"presenter speed '{fields['speed']}' is not a number", path=path, line=line_of("speed"),
                             fix="write a number from 0.5 to 2.0") from None
    values = {field: str(fields[field]) for field in ("name", "title", "avatar", "voice", "language")
              if fields.get(field) is not None}
    if prepared_avatar is not None:
        values.setdefault("avatar", prepared_avatar)
    return Presenter(asked_as or path.stem, path, speed=fields.get("speed"), loudness=fields.get("loudness"), **values)


__all__ = ["Presenter", "find_presenter", "read_presenter", "FIELDS"]
