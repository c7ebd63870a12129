"""The `announcer` command: a thin layer over the Python API.

Exit codes: 0 when the clip was delivered, 2 for bad input, 130 when interrupted (Ctrl-C, SIGTERM), 1 for anything else.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ..errors import AnnouncerError
from ..version import __version__
from . import avatars, jobs, render, studio, voices
from .common import log


def main(argv: list[str] | None = None) -> int:
    _interrupt_on_sigterm()
    try:
        args = _parser().parse_args(argv)
        _setup_logging(args.quiet, args.json, args.verbose)
    except KeyboardInterrupt:
        _report(AnnouncerError("interrupted; nothing was written"), False)
        return 130
    try:
        return args.handler(args)
    except AnnouncerError as error:
        _report(error, args.json)
        return error.exit_code
    except KeyboardInterrupt:
        _report(AnnouncerError("interrupted; nothing was written at the output path"), args.json)
        return 130
    except BrokenPipeError:  # a listing piped into `head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # the one place that turns any failure into a one-line message
        log.debug("unexpected failure", exc_info=True)
        _report(AnnouncerError(f"unexpected error: {type(error).__name__}: {error}", fix="run with -v for details"), args.json)
        return 1


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a scheduler's stop, `kill`) stops a command as Ctrl-C does: nothing partial is left, exit 130.
    Batch and worker commands replace this with a request to stop after the clip in hand."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


class _Parser(argparse.ArgumentParser):
    """A malformed command line gets one line saying what is wrong and where the usage is, not the whole usage."""

    def error(self, message: str):
        command = self.prog.removeprefix("announcer").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"announcer: error: {where}{message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="announcer", description="Script in, lip-synced announcer clip out.")
    parser.add_argument("--version", action="version", version=f"announcer {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, help="folder for work files, models and avatars (default: $ANNOUNCER_HOME)")
    common.add_argument("--models-dir", type=Path, help="look for model files here first (default: $ANNOUNCER_MODELS)")
    common.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, errors only")
    common.add_argument("--json", action="store_true", help="log JSON lines (for schedulers); implies --quiet bars")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in (render, jobs, studio, avatars, voices):
        group.add_commands(commands, common)
    return parser


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        for key in ("outputs", "path", "line", "fix"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(quiet: bool, as_json: bool, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if as_json else logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO)
    if not verbose:
        _quiet_native_libraries()
    for noisy in ("numba", "matplotlib", "urllib3", "TTS", "trainer", "fsspec", "piper", "supertonic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def _quiet_native_libraries() -> None:
    """MediaPipe (glog), TFLite and OpenCV log INFO/WARNING lines to stderr from C++; keep the CLI's stderr for errors.

    Set before their libraries start; a user's own environment setting wins.
    """
    import cv2

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def _report(error: AnnouncerError, as_json: bool) -> None:
    if as_json:
        entry = {"level": "error", "message": error.what, "path": str(error.path) if error.path else None,
                 "line": error.line, "fix": error.fix, "exit_code": error.exit_code}
        detail = getattr(error, "detail", "")
        if detail:
            entry["detail"] = detail
        print(json.dumps(entry, ensure_ascii=False), file=sys.stderr)
        return
    print(f"announcer: error: {error.one_line()}", file=sys.stderr)
    detail = getattr(error, "detail", "")
    if detail:
        log.debug("%s", detail)


if __name__ == "__main__":
    sys.exit(main())
