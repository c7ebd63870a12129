"""Stage artifacts in the work dir, keyed by a hash of the stage's artifact version, its inputs and its config.

Each stage that caches owns an ARTIFACT_VERSION: raise it whenever what the stage makes from the same inputs
changes, so an upgraded install never serves artifacts made by older code.

A re-run finds finished stages and skips them. Arrays are stored as .npz without pickle and
metadata as JSON; both are written to a temp name and renamed, so a killed run leaves no half file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def cache_key(stage: str, version: int, *parts) -> str:
    digest = hashlib.sha256(f"{stage}\0{version}".encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(json.dumps(part, sort_keys=True, default=str).encode() if not isinstance(part, bytes) else part)
    return digest.hexdigest()[:32]


class ArtifactCache:
    def __init__(self, work_dir: Path, enabled: bool = True):
        self.root = Path(work_dir)
        self.enabled = enabled

    def _paths(self, stage: str, key: str) -> tuple[Path, Path]:
        folder = self.root / stage
        return folder / f"{key}.npz", folder / f"{key}.json"

    def load(self, stage: str, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        if not self.enabled:
            return None
        arrays_path, meta_path = self._paths(stage, key)
        if not (arrays_path.is_file() and meta_path.is_file()):
            return None
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        return arrays, json.loads(meta_path.read_text(encoding="utf-8"))

    def save(self, stage: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
        if not self.enabled:
            return
        arrays_path, meta_path = self._paths(stage, key)
        arrays_path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(arrays_path, lambda handle: np.savez(handle, **arrays))
        _atomic_write(meta_path, lambda handle: handle.write(json.dumps(meta, ensure_ascii=False).encode()))


def _atomic_write(path: Path, write) -> None:
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
