"""The clip desk: a submitted script becomes a job in the store (an `announcer worker` renders it), and a job
becomes what the API and the pages show.

Nothing a client sends becomes a path. A script is written under a generated name; its front matter may choose a
presenter, template, voice or prepared avatar only by name (checked against a strict pattern) and may not name files
at all (avatar images, backgrounds, intros, music, output paths): those come from presenters and templates that an
admin keeps in the home.
"""
from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..languages import checked_language
from ..home import Home
from ..jobs.store import Job, JobSpec
from ..jobs.table import row_settings, scripts_from_table, table_row_of
from ..script import read_script
from ..script.tone import script_tones
from ..settings import SETTINGS, Source, checked_value
from .store import StudioStore
from .uploads import store_bytes
from .voices import checked_voice

OPTION_KEYS = tuple(key for key, setting in SETTINGS.items() if setting.studio)
"""What a studio client may set, in the form or in the script's front matter."""
FILE_KEYS = tuple(key for key, setting in SETTINGS.items() if not setting.studio)
"""Settings that name files: refused in the studio."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NAMED_OPTIONS = {key: NAME for key, setting in SETTINGS.items() if setting.kind in ("name", "avatar")}
SRT_START = re.compile(r"\A\ufeff?\s*\d+\s*\r?\n\d\d:\d\d:\d\d[,.]\d{3}\s*-->")
FILE_URL = "/api/v1/clips/{job_id}/files/{name}"
"""Where the API serves a clip's file (studio.api)."""
MAX_COMMENT = 4000
OUTPUT_NAMES = ("video", "srt", "vtt", "thumbnail", "manifest", "closeups", "tone")
REVIEW_SHEETS = {"closeups": ".closeups.png", "tone": ".tone.png"}
"""The sheets written beside a studio clip's video (OutputSet.for_review), by their names here."""


@dataclass(frozen=True)
class ClipDesk:
    store: StudioStore
    home: Home

    @property
    def clips_dir(self) -> Path:
        return self.home.work_dir / "studio" / "clips"

    @property
    def scripts_dir(self) -> Path:
        return self.home.work_dir / "studio" / "scripts"

    def submit(self, user: str, text: str, options: dict, label: str = "script") -> Job:
        """Queue a clip for `text` (Markdown with optional front matter, or SRT) with `options` (settings by key) over
        its front matter. InputError (with the line) for a script that would not render."""
        options = checked_options(options, label)
        suffix = ".srt" if SRT_START.match(text) else ".md"
        if suffix == ".srt" and options:
            raise InputError("an SRT script takes no options", fix="send Markdown to set a title, presenter or layout")
        stored = store_bytes(self.scripts_dir, text.encode("utf-8"), suffix, label)
        try:
            script = read_script(stored.path)
            Source.front_matter(script).unknown_keys()
            checked_options(script.options, label, script.option_lines)
            avatar = options.pop("avatar", script.options.get("avatar"))  # a prepared avatar's name goes with the job
            if avatar and not _prepared(self.home.avatars_dir, str(avatar)):
                raise InputError(f"no prepared avatar '{avatar}'", line=script.option_lines.get("avatar"),
                                 fix="choose a presenter, or a prepared avatar from the Presenters page")
        except InputError as error:
            stored.path.unlink(missing_ok=True)
            raise InputError(error.what, path=label, line=error.line, fix=error.fix) from None  # not the generated name
        key = f"studio-{secrets.token_hex(8)}"
        job = self.store.enqueue(JobSpec(batch=str(self.clips_dir), output=str(self.clips_dir / key / "clip.mp4"),
                                         script=str(stored.path), avatar=str(avatar) if avatar else None,
                                         options={"closeups": True, "settings": options}, key=key))
        title = options.get("title", script.options.get("title"))
        self.store.record_clip(job.id, user, str(title) if title is not None else None)
        return job

    def submit_table(self, user: str, text: str, label: str = "table.csv") -> list[Job]:
        """One clip per row of a spreadsheet (the header names the columns: text, and any option); every row is
        checked before any is queued, so a bad row queues nothing and says which line it is."""
        with tempfile.TemporaryDirectory() as folder:
            table = Path(folder) / "table.csv"
            table.write_text(text, encoding="utf-8")
            try:
                made = scripts_from_table(table, Path(folder) / "rows")
            except InputError as error:
                raise InputError(error.what, path=label, line=error.line, fix=error.fix) from None
            rows = [(table_row_of(path)[1], path.read_text(encoding="utf-8"), row_settings(path)) for path in made]
        for line, _, settings in rows:
            checked_options(settings, label, {key: line for key in settings})
        return [self.submit(user, script, settings, f"{label} line {line}") for line, script, settings in rows]

    def tones(self, text: str, tone: str | None = None, label: str = "script") -> list[dict]:
        """Each sentence of `text` (Markdown or SRT) with the tone it would be read in and where that comes from: its
        [tone X] tag, the clip's tone (`tone`, else the front matter's), or the words; InputError for a script that
        would not read."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("script.srt" if SRT_START.match(text) else "script.md")
            path.write_text(text, encoding="utf-8")
            try:
                script = read_script(path)
                front_matter = Source.front_matter(script)
                front_matter.unknown_keys()
                chosen = tone or script.options.get("tone")
                if chosen:
                    checked_value("tone", chosen, Source("the tone field") if tone else front_matter)
            except InputError as error:
                raise InputError(error.what, path=label, line=error.line, fix=error.fix) from None
        return [{"text": segment.display, "line": segment.line, "tone": heard.tone, "source": heard.source,
                 "cues": list(heard.cues)}
                for segment, heard in zip(script.segments, script_tones(script, chosen), strict=True)]

    def file(self, job: Job, name: str) -> Path | None:
        """A finished clip's file by its name in OUTPUT_NAMES (the worker recorded the paths); None if there is none."""
        if job.state != "done" or not job.outputs or name not in OUTPUT_NAMES:
            return None
        if name in REVIEW_SHEETS:
            path = Path(job.outputs["video"]).with_suffix(REVIEW_SHEETS[name])
        else:
            path = Path(job.outputs.get(name, ""))
        return path if path.is_file() and self.clips_dir.resolve() in path.resolve().parents else None

    def describe(self, job: Job) -> dict:
        """A clip as the API, the pages and the webhooks show it."""
        clip = self.store.clip(job.id) or {}
        reviews = self.store.reviews(job.id)
        files = {name: FILE_URL.format(job_id=job.id, name=name) for name in OUTPUT_NAMES if self.file(job, name) is not None}
        return {"id": job.id, "state": job.state, "title": clip.get("title"), "submitted_by": clip.get("submitted_by"),
                "created": job.created, "started": job.started, "finished": job.finished, "attempts": job.attempts,
                "error": job.error, "stages": self.store.stages(job.id), "files": files,
                "review": {"state": review_state(job, reviews), "history": [r.__dict__ for r in reviews]}}

    def review(self, job_id: int, decision: str, comment: str, reviewer: str) -> None:
        """Record a review of a rendered clip; NotReviewable for anything else, InputError for an unknown decision."""
        if self.store.clip(job_id) is None or self.store.get(job_id).state != "done":
            raise NotReviewable(f"clip {job_id} is not rendered: only a rendered clip can be reviewed")
        self.store.add_review(job_id, decision, comment[:MAX_COMMENT], reviewer)


