"""The damage the cleanup model learns to undo, made on the device from clean crops.

Sensor noise, JPEG-style 8x8 block quantisation, blur, and blending seams (a patch whose colour is
slightly off, pasted with a hard or half-soft edge): what a generator and a paste-back leave behind.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .filters import gaussian_blur


def corrupt(clean: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 3, S, S) 0..1 -> the same crops, each with a random mix of the four corruptions.

    Always in float32, also inside a training step's autocast: the block DCT and the blur in
    bfloat16 would add rounding noise of their own to every crop."""
    with torch.autocast(clean.device.type, enabled=False):
        return _corrupt(clean.float(), generator)


def _corrupt(clean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    def chance(p: float) -> torch.Tensor:
        return (torch.rand(len(clean), 1, 1, 1, generator=generator, device=clean.device) < p).float()

    x = clean
    x = torch.lerp(x, gaussian_blur(x, sigma=0.6 + 1.2 * _uniform(generator, clean.device)), chance(0.5))
    x = torch.lerp(x, add_seam(x, generator), chance(0.5))
    x = x + chance(0.7) * torch.randn(x.shape, generator=generator, device=x.device) * (2 + 10 * _uniform(generator, x.device)) / 255
    x = torch.lerp(x, block_quantise(x.clamp(0, 1), step=0.04 + 0.12 * _uniform(generator, x.device)), chance(0.6))
    return x.clamp(0, 1)


def _uniform(generator, device) -> float:
    return float(torch.rand(1, generator=generator, device=device))


def _dct_matrix(n: int, device, dtype) -> torch.Tensor:
    k = torch.arange(n, device=device, dtype=dtype)
    matrix = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    matrix[0] /= math.sqrt(2)
    return matrix


def block_quantise(x: torch.Tensor, step: float, block: int = 8) -> torch.Tensor:
    """JPEG's artefact without the file: each 8x8 block's DCT coefficients rounded, high frequencies harder."""
    batch, channels, height, width = x.shape
    pad_h, pad_w = (-height) % block, (-width) % block
    padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    blocks = padded.unfold(2, block, block).unfold(3, block, block)
    dct = _dct_matrix(block, x.device, x.dtype)
    coefficients = dct @ blocks @ dct.T
    frequency = torch.arange(block, device=x.device, dtype=x.dtype)
    steps = step * (1 + (frequency[:, None] + frequency[None, :]) / 2)
    quantised = torch.round(coefficients / steps) * steps
    restored = dct.T @ quantised @ dct
    restored = restored.permute(0, 1, 2, 4, 3, 5).reshape(batch, channels, height + pad_h, width + pad_w)
    return restored[:, :, :height, :width]


def add_seam(x: torch.Tensor, generator=None) -> torch.Tensor:
    """A slightly off-colour ellipse pasted over the lower face with a visible edge."""
    batch, _, height, width = x.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, height, device=x.device), torch.linspace(-1, 1, width, device=x.device),
                            indexing="ij")
    centre = (torch.rand(batch, 2, generator=generator, device=x.device) - 0.5) * 0.4 + torch.tensor([0.0, 0.3], device=x.device)
    radius = 0.35 + 0.3 * torch.rand(batch, 2, generator=generator, device=x.device)
    inside = ((xs[None] - centre[:, 0, None, None]) / radius[:, 0, None, None]) ** 2 + \
             ((ys[None] - centre[:, 1, None, None]) / radius[:, 1, None, None]) ** 2
    edge = (1 - inside).mul(20).clamp(0, 1)[:, None]
    tint = 1 + (torch.rand(batch, 3, 1, 1, generator=generator, device=x.device) - 0.5) * 0.12
    return torch.lerp(x, (x * tint).clamp(0, 1), edge)
