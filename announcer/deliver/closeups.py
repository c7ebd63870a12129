"""The close-up sheet for people who review clips: eyes and mouths at 1:1 and at 2x, at the moments that show most.

Each row is one frame: a label, then the eyes and the mouth cropped at 1:1 and again enlarged 2x
(nearest neighbour, so every pixel stays visible). Given reference frames too (evaluation), each
crop of the generated frame sits beside the same crop of the real one.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import layout

MOST_OPEN = 3
"""Rows for the widest mouths."""
GAP = 6
LABEL_HEIGHT = 18
BACKGROUND = 32


@dataclass(frozen=True)
class Moment:
    frame: int
    label: str


def pick_moments(landmarks: np.ndarray, blink: np.ndarray | None = None, fps: float = 25.0,
                 openings: np.ndarray | None = None, first_frame: int = 0) -> list[Moment]:
    """The widest-open mouths (apart from each other by a quarter second) and the deepest blink. `openings` replaces
    the landmarks' own (a render knows its planned mouth); labels count time from `first_frame`."""
    openings = layout.mouth_opening(landmarks) if openings is None else openings
    moments, apart = [], max(1, int(fps / 4))
    for index in np.argsort(-openings):
        if len(moments) == MOST_OPEN:
            break
        if all(abs(int(index) - m.frame) >= apart for m in moments):
            moments.append(Moment(int(index), f"{(first_frame + index) / fps:.2f} s, mouth open {openings[index]:.2f}"))
    moments.sort(key=lambda m: m.frame)
    if blink is not None and blink.max() > 0.5:
        deepest = int(np.argmax(blink))
        moments.append(Moment(deepest, f"{(first_frame + deepest) / fps:.2f} s, blink {blink[deepest]:.2f}"))
    return moments


def closeup_sheet(frames, landmarks: np.ndarray, moments: list[Moment], reference: np.ndarray | None = None,
                  names: tuple[str, str] = ("real", "generated")) -> np.ndarray:
    """(H, W, 3) uint8 RGB: one row per moment; `frames` by index (an array, or a dict of the frames kept), `landmarks`
    (N, 68, 2) place the crops; `reference` frames go beside, on the left, and `names` say which is which."""
    iod = float(np.median(layout.inter_ocular(landmarks)))
    rows = [_row(frames, landmarks, m, iod, reference, names) for m in moments]
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, GAP), (0, width - row.shape[1]), (0, 0)), constant_values=BACKGROUND) for row in rows]
    return np.concatenate(rows)


def closeup_png(frames, landmarks: np.ndarray, moments: list[Moment], reference: np.ndarray | None = None,
                names: tuple[str, str] = ("real", "generated")) -> bytes:
    sheet = closeup_sheet(frames, landmarks, moments, reference, names)
    ok, data = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("could not encode the close-up sheet")
    return data.tobytes()


def _row(frames, landmarks, moment: Moment, iod: float, reference, names: tuple[str, str]) -> np.ndarray:
    points = landmarks[moment.frame]
    eyes = _box(points[np.concatenate([layout.RIGHT_EYE, layout.LEFT_EYE, layout.BROWS])], 0.18 * iod)
    mouth = _box(points[np.concatenate([layout.LIPS, layout.JAW[5:12]])], 0.1 * iod)
    tiles = []
    for box in (eyes, mouth):
        crops = [_crop(frames[moment.frame], box)]
        if reference is not None:
            crops.insert(0, _crop(reference[moment.frame], box))
        pair = _side_by_side(crops)
        tiles += [pair, cv2.resize(pair, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)]
    height = max(tile.shape[0] for tile in tiles)
    body = _side_by_side([np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=BACKGROUND) for t in tiles])
    label = np.full((LABEL_HEIGHT, body.shape[1], 3), BACKGROUND, np.uint8)
    text = moment.label + (f"   ({names[0]} | {names[1]})" if reference is not None else "") + "   1:1 and 2x"
    cv2.putText(label, text, (4, LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA)
    return np.concatenate([label, body])


def _box(points: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int)
    return x0, y0, x1, y1


def _crop(frame: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    height, width = frame.shape[:2]
    crop = frame[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    return np.pad(crop, ((max(-y0, 0), max(y1 - height, 0)), (max(-x0, 0), max(x1 - width, 0)), (0, 0)),
                  constant_values=BACKGROUND)


def _side_by_side(images: list[np.ndarray]) -> np.ndarray:
    spacer = np.full((images[0].shape[0], GAP, 3), BACKGROUND, np.uint8)
    parts = []
    for image in images:
        parts += [image, spacer]
    return np.concatenate(parts[:-1], axis=1)
