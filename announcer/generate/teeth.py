"""Teeth rendered tooth by tooth, for a presenter whose only picture keeps the mouth shut.

Each level of the bank is drawn in canonical space (generate.interior) at one opening of the
presenter's own mouth shape: a cavity that darkens away from the lips, a row of upper teeth
(incisors widest, each shaded across its face, the row darker and shorter round the arch), the
lower incisors' edges at wider openings, and a tongue with a soft highlight. Colours come from the
presenter's lips and skin; the result is blurred to the photo's sharpness and given its grain
(one fixed noise field, so it does not shimmer).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..face import layout
from .interior import LEVELS, LOWER_INNER, UPPER_INNER, InteriorBank, canonical_size
from .mouth import mean_colour
from ..motion import MAX_GAP
from .targets import closed_mouth, shaped_mouth

ENAMEL = np.array([208, 200, 186], np.float32)
"""Teeth in good light before the photo's own light and colour are applied."""
UPPER_TEETH = (0.085, 0.068, 0.06, 0.052, 0.048)
"""Visible widths of the upper teeth from the middle out (incisor, lateral incisor, canine, premolars), inter-ocular units."""
TOOTH_SIDE = ((5.0, 0.9), (12.0, 0.74))
"""Light at a tooth's sides against its middle, by the incisor's width in pixels: where two teeth meet, a line that
is faint on a small face (at 5-6 px a tooth, darker lines read as a picket fence) and plainer on a large one."""
UPPER_LENGTH, LOWER_LENGTH = 0.1, 0.05
"""How far the upper and lower teeth show below and above the lips, inter-ocular units, at most."""
SEED = 7
FILTER_MARGIN = 4
"""Pixels around the lips kept when measuring sharpness: more than the blur and Laplacian reach (2 + 1)."""


def rendered_bank(frame: np.ndarray, points: np.ndarray) -> InteriorBank:
    """A bank of rendered interiors for a photo (H, W, 3) with its landmarks (68, 2)."""
    scale = float(layout.inter_ocular(points))
    face = layout.face_frame(points[None])
    neutral = closed_mouth(layout.to_face_coords(points[None], face)[0])
    openings = np.linspace(0.08, 1.0, LEVELS)
    lips = mean_colour(frame, points[layout.OUTER_LIPS], convex=True, hole=points[layout.INNER_LIPS])
    skin = mean_colour(frame, points[layout.CHEEKS_AND_NOSE_BASE], convex=True)
    light = float(np.clip(skin.mean() / 170.0, 0.35, 1.2))
    grain, blur = _grain_and_blur(frame, points)
    width, height = canonical_size(scale)
    noise = np.random.default_rng(SEED).standard_normal((height, width, 1)).astype(np.float32)
    patches, shapes = [], []
    for opening in openings:
        inner = shaped_mouth(neutral, np.array([[opening, 0.0, 0.0]], np.float32))[0, layout.INNER_LIPS]
        canonical = (inner - inner.mean(axis=0)) * scale + (width / 2, height / 2)
        patch = draw_interior(canonical, scale, (height, width), lips, light)
        patch = cv2.GaussianBlur(patch, (0, 0), blur) if blur > 0.3 else patch
        patches.append(np.clip(patch + noise * grain, 0, 255))
        shapes.append(canonical)
    gaps = openings * MAX_GAP
    return InteriorBank.of(gaps, np.stack(patches), np.stack(shapes), scale, "rendered")


def draw_interior(inner: np.ndarray, scale: float, size: tuple[int, int], lips: np.ndarray, light: float) -> np.ndarray:
    """One interior (h, w, 3) float32 for inner lips (8, 2) in canonical pixels."""
    height, width = size
    upper_y, lower_y = inner[UPPER_INNER, 1].mean(), inner[LOWER_INNER, 1].mean()
    gap = lower_y - upper_y
    left, right = inner[0, 0], inner[4, 0]
    middle = (left + right) / 2
    canvas = _cavity(inner, (height, width), lips)
    if gap > 0.12 * scale:  # the tongue lies behind the lower teeth, its back in the mouth's shade
        _tongue(canvas, middle, lower_y - 0.1 * gap, (right - left) * 0.32, 0.35 * gap, lips)
    teeth = ENAMEL * light * (0.85 + 0.15 * lips / max(float(lips.mean()), 1.0))
    _tooth_row(canvas, middle, upper_y, (right - left) / 2, min(UPPER_LENGTH * scale, 0.6 * gap), scale, teeth, down=True)
    lower_length = min(LOWER_LENGTH * scale, 0.25 * gap)
    if lower_length >= 1.5:
        _tooth_row(canvas, middle, lower_y, (right - left) / 2 * 0.8, lower_length, scale * 0.8, teeth * 0.82, down=False)
    return canvas


