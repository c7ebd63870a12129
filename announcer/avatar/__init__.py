"""Prepared presenters: `announcer avatar prepare` trains a presenter's own generator and cleanup model
from a video of them; `announcer render --avatar NAME` then renders with those models.

>>> bundle = prepare_avatar(Path("anchor.mp4"), "anchor", pipeline, PrepareConfig())  # doctest: +SKIP
>>> evaluate_bundle(bundle, pipeline)["generation"]  # doctest: +SKIP
"""
from __future__ import annotations

import torch

from ..cleanup import load_cleanup
from ..generate.neural import NeuralRenderer
from ..generate.unet import GeneratorSettings, MouthGenerator
from ..weights import load_weights
from .bundle import AvatarBundle, bundle_for, find_bundle, list_bundles
from .evaluate import evaluate_bundle
from .prepare import PrepareConfig, prepare_avatar


def load_renderer(bundle: AvatarBundle, device: torch.device, batch_size: int = 16) -> NeuralRenderer:
    fix = f"prepare it again with `announcer avatar prepare VIDEO --name {bundle.name}`"
    tensors, metadata = load_weights(bundle.generator_path, "avatar generator", fix)
    generator = MouthGenerator(GeneratorSettings(**metadata["settings"]))
    generator.load_state_dict(tensors)
    cleanup = load_cleanup(bundle.cleanup_path, device) if bundle.cleanup_path.is_file() else None
    return NeuralRenderer(generator, cleanup, bundle.read_reference(), device, batch_size)


__all__ = ["AvatarBundle", "PrepareConfig", "prepare_avatar", "evaluate_bundle", "load_renderer", "find_bundle",
           "bundle_for", "list_bundles"]
