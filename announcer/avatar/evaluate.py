"""How a prepared avatar's models do on the frames they never saw.

Generation: each held-out frame's real landmarks drive both renderers from that same frame with
its mouth closed first (so none of the real mouth leaks in): the warp renderer alone, and the
warp renderer refined by the presenter's generator. The lower face is compared with the real one
(PSNR, SSIM over the generator's mask region).
Cleanup: held-out crops are corrupted with a fixed seed, then restored by the presenter's
autoencoder and by OpenCV's non-local means; PSNR gained and time per crop for each.
"""
from __future__ import annotations

import time
from dataclasses import replace

import cv2
import numpy as np
import torch
from skimage.metrics import structural_similarity

from ..cleanup import corrupt
from ..signals import psnr as _psnr
from ..face import load_avatar
from ..generate.neural import NeuralRenderer, mixed_precision
from ..runtime import Runtime
from .bundle import AvatarBundle
from .renderer import load_renderer

NLMEANS_STRENGTHS = (3, 6, 10)
"""fastNlMeansDenoisingColored h values tried; the best is reported, so the comparison is fair to OpenCV."""


def evaluate_bundle(bundle: AvatarBundle, runtime: Runtime, max_frames: int = 48) -> dict:
    meta = bundle.read_meta()
    avatar = load_avatar(bundle.video, None, runtime.config.encode.max_height, runtime.config.face.max_avatar_seconds)
    track = runtime.face_track(avatar)
    start, end = meta["held_out"]
    frames = np.arange(start, end)[:max_frames]
    truth = track.landmarks[frames]
    neural = load_renderer(bundle, replace(runtime.config.generate, close_mouths_above=0.0), runtime.device)
    geometry = neural.geometry
    real = geometry.cut(torch.from_numpy(avatar.frames[frames]), truth)
    training_frames = np.arange(start)
    runs = {"warp": _render(neural.warp, avatar, track, frames, truth, training_frames)}
    cleanup = neural.cleanup
    generator_only = NeuralRenderer(neural.warp, neural.generator, None, neural.reference, runtime.device)
    runs["generator"] = _render(generator_only, avatar, track, frames, truth, training_frames)
    if cleanup is not None:
        runs["generator+cleanup"] = _render(neural, avatar, track, frames, truth, training_frames)
    mask = geometry.mask()[0, 0].numpy() > 0.5
    rendered_crops = {name: geometry.cut(torch.from_numpy(rendered), truth) for name, rendered in runs.items()}
    generation = {name: _region_scores(crops, real, mask) for name, crops in rendered_crops.items()}
    report = {"held_out_frames": [int(frames[0]), int(frames[-1]) + 1], "crop_size": geometry.size, "generation": generation,
              "cleanup": _cleanup_scores(cleanup, real, runtime.device) if cleanup is not None else None}
    _write_preview(bundle, real, rendered_crops)
    bundle.write_meta({**bundle.read_meta(), "evaluation": report})
    return report


def _render(renderer, avatar, track, frames, targets, interior_frames) -> np.ndarray:
    """Held-out frames drawn to their own landmarks; mouth interiors come from `interior_frames` only."""
    return np.concatenate(list(renderer.render_landmarks(avatar, track, frames, targets, interior_frames)))


def _region_scores(rendered: torch.Tensor, real: torch.Tensor, mask: np.ndarray) -> dict:
    psnrs, ssims = [], []
    for a, b in zip(_images(rendered), _images(real), strict=True):
        psnrs.append(_psnr(a[mask], b[mask]))
        _, ssim_map = structural_similarity(a, b, channel_axis=-1, data_range=255, full=True)
        ssims.append(float(ssim_map.mean(axis=-1)[mask].mean()))
    return {"psnr_db": round(float(np.mean(psnrs)), 2), "ssim": round(float(np.mean(ssims)), 4)}


def _cleanup_scores(cleanup, real: torch.Tensor, device: torch.device) -> dict:
    clean = real.to(device)
    noisy = corrupt(clean, torch.Generator(device).manual_seed(1234))
    # Timed as rendering runs it (mixed precision on CUDA), after one warm-up batch (kernel choice, allocator).
    with torch.no_grad(), mixed_precision(device):
        cleanup(noisy[:16])
        _synchronise(device)
        began = time.perf_counter()
        restored = torch.cat([cleanup(part) for part in noisy.split(16)]).float()
        _synchronise(device)
    cleanup_seconds = (time.perf_counter() - began) / len(clean)
    noisy_images, clean_images = _images(noisy), _images(clean)
    best = None
    for strength in NLMEANS_STRENGTHS:
        began = time.perf_counter()
        denoised = [cv2.fastNlMeansDenoisingColored(image, None, strength, strength, 7, 21) for image in noisy_images]
        seconds = (time.perf_counter() - began) / len(clean)
        score = float(np.mean([_psnr(d, c) for d, c in zip(denoised, clean_images, strict=True)]))
        if best is None or score > best["psnr_db"]:
            best = {"psnr_db": round(score, 2), "seconds_per_crop": round(seconds, 5), "h": strength}
    return {"corrupted_psnr_db": round(float(np.mean([_psnr(n, c) for n, c in zip(noisy_images, clean_images, strict=True)])), 2),
            "autoencoder": {"psnr_db": round(float(np.mean([_psnr(r, c) for r, c in zip(_images(restored), clean_images, strict=True)])), 2),
                            "seconds_per_crop": round(cleanup_seconds, 5), "device": str(device)},
            "fast_nl_means": best}


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _images(crops: torch.Tensor) -> list[np.ndarray]:
    return list((crops.detach().float().cpu().permute(0, 2, 3, 1).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8))


def _write_preview(bundle: AvatarBundle, real: torch.Tensor, runs: dict[str, torch.Tensor], count: int = 4) -> None:
    picks = np.linspace(0, len(real) - 1, min(count, len(real))).astype(int)
    columns = [_images(real[picks])] + [_images(crops[picks]) for crops in runs.values()]
    rows = [np.concatenate([column[k] for column in columns], axis=1) for k in range(len(picks))]
    cv2.imwrite(str(bundle.preview_path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


__all__ = ["evaluate_bundle"]
