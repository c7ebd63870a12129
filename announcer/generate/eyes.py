"""Blinks made of the presenter's own lid: the skin above each eye slides down over it, carrying the lashes.

In a real blink the upper lid comes down in front of the eyeball while the skin under the brow
stretches after it, and the lid's turn swings the lashes from pointing up to pointing down. So
each eye is redrawn in its own frame, column by column, in two layers taken from the open eye:
- the lid: the skin between the band's top and the lashes, stretched down until it meets the
  lower lid; below its edge the eye shows through, as a lid covers it;
- the lashes: the band just above the lid margin, cut out by how much darker than the skin each
  pixel is, and swung about the moving edge (foreshortened half way, hanging down once shut).
Every colour comes from the presenter's own skin and lashes; nothing is painted. Only the lid's finest grain,
where it would be taken from the lashes, is a fixed noise at the level of the skin's own grain.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ..face import layout

EYES = ((layout.RIGHT_EYE, layout.BROWS[:5]), (layout.LEFT_EYE, layout.BROWS[5:]))
"""Each eye's six points with the brow above it."""
SKIN_BAND = 0.55
"""Height of the skin that slides down, as a share of the eye's width (above it nothing moves)."""
BROW_CLEARANCE = 0.5
"""The band never reaches higher than this share of the way from the upper lid to the brow."""
OVERLAP = 0.1
"""A shut upper lid reaches this share of the eye's opening past the lower lid's margin, so no slit of eye is left."""
LASH_BAND = 0.16
"""Height of the upper lashes above the lid margin, as a share of the eye's width, before it is measured."""
LASH_RANGE = (0.08, 0.35)
"""Measured lash lengths are kept inside this range (shares of the eye's width)."""
LASH_MIN_TURN = 0.2
"""Lashes seen end-on (half way through the turn) keep this share of their length, so they never vanish."""
STRETCH_IN = 0.25
"""Up to this closure the skin's stretch fades in, so the first frames of a blink start from the open eye exactly."""
CREASE = 0.5
"""Where the lid's crease lies, as a share of the way from the band's top down to the lashes."""
GRAIN_SIGMA = 1.2
"""Detail finer than this (pixels) is the skin's grain, carried over unstretched."""
GRAIN_SEED = 11
"""The fixed noise that stands in for grain where the lid's source is lashes: one field per crop, so it moves with
the lid and does not shimmer."""
ALONG_LID = 0.05
"""The lid's shading is averaged along the lid over steps of this share of the eye's width (a Gaussian of that
sigma)."""
LID_STEPS = np.arange(-2, 3)
LID_WEIGHTS = np.exp(-0.5 * LID_STEPS ** 2) / np.exp(-0.5 * LID_STEPS ** 2).sum()
CORNER_REACH = 0.12
"""How far past each landmarked corner the lid reaches, as a share of the eye's width."""
CORNER_FADE = 0.12
SAMPLES = 64


@dataclass(frozen=True)
class EyeFrame:
    """An eye's own coordinates: u along the line from its outer to its inner corner, v across it (down, in pixels)."""
    origin: np.ndarray
    u_axis: np.ndarray
    v_axis: np.ndarray

    @staticmethod
    def of(eye: np.ndarray) -> "EyeFrame":
        corner_a, corner_b = eye[layout.OF_EYE_UPPER_LID[0]], eye[layout.OF_EYE_UPPER_LID[-1]]
        u_axis = (corner_b - corner_a) / max(float(np.linalg.norm(corner_b - corner_a)), 1e-6)
        v_axis = np.array([-u_axis[1], u_axis[0]])
        if v_axis[1] < 0:  # v points down the face whichever corner comes first
            v_axis = -v_axis
        return EyeFrame(corner_a.astype(np.float64), u_axis, v_axis)

    def to_local(self, points: np.ndarray) -> np.ndarray:
        relative = points - self.origin
        return np.stack([relative @ self.u_axis, relative @ self.v_axis], -1)

    def to_image(self, local: np.ndarray) -> np.ndarray:
        return self.origin + local[..., :1] * self.u_axis + local[..., 1:] * self.v_axis


