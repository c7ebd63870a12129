"""Prepared presenters: `announcer avatar prepare` trains a presenter's own generator and cleanup model
from a video of them; `announcer render --avatar NAME` then renders with those models.

>>> bundle = prepare_avatar(Path("anchor.mp4"), "anchor", runtime, PrepareConfig())  # doctest: +SKIP
>>> evaluate_bundle(bundle, runtime)["generation"]  # doctest: +SKIP
"""
from __future__ import annotations

from .bundle import AvatarBundle, bundle_for, find_bundle, list_bundles
from .evaluate import evaluate_bundle
from .prepare import PrepareConfig, prepare_avatar
from .renderer import RendererChoice, load_renderer, renderer_for

__all__ = ["AvatarBundle", "RendererChoice", "renderer_for", "PrepareConfig", "prepare_avatar", "evaluate_bundle", "load_renderer", "find_bundle",
           "bundle_for", "list_bundles"]
