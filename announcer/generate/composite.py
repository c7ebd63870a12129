"""Pasting a generated region back into the full frame without a visible edge."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..face import layout

FEATHER_PX = 6


@dataclass(frozen=True)
class CropBox:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def offset(self) -> np.ndarray:
        return np.array([self.x0, self.y0], np.float32)

    @staticmethod
    def around(point_sets: list[np.ndarray], frame_size: tuple[int, int], margin: float) -> "CropBox":
        """The box holding every landmark of every frame, grown by `margin` pixels, inside the frame."""
        points = np.concatenate([p.reshape(-1, 2) for p in point_sets])
        width, height = frame_size
        x0, y0 = np.floor(points.min(axis=0) - margin).astype(int)
        x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int)
        return CropBox(max(0, x0), max(0, y0), min(width, x1), min(height, y1))


def feather_mask(box: CropBox, frame_size: tuple[int, int]) -> torch.Tensor:
    """(h, w, 1) weights: 1 inside, falling to 0 at crop edges that lie inside the frame."""
    width, height = frame_size
    ys, xs = torch.meshgrid(torch.arange(box.height, dtype=torch.float32), torch.arange(box.width, dtype=torch.float32),
                            indexing="ij")
    far = torch.full_like(xs, FEATHER_PX)
    distances = torch.stack([xs + 1 if box.x0 > 0 else far, box.width - xs if box.x1 < width else far,
                             ys + 1 if box.y0 > 0 else far, box.height - ys if box.y1 < height else far])
    return (distances.min(dim=0).values / FEATHER_PX).clamp(0, 1)[..., None]


def paste(frames: torch.Tensor, crops: torch.Tensor, box: CropBox, mask: torch.Tensor) -> torch.Tensor:
    """Blend crops (B, h, w, 3) float into frames (B, H, W, 3) uint8 at `box`; outside it nothing changes."""
    out = frames.clone()
    region = out[:, box.y0:box.y1, box.x0:box.x1]
    original = region.float()  # one conversion, not one per operation
    region.copy_(crops.sub_(original).mul_(mask).add_(original).add_(0.5).clamp_(0, 255))
    return out


def crop_margin(landmarks: np.ndarray) -> float:
    """Room around the face for the jaw to drop and the head to sway: 0.6 of an inter-ocular distance."""
    return 0.6 * float(np.median(layout.inter_ocular(landmarks)))
