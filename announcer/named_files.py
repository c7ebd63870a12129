"""Small YAML files found by name (presenters/NAME.yaml, templates/NAME.yaml): where to look, and reading them with
errors that name the file and the line."""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import InputError
from .plain_yaml import load_plain_yaml

MAX_FILE_BYTES = 64_000


def find_named_file(name: str, folders: list[Path], kind: str, example: str, fallback: Path | None = None) -> Path:
    """`name`.yaml (or .yml) from the first of `folders` that has it, else `fallback` where it exists; or the .yaml
    file `name` itself names. `kind` ("presenter") and `example` ("--presenter anna") word the errors."""
    wanted = Path(name).expanduser()
    if wanted.suffix in (".yaml", ".yml"):
        candidates = [wanted]
    elif len(wanted.parts) == 1 and wanted.name:
        candidates = [folder / f"{name}.{suffix}" for folder in folders for suffix in ("yaml", "yml")]
        candidates += [fallback] if fallback is not None else []
    else:
        raise InputError(f"{kind} '{name}' is not a name", fix=f"give a {kind}'s name, e.g. {example}, or a .yaml file")
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        looked = ", ".join(str(folder) for folder in folders) if len(candidates) > 1 else str(wanted)
        raise InputError(f"no {kind} '{name}'", fix=f"write {name}.yaml in a {kind}s folder (looked in: {looked})")
    return found


def read_yaml_file(path: Path, kind: str, fix: str):
    """(parsed YAML, the file's lines). Refuses a file too large to be what it says, or one that is not YAML."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{kind} file is too large", path=path, fix=f"a {kind} is a few lines of YAML")
    try:
        text = path.read_text(encoding="utf-8-sig")
        return load_plain_yaml(text) or {}, text.splitlines()
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(f"{kind} file is not valid YAML ({getattr(error, 'problem', error)})", path=path,
                         line=mark.line + 1 if mark else None, fix=fix) from None


def line_of(lines: list[str], key: str) -> int | None:
    """The first line that sets `key` (indented or not), for errors."""
    return next((n for n, written in enumerate(lines, 1) if written.strip().startswith(f"{key}:")), None)


__all__ = ["find_named_file", "read_yaml_file", "line_of"]
