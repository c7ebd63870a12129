"""A convolutional denoising autoencoder for the generated face region.

Two stride-2 levels down to a quarter of the crop, residual blocks there, back up; the output is
the input plus a learned correction, so an already clean crop passes through nearly unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CleanupSettings:
    width: int = 24
    """Channels at full resolution (x2 and x4 below)."""
    blocks: int = 3
    """Residual blocks at a quarter resolution."""


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.SiLU(), nn.Conv2d(channels, channels, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenoisingAutoencoder(nn.Module):
    """(B, 3, S, S) 0..1 in, the same shape out; S a multiple of 4."""

    def __init__(self, settings: CleanupSettings = CleanupSettings()):
        super().__init__()
        self.settings = settings
        w = settings.width
        self.encode = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1), nn.SiLU(), nn.Conv2d(w, 2 * w, 4, 2, 1), nn.SiLU(),
                                    nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.SiLU(),
                                    *[_Residual(4 * w) for _ in range(settings.blocks)])
        self.decode = nn.Sequential(nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.SiLU(),
                                    nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.SiLU())
        self.out = nn.Conv2d(w + 3, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        restored = x + self.out(torch.cat([self.decode(self.encode(x)), x], 1))
        # Clamped only in use: in training a correction that overshoots 0..1 must still get a gradient
        # back, or one large step saturates every pixel and training never recovers (seen at 256 px).
        return restored if self.training else restored.clamp(0, 1)