class NotReviewable(InputError):
    """A review of a clip that is not there to see (HTTP 409)."""


def review_state(job: Job, reviews: list) -> str | None:
    """The last decision; 'pending' for a rendered clip no one has reviewed; None before it is rendered."""
    return reviews[-1].decision if reviews else ("pending" if job.state == "done" else None)


def _prepared(avatars_dir: Path, name: str) -> bool:
    """Whether `name` is a prepared avatar the renderer will find (not one still being trained)."""
    from ..avatar.bundle import find_bundle  # torch comes with it: only when a script names an avatar

    return find_bundle(avatars_dir, name) is not None


def checked_options(options: dict, label: str, lines: dict | None = None) -> dict:
    """Options a studio client may set, each a plain value; names only where a file or folder would be looked up."""
    for key, value in options.items():
        line = (lines or {}).get(key)
        if key in FILE_KEYS:
            raise InputError(f"'{key}' names a file, which the studio does not take", path=label, line=line,
                             fix="choose a presenter or template that an admin has set up")
        if key not in OPTION_KEYS:
            raise InputError(f"unknown option '{key}'", path=label, line=line, fix=f"use {', '.join(OPTION_KEYS)}")
        pattern = NAMED_OPTIONS.get(key)
        if pattern is not None and not pattern.fullmatch(str(value)):
            raise InputError(f"{key} '{value}' is not a name", path=label, line=line,
                             fix=f"give the {key}'s name (letters, digits, '-' and '_'), never a path")
        if isinstance(value, (dict, list)) and key != "layouts":
            raise InputError(f"{key} must be a single value", path=label, line=line, fix=f"write {key}: VALUE")
        if key == "voice" and value not in (None, ""):
            checked_voice(str(value), label, line)
        if key == "language" and value not in (None, ""):
            try:
                checked_language(value)
            except InputError as error:
                raise InputError(error.what, path=label, line=line, fix=error.fix) from None
        if value not in (None, ""):
            where = Source("front matter {key}", path=label, lines={key: line}) if line else Source("the {key} field")
            checked_value(key, value, where)
    return {key: value for key, value in options.items() if value not in (None, "")}


__all__ = ["ClipDesk", "FILE_URL", "NotReviewable", "OPTION_KEYS", "OUTPUT_NAMES", "checked_options", "review_state"]
