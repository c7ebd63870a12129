"""Temp files that say who made them, so any later run can sweep what a killed one left, and never a live run's.

Every temp file announcer makes (a staged deliverable, a cache artifact being written, the sound handed to ffmpeg)
is named `PREFIX.PID-HOST-RANDOM SUFFIX`: the process id and a short hash of the machine's name. A sweep removes
the ones whose process is gone from this machine, and those of any machine untouched for a day (a shared folder
seen from several machines: a live run keeps its files fresh, and a killed one on another machine cannot be asked).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
import time
from pathlib import Path

log = logging.getLogger(__name__)

HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]
STALE_ELSEWHERE_SECONDS = 24 * 3600
"""A temp file of another machine's run is swept once it has not changed for this long."""
_TAG = re.compile(r"\.(\d+)-([0-9a-f]{4})-[0-9a-f]{8}(?=[.]|$)")


def scratch_name(prefix: str, suffix: str) -> str:
    return f"{prefix}.{os.getpid()}-{HOST}-{secrets.token_hex(4)}{suffix}"


def scratch_file(folder: Path, prefix: str, suffix: str, mode: int = 0o666) -> Path:
    """A new empty file in `folder`, made exclusively. Mode 0o666 by default so the umask applies as for any file
    the user makes (mkstemp's 0600 would hide a delivered clip from the team)."""
    for _ in range(100):
        path = Path(folder) / scratch_name(prefix, suffix)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name in {folder}")


def is_stale(path: Path, now: float | None = None) -> bool:
    """True for a temp file whose maker is dead: its process is gone from this machine, or it is another
    machine's and has not changed for a day. Files without the tag are never stale."""
    match = _TAG.search(path.name)
    if match is None:
        return False
    pid, host = int(match.group(1)), match.group(2)
    if host == HOST:
        return not process_alive(pid)
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_ELSEWHERE_SECONDS


def sweep(folder: Path, pattern: str = ".*") -> int:
    """Remove the stale temp files among `folder`'s entries matching `pattern`; how many went."""
    removed = 0
    try:
        candidates = [p for p in Path(folder).glob(pattern) if p.is_file() and not p.is_symlink()]
    except OSError:
        return 0
    for path in candidates:
        if is_stale(path):
            try:
                path.unlink()
                removed += 1
            except OSError:
                continue
    if removed:
        log.info("removed %d temp file(s) that a stopped run left in %s", removed, folder)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs on this machine (one we may not signal counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
