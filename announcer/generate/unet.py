"""The per-presenter mouth generator: a U-Net with skip connections.

It refines the warp renderer: its input, stacked as channels of one lower-face crop, is the warp
renderer's frame (the presenter's own lips moved to the target, a painted mouth interior) (3), a
reference frame of the same presenter with the mouth open (3: their real teeth, tongue and lips),
and the target mouth drawn as lines (3, see `CropGeometry.landmark_maps`). Output: the crop
redrawn, RGB 0..1, as a correction added to the warped crop. The correction starts at zero, so an
untrained generator renders exactly what the warp does and training can only start from there.
Five stride-2 levels, so the bottleneck sees the whole mouth at any crop size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

IN_CHANNELS = 9
DESIGN = 2
"""Bumped when the generator's inputs change meaning (1 drew from a masked frame; 2 corrects the warp),
so a checkpoint or bundle made for another design is never resumed or rendered with."""


@dataclass(frozen=True)
class GeneratorSettings:
    size: int = 256
    """Crop side in pixels; any multiple of 32."""
    width: int = 32
    """Channels at full resolution; each level down doubles them, up to 8x."""
    design: int = DESIGN
    """What the inputs mean (see DESIGN); weights are only loaded into the design they were trained for."""


def _block(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1), nn.GroupNorm(8, out_channels), nn.SiLU(),
                         nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.GroupNorm(8, out_channels), nn.SiLU())


class MouthGenerator(nn.Module):
    def __init__(self, settings: GeneratorSettings = GeneratorSettings()):
        super().__init__()
        if settings.size % 32:
            raise ValueError(f"generator size {settings.size} is not a multiple of 32")
        self.settings = settings
        widths = [settings.width * m for m in (1, 2, 4, 8, 8, 8)]
        self.stem = _block(IN_CHANNELS, widths[0])
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1], stride=2) for i in range(5))
        self.up = nn.ModuleList(_block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(5)))
        self.head = nn.Conv2d(widths[0], 3, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, warped: torch.Tensor, reference: torch.Tensor, landmark_map: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(torch.cat([warped, reference, landmark_map], 1))]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.up:
            skip = skips.pop()
            x = up(torch.cat([nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], 1))
        redrawn = warped + self.head(x)
        # Clamped only in use: in training a clamp would leave out-of-range pixels without a gradient.
        return redrawn if self.training else redrawn.clamp(0, 1)


__all__ = ["MouthGenerator", "GeneratorSettings"]