def _cavity(inner: np.ndarray, size: tuple[int, int], lips: np.ndarray) -> np.ndarray:
    """Dark red-brown, lighter just inside the lips and darkest at the back of the mouth."""
    mask = np.zeros(size, np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    depth = depth / max(float(depth.max()), 1.0)
    shade = (0.45 - 0.33 * np.sqrt(depth))[..., None]
    return (lips * shade).astype(np.float32)


def _tongue(canvas: np.ndarray, middle: float, lower_y: float, half_width: float, height: float, lips: np.ndarray) -> None:
    ys, xs = np.mgrid[0:canvas.shape[0], 0:canvas.shape[1]].astype(np.float32)
    inside = ((xs - middle) / half_width) ** 2 + ((ys - lower_y) / max(height, 1.0)) ** 2
    cover = np.clip((1 - inside) * 3, 0, 1)[..., None]
    # lit from above: brighter at its top, falling into shade at the back
    lit = np.clip(1 - (ys - (lower_y - height)) / (2 * max(height, 1.0)), 0.0, 1.0)[..., None]
    colour = lips * 0.7 * (0.55 + 0.45 * lit)
    canvas[:] = canvas * (1 - cover) + colour * cover


def _tooth_row(canvas: np.ndarray, middle: float, lip_y: float, half_span: float, length: float, scale: float,
               enamel: np.ndarray, down: bool) -> None:
    """Teeth from the lip line (down for the upper row, up for the lower), from the middle out to `half_span` each side.

    The row is one surface: its length and light fall smoothly round the arch, so neighbouring teeth meet without a
    gap or a step; each tooth only rounds its own face (a faint line where two meet) and the corners of its edge."""
    ys, xs = np.mgrid[0:canvas.shape[0], 0:canvas.shape[1]].astype(np.float32)
    depth = np.clip(np.abs(xs - middle) / max(half_span, 1.0), 0, 1)  # further round the arch: further back, darker
    row_length = np.maximum(length * (1 - 0.35 * depth), 1.0)
    along = (ys - lip_y) / row_length if down else (lip_y - ys) / row_length
    face, edge = np.ones_like(xs), np.ones_like(xs)
    (narrow, faint), (wide, plain) = TOOTH_SIDE
    side_light = float(np.interp(UPPER_TEETH[0] * scale, (narrow, wide), (faint, plain)))
    reach = {}
    for side in (-1, 1):
        x = middle
        for number, share in enumerate(UPPER_TEETH):
            width = share * scale
            if abs(x - middle) > half_span * 0.95:
                break
            across = (xs - (x + side * width / 2)) / (0.5 * width)
            mine = np.abs(across) <= 1
            face[mine] = side_light + (1 - side_light) * np.sqrt(1 - across[mine] ** 2)
            edge[mine] = (1 - 0.12 * across[mine] ** 4) * (0.94 if number == 1 else 1.0)
            x += side * width
        reach[side] = x
    inside = np.clip(np.minimum(xs - reach[-1], reach[1] - xs) + 0.5, 0, 1)
    cover = (np.clip((edge - along) * row_length, 0, 1) * (along > -0.5) * inside)[..., None]
    light = (1 - 0.45 * depth ** 1.5) * face * (1 - 0.18 * np.clip(along, 0, 1))  # the biting edge is a touch translucent
    canvas[:] = canvas * (1 - cover) + enamel * light[..., None] * cover


def _grain_and_blur(frame: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """The photo's grain (std of fine detail on the cheek, grey levels) and a blur radius matching its sharpness."""
    iod = float(layout.inter_ocular(points))
    cheek = points[[2, 3, 31, 48]].mean(axis=0)
    half = max(3, int(0.08 * iod))
    x, y = np.round(cheek).astype(int)
    patch = frame[max(y - half, 0):y + half, max(x - half, 0):x + half].astype(np.float32).mean(axis=2)
    if patch.size < 16:
        return 0.0, 0.0
    fine = patch - cv2.GaussianBlur(patch, (0, 0), 1.0)
    grain = float(np.clip(fine.std(), 0.0, 8.0))
    # Sharp photos keep edges; soft ones (small faces, old photos) get the teeth blurred to match their lips' edges.
    sharpness = _lip_sharpness(frame, points)
    blur = float(np.clip(1.6 - sharpness / 4.0, 0.0, 1.4)) * iod / 160.0 + 0.4
    return grain, blur


def _lip_sharpness(frame: np.ndarray, points: np.ndarray) -> float:
    """Mean absolute Laplacian over the lips' box (4.0 for an empty box). Filtered on that box only, with a margin
    wider than the filters reach, so the figure is the one the whole frame would give."""
    x0, y0 = np.floor(points[layout.OUTER_LIPS].min(axis=0)).astype(int)
    x1, y1 = np.ceil(points[layout.OUTER_LIPS].max(axis=0)).astype(int)
    if not (x1 > x0 and y1 > y0):
        return 4.0
    left, top = max(x0 - FILTER_MARGIN, 0), max(y0 - FILTER_MARGIN, 0)
    lips = frame[top:y1 + FILTER_MARGIN, left:x1 + FILTER_MARGIN].astype(np.float32).mean(axis=2)
    edges = cv2.Laplacian(cv2.GaussianBlur(lips, (0, 0), 0.5), cv2.CV_32F)
    return float(np.abs(edges[max(y0, 0) - top:y1 - top, max(x0, 0) - left:x1 - left]).mean())
