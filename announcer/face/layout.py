"""The canonical landmark layout: the 68-point iBUG scheme that face-alignment uses.

MediaPipe's 478-point mesh is mapped onto it, so every later stage sees one layout.
Points are (x, y) pixels, arrays shaped (..., 68, 2).
"""
from __future__ import annotations

import numpy as np

# MediaPipe Face Mesh index for each iBUG-68 point.
MEDIAPIPE_TO_IBUG68 = np.array([
    127, 234, 93, 132, 58, 172, 136, 150, 152, 377, 365, 397, 288, 361, 323, 454, 356,  # jaw 0-16
    70, 63, 105, 66, 107,                                                               # right brow 17-21
    336, 296, 334, 293, 300,                                                            # left brow 22-26
    168, 197, 5, 4, 75, 97, 2, 326, 305,                                                # nose 27-35
    33, 160, 158, 133, 153, 144,                                                        # right eye 36-41
    362, 385, 387, 263, 373, 380,                                                       # left eye 42-47
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,                                # outer lips 48-59
    78, 82, 13, 312, 308, 317, 14, 87,                                                  # inner lips 60-67
])

FACE_DEPTH = np.array([
    -0.88, -0.96, -1.00, -0.98, -0.90, -0.76, -0.60, -0.34, -0.19, -0.34, -0.60, -0.76, -0.90, -0.98, -1.00, -0.96, -0.88,  # jaw
    -0.08, 0.06, 0.16, 0.26, 0.30, 0.30, 0.26, 0.16, 0.06, -0.08,  # brows
    0.26, 0.39, 0.55, 0.58, 0.23, 0.25, 0.28, 0.25, 0.23,  # nose
    -0.08, 0.02, 0.05, -0.00, 0.02, -0.00, -0.00, 0.05, 0.02, -0.08, -0.00, 0.02,  # eyes
    -0.06, 0.19, 0.25, 0.26, 0.25, 0.19, -0.06, 0.08, 0.12, 0.12, 0.12, 0.08,  # outer lips
    -0.03, 0.15, 0.16, 0.15, -0.03, 0.12, 0.13, 0.12,  # inner lips
], np.float32)
"""How far each point stands out towards the camera from the eyes' plane, in inter-ocular distances: MediaPipe's
depth for the 68 points, averaged over the six shared portraits and made symmetric (no point differs by more than
0.21 between them). It turns a photo's face a few degrees in 3D (generate.targets)."""

JAW = np.arange(0, 17)
BROWS = np.arange(17, 27)
NOSE = np.arange(27, 36)
RIGHT_EYE = np.arange(36, 42)
LEFT_EYE = np.arange(42, 48)
OUTER_LIPS = np.arange(48, 60)
INNER_LIPS = np.arange(60, 68)
LIPS = np.arange(48, 68)
CHEEKS_AND_NOSE_BASE = np.array([1, 2, 3, 31, 35, 13, 14, 15])
JAW_LINE = np.arange(2, 15)
LOWER_JAW = np.arange(5, 12)
"""The jaw points that follow the chin as the mouth opens."""
"""The jaw without its top ends (those sit beside the ears)."""
NOSE_BRIDGE_LOW = np.arange(29, 36)
NOSE_BASE = np.arange(31, 36)
UPPER_INNER_LIP, LOWER_INNER_LIP = np.array([61, 62, 63]), np.array([67, 66, 65])
"""The middle three points of each inner lip, paired across the mouth."""
UPPER_OUTER_LIP, LOWER_OUTER_LIP = np.arange(49, 54), np.arange(55, 60)
"""Each outer lip without the corners."""
OF_INNER_LIPS_UPPER, OF_INNER_LIPS_LOWER = [1, 2, 3], [5, 6, 7]
"""The same middle points as positions among the eight INNER_LIPS (for arrays of inner lips alone)."""
OF_EYE_UPPER_LID, OF_EYE_LOWER_LID = [0, 1, 2, 3], [0, 5, 4, 3]
"""Each lid from the outer corner to the inner one, as positions among an eye's six points (RIGHT_EYE, LEFT_EYE)."""
"""Jaw points beside the cheeks and the nose's base: bare skin, for the face's skin colour."""
UPPER_FACE = np.concatenate([BROWS, NOSE[:4], RIGHT_EYE, LEFT_EYE])
"""Points the mouth never moves: used to align frames and to check the face stayed intact."""
UPPER_LID_PAIRS = ((37, 41), (38, 40), (43, 47), (44, 46))
"""(upper lid point, the lower lid point below it) for both eyes."""
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
"""(upper inner lip point, the lower inner lip point below it)."""


def eye_centers(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points[..., RIGHT_EYE, :].mean(axis=-2), points[..., LEFT_EYE, :].mean(axis=-2)


def inter_ocular(points: np.ndarray) -> np.ndarray:
    right, left = eye_centers(points)
    return np.linalg.norm(left - right, axis=-1)


def mouth_opening(points: np.ndarray) -> np.ndarray:
    """Inner-lip gap divided by the inter-ocular distance: 0 closed, about 0.3 wide open."""
    gaps = [np.linalg.norm(points[..., lower, :] - points[..., upper, :], axis=-1) for upper, lower in INNER_LIP_PAIRS]
    return np.mean(gaps, axis=0) / inter_ocular(points)


def eye_opening(points: np.ndarray) -> np.ndarray:
    gaps = [np.linalg.norm(points[..., lower, :] - points[..., upper, :], axis=-1) for upper, lower in UPPER_LID_PAIRS]
    return np.mean(gaps, axis=0) / inter_ocular(points)


def face_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, x axis, y axis) of a face-aligned frame: origin between the eyes, unit = inter-ocular distance."""
    right, left = eye_centers(points)
    x_axis = left - right
    y_axis = np.stack([-x_axis[..., 1], x_axis[..., 0]], axis=-1)
    return (right + left) / 2, x_axis, y_axis


def to_face_coords(points: np.ndarray, frame) -> np.ndarray:
    origin, x_axis, y_axis = frame
    relative = points - origin[..., None, :]
    scale = (x_axis ** 2).sum(-1)[..., None]
    return np.stack([(relative * x_axis[..., None, :]).sum(-1) / scale, (relative * y_axis[..., None, :]).sum(-1) / scale], -1)


def from_face_coords(coords: np.ndarray, frame) -> np.ndarray:
    origin, x_axis, y_axis = frame
    return origin[..., None, :] + coords[..., :1] * x_axis[..., None, :] + coords[..., 1:] * y_axis[..., None, :]
