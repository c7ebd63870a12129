"""Presenters: an avatar and a voice that belong together, with the name and title for on-screen captions.

A newsroom's "Anna" always reads with Anna's voice, speed and loudness: `presenters/anna.yaml`

    name: Anna Kim
    title: Evening news
    avatar: anna.jpg          # a photo or video (relative to this file), or a prepared avatar's name
    voice: piper              # as --voice: piper, espeak:ko, coqui:MODEL, piper:/voices/x.onnx
    language: en
    speed: 1.0
    loudness: broadcast       # a preset or LUFS
    style: calm               # how the face acts: still, calm, anchor (the default) or lively
    expressiveness: 0.6       # or exactly, 0 (a still face) .. 1

`--presenter anna` (or `presenter: anna` in a script's front matter) looks for `anna.yaml` in a
`presenters` folder beside the script, then in the current folder's, then in the home's, and last
for `presenter.yaml` inside the prepared avatar `anna` (whose avatar is then that prepared avatar).
Every field is optional; the script's own front matter and the command line's flags win over it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .named_files import find_named_file, line_of, read_yaml_file

FIELDS = ("name", "title", "avatar", "voice", "language", "speed", "loudness", "style", "expressiveness")


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
    style: str | None = None
    """How the face acts the script (motion.expression.STYLES), where the clip gives no expressiveness."""
    expressiveness: float | str | None = None
    """As written; announcer.settings checks it."""

    def avatar_path(self) -> Path | None:
        """The avatar to render: a file (relative to the presenter's file), or a prepared avatar's name (a bare name
        with no suffix and no such file beside it)."""
        if self.avatar is None:
            return None
        written = Path(self.avatar).expanduser()
        beside = self.path.parent / written
        is_name = len(written.parts) == 1 and not written.suffix and not beside.exists()
        return written if is_name else beside

    def settings(self) -> dict:
        """The fields that are a clip's settings (announcer.settings), as written: read the same way as front matter."""
        return {key: value for key in ("avatar", "voice", "language", "speed", "loudness", "style", "expressiveness")
                if (value := getattr(self, key)) is not None}

    def manifest_entry(self) -> dict:
        return {"key": self.key, "file": str(self.path.resolve()), "name": self.name, "title": self.title}


BUNDLE_FILE = "presenter.yaml"
"""A prepared avatar's own presenter: AVATARS_DIR/NAME/presenter.yaml."""


def find_presenter(name: str, folders: list[Path], avatars_dir: Path | None = None) -> Presenter:
    """The presenter called `name` (or the .yaml file `name` names), from the first folder that has it, else from
    the prepared avatar of that name in `avatars_dir`."""
    in_bundle = avatars_dir / name / BUNDLE_FILE if avatars_dir is not None and "/" not in name else None
    found = find_named_file(name, folders, "presenter", "--presenter anna", in_bundle)
    if found == in_bundle:
        return read_presenter(found, asked_as=name, prepared_avatar=name)
    return read_presenter(found)


def read_presenter(path: Path, asked_as: str | None = None, prepared_avatar: str | None = None) -> Presenter:
    """`asked_as`: the name it was asked by (default: the file's stem). `prepared_avatar`: the avatar when the file
    names none (a prepared avatar's own presenter.yaml)."""
    fields, lines = read_yaml_file(path, "presenter", "write key: value lines")
    if not isinstance(fields, dict):
        raise InputError("presenter file must be key: value lines", path=path, line=1, fix=f"use the keys {', '.join(FIELDS)}")

    for key, value in fields.items():
        if key not in FIELDS:
            raise InputError(f"unknown presenter key '{key}'", path=path, line=line_of(lines, key), fix=f"use the keys {', '.join(FIELDS)}")
        if isinstance(value, (dict, list)):
            raise InputError(f"presenter {key} must be a single value", path=path, line=line_of(lines, key), fix=f"write {key}: VALUE")
    if "speed" in fields:
        try:
            fields["speed"] = float(fields["speed"])
        except (TypeError, ValueError):
            raise InputError(f"presenter speed '{fields['speed']}' is not a number", path=path, line=line_of(lines, "speed"),
                             fix="write a number from 0.5 to 2.0") from None
    values = {field: str(fields[field]) for field in ("name", "title", "avatar", "voice", "language", "style")
              if fields.get(field) is not None}
    if prepared_avatar is not None:
        values.setdefault("avatar", prepared_avatar)
    return Presenter(asked_as or path.stem, path, speed=fields.get("speed"), loudness=fields.get("loudness"),
                     expressiveness=fields.get("expressiveness"), **values)


__all__ = ["Presenter", "find_presenter", "read_presenter", "FIELDS"]
