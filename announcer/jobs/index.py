"""The batch's index for the people reviewing it: `index.json` and a plain `index.html` with thumbnails."""
from __future__ import annotations

import html
import json
import os
from pathlib import Path

from .store import Job


def write_index(out_dir: Path, jobs: list[Job]) -> Path:
    """One entry per output (the newest job for it), written atomically; returns the index.json path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    latest: dict[str, Job] = {}
    for job in jobs:
        latest[job.output] = job
    entries = [_entry(out_dir, job) for job in sorted(latest.values(), key=lambda j: j.output)]
    summary = {"clips": len(entries), "done": sum(e["status"] == "done" for e in entries),
               "failed": sum(e["status"] == "failed" for e in entries)}
    _write(out_dir / "index.json", json.dumps({**summary, "entries": entries}, indent=2, ensure_ascii=False) + "\n")
    _write(out_dir / "index.html", _html(entries, summary))
    return out_dir / "index.json"


def _entry(out_dir: Path, job: Job) -> dict:
    entry = {"job": job.id, "script": job.script, "status": job.state, "attempts": job.attempts, "error": job.error,
             "video": None, "thumbnail": None, "duration_s": None, "voice": None, "stage_seconds": job.stage_seconds}
    if job.state == "done" and job.outputs:
        manifest = _read_json(Path(job.outputs["manifest"]))
        entry.update(video=_relative(job.outputs["video"], out_dir), thumbnail=_relative(job.outputs["thumbnail"], out_dir),
                     duration_s=manifest.get("video", {}).get("duration_s"),
                     voice=" ".join(str(v) for v in (manifest.get("voice", {}).get("engine"), manifest.get("voice", {}).get("voice")) if v))
    return entry


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _relative(path: str, out_dir: Path) -> str:
    return os.path.relpath(path, out_dir)


def _html(entries: list[dict], summary: dict) -> str:
    rows = []
    for e in entries:
        picture = f'<img src="{html.escape(e["thumbnail"])}" width="160">' if e["thumbnail"] else ""
        name = Path(e["script"] or "").name
        link = f'<a href="{html.escape(e["video"])}">{html.escape(name)}</a>' if e["video"] else html.escape(name)
        duration = f'{e["duration_s"]:.1f} s' if e["duration_s"] else ""
        detail = html.escape(e["error"] or "")
        rows.append(f'<tr class="{e["status"]}"><td>{picture}</td><td>{link}</td><td>{duration}</td>'
                    f'<td>{html.escape(e["voice"] or "")}</td><td>{e["status"]}</td><td>{detail}</td></tr>')
    return ("<!doctype html>\n<meta charset=\"utf-8\">\n<title>announcer batch</title>\n"
            "<style>body{font-family:sans-serif}td{padding:4px 8px;vertical-align:middle}"
            "tr.failed{background:#fdd}tr.done{background:#efe}</style>\n"
            f"<h1>{summary['done']} of {summary['clips']} clips done, {summary['failed']} failed</h1>\n"
            "<table>\n<tr><th></th><th>script</th><th>duration</th><th>voice</th><th>status</th><th>error</th></tr>\n"
            + "\n".join(rows) + "\n</table>\n")


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
