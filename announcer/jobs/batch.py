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


def find_scripts(source: str | Path, tables_dir: Path) -> list[Path]:
    """A folder's scripts (not recursive), or the files a glob matches; sorted, so job order is stable. A .csv
    spreadsheet gives one script per row (jobs.table), written into `tables_dir` (in the home's work dir)."""
    path = Path(source).expanduser()
    if path.suffix.lower() == ".csv" and path.is_file():
        from .table import scripts_from_table

        return scripts_from_table(path.resolve(), tables_dir)
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


INDEX_FILES = ("index.json", "index.html")
"""The batch's own files in its output folder (jobs.index): no clip may write over them."""


def batch_jobs(scripts: list[Path], avatar: str | None, out_dir: Path, options: dict | None = None) -> list[JobSpec]:
    """A job per script, each writing into `out_dir`. Two scripts that would write the same file, or a script
    whose files would overwrite the batch's index or another script of the batch, are refused before anything
    renders (the error names both)."""
    out_dir = Path(out_dir).expanduser().resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("the batch's output folder is a file", path=out_dir, fix="give --out a folder; it is made if missing")
    batch = str(out_dir)
    specs = [_job_spec(script, avatar, out_dir, batch, options or {}) for script in scripts]
    refuse_clashing_outputs(specs, out_dir)
    return specs


def refuse_clashing_outputs(specs: list[JobSpec], out_dir: Path) -> None:
    from .table import script_source

    owners: dict[Path, JobSpec] = {out_dir / name: None for name in INDEX_FILES}
    owners.update({Path(spec.script): spec for spec in specs if spec.script})
    for spec in specs:
        outputs = OutputSet(Path(spec.output))
        for final in [*outputs.all(), *outputs.for_review()]:
            if final not in owners:
                owners[final] = spec
                continue
            other = owners[final]
            source = script_source(Path(spec.script))
            if other is None:
                raise InputError(f"{source} would write {final.name}, the batch's own index", path=out_dir,
                                 fix="rename the script, or give it another `output:` name")
            if Path(other.script or "") == final:
                raise InputError(f"{source} would write {final.name} over {script_source(final)}, a script of this "
                                 f"batch", path=out_dir, fix="keep the scripts out of the output folder (batch --out)")
            raise InputError(f"{script_source(Path(other.script))} and {source} would both write {final.name}",
                             path=out_dir, fix="rename one of the scripts, or give one of them another `output:` name")


def _job_spec(script: Path, avatar: str | None, out_dir: Path, batch: str, options: dict) -> JobSpec:
    """A script's job; a spreadsheet row's settings go with it (jobs.table), typed, as the job's own settings."""
    from .table import row_settings

    settings = row_settings(script)
    options = {**options, "settings": settings} if settings else options
    output = _output(script, out_dir, settings.get("output")).video
    avatar_id = _avatar_identity(avatar)
    content = script.read_bytes() if script.is_file() else b""
    key = hashlib.sha256(json.dumps([str(script), hashlib.sha256(content).hexdigest(), avatar_id, str(output), options],
                                    sort_keys=True).encode()).hexdigest()
    return JobSpec(batch=batch, output=str(output), script=str(script), avatar=avatar, options=options, key=key)


def _output(script: Path, out_dir: Path, row_output: str | None = None) -> OutputSet:
    """A spreadsheet row's `output` column, else the front matter's `output:` when a Markdown script has one (kept
    inside the batch folder), else the script's name. A broken script still gets its job (its render reports why it
    is broken); a bad `output:` is refused now, at its line, since the batch cannot say where that clip would go."""
    from .table import at_its_row

    name, line = (str(row_output), None) if row_output else _front_matter_output(script)
    if name is None:
        return OutputSet.inside(out_dir, _with_mp4(script.stem))
    try:
        return OutputSet.inside(out_dir, name if name.endswith(("/", "\\")) else _with_mp4(Path(name).name))
    except InputError as error:
        raise at_its_row(InputError(f"output: {error.what}", path=script, line=line, fix=error.fix), script) from None


def _front_matter_output(script: Path) -> tuple[str | None, int | None]:
    if script.suffix.lower() != ".md":
        return None, None
    try:
        from ..script import read_script

        read = read_script(script)
    except Exception:  # a broken script still gets its job; the job's render reports why it is broken
        return None, None
    name = read.options.get("output")
    return (str(name), read.option_lines.get("output")) if name else (None, None)


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
