"""A prepared avatar's own renderer: its generator and cleanup network, on the warp it was trained on."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..cleanup import load_cleanup
from ..config import GenerateConfig
from ..errors import InputError
from ..generate import WarpRenderer
from ..generate.neural import NeuralRenderer
from ..generate.unet import DESIGN, GeneratorSettings, MouthGenerator
from ..weights import load_weights
from .bundle import AvatarBundle, find_bundle


@dataclass(frozen=True)
class RendererChoice:
    renderer: object
    """What renders the presenter's frames (None: not loaded, for the stages before generation)."""
    avatar_video: Path | None
    """A prepared avatar's own video (None: the avatar path itself)."""
    bundle_name: str | None


def renderer_for(avatar: Path, runtime, load: bool = True) -> RendererChoice:
    """A prepared avatar's name picks its neural renderer and its own video; anything else is a file for the Runtime's
    warp renderer. With `load` off (the stages before generation, a cluster's CPU task) its models are not loaded."""
    if avatar.exists() or len(avatar.parts) != 1:
        return RendererChoice(runtime.renderer, None, None)
    bundle = find_bundle(runtime.home.avatars_dir, avatar.name)
    if bundle is None:
        return RendererChoice(runtime.renderer, None, None)
    if not load:
        return RendererChoice(None, bundle.video, avatar.name)
    renderer = runtime.model(("avatar", avatar.name), lambda: load_renderer(bundle, runtime.config.generate, runtime.device))
    return RendererChoice(renderer, bundle.video, avatar.name)


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