@dataclass(frozen=True)
class LidProfile:
    """The lid's curves across the eye, sampled at `u`: v of the band's top, the open upper lid, the moving lid edge
    and the lower lid."""
    u: np.ndarray
    top: np.ndarray
    upper: np.ndarray
    edge: np.ndarray
    lower: np.ndarray
    lash_height: np.ndarray

    @staticmethod
    def of(local_eye: np.ndarray, local_brow: np.ndarray, closure: float) -> "LidProfile":
        width = float(local_eye[3, 0] - local_eye[0, 0])
        u = np.linspace(local_eye[0, 0], local_eye[3, 0], SAMPLES)
        upper = _curve_through(local_eye[layout.OF_EYE_UPPER_LID], u)
        lower = _curve_through(local_eye[layout.OF_EYE_LOWER_LID], u)
        brow = np.interp(u, *_sorted_by_u(local_brow))
        top = np.maximum(upper - SKIN_BAND * width, upper - BROW_CLEARANCE * np.maximum(upper - brow, 0.0))
        opening = np.maximum(lower - upper, 0.0)
        edge = upper + closure * (1 + OVERLAP) * opening
        # Lashes shorten towards the corners, where the lid does not move: there every layer is the open eye.
        lash_height = LASH_BAND * width * np.sqrt(opening / max(float(opening.max()), 1e-6))
        return LidProfile(u, top, upper, edge, lower, lash_height)

    def with_lash_length(self, length: float) -> "LidProfile":
        return replace(self, lash_height=self.lash_height / max(float(self.lash_height.max()), 1e-6) * length)

    def at(self, u: np.ndarray) -> tuple[np.ndarray, ...]:
        """top, upper and edge at every u (pixels' own), and the lash height there."""
        curves = tuple(np.interp(u, self.u, curve) for curve in (self.top, self.upper, self.edge))
        lashes = np.minimum(np.interp(u, self.u, self.lash_height), 0.5 * (curves[1] - curves[0]))
        return (*curves, lashes)


def close_lids(crop: torch.Tensor, points: np.ndarray, closure: float) -> None:
    """Slide both upper lids of one crop (h, w, 3 float, crop pixels in `points` (68, 2)) down to `closure` (0..1), in place."""
    if closure < 0.02:
        return
    for eye, brow in EYES:
        _close_lid(crop, points[eye].astype(np.float64), points[brow].astype(np.float64), closure)


