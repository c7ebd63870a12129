"""A convolutional denoising autoencoder for the generated face region.

Two stride-2 levels down to a quarter of the crop, residual blocks there, back up to a head that
says, for each pixel, how much to take from the crop itself and from fixed Gaussian smoothings of
it, plus a small learned correction (for blur and seams, which smoothing cannot undo).

Why the mix and not only a correction added to the input: to average out noise, a correction must
learn weights of about -1 on the pixel and +1/k around it, and Adam moves each weight by about its
learning rate per step, so a few hundred steps never get there (on 512-px crops it had removed
almost none of the noise that non-local means removes). Choosing among smoothings is a few logits.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .filters import gaussian_blur

DESIGN = 2
"""Bumped when the model's output changes meaning (1 added a correction to the input; 2 mixes
smoothings of it); weights are only loaded into the design they were trained for."""

KEEP_LOGIT = 3.0
"""At the start the head mostly keeps the crop as it is (softmax weight 0.87 on it against three smoothings);
training learns where to smooth."""


@dataclass(frozen=True)
class CleanupSettings:
    width: int = 24
    """Channels at full resolution (x2 and x4 below)."""
    blocks: int = 3
    """Residual blocks at a quarter resolution."""
    smoothing: tuple[float, ...] = (0.7, 1.2, 2.0)
    """Gaussian sigmas, in pixels, of the smoothed crops the head mixes with the crop itself."""
    design: int = DESIGN

    def __post_init__(self):
        object.__setattr__(self, "smoothing", tuple(self.smoothing))  # a list when read back from JSON


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
        self.choices = 1 + len(settings.smoothing)
        self.out = nn.Conv2d(w + 3, self.choices + 3, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        with torch.no_grad():
            self.out.bias[0] = KEEP_LOGIT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.out(torch.cat([self.decode(self.encode(x)), x], 1))
        # The mix in float32 also under autocast: bfloat16 keeps 8 significant bits, so a bright pixel
        # would move by up to 1/256, as much as one step of the 8-bit output.
        with torch.autocast(x.device.type, enabled=False):
            head, x = head.float(), x.float()
            weights = head[:, :self.choices].softmax(1)
            smoothed = [gaussian_blur(x, sigma) for sigma in self.settings.smoothing]
            mixed = sum(weights[:, k:k + 1] * image for k, image in enumerate([x, *smoothed]))
            restored = mixed + head[:, self.choices:]
        # Clamped only in use: in training a correction that overshoots 0..1 must still get a gradient
        # back, or one large step saturates every pixel and training never recovers (seen at 256 px).
        return restored if self.training else restored.clamp(0, 1)
