"""The face acting on top of speech, in face coordinates (one unit = the inter-ocular distance, y down): the smile a
tone asks for, the brows, and the head turned in 3D.

A smile lifts and widens the mouth corners with the lips beside them; taking a photo's smile away lowers them, down to
a neutral mouth. The lips move together, upper and lower alike, so a closure on p, b or m still closes. The head turns
about a pivot in the neck, the points standing out by layout.FACE_DEPTH, seen straight on (a few degrees need no
perspective). Every change is added as a difference that is exactly zero where nothing acts, so a still face renders
the same frames as before.
"""
from __future__ import annotations

import numpy as np

from ..face import layout
from ..motion import Acting

CORNERS = {48: -1, 54: 1, 60: -1, 64: 1}
"""Mouth corners and which way is outwards."""
NEAR_CORNERS = {49: 0.45, 53: 0.45, 59: 0.45, 55: 0.45, 61: 0.35, 63: 0.35, 67: 0.35, 65: 0.35, 50: 0.15, 52: 0.15,
                58: 0.15, 56: 0.15}
"""How much of the corners' lift the lips beside them follow (upper and lower alike)."""
WIDEN = 0.5
"""Each corner moves outwards by this share of its lift."""
SMILE_LIFTS = (-0.005, 0.04, 0.07)
"""Corner lift (inter-ocular units above the lips' middle) at smile 0, 0.5 and 1; a photo already lower (at 0, 0.5)
or higher (at 1, then by SMILE_GAIN more) keeps its own."""
SMILE_GAIN = 0.04
MAX_DROP = 0.09
BROW_RAISE = 0.1
"""A full brow raise, in inter-ocular units."""
BROW_INNER = {19: 1.1, 20: 1.15, 21: 1.1, 22: 1.1, 23: 1.15, 24: 1.1}
KNIT_DOWN, KNIT_IN, KNIT_POINTS = 0.03, 0.02, {20: -1, 21: -1, 22: 1, 23: 1}
"""A full knit lowers the inner brows this far and draws them together this far."""
PIVOT_Y, PIVOT_Z = 0.9, -1.0
"""The head turns about a point this far below and behind the eyes (inter-ocular units), near the top of the neck."""


def act(points: np.ndarray, neutral: np.ndarray, acting: Acting) -> np.ndarray:
    """(T, 68, 2) face coordinates with the acting applied."""
    points = points.copy()
    _smile(points, neutral, acting)
    _brows(points, acting.brow)
    return _turned(points, acting.head)


def corner_lift(points: np.ndarray) -> float:
    """How far the mouth corners sit above the middle of the closed lips (inter-ocular units; a smile is above 0.04)."""
    return float(points[[62, 66], 1].mean() - points[[48, 54], 1].mean())


def _smile(points: np.ndarray, neutral: np.ndarray, acting: Acting) -> None:
    own = corner_lift(neutral)
    anchors = np.array([min(own, SMILE_LIFTS[0]), min(own, SMILE_LIFTS[1]), max(own + SMILE_GAIN, SMILE_LIFTS[2])])
    wanted = np.interp(acting.smile, (0.0, 0.5, 1.0), anchors)
    lift = np.maximum((wanted - own) * acting.weight, -MAX_DROP)[:, None]
    for index, outwards in CORNERS.items():
        points[:, index, 1] -= lift[:, 0]
        points[:, index, 0] += outwards * WIDEN * lift[:, 0]
    for index, share in NEAR_CORNERS.items():
        points[:, index, 1] -= share * lift[:, 0]


def _brows(points: np.ndarray, brow: np.ndarray) -> None:
    raise_by, knit = np.maximum(brow, 0), np.maximum(-brow, 0)
    for index in layout.BROWS:
        points[:, index, 1] -= BROW_RAISE * BROW_INNER.get(int(index), 0.9) * raise_by
    for index, inwards in KNIT_POINTS.items():
        points[:, index, 1] += KNIT_DOWN * knit
        points[:, index, 0] -= inwards * KNIT_IN * knit
    for index in set(layout.BROWS.tolist()) - set(KNIT_POINTS):
        points[:, index, 1] += KNIT_DOWN / 3 * knit


def _turned(points: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Pitch (chin down positive) and yaw about the neck pivot; roll is left to the idle sway's 2D roll."""
    pitch, yaw = np.deg2rad(head[:, 0])[:, None], np.deg2rad(head[:, 1])[:, None]
    depth = layout.FACE_DEPTH[None, :] - PIVOT_Z
    down = points[..., 1] - PIVOT_Y
    turned = points.copy()
    turned[..., 1] += down * (np.cos(pitch) - 1) + depth * np.sin(pitch)
    depth_after_pitch = depth * np.cos(pitch) - down * np.sin(pitch)
    turned[..., 0] += points[..., 0] * (np.cos(yaw) - 1) + depth_after_pitch * np.sin(yaw)
    return _rolled(turned, head[:, 2])


def _rolled(points: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Roll about the nose tip, as a difference (exactly nothing at 0 degrees)."""
    angle = np.deg2rad(degrees)[:, None]
    relative = points - points[:, 30:31]
    rolled = points.copy()
    rolled[..., 0] += relative[..., 0] * (np.cos(angle) - 1) - relative[..., 1] * np.sin(angle)
    rolled[..., 1] += relative[..., 0] * np.sin(angle) + relative[..., 1] * (np.cos(angle) - 1)
    return rolled


__all__ = ["act", "corner_lift"]
