"""A batch: every script in a folder (or matching a glob) becomes a job writing into one output folder."""
from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path

from ..deliver import OutputSet
from ..errors import InputError
from .store import JobSpec

SCRIPT_SUFFIXES = (".txt", ".md", ".srt")


def find_scripts(source: str | Path, tables_dir: Path | None = None) -> list[Path]:
    """A folder's scripts (not recursive), or the files a glob matches; sorted, so job order is stable. A .csv
    spreadsheet gives one script per row (jobs.table), written into `tables_dir` (the home's work dir by default)."""
    path = Path(source).expanduser()
    if path.suffix.lower() == ".csv" and path.is_file():
        from ..home import Home
        from .table import scripts_from_table

        return scripts_from_table(path.resolve(), tables_dir or Home.resolve().work_dir / "tables")
    if path.is_dir():
        found = [p for p in path.iterdir() if p.suffix.lower() in SCRIPT_SUFFIXES and p.is_file()]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in glob.glob(str(path)) if Path(p).suffix.lower() in SCRIPT_SUFFIXES and Path(p).is_file()]
    if not found:
        raise InputError("no scripts found", path=source, fix="give a folder or a glob of .txt, .md or .srt scripts, "
                                                               "or a .csv spreadsheet with a row per clip")
    return sorted(p.resolve() for p in found)


def batch_jobs(scripts: list[Path], avatar: str | None, out_dir: Path, options: dict | None = None) -> list[JobSpec]:
    out_dir = Path(out_dir).expanduser().resolve()
    batch = str(out_dir)
    return [_job_spec(script, avatar, out_dir, batch, options or {}) for script in scripts]


def _job_spec(script: Path, avatar: str | None, out_dir: Path, batch: str, options: dict) -> JobSpec:
    output = OutputSet.inside(out_dir, _output_name(script)).video
    avatar_id = _avatar_identity(avatar)
    content = script.read_bytes() if script.is_file() else b""
    key = hashlib.sha256(json.dumps([str(script), hashlib.sha256(content).hexdigest(), avatar_id, str(output), options],
                                    sort_keys=True).encode()).hexdigest()
    return JobSpec(batch=batch, output=str(output), script=str(script), avatar=avatar, options=options, key=key)


def _output_name(script: Path) -> str:
    """The front matter's `output:` when a Markdown script has one (kept inside the batch folder), else the script's name."""
    if script.suffix.lower() == ".md":
        try:
            from ..script import read_script

            name = read_script(script).options.get("output")
            if name:
                return _with_mp4(Path(str(name)).name)
        except Exception:  # a broken script still gets its job; the job's render reports why it is broken
            pass
    return _with_mp4(script.stem)


def _with_mp4(name: str) -> str:
    """`with_suffix` would eat a dotted name's last part ("news.2026"), so add the suffix instead."""
    return name if name.lower().endswith(".mp4") else f"{name}.mp4"


def _avatar_identity(avatar: str | None) -> str | None:
    """The avatar file's size and modification time (cheap, and changes when the file does), or the name as given."""
    if avatar is None:
        return None
    path = Path(avatar).expanduser()
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return avatar
