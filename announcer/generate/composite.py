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


def paste_into(frames: torch.Tensor, crops: torch.Tensor, box: CropBox, mask: torch.Tensor) -> torch.Tensor:
    """Blend crops (B, h, w, 3) float into frames (B, H, W, 3) uint8 at `box`, in place, and return the frames.
    Outside the box nothing changes. Only the feathered band is blended; inside it the crops are copied."""
    region = frames[:, box.y0:box.y1, box.x0:box.x1]
    top, bottom, left, right = _solid_rectangle(mask)
    # + 0.5, then the copy to uint8 truncates: rounding.
    region[:, top:bottom, left:right].copy_(crops[:, top:bottom, left:right].add_(0.5).clamp_(0, 255))
    everything = slice(None)
    for rows, columns in ((slice(0, top), everything), (slice(bottom, None), everything),
                          (slice(top, bottom), slice(0, left)), (slice(top, bottom), slice(right, None))):
        band = region[:, rows, columns]
        original = band.float()
        band.copy_(crops[:, rows, columns].sub_(original).mul_(mask[rows, columns]).add_(original).add_(0.5).clamp_(0, 255))
    return frames


def _solid_rectangle(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """Rows top:bottom and columns left:right of the rectangle where the mask (h, w, 1) is 1 (all zero when none is)."""
    solid = mask[..., 0] >= 1
    rows, columns = solid.any(dim=1).nonzero()[:, 0], solid.any(dim=0).nonzero()[:, 0]
    if len(rows) == 0:
        return 0, 0, 0, 0
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def crop_margin(landmarks: np.ndarray) -> float:
    """Room around the face for the jaw to drop and the head to sway: 0.6 of an inter-ocular distance."""
    return 0.6 * float(np.median(layout.inter_ocular(landmarks)))
