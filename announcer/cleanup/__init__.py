"""Stage 6, cleanup: a per-presenter denoising autoencoder over the generated face region.

Trained by `announcer avatar prepare` on the presenter's own crops with noise, block artefacts,
blur and seams applied (see `corrupt`), it runs batched on the device between generation and
paste-back.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import InputError
from ..weights import load_weights, save_weights
from .corrupt import corrupt
from .model import DESIGN, CleanupSettings, DenoisingAutoencoder


def save_cleanup(model: DenoisingAutoencoder, path: Path, extra: dict | None = None) -> None:
    save_weights(path, model.state_dict(), model.settings, extra)


def load_cleanup(path: Path, device: torch.device | str = "cpu") -> DenoisingAutoencoder:
    fix = "prepare the avatar again with `announcer avatar prepare`"
    tensors, metadata = load_weights(path, "cleanup model", fix)
    if metadata["settings"].get("design") != DESIGN:
        raise InputError("this cleanup model was made by an older announcer whose model works differently", path=path, fix=fix)
    model = DenoisingAutoencoder(CleanupSettings(**metadata["settings"]))
    model.load_state_dict(tensors)
    return model.to(device).eval()


__all__ = ["DenoisingAutoencoder", "CleanupSettings", "corrupt", "save_cleanup", "load_cleanup"]
