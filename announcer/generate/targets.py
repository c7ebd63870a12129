"""Where every landmark should be in each output frame, from the avatar's own face and the motion plan.

Work happens in face coordinates (origin between the eyes, one unit = inter-ocular distance),
so the same mouth shape fits any head size, position and roll.
"""
from __future__ import annotations

import numpy as np

from ..face import layout
from ..motion import MAX_GAP, Acting
from .acted import act

CLOSED_GAP = 0.008
CORNERS = np.array([48, 54, 60, 64])
JAW_DROP = dict(zip(layout.LOWER_JAW.tolist(), (0.25, 0.5, 0.7, 0.8, 0.7, 0.5, 0.25), strict=True))
"""How much of the lower lip's drop each jaw point follows."""


def closed_mouth(face_points: np.ndarray) -> np.ndarray:
    """The avatar's mouth shut: inner lips meet halfway, lower lip and jaw come up with them."""
    points = face_points.copy()
    upper, lower = points[layout.UPPER_INNER_LIP], points[layout.LOWER_INNER_LIP]
    middle = (upper + lower) / 2
    lift = float(np.mean(lower[:, 1] - middle[:, 1] - CLOSED_GAP / 2))
    drop = float(np.mean(middle[:, 1] - upper[:, 1] - CLOSED_GAP / 2))
    points[layout.UPPER_INNER_LIP, 1] = middle[:, 1] - CLOSED_GAP / 2
    points[layout.LOWER_INNER_LIP, 1] = middle[:, 1] + CLOSED_GAP / 2
    points[layout.UPPER_OUTER_LIP, 1] += max(drop, 0) * 0.5
    points[layout.LOWER_OUTER_LIP, 1] -= max(lift, 0)
    for index, share in JAW_DROP.items():
        points[index, 1] -= max(lift, 0) * share
    return points


def shaped_mouth(neutral: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """(T, 68, 2) face coordinates: the closed neutral face with each frame's mouth shape applied."""
    opening, wide, rounding = shape[:, 0, None], shape[:, 1, None], shape[:, 2, None]
    gap = opening * MAX_GAP
    points = np.repeat(neutral[None], len(shape), axis=0)
    points[:, layout.UPPER_INNER_LIP, 1] -= 0.22 * gap
    points[:, layout.UPPER_OUTER_LIP, 1] -= 0.15 * gap
    points[:, layout.LOWER_INNER_LIP, 1] += 0.78 * gap
    points[:, layout.LOWER_OUTER_LIP, 1] += 0.8 * gap
    points[:, CORNERS, 1] += 0.3 * gap
    for index, share in JAW_DROP.items():
        points[:, index, 1] += gap[:, 0] * share
    center_x = neutral[layout.LIPS, 0].mean()
    width_scale = 1 + 0.1 * wide - 0.16 * rounding
    points[:, layout.LIPS, 0] = center_x + (points[:, layout.LIPS, 0] - center_x) * width_scale
    return points


def plan_targets(landmarks: np.ndarray, plan) -> np.ndarray:
    """(T, 68, 2) pixel targets for a motion plan, on the avatar track `landmarks` (N, 68, 2).

    The neutral mouth is the avatar's most closed frame, shut completely; every mouth shape of the
    plan is applied to it, and the face acts on top (motion.acting).
    """
    reference = landmarks[int(np.argmin(layout.mouth_opening(landmarks)))]
    neutral = closed_mouth(layout.to_face_coords(reference[None], layout.face_frame(reference[None]))[0])
    return target_landmarks(landmarks[plan.source_frame], neutral, plan.mouth, plan.head, plan.acting)


def target_landmarks(source: np.ndarray, neutral: np.ndarray, mouth: np.ndarray, head: np.ndarray,
                     acting: Acting | None = None) -> np.ndarray:
    """(T, 68, 2) pixel targets. `source` is each output frame's avatar landmarks (T, 68, 2).

    The eyes stay open here: a blink is drawn over the warped frame by sliding the lids (generate.eyes)."""
    frame = layout.face_frame(source)
    face_coords = layout.to_face_coords(source, frame)
    shaped = shaped_mouth(neutral, mouth)
    moved = layout.LIPS.tolist() + list(JAW_DROP)
    face_coords[:, moved] = shaped[:, moved]
    if acting is not None:
        face_coords = act(face_coords, neutral, acting)
    face_coords = _sway(face_coords, head)
    return layout.from_face_coords(face_coords, frame).astype(np.float32)


def _sway(points: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Roll the face about the nose tip and shift it, all in face coordinates."""
    pivot = points[:, 30:31]
    angle = np.deg2rad(head[:, 0])[:, None]
    cos, sin = np.cos(angle), np.sin(angle)
    relative = points - pivot
    rotated = np.stack([cos * relative[..., 0] - sin * relative[..., 1], sin * relative[..., 0] + cos * relative[..., 1]], -1)
    return rotated + pivot + head[:, None, 1:3]
