"""The tone sheet for people who review clips: one frame from each sentence, its face at 1:1, with the tone it was read
in and what MediaPipe reads on that frame (smile and brows), so a reviewer sees at a glance that the deaths were not
read with a smile."""
from __future__ import annotations

import cv2
import numpy as np

from ..face import layout
from ..face.meter import BROW_CHANNELS, FaceMeter
from ..script import Script
from ..script.tone import script_tones
from ..timeline import TimedUnit
from .closeups import BACKGROUND, GAP

COLUMNS = 4
FACE_HEIGHT = 220
LABEL_LINES = 2
LINE_HEIGHT = 16
TEXT_COLUMNS = 38
SPAN = (0.4, 0.85)
"""Each sentence is shown from this far through it to this far: past the ease from the last tone, before the pause."""
TONE_COLOURS = {"warm": (120, 200, 120), "neutral": (210, 210, 210), "grave": (230, 110, 110), "urgent": (235, 180, 80)}


def sentence_frames(captions: list[TimedUnit], fps: float, n_frames: int, openings: np.ndarray | None = None) -> list[int]:
    """The frame (of the presenter's, counted from 0) shown for each sentence: in the middle of its SPAN, the one
    whose mouth is most nearly shut (`openings`: the planned opening per frame), where the smile reads best."""
    shown = []
    for caption in captions:
        first, last = (min(int((caption.start + share * (caption.end - caption.start)) * fps), n_frames - 1)
                       for share in SPAN)
        if openings is None or last <= first:
            shown.append(first)
        else:
            shown.append(first + int(np.argmin(openings[first:last + 1])))
    return shown


def tone_sheet_for(script: Script | None, tone_setting: str | None, kept: dict, landmarks: np.ndarray, shown: list[int],
                   meter: FaceMeter) -> bytes | None:
    """The sheet of a rendered clip: `kept` holds its presenter frames by index, `shown` the one for each sentence;
    None without a script to label them."""
    if script is None or len(shown) != len(script.segments):
        return None
    readings = meter.read(np.stack([kept[frame] for frame in shown]))
    tones = [heard.tone for heard in script_tones(script, tone_setting)]
    return tone_sheet_png(kept, landmarks, shown, tones, [segment.display for segment in script.segments],
                          readings.smile, readings.score(*BROW_CHANNELS))


def tone_sheet_png(frames, landmarks: np.ndarray, shown: list[int], tones: list[str], texts: list[str],
                   smiles: np.ndarray, brows: np.ndarray) -> bytes:
    """`frames` by index (an array, or a dict of the frames kept); `landmarks` (N, 68, 2) place the face crops;
    `smiles` and `brows`: MediaPipe's readings on the shown frames (NaN where no face was read)."""
    box = _face_box(landmarks[shown])
    tiles = [_tile(frames[frame], box, tone, text, smile, brow, number)
             for number, (frame, tone, text, smile, brow) in enumerate(zip(shown, tones, texts, smiles, brows, strict=True), 1)]
    size = max(tile.shape[0] for tile in tiles), max(tile.shape[1] for tile in tiles)
    rows = [_side_by_side(tiles[k:k + COLUMNS], size) for k in range(0, len(tiles), COLUMNS)]
    sheet = np.concatenate([np.pad(row, ((0, GAP), (0, 0), (0, 0)), constant_values=BACKGROUND) for row in rows])
    ok, data = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("could not encode the tone sheet")
    return data.tobytes()


def _face_box(points: np.ndarray) -> tuple[int, int, int, int]:
    """One box for every shown frame: the face with room for the head's turns."""
    iod = float(np.median(layout.inter_ocular(points)))
    low, high = points.reshape(-1, 2).min(axis=0) - 0.35 * iod, points.reshape(-1, 2).max(axis=0) + 0.35 * iod
    return int(low[0]), int(low[1] - 0.3 * iod), int(high[0]), int(high[1])


def _tile(frame: np.ndarray, box, tone: str, text: str, smile: float, brow: float, number: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    height, width = frame.shape[:2]
    crop = frame[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    scale = FACE_HEIGHT / max(crop.shape[0], 1)
    face = cv2.resize(crop, (max(int(crop.shape[1] * scale), 1), FACE_HEIGHT),
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    label = np.full((LINE_HEIGHT * (LABEL_LINES + 1) + 4, max(face.shape[1], 260), 3), BACKGROUND, np.uint8)
    readings = f"smile {smile:.2f}  brows {brow:.2f}" if np.isfinite(smile) else "no face read"
    cv2.putText(label, f"{number}. {tone}   {readings}", (4, LINE_HEIGHT - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                TONE_COLOURS.get(tone, (230, 230, 230)), 1, cv2.LINE_AA)
    for line, words in enumerate(_wrapped(text)):
        cv2.putText(label, words, (4, LINE_HEIGHT * (line + 2) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (220, 220, 220), 1,
                    cv2.LINE_AA)
    face = np.pad(face, ((0, 0), (0, label.shape[1] - face.shape[1]), (0, 0)), constant_values=BACKGROUND)
    return np.concatenate([face, label])


def _wrapped(text: str) -> list[str]:
    """The sentence in at most LABEL_LINES lines (ASCII only: OpenCV's font has no other letters)."""
    ascii_text = text.encode("ascii", "replace").decode()
    lines, current = [], ""
    for word in ascii_text.split():
        if len(current) + len(word) + 1 > TEXT_COLUMNS and current:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][:TEXT_COLUMNS - 3] + "..."
    return lines


def _side_by_side(tiles: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """One row of COLUMNS tiles, each padded to `size` (height, width), blank where the row runs out."""
    height, width = size
    padded = [np.pad(t, ((0, height - t.shape[0]), (0, width - t.shape[1]), (0, 0)), constant_values=BACKGROUND)
              for t in tiles]
    padded += [np.full((height, width, 3), BACKGROUND, np.uint8)] * (COLUMNS - len(tiles))
    spacer = np.full((height, GAP, 3), BACKGROUND, np.uint8)
    parts = []
    for tile in padded:
        parts += [tile, spacer]
    return np.concatenate(parts[:-1], axis=1)


__all__ = ["sentence_frames", "tone_sheet_for", "tone_sheet_png"]