def _close_lid(crop: torch.Tensor, eye: np.ndarray, brow: np.ndarray, closure: float) -> None:
    frame = EyeFrame.of(eye)
    local_eye, local_brow = frame.to_local(eye), frame.to_local(brow)
    if local_eye[3, 0] < 4:  # an eye a few pixels wide has no lid to draw
        return
    # Landmarked corners sit inside the lashes and liner that frame an eye: the lid reaches a little beyond them.
    width = local_eye[3, 0] - local_eye[0, 0]
    local_eye[0, 0] -= CORNER_REACH * width
    local_eye[3, 0] += CORNER_REACH * width
    profile = LidProfile.of(local_eye, local_brow, closure)
    matte = _lash_matte(crop, frame, profile)
    profile = profile.with_lash_length(_lash_length(matte, frame, profile, width))
    x0, y0, x1, y1 = _box(frame, profile, crop.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    local = frame.to_local(np.stack([xs, ys], -1))
    u, v = local[..., 0], local[..., 1]
    # Towards the corners the lid fades into the open eye over a tenth of its width, so no seam shows there.
    span = profile.u[-1] - profile.u[0]
    inside = np.clip(np.minimum(u - profile.u[0], profile.u[-1] - u) / (CORNER_FADE * span), 0.0, 1.0)
    top, upper, edge, lashes = profile.at(u)
    skin_v, grain_v, skin_alpha = _skin_layer(v, top, upper, edge, lashes, closure)
    lash_v, lash_visible = _lash_layer(v, upper, edge, lashes, closure)
    along_lid = [frame.to_image(np.stack([u + step * ALONG_LID * width, skin_v], -1)) for step in LID_STEPS]
    shading_from = np.stack(along_lid)
    skin = _skin(crop, matte, shading_from, frame.to_image(np.stack([u, grain_v], -1)))
    lash = _sample(torch.cat([crop, matte[..., None]], -1), frame.to_image(np.stack([u, lash_v], -1)))
    to_tensor = lambda a: torch.from_numpy((a * inside).astype(np.float32)).to(crop.device)[..., None]  # noqa: E731
    skin_alpha, lash_alpha = to_tensor(skin_alpha), to_tensor(lash_visible) * lash[..., 3:4]
    region = crop[y0:y1, x0:x1]
    region.mul_(1 - skin_alpha).add_(skin * skin_alpha)
    region.mul_(1 - lash_alpha).add_(lash[..., :3] * lash_alpha)


def _skin_layer(v, top, upper, edge, lashes, closure: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the lid's skin at each pixel comes from (v in the open eye), where its grain comes from, and how much of
    the pixel is lid.

    The skin between the band's top and the lashes covers [top, edge]; the lid's edge is one pixel soft, and the
    band's top blends in over two pixels so no crease line appears where the stretch starts. Stretching smooths
    grain away, so the stretched part takes its fine detail unstretched, from the skin the lid's travel above it."""
    skin_bottom = upper - lashes
    # The lid's skin below the crease moves down whole; the new skin unfolds at the crease, so only the band above
    # the crease stretches.
    crease = top + CREASE * (skin_bottom - top)
    travel = edge - skin_bottom
    within = np.minimum(v, edge)
    stretched = np.where(within >= crease + travel, within - travel,
                         top + (within - top) * (crease - top) / np.maximum(crease + travel - top, 1e-6))
    source_v = v + min(1.0, closure / STRETCH_IN) * (stretched - v)
    source_v = np.where(v <= top, v, source_v)
    # Grain for the stretched part: the skin's detail shifted down whole by the lid's travel, not stretched.
    grain_v = np.where((within >= crease + travel) | (v <= top), source_v, v - (edge - upper))
    alpha = np.clip(edge - v + 0.5, 0.0, 1.0) * np.clip((v - top + 1) / 2, 0.0, 1.0)
    return source_v, grain_v, alpha


def _lash_layer(v, upper, edge, lashes, closure: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the lashes at each pixel come from, and where there are any: a lash `h` above the open margin is drawn
    `h * cos(pi * closure)` above the moving edge, so it points up when open and hangs down when shut."""
    turn = np.cos(np.pi * closure)
    turn = np.copysign(max(abs(turn), LASH_MIN_TURN), turn)
    height = (edge - v) / turn
    # From just under the margin (its dark line) to the lash tips; both ends fade, so neither draws a cut line.
    margin = np.clip(height + 1.5, 0.0, 1.0)
    tips = np.clip((lashes - height) / np.maximum(0.3 * lashes, 1.0), 0.0, 1.0)
    return upper - height, margin * tips


def _lash_matte(crop: torch.Tensor, frame: EyeFrame, profile: LidProfile) -> torch.Tensor:
    """(h, w) 0..1: how much darker than the lid's skin each pixel is: 1 on lashes and the lid margin, 0 on skin."""
    luma = crop @ torch.tensor([0.299, 0.587, 0.114], dtype=crop.dtype, device=crop.device)
    middle = len(profile.u) // 2
    band_top, band_bottom = profile.top[middle], profile.upper[middle] - profile.lash_height.max()
    centre = frame.to_image(np.array([[profile.u[middle], (band_top + band_bottom) / 2]]))[0]
    x, y = np.clip(np.round(centre), 0, [crop.shape[1] - 1, crop.shape[0] - 1]).astype(int)
    reach = max(2, int((band_bottom - band_top) / 2))
    skin = luma[max(y - reach, 0):y + reach + 1, max(x - 2 * reach, 0):x + 2 * reach + 1].median()
    return ((skin - luma) / (0.4 * skin.clamp_min(20.0))).clamp(0.0, 1.0)


def _lash_length(matte: torch.Tensor, frame: EyeFrame, profile: LidProfile, width: float) -> float:
    """How far above the lid margin the lashes reach, in pixels: where the middle half of the lid stops being dark."""
    middle = slice(len(profile.u) // 4, 3 * len(profile.u) // 4)
    heights = np.linspace(0, LASH_RANGE[1] * width, 24)
    u, upper = profile.u[middle], profile.upper[middle]
    points = frame.to_image(np.stack(np.broadcast_arrays(u[None, :], upper[None, :] - heights[:, None]), -1))
    darkness = _sample(matte[..., None], points)[..., 0].mean(dim=1).cpu().numpy()
    light = np.flatnonzero(darkness < 0.15)
    reach = heights[light[0]] if len(light) else heights[-1]
    return float(np.clip(reach * 1.15, LASH_RANGE[0] * width, LASH_RANGE[1] * width))


def _skin(crop: torch.Tensor, matte: torch.Tensor, shading_from: np.ndarray, grain_from: np.ndarray) -> torch.Tensor:
    """The lid's skin (h, w, 3), in two parts:
    - its shading, interpolated at `shading_from` (5, h, w, 2): each pixel's source and four more along the lid
      (LID_STEPS), weighted as a Gaussian. The band that stretches is a few pixels high, and unaveraged its
      column-to-column differences became streaks down the shut lid;
    - its grain, moved by whole pixels from `grain_from` (h, w, 2), since interpolating would smooth it away: the
      skin's own, except where the source is lashes or within their reach (their detail drew herringbone arcs on the
      lid), where a fixed noise field at the skin's own grain level stands in."""
    radius = _blur_radius(GRAIN_SIGMA) + 2
    reach = np.concatenate([shading_from.reshape(-1, 2), grain_from.reshape(-1, 2)])
    x0, y0 = np.maximum(np.floor(reach.min(axis=0)).astype(int) - radius, 0)
    x1, y1 = np.minimum(np.ceil(reach.max(axis=0)).astype(int) + radius + 1, [crop.shape[1], crop.shape[0]])
    # Only the part of the crop the lid is taken from is blurred: the samples sit a blur's reach inside it.
    window = crop[y0:y1, x0:x1]
    smooth = _blurred(window, GRAIN_SIGMA)
    corner = np.array([x0, y0])
    shading = sum(weight * _sample(smooth, points - corner)
                  for weight, points in zip(LID_WEIGHTS, shading_from, strict=True))
    fine = window - smooth
    halo = _blur_radius(GRAIN_SIGMA)  # how far a lash's detail reaches into the skin beside it
    near_lashes = F.max_pool2d(matte[y0:y1, x0:x1][None, None], 2 * halo + 1, stride=1, padding=halo)[0, 0]
    skin_grain = fine[near_lashes < 0.05]
    level = float(skin_grain.std()) if skin_grain.numel() > 20 else 0.0
    noise = torch.from_numpy(np.random.default_rng(GRAIN_SEED).standard_normal(crop.shape[:2], np.float32))
    stand_in = noise[y0:y1, x0:x1].to(crop.device, crop.dtype)[..., None] * level
    skin = 1 - near_lashes[..., None]
    grain = _sample(fine * skin + stand_in * (1 - skin), grain_from - corner, mode="nearest")
    return shading + grain


def _blur_radius(sigma: float) -> int:
    return int(3 * sigma + 0.5)


def _blurred(crop: torch.Tensor, sigma: float) -> torch.Tensor:
    """(H, W, 3) Gaussian-blurred copy of a crop, separable, same size."""
    radius = _blur_radius(sigma)
    taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32, device=crop.device) ** 2 / (2 * sigma ** 2))
    taps = (taps / taps.sum()).to(crop.dtype)
    image = crop.permute(2, 0, 1)[:, None]
    image = F.conv2d(F.pad(image, (radius, radius, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1))
    image = F.conv2d(F.pad(image, (0, 0, radius, radius), mode="replicate"), taps.view(1, 1, -1, 1))
    return image[:, 0].permute(1, 2, 0)


def _sample(crop: torch.Tensor, points: np.ndarray, mode: str = "bilinear") -> torch.Tensor:
    """Samples of the crop (H, W, C) at (h, w, 2) pixel positions, as (h, w, C)."""
    height, width = crop.shape[:2]
    grid = torch.from_numpy((points / [width - 1, height - 1] * 2 - 1).astype(np.float32)).to(crop.device)
    image = crop.permute(2, 0, 1)[None].float()
    sampled = F.grid_sample(image, grid[None], mode=mode, padding_mode="border", align_corners=True)
    return sampled[0].permute(1, 2, 0).to(crop.dtype)


def _box(frame: EyeFrame, profile: LidProfile, shape) -> tuple[int, int, int, int]:
    # Shut, the lashes hang below the lid's edge, past the lower lid.
    bottom = np.maximum(profile.lower, profile.edge) + profile.lash_height + 2
    outline = np.concatenate([np.stack([profile.u, profile.top - 2], -1), np.stack([profile.u, bottom], -1)])
    corners = frame.to_image(outline)
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    return max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])


def _curve_through(points: np.ndarray, u: np.ndarray) -> np.ndarray:
    """v along a lid: a smooth curve through four (u, v) points from corner to corner, sampled at u."""
    curve = smooth_curve(points, 16)
    return np.interp(u, *_sorted_by_u(curve))


def _sorted_by_u(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]


def smooth_curve(points: np.ndarray, samples_per_segment: int = 6) -> np.ndarray:
    """A Catmull-Rom curve through the points (ends kept), so a few landmarks make a round outline, not a polygon."""
    padded = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    t = np.linspace(0, 1, samples_per_segment, endpoint=False)[:, None]
    curve = []
    for k in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[k - 1:k + 3]
        curve.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                            + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return np.concatenate(curve + [points[-1:]])
