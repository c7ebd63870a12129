"""Captions burned into the picture: the same cues as the clip's .srt (two lines at most, broken between words),
centred low in the safe area on a box, shown exactly from each cue's start to its end.

Each cue is drawn when it first shows and kept only while it does, so a long clip holds one drawn cue at a time.
"""
from __future__ import annotations

import numpy as np

from ..config import GraphicsConfig
from ..media.subtitles import readable_cues
from ..timeline import TimedUnit
from .graphics import Overlay, font_for_text, rgb


class BurnedCaptions:
    """Blends the cue showing at each moment into a frame (the Overlay interface: `blend(frame, t)`)."""

    def __init__(self, captions: list[TimedUnit], config: GraphicsConfig, size: tuple[int, int]):
        self.cues = readable_cues(captions)
        self.config = config
        self.size = size
        self._showing: tuple[int, Overlay] | None = None
        self._font = self._fitting_font()

    def _fitting_font(self):
        """The caption font at `caption_size`, or smaller where the widest line would not fit inside the margins."""
        weight = "bold" if self.config.caption_bold else "regular"
        everything = "".join(cue.label for cue in self.cues)
        size = round(min(self.size) * self.config.caption_size)
        font = font_for_text(weight, self.config.font, everything, size)
        lines = [line for cue in self.cues for line in cue.label.split("\n")]
        widest = max((font.getbbox(line)[2] for line in lines), default=0)
        room = self.size[0] - 2 * round(min(self.size) * 0.08)
        return font if widest <= room else font_for_text(weight, self.config.font, everything, int(size * room / widest))

    def blend(self, frame: np.ndarray, t: float) -> None:
        index = next((k for k, cue in enumerate(self.cues) if cue.start <= t < cue.end), None)
        if index is None:
            return
        if self._showing is None or self._showing[0] != index:
            self._showing = (index, self._drawn(self.cues[index]))
        self._showing[1].blend(frame, t)

    def boxes(self) -> list[dict]:
        """Where and when each cue shows, for the manifest (measured, not drawn)."""
        return [{"text": cue.label, **self._place(self._measure(cue.label)[4:]), "from_s": round(cue.start, 3),
                 "to_s": round(cue.end, 3)} for cue in self.cues]

    def _drawn(self, cue: TimedUnit) -> Overlay:
        picture = self._picture(cue.label)
        place = self._place(picture.shape[:2][::-1])
        return Overlay(picture, place["x"], place["y"], cue.start, cue.end, fade_s=0.0)

    def _measure(self, text: str) -> tuple[list[str], list[tuple], int, int, int, int]:
        """(lines, each line's bounding box, line height, padding, box width, box height) of a cue on its box."""
        lines = text.split("\n")
        pad = round(min(self.size) * 0.015)
        boxes = [self._font.getbbox(line) for line in lines]
        line_h = round(self._font.size * 1.25)
        width = max(box[2] for box in boxes) + 2 * pad
        height = line_h * len(lines) + 2 * pad - (line_h - self._font.size)
        return lines, boxes, line_h, pad, width, height

    def _picture(self, text: str) -> np.ndarray:
        from PIL import Image, ImageDraw

        config = self.config
        lines, boxes, line_h, pad, width, height = self._measure(text)
        picture = Image.new("RGBA", (width, height), (*rgb(config.caption_box_colour), round(255 * config.caption_box_opacity)))
        draw = ImageDraw.Draw(picture)
        for k, (line, box) in enumerate(zip(lines, boxes, strict=True)):
            draw.text(((width - box[2]) // 2, pad + k * line_h), line, font=self._font, fill=(*rgb(config.caption_colour), 255))
        return np.asarray(picture)

    def _place(self, box_size: tuple[int, int]) -> dict:
        """Centred low in the safe area, for a box of (width, height)."""
        width, height = self.size
        margin = round(min(self.size) * 0.05)
        return {"x": (width - box_size[0]) // 2, "y": height - margin - box_size[1], "width": box_size[0],
                "height": box_size[1]}


__all__ = ["BurnedCaptions"]
