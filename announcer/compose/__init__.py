"""Stage 7a, compose: the presenter's frames placed on a broadcast canvas (16:9, 9:16, 1:1, 4:5), with graphics.

The presenter's own frame sits in a box on a background (a colour, an image or a looping video), at a chosen side and
scale: a framed picture-in-picture; or, with `cutout`, the presenter alone, cut out of their frame by the selfie
segmenter (compose.cutout) and standing on the picture's bottom edge. The lower third and the logo (compose.graphics)
go over whatever is delivered, canvas or not.

>>> canvas = Canvas.for_layout(LayoutConfig(aspect="16:9", short_side=1080), presenter_size=(972, 972))
>>> canvas.size, canvas.box
((1920, 1080), (474, 54, 972, 972))
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..config import ASPECTS, LayoutConfig
from ..errors import InputError
from ..media.images import refuse_huge_image
from .backdrop import VIDEO_SUFFIXES, BackgroundVideo
from .bookends import Bookend, load_bookend
from .captions import BurnedCaptions
from .graphics import OnScreenText, Overlay, graphics_file, overlays, rgb


PORTRAIT_CAPTION_ROOM = 0.17
"""On a portrait canvas the presenter stands this far (a share of the shorter side) above the bottom margin, so two
lines of captions fit below the face instead of over the chin."""


@dataclass(frozen=True)
class Canvas:
    size: tuple[int, int]
    """(width, height) of the delivered picture."""
    box: tuple[int, int, int, int]
    """(x, y, width, height) where the presenter's frame goes."""
    background: np.ndarray | None
    """(height, width, 3) uint8: everything the presenter's box does not cover, its border drawn in; None where a
    video is behind the presenter."""
    video: BackgroundVideo | None = None
    """A looping video behind the presenter, frame by frame; None: the still `background`."""
    cutout: bool = False
    """The presenter is laid over the background through a matte, not as a box."""
    border: tuple[int, tuple[int, int, int]] | None = None

    @staticmethod
    def for_layout(layout: LayoutConfig, presenter_size: tuple[int, int], base: Path | None = None,
                   fps: int = 25) -> "Canvas":
        """`presenter_size`: the (width, height) the presenter is rendered at. `base`: the folder a background
        image's or video's relative path starts from (the script's). `fps`: the clip's, for a video background."""
        size = canvas_size(layout)
        box = presenter_box(layout, size, presenter_size)
        path = background_file(layout.background, base)
        video = BackgroundVideo(path, size, fps) if path is not None and path.suffix.lower() in VIDEO_SUFFIXES else None
        background = None if video else _background(layout.background, path, size)
        border = (layout.border_px, rgb(layout.border_colour, "border_colour")) if layout.border_px and not layout.cutout else None
        if border and video is None:
            _draw_border(background[None], box, border)
        return Canvas(size, box, background, video, layout.cutout, border)

    def place(self, frames: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """(n, h, w, 3) presenter frames -> (n, canvas height, canvas width, 3); with a cut-out, laid over the
        background through `alpha` ((n, h, w) in [0, 1]). A video background advances by n frames."""
        x, y, width, height = self.box
        if frames.shape[1:3] != (height, width):
            frames = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames])
            if alpha is not None:
                alpha = np.stack([cv2.resize(a, (width, height), interpolation=cv2.INTER_AREA) for a in alpha])
        if self.video is not None:
            out = self.video.read(len(frames))
            if self.border:
                _draw_border(out, self.box, self.border)
        else:
            out = np.repeat(self.background[None], len(frames), axis=0)
        if self.cutout and alpha is not None:
            _lay_over(out[:, y:y + height, x:x + width], frames, alpha)
        else:
            out[:, y:y + height, x:x + width] = frames
        return out

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


