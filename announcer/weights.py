"""Model weights as safetensors, with the settings they were built with in the file's metadata.

Never pickles: a weights file can hold tensors and strings, nothing that runs code.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from .errors import InputError


def save_weights(path: Path, tensors: dict[str, torch.Tensor], settings, extra: dict | None = None) -> None:
    """Write atomically: a crash mid-save leaves the previous file, never half of a new one."""
    from safetensors.torch import save_file

    path = Path(path)
    metadata = {"settings": json.dumps(asdict(settings)), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    temporary = path.with_name(path.name + ".partial")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(temporary), metadata=metadata)
    temporary.replace(path)


def load_weights(path: Path, what: str, fix: str) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, metadata with JSON values decoded). `what` and `fix` word the error when the file is missing."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found", path=path, fix=fix)
    with safe_open(str(path), framework="pt") as handle:
        metadata = {k: json.loads(v) for k, v in (handle.metadata() or {}).items()}
    return load_file(str(path)), metadata


__all__ = ["save_weights", "load_weights"]
