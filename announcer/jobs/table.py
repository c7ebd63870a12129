"""A batch from a spreadsheet: `announcer batch bulletin.csv`, one clip per row.

The header names the columns: `text` (the script, required) and any of a clip's settings (announcer.settings: title,
presenter, avatar, voice, language, speed, loudness, layout, layouts, background, position, cutout, template, intro,
outro, music, output ...). Each row's text becomes a Markdown script, kept in the home's work dir, so the batch runs, queues and resumes exactly
as a folder of scripts does; a bad row fails its own clip, never the others. The row's settings are not written into
that script: they are kept beside it (NAME.settings.json) and travel with its job as typed settings, and an error in
one names the spreadsheet's row and column.

Names that a script would look up beside itself (a presenter, a template, an avatar, background, intro, outro or
music file) are looked up beside the spreadsheet instead, and kept as paths.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

from ..errors import InputError
from ..settings import SETTINGS

MAX_ROWS = 1000
MAX_FIELD_BYTES = 2_000_000
"""A cell as long as the longest script (script.parse.MAX_SCRIPT_BYTES)."""
FILE_COLUMNS = tuple(key for key, setting in SETTINGS.items() if setting.kind in ("file", "avatar") or key == "background")
NAMED = {key: f"{key}s" for key, setting in SETTINGS.items() if setting.kind == "name"}
SWITCHES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
"""A cell in a yes/no column (cutout) as a YAML switch, not the string 'yes'."""


def scripts_from_table(table: Path, folder: Path) -> list[Path]:
    """One Markdown script per row of `table` (a CSV file with a header), written into a folder of `folder` named
    after the table's content; their paths, in row order."""
    rows = _rows(table)
    digest = hashlib.sha256(table.read_bytes()).hexdigest()[:12]
    out = folder / f"{table.stem}-{digest}"
    out.mkdir(parents=True, exist_ok=True)
    scripts = []
    for line, row in rows:
        path = out / f"{table.stem}-{len(scripts) + 1:03d}.md"
        path.write_text(f"---\n# from {table.resolve()}, line {line}\n---\n{row.get('text', '')}\n", encoding="utf-8")
        settings = {key: _resolved(table, key, value) for key, value in row.items() if key != "text" and value}
        _settings_file(path).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
        scripts.append(path)
    return scripts


def row_settings(script: Path) -> dict:
    """The settings of the spreadsheet row `script` was made from, by key ({} for any other script)."""
    kept = _settings_file(script)
    if table_row_of(script) is None or not kept.is_file():
        return {}
    return json.loads(kept.read_text(encoding="utf-8"))


def _settings_file(script: Path) -> Path:
    return script.with_name(f"{script.stem}.settings.json")


def _rows(table: Path) -> list[tuple[int, dict]]:
    """(line, {column: value}) for every row that is not blank."""
    try:
        text = table.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("spreadsheet is not UTF-8 text", path=table, fix="save it as CSV UTF-8") from None
    reader = csv.DictReader(text.splitlines(), strict=True)
    header = [name.strip() for name in reader.fieldnames or []]
    if "text" not in header:
        raise InputError("spreadsheet has no 'text' column", path=table, line=1,
                         fix="name the columns in the first row: text, and any of title, presenter, layout, template")
    unknown = [name for name in header if name != "text" and name not in SETTINGS]
    if unknown:
        raise InputError(f"unknown spreadsheet column '{unknown[0]}'", path=table, line=1,
                         fix=f"use text and {', '.join(sorted(SETTINGS))}")
    reader.fieldnames = header
    rows = [(line, row) for line, row in _read_rows(table, reader) if any(row.values())]  # blank lines are not clips
    if not rows:
        raise InputError("spreadsheet has no rows", path=table, fix="add one row per clip under the header")
    if len(rows) > MAX_ROWS:
        raise InputError(f"spreadsheet has {len(rows)} rows, more than {MAX_ROWS}", path=table, fix="split it")
    return rows


def _read_rows(table: Path, reader: csv.DictReader):
    """(line, row) for each row, each field up to MAX_FIELD_BYTES (a longer text fails its own clip when it renders,
    as any script too long to read does; the other rows still render). A quote left open would swallow every
    following row: it is refused, naming the row where it opens."""
    rows, last_line = [], reader.line_num
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_BYTES)
    try:
        for row in reader:
            rows.append((last_line + 1, {k: (v or "").strip() for k, v in row.items() if k}))
            last_line = reader.line_num
    except csv.Error as error:
        raise InputError(f"row is not valid CSV ({error})", path=table, line=last_line + 1,
                         fix="close the quote this row opens; a quote inside a field is written twice, as \"\"") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _resolved(table: Path, key: str, value: str) -> str | bool:
    """A file named relative to the spreadsheet, or a presenter or template kept beside it, as a path."""
    if SETTINGS[key].kind == "switch" and value.strip().lower() in SWITCHES:
        return SWITCHES[value.strip().lower()]
    if key in FILE_COLUMNS and not value.startswith("#") and (table.parent / value).is_file():
        return str((table.parent / value).resolve())
    if key in NAMED:
        for suffix in ("yaml", "yml"):
            beside = table.parent / NAMED[key] / f"{value}.{suffix}"
            if beside.is_file():
                return str(beside.resolve())
    return value


_SOURCE = re.compile(r"^# from (.+), line (\d+)$", re.MULTILINE)


def table_row_of(script: Path) -> tuple[Path, int] | None:
    """(spreadsheet, line) a script made from a spreadsheet row came from; None for any other script."""
    try:
        with open(script, encoding="utf-8") as handle:
            return row_in(handle.read(4096))
    except (OSError, UnicodeDecodeError):
        return None


def row_in(text: str) -> tuple[Path, int] | None:
    """(spreadsheet, line) from the comment a row's script carries in its front matter; None without one."""
    match = _SOURCE.search(text.split("\n---", 1)[0]) if text.startswith("---\n") else None
    return (Path(match.group(1)), int(match.group(2))) if match else None


def at_its_row(error, script: Path):
    """`error` (an AnnouncerError about `script`) pointed at the spreadsheet row `script` was made from; `error`
    itself for any other script."""
    row = table_row_of(script)
    return type(error)(error.what, path=row[0], line=row[1], fix=error.fix) if row else error


def script_source(script: Path) -> str:
    """How to name a script to its user: `bulletin.csv line 3` for a spreadsheet's row, else its path."""
    row = table_row_of(script)
    return f"{row[0]} line {row[1]}" if row else str(script)


__all__ = ["at_its_row", "row_in", "row_settings", "scripts_from_table", "table_row_of", "script_source"]