def compose(frames: np.ndarray, canvas: Canvas | None, graphics, first_frame: int, fps: float,
            cutout: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """A batch of the presenter's frames as delivered: on the canvas (if any; a cut-out canvas lays `cutout`, the
    presenter's cleaned colours and matte, over its background), with the graphics that show at each frame's time.
    `first_frame`: the batch's first frame number in the clip."""
    if canvas is None and not graphics:
        return frames
    if canvas is not None and canvas.cutout and cutout is not None:
        out = canvas.place(*cutout)
    else:
        out = canvas.place(frames) if canvas is not None else frames.copy()  # the renderer may reuse its buffer
    for k, frame in enumerate(out):
        for overlay in graphics:
            overlay.blend(frame, (first_frame + k) / fps)
    return out


def face_region(landmarks: np.ndarray, presenter_size: tuple[int, int], canvas: Canvas | None) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) on the delivered picture that the presenter's face covers at some point in the
    clip (brows to chin, with a little room), or None where no face was tracked."""
    points = landmarks.reshape(-1, 2)
    points = points[~np.isnan(points).any(axis=1)]
    if not len(points):
        return None
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    room = 0.1 * (bottom - top)
    left, top, right, bottom = left - room, top - 2 * room, right + room, bottom + room
    if canvas is not None:
        x, y, width, height = canvas.box
        sx, sy = width / presenter_size[0], height / presenter_size[1]
        left, right, top, bottom = x + left * sx, x + right * sx, y + top * sy, y + bottom * sy
    return int(left), int(top), int(np.ceil(right)), int(np.ceil(bottom))


def graphics_entries(graphics: list, offset_s: float = 0.0) -> dict:
    """Where and when each graphic shows, for the manifest; times in the delivered clip, which may start `offset_s`
    before the presenter does (an intro)."""
    entries: dict = {"overlays": [], "captions": []}
    for graphic in graphics:
        if isinstance(graphic, BurnedCaptions):
            entries["captions"] = [{**box, "from_s": _later(box["from_s"], offset_s), "to_s": _later(box["to_s"], offset_s)}
                                   for box in graphic.boxes()]
        else:
            entries["overlays"].append({"x": graphic.x, "y": graphic.y, "width": graphic.rgba.shape[1],
                                        "height": graphic.rgba.shape[0], "from_s": _later(graphic.start_s, offset_s),
                                        "to_s": _later(graphic.end_s, offset_s)})
    return entries


def _later(seconds: float | None, offset_s: float) -> float | None:
    return None if seconds is None else round(seconds + offset_s, 3)


def canvas_size(layout: LayoutConfig) -> tuple[int, int]:
    across, down = ASPECTS[layout.aspect]
    short = _even(layout.short_side)
    return (_even(short * across / down), short) if across >= down else (short, _even(short * down / across))


def presenter_box(layout: LayoutConfig, canvas: tuple[int, int], presenter: tuple[int, int]) -> tuple[int, int, int, int]:
    """The presenter's frame scaled to `scale` of the canvas height (and never wider or taller than the canvas less
    its margins), on the chosen side, resting on the bottom margin. On a portrait canvas it stands a little higher,
    clear of the captions, and the top stays free for graphics. A cut-out presenter stands on the bottom edge."""
    canvas_w, canvas_h = canvas
    margin = _even(min(canvas) * layout.margin)
    floor = margin + (_even(min(canvas) * PORTRAIT_CAPTION_ROOM) if canvas_h > canvas_w else 0)
    if layout.cutout:
        floor = 0  # a cut-out presenter stands on the picture's edge, as in a studio shot: no floating torso
    fit = min(layout.scale * canvas_h / presenter[1], (canvas_w - 2 * margin) / presenter[0],
              (canvas_h - margin - floor) / presenter[1])
    width, height = _even(presenter[0] * fit), _even(presenter[1] * fit)
    x = {"left": margin, "centre": (canvas_w - width) // 2, "right": canvas_w - margin - width}[layout.position]
    return _even(x), _even(canvas_h - floor - height), width, height


def presenter_height(layout: LayoutConfig, presenter: tuple[int, int]) -> int:
    """The height to render the presenter at, so the box needs no scaling (sharper, and faster)."""
    return presenter_box(layout, canvas_size(layout), presenter)[3]


def height_for_layouts(layouts, presenter: tuple[int, int]) -> int | None:
    """The presenter's height the tallest box of `layouts` shows (rendering more lines than are shown costs time, and
    scaling each delivered frame down instead costs more); None when one delivers the presenter's own frame."""
    if any(layout.aspect is None for layout in layouts):
        return None
    needed = max(presenter_height(layout, presenter) for layout in layouts)
    return needed if needed < presenter[1] - 2 else None


def background_file(spec: str, base: Path | None) -> Path | None:
    """The background's image or video file (relative paths start at `base`); None for a colour."""
    if spec.startswith("#"):
        return None
    path = Path(spec).expanduser()
    return path if path.is_absolute() or base is None else base / path


def _background(spec: str, path: Path | None, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if path is None:
        return np.full((height, width, 3), rgb(spec, "background"), np.uint8)
    if path.is_file():
        refuse_huge_image(path, "the background image")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if image is None:
        raise InputError("background is neither a colour (#rrggbb), a readable image nor a video", path=path,
                         fix="give a colour such as '#102a43', a JPEG or PNG, or an MP4")
    return _cover(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), size)


def _lay_over(region: np.ndarray, frames: np.ndarray, alpha: np.ndarray) -> None:
    """`frames` over `region` (both (n, h, w, 3) uint8) through `alpha` ((n, h, w) float32), in place."""
    for k in range(len(frames)):
        region[k] = cv2.blendLinear(frames[k], np.ascontiguousarray(region[k]), alpha[k], 1 - alpha[k])


def _draw_border(frames: np.ndarray, box: tuple[int, int, int, int], border: tuple[int, tuple[int, int, int]]) -> None:
    """The frame around the presenter's box, drawn into (n, h, w, 3) `frames` (the box itself is covered after)."""
    x, y, width, height = box
    b, colour = border
    frames[:, max(y - b, 0):y + height + b, max(x - b, 0):x + width + b] = colour


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scaled to cover the canvas, cut to it from the middle (as CSS's background-size: cover)."""
    width, height = size
    scale = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(image, (max(width, round(image.shape[1] * scale)), max(height, round(image.shape[0] * scale))),
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    top, left = (scaled.shape[0] - height) // 2, (scaled.shape[1] - width) // 2
    return np.ascontiguousarray(scaled[top:top + height, left:left + width])


def _even(value: float) -> int:
    """H.264 in yuv420p needs even sizes and offsets."""
    return max(2, int(round(value / 2)) * 2)


__all__ = ["Bookend", "BurnedCaptions", "Canvas", "background_file", "graphics_file", "OnScreenText", "Overlay", "canvas_size", "compose", "face_region", "graphics_entries", "load_bookend", "overlays",
           "presenter_box", "presenter_height"]
