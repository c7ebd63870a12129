"""A prepared avatar's own renderer: its generator and cleanup network, on the warp it was trained on."""
from __future__ import annotations

from dataclasses import replace

import torch

from ..cleanup import load_cleanup
from ..config import GenerateConfig
from ..errors import InputError
from ..generate import WarpRenderer
from ..generate.neural import NeuralRenderer
from ..generate.unet import DESIGN, GeneratorSettings, MouthGenerator
from ..weights import load_weights
from .bundle import AvatarBundle


def load_renderer(bundle: AvatarBundle, config: GenerateConfig, device: torch.device) -> NeuralRenderer:
    fix = f"prepare it again with `announcer avatar prepare VIDEO --name {bundle.name}`"
    tensors, metadata = load_weights(bundle.generator_path, "avatar generator", fix)
    if metadata["settings"].get("design") != DESIGN:
        raise InputError(f"avatar '{bundle.name}' was prepared by an older announcer whose generator works differently",
                         path=bundle.generator_path, fix=fix)
    generator = MouthGenerator(GeneratorSettings(**metadata["settings"]))
    generator.load_state_dict(tensors)
    cleanup = load_cleanup(bundle.cleanup_path, device) if bundle.cleanup_path.is_file() else None
    # The generator refines the warp it was trained on: bundles from before real mouth interiors learnt painted ones.
    interior = bundle.read_meta().get("warp_interior", "painted")
    warp = WarpRenderer(replace(config, mouth_interior=interior), device)
    return NeuralRenderer(warp, generator, cleanup, bundle.read_reference(), device)


__all__ = ["load_renderer"]
