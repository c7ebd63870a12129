"""Errors with an exit code, a location and a fix, so the CLI can print one line and exit."""
from __future__ import annotations

from pathlib import Path


class AnnouncerError(Exception):
    """Anything that stops a render. Exit code 1 unless a subclass says otherwise."""

    exit_code = 1

    def __init__(self, what: str, *, path: str | Path | None = None, line: int | None = None,
                 fix: str | None = None):
        self.what = what
        self.path = Path(path) if path is not None else None
        self.line = line
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        fix = f" ({self.fix})" if self.fix else ""
        return " ".join(f"{where}{self.what}{fix}".split())  # one line, whatever a tool's message held


class InputError(AnnouncerError):
    """The user's input is wrong: a script, an avatar, a voice name, an option. Exit code 2."""

    exit_code = 2


class ToolError(AnnouncerError):
    """An external tool (ffmpeg, a model runtime) failed; its own message travels in `detail`."""

    def __init__(self, what: str, *, detail: str = "", **kwargs):
        self.detail = detail
        super().__init__(what, **kwargs)


class Cancelled(AnnouncerError):
    """The job was cancelled while it rendered; it stops at the next stage boundary, delivering nothing."""
