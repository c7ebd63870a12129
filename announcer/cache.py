"""Stage artifacts in the work dir, keyed by a hash of the stage's artifact version, its inputs and its config.

Each stage that caches owns an ARTIFACT_VERSION: raise it whenever what the stage makes from the same inputs
changes, so an upgraded install never serves artifacts made by older code.

A re-run finds finished stages and skips them. Arrays are stored as .npz without pickle and metadata as JSON;
both are written to a temp name and renamed, so a killed run leaves no half file. The JSON also records its
own key and the sha256 of the arrays beside it, and both are checked on every read: an artifact that was
truncated, emptied, swapped with another, changed or replaced by a folder is dropped, logged and made again,
never served and never fatal.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from .scratch import scratch_file, sweep

log = logging.getLogger(__name__)

FORMAT = 2
"""The layout of the JSON beside each artifact; artifacts of another format are made again."""


def cache_key(stage: str, version: int, *parts) -> str:
    digest = hashlib.sha256(f"{stage}\0{version}".encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(json.dumps(part, sort_keys=True, default=str).encode() if not isinstance(part, bytes) else part)
    return digest.hexdigest()[:32]


class Artifact(Protocol):
    """A stage's output as the cache keeps it: arrays, and a JSON record of the rest."""

    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict]: ...

    @classmethod
    def from_artifact(cls, arrays: dict[str, np.ndarray], record: dict): ...


Made = TypeVar("Made", bound=Artifact)


class DamagedArtifact(Exception):
    """An artifact that fails its checks; it is dropped and made again."""


class ArtifactCache:
    def __init__(self, work_dir: Path, enabled: bool = True):
        self.root = Path(work_dir)
        self.enabled = enabled

    def sweep(self, stages: tuple[str, ...]) -> int:
        """Remove the half-written artifacts that stopped runs left in these stages' folders."""
        return sum(sweep(self.root / stage, ".*.part") for stage in stages)

    def _paths(self, stage: str, key: str) -> tuple[Path, Path]:
        folder = self.root / stage
        return folder / f"{key}.npz", folder / f"{key}.json"

    def load(self, stage: str, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """The artifact's arrays and metadata, or None when there is none or it fails its checks (then it is removed)."""
        if not self.enabled:
            return None
        arrays_path, meta_path = self._paths(stage, key)
        if not (arrays_path.exists() or meta_path.exists()):
            return None
        try:
            return _read_checked(arrays_path, meta_path, key)
        except (DamagedArtifact, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            log.warning("%s artifact %s is damaged (%s); it is removed and made again", stage, key,
                        error if isinstance(error, DamagedArtifact) else f"{type(error).__name__}: {error}")
            for path in (arrays_path, meta_path):
                _remove(path)
            return None

    def through(self, stage: str, key: str, make: Callable[[], Made], kind: type[Made]) -> Made:
        """The `stage`'s output under `key` (a hash of what it is made from): from the work dir when made before,
        else made by `make()` and kept."""
        cached = self.load(stage, key)
        if cached is not None:
            return kind.from_artifact(*cached)
        made = make()
        self.save(stage, key, *made.to_artifact())
        return made

    def save(self, stage: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
        if not self.enabled:
            return
        arrays_path, meta_path = self._paths(stage, key)
        arrays_path.parent.mkdir(parents=True, exist_ok=True)
        for path in (arrays_path, meta_path):
            if path.is_dir() and not path.is_symlink():
                _remove(path)
        try:
            digest = _atomic_write(arrays_path, lambda handle: np.savez(handle, **arrays))
            record = {"format": FORMAT, "key": key, "arrays_sha256": digest, "meta": meta}
            _atomic_write(meta_path, lambda handle: handle.write(json.dumps(record, ensure_ascii=False).encode()))
        except OSError as error:  # a cache that cannot be written (a full disk) costs the next run time, not this one
            log.warning("%s artifact %s not kept (%s); the stage runs again next time", stage, key, error.strerror)
            arrays_path.unlink(missing_ok=True)


def _read_checked(arrays_path: Path, meta_path: Path, key: str) -> tuple[dict[str, np.ndarray], dict]:
    record = json.loads(meta_path.read_text(encoding="utf-8"))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DamagedArtifact("made by an older version, or not an artifact record")
    if record.get("key") != key:
        raise DamagedArtifact(f"its record is another artifact's ({record.get('key')})")
    data = arrays_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("arrays_sha256"):
        raise DamagedArtifact("its arrays do not match their recorded sha256")
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:  # the bytes just checked, not a second read
        arrays = {name: stored[name] for name in stored.files}
    if not isinstance(record.get("meta"), dict):
        raise DamagedArtifact("its record holds no metadata")
    return arrays, record["meta"]


def _remove(path: Path) -> None:
    """A file, link or folder at a cache path, gone (the cache owns its folder)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _atomic_write(path: Path, write) -> str:
    """Write through `write(handle)` to a temp file, rename it into place; the sha256 of what was written."""
    temp = scratch_file(path.parent, f".{path.name}", ".part")
    try:
        with open(temp, "wb") as handle:
            write(handle)
        digest = hashlib.sha256(temp.read_bytes()).hexdigest()
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return digest
