"""The lower-face crop the neural generator works in: upright, scaled to the face, fixed size.

A crop is a square in face coordinates (origin between the eyes, one unit = inter-ocular distance),
so every frame of every presenter arrives at the generator the same way up and the same size,
whatever the head's roll, position or distance. Cutting and pasting are batched `grid_sample`s on
the device.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..face import layout

CROP_CENTER = (0.0, 1.15)
"""Centre of the crop in face coordinates: between the mouth and the nose, so the eyes' line is in view."""
CROP_SPAN = 2.4
"""Side of the crop in inter-ocular distances: eye line to below the chin, cheek to cheek."""
MASK_TOP, MASK_HALF_WIDTH, MASK_FEATHER = 0.62, 0.95, 0.12
"""The region the generator redraws (face coordinates): below the nose tip, inside the cheeks."""


@dataclass(frozen=True)
class CropGeometry:
    size: int
    """Crop side in pixels (256 or 512 in production; tests use 64)."""

    def face_to_crop(self, face_coords: np.ndarray) -> np.ndarray:
        """Face coordinates -> crop pixels (pixel centres at integers)."""
        center = np.asarray(CROP_CENTER, np.float32)
        return ((face_coords - center) / CROP_SPAN + 0.5) * self.size - 0.5

    def landmarks_in_crop(self, points: np.ndarray, frame_points: np.ndarray) -> np.ndarray:
        """(T, 68, 2) image points -> crop pixels of the crops cut with `frame_points`' face frames."""
        return self.face_to_crop(layout.to_face_coords(points, layout.face_frame(frame_points))).astype(np.float32)

    def sampling_grid(self, frame_points: np.ndarray, frame_size: tuple[int, int]) -> torch.Tensor:
        """(T, S, S, 2) grid_sample coordinates: where each crop pixel lies in its frame."""
        origin, x_axis, y_axis = layout.face_frame(frame_points)
        steps = (np.arange(self.size, dtype=np.float32) + 0.5) / self.size - 0.5
        u = CROP_CENTER[0] + steps * CROP_SPAN
        v = CROP_CENTER[1] + steps * CROP_SPAN
        uu, vv = np.meshgrid(u, v)
        xy = (origin[:, None, None, :] + uu[None, ..., None] * x_axis[:, None, None, :]
              + vv[None, ..., None] * y_axis[:, None, None, :])
        width, height = frame_size
        return torch.from_numpy(np.stack([(2 * xy[..., 0] + 1) / width - 1, (2 * xy[..., 1] + 1) / height - 1], -1)
                                .astype(np.float32))

    def cut(self, frames: torch.Tensor, frame_points: np.ndarray) -> torch.Tensor:
        """(T, H, W, 3) uint8 frames -> (T, 3, S, S) float crops in 0..1."""
        images = frames.permute(0, 3, 1, 2).float() / 255
        height, width = frames.shape[1:3]
        grid = self.sampling_grid(frame_points, (width, height)).to(frames.device)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def mask(self, device="cpu") -> torch.Tensor:
        """(1, 1, S, S) 0..1: where the generator's pixels replace the frame's, feathered at the edge."""
        steps = (torch.arange(self.size, dtype=torch.float32, device=device) + 0.5) / self.size - 0.5
        u = CROP_CENTER[0] + steps * CROP_SPAN
        v = CROP_CENTER[1] + steps * CROP_SPAN
        below = ((v - MASK_TOP) / MASK_FEATHER).clamp(0, 1)[:, None]
        inside = ((MASK_HALF_WIDTH - u.abs()) / MASK_FEATHER).clamp(0, 1)[None, :]
        bottom_edge = ((CROP_CENTER[1] + CROP_SPAN / 2 - v) / (MASK_FEATHER / 2)).clamp(0, 1)[:, None]
        return (below * inside * bottom_edge)[None, None]

    def landmark_maps(self, crop_points: np.ndarray, device="cpu") -> torch.Tensor:
        """(T, 3, S, S) drawings of the target mouth: outer lip line, inner-lip opening, jaw and nose base."""
        thickness = max(1, self.size // 128)
        maps = np.zeros((len(crop_points), 3, self.size, self.size), np.uint8)
        fixed = (crop_points * 4).round().astype(np.int32)  # 2 fractional bits for sub-pixel drawing
        for k, points in enumerate(fixed):
            cv2.polylines(maps[k, 0], [points[layout.OUTER_LIPS]], True, 255, thickness, cv2.LINE_AA, shift=2)
            cv2.fillPoly(maps[k, 1], [points[layout.INNER_LIPS]], 255, cv2.LINE_AA, shift=2)
            cv2.polylines(maps[k, 2], [points[layout.JAW_LINE], points[layout.NOSE_BASE]], False, 255, thickness, cv2.LINE_AA, shift=2)
        return torch.from_numpy(maps).to(device).float() / 255  # moved as bytes: a quarter of the transfer

    def paste(self, frames: torch.Tensor, crops: torch.Tensor, frame_points: np.ndarray) -> torch.Tensor:
        """Blend generated crops (T, 3, S, S) into frames (T, H, W, 3) uint8 through the feathered mask.

        Only the pixels under the crop's mask change; each is sampled back from the crop by the
        inverse of the cut's affine map.
        """
        height, width = frames.shape[1:3]
        x0, y0, x1, y1 = self._image_box(frame_points, (width, height))
        device = frames.device
        ys, xs = torch.meshgrid(torch.arange(y0, y1, device=device, dtype=torch.float32),
                                torch.arange(x0, x1, device=device, dtype=torch.float32), indexing="ij")
        origin, x_axis, y_axis = (torch.from_numpy(np.asarray(a, np.float32)).to(device) for a in layout.face_frame(frame_points))
        relative = torch.stack([xs, ys], -1)[None] - origin[:, None, None, :]
        scale = (x_axis ** 2).sum(-1)[:, None, None]
        u = (relative * x_axis[:, None, None, :]).sum(-1) / scale
        v = (relative * y_axis[:, None, None, :]).sum(-1) / scale
        grid = torch.stack([(u - CROP_CENTER[0]) / CROP_SPAN * 2, (v - CROP_CENTER[1]) / CROP_SPAN * 2], -1)
        mask = self.mask(device).expand(len(crops), -1, -1, -1)
        sampled = F.grid_sample(torch.cat([crops, mask], 1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        colour, alpha = sampled[:, :3].permute(0, 2, 3, 1) * 255, sampled[:, 3:].permute(0, 2, 3, 1)
        out = frames.clone()
        region = out[:, y0:y1, x0:x1].float()
        out[:, y0:y1, x0:x1] = (region + alpha * (colour - region)).add_(0.5).clamp_(0, 255).to(torch.uint8)
        return out

    @staticmethod
    def _image_box(frame_points: np.ndarray, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The pixel box (x0, y0, x1, y1) holding every frame's crop square."""
        corners = np.array([[CROP_CENTER[0] + dx * CROP_SPAN / 2, CROP_CENTER[1] + dy * CROP_SPAN / 2]
                            for dx in (-1, 1) for dy in (-1, 1)], np.float32)
        frame = layout.face_frame(frame_points)
        points = layout.from_face_coords(np.repeat(corners[None], len(frame_points), 0), frame).reshape(-1, 2)
        width, height = frame_size
        x0, y0 = np.floor(points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
        return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


__all__ = ["CropGeometry"]
