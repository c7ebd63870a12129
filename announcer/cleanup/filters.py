"""The Gaussian blur both the corruptions and the cleanup model's smoothings use."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) -> the same, blurred separably; edges repeat the border pixel."""
    radius = max(1, math.ceil(2.5 * sigma))
    taps = torch.exp(-(torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype) ** 2) / (2 * sigma ** 2))
    taps = taps / taps.sum()
    channels = x.shape[1]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)
