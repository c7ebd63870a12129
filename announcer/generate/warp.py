"""Thin-plate-spline warping, batched: the spline in torch on the tensors' device, the pixels resampled with OpenCV on
the CPU and with grid_sample elsewhere."""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

REGULARIZATION = 1e-6
GRID_STRIDE = 8
"""The spline is evaluated every GRID_STRIDE pixels and upsampled: it is smooth, so this is exact enough."""


def _kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    squared = torch.cdist(a, b).pow(2)
    return squared * torch.log(squared.clamp_min(1e-12))


def fit_tps(targets: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
    """Coefficients (B, K+3, 2) of the spline that maps target points (B, K, 2) onto source points."""
    batch, count, _ = targets.shape
    ones = torch.ones(batch, count, 1, dtype=targets.dtype, device=targets.device)
    affine = torch.cat([ones, targets], dim=2)
    system = torch.zeros(batch, count + 3, count + 3, dtype=targets.dtype, device=targets.device)
    system[:, :count, :count] = _kernel(targets, targets) + REGULARIZATION * torch.eye(count, device=targets.device)
    system[:, :count, count:] = affine
    system[:, count:, :count] = affine.transpose(1, 2)
    values = torch.cat([sources, torch.zeros(batch, 3, 2, dtype=targets.dtype, device=targets.device)], dim=1)
    return torch.linalg.solve(system, values)


def evaluate_tps(coefficients: torch.Tensor, targets: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Map points (B, P, 2) through the spline fitted on `targets`."""
    count = targets.shape[1]
    ones = torch.ones(*points.shape[:2], 1, dtype=points.dtype, device=points.device)
    return _kernel(points, targets) @ coefficients[:, :count] + torch.cat([ones, points], 2) @ coefficients[:, count:]


def warp_crops(crops: torch.Tensor, source_points: torch.Tensor, target_points: torch.Tensor) -> torch.Tensor:
    """Warp crops (B, H, W, 3) uint8 so that source points land on target points (both in pixels, (B, K, 2)).
    Returns (B, H, W, 3) float32 on the crops' device."""
    batch, height, width, _ = crops.shape
    scale = torch.tensor([width - 1, height - 1], dtype=torch.float32, device=crops.device)
    # Sources go straight to grid_sample's [-1, 1] (align_corners=True: -1 and 1 are the edge pixel centres).
    targets, sources = target_points / scale, source_points / scale * 2 - 1
    coefficients = fit_tps(targets, sources)
    xs, ys = _coarse_positions(width, crops.device), _coarse_positions(height, crops.device)
    coarse = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(1, -1, 2).expand(batch, -1, -1)
    mapped = evaluate_tps(coefficients, targets, coarse / scale).reshape(batch, len(ys), len(xs), 2)
    if crops.device.type == "cpu":
        return _remap_on_cpu(crops, (mapped + 1) / 2 * scale)
    dense = F.interpolate(mapped.permute(0, 3, 1, 2), scale_factor=GRID_STRIDE, mode="bilinear", align_corners=False)
    grid = dense[:, :, GRID_STRIDE:GRID_STRIDE + height, GRID_STRIDE:GRID_STRIDE + width].permute(0, 2, 3, 1)
    warped = F.grid_sample(crops.permute(0, 3, 1, 2).float(), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return warped.permute(0, 2, 3, 1).contiguous()


def _coarse_positions(size: int, device: torch.device) -> torch.Tensor:
    """Where along one side the spline is evaluated: every GRID_STRIDE pixels, placed so that bilinear upsampling by
    GRID_STRIDE (pixel centres at half steps, as OpenCV's resize and torch's interpolate both take them) lands on the
    pixels, with one sample beyond each edge so that no pixel is extrapolated. Upsampled, pixel i is at i + GRID_STRIDE."""
    count = -(-size // GRID_STRIDE) + 2
    return (torch.arange(count, dtype=torch.float32, device=device) - 0.5) * GRID_STRIDE - 0.5


def _remap_on_cpu(crops: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
    """OpenCV's remap on the uint8 pixels: on the CPU it is 3x faster than grid_sample on floats, and it reads the
    crops in place (H, W, 3) where grid_sample needs them converted and moved to (3, H, W). `coarse`: (B, h, w, 2)
    source pixel positions on the spline's coarse grid."""
    images, coarse = crops.numpy(), coarse.numpy()
    height, width = images.shape[1:3]
    out = np.empty(images.shape, np.uint8)
    for k in range(len(images)):
        rows, columns = coarse.shape[1:3]
        upsampled = cv2.resize(coarse[k], (columns * GRID_STRIDE, rows * GRID_STRIDE), interpolation=cv2.INTER_LINEAR)
        positions = upsampled[GRID_STRIDE:GRID_STRIDE + height, GRID_STRIDE:GRID_STRIDE + width]
        # Fixed-point maps (1/32 px) are what remap uses inside anyway; converting first is faster than float maps.
        fixed, fraction = cv2.convertMaps(positions, None, cv2.CV_16SC2)
        cv2.remap(images[k], fixed, fraction, cv2.INTER_LINEAR, dst=out[k], borderMode=cv2.BORDER_REPLICATE)
    return torch.from_numpy(out).float()


def border_anchors(width: int, height: int, per_side: int = 6) -> torch.Tensor:
    """Fixed points around a crop's edge, so the warp leaves the border (and all outside it) untouched."""
    steps = torch.linspace(0, 1, per_side + 1)[:-1]
    w, h = width - 1, height - 1
    top = torch.stack([steps * w, torch.zeros_like(steps)], 1)
    right = torch.stack([torch.full_like(steps, w), steps * h], 1)
    bottom = torch.stack([(1 - steps) * w, torch.full_like(steps, h)], 1)
    left = torch.stack([torch.zeros_like(steps), (1 - steps) * h], 1)
    return torch.cat([top, right, bottom, left])
