"""On-screen graphics over the delivered picture: the presenter's lower third and the station's logo.

Each is drawn once (Pillow, with a font that holds every character of its text) and blended into each frame with an
opacity that follows its animation, so a clip pays for a small alpha blend per frame, not for drawing text.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import GraphicsConfig
from ..errors import InputError
from ..media.images import refuse_huge_image

FONT_CANDIDATES = {
    "bold": ["/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
             "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc"],
    "regular": ["/usr/share/fonts/truetype/nanum/NanumGothic.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"],
}
"""Fonts that hold Hangul and Latin: Debian's fonts-nanum (install.sh installs it), then Noto Sans CJK."""
FADE_S = 0.3


@dataclass(frozen=True)
class Overlay:
    """A pre-drawn RGBA picture, its place on the frame, and when it shows."""
    rgba: np.ndarray
    x: int
    y: int
    start_s: float
    end_s: float | None
    """None: to the end of the clip."""
    slide_px: int = 0
    """It slides in from this far left as it fades in (and back out as it fades out)."""
    fade_s: float = FADE_S
    """0: on and off at its times exactly (captions)."""

    def opacity(self, t: float) -> float:
        if t < self.start_s or (self.end_s is not None and t >= self.end_s):
            return 0.0
        if self.fade_s <= 0:
            return 1.0
        fade_in = min(1.0, (t - self.start_s) / self.fade_s)
        fade_out = 1.0 if self.end_s is None else min(1.0, (self.end_s - t) / self.fade_s)
        return _ease(min(fade_in, fade_out))

    def blend(self, frame: np.ndarray, t: float) -> None:
        """Into `frame` (H, W, 3 uint8), in place."""
        alpha = self.opacity(t)
        if alpha <= 0:
            return
        x = self.x - int(round(self.slide_px * (1 - alpha)))
        height, width = self.rgba.shape[:2]
        left, right = max(x, 0), min(x + width, frame.shape[1])
        if right <= left:
            return
        picture = self.rgba[:, left - x:right - x]
        weight = picture[..., 3:4].astype(np.float32) * (alpha / 255.0)
        region = frame[self.y:self.y + height, left:right]
        region[:] = (region * (1 - weight) + picture[..., :3] * weight + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class OnScreenText:
    """What the graphics say: the presenter's name and title (lower third) and the story's headline (strap)."""
    name: str | None = None
    title: str | None = None
    headline: str | None = None


def overlays(config: GraphicsConfig, size: tuple[int, int], text: OnScreenText, base: Path | None = None,
             face: tuple[int, int, int, int] | None = None, shelf: int | None = None) -> list[Overlay]:
    """The clip's graphics on a picture of `size` (width, height): a lower third where there is a name, the
    headline strap where there is a headline, and the logo where one is set. `face`: (left, top, right, bottom) the
    presenter's face covers, which no graphic may. `shelf`: the top row of the presenter's box on a canvas, where
    a band can sit clear of the picture."""
    chosen = []
    if config.lower_third and text.name:
        chosen.append(lower_third(config, size, text.name, text.title, face, shelf))
    mark = logo(config, size, base) if config.logo else None
    if text.headline:
        below = mark.y + mark.rgba.shape[0] if mark is not None and config.logo_corner == "top-left" else None
        chosen.append(headline_strap(config, size, text.headline, below))
    if mark is not None:
        chosen.append(mark)
    return chosen


def headline_strap(config: GraphicsConfig, size: tuple[int, int], headline: str, below: int | None = None) -> Overlay:
    """The story's headline in dark bold type on an accent-coloured strap, top left inside the safe margin (under a
    top-left logo), from when the lower third comes in to the end."""
    from PIL import Image, ImageDraw

    width, height = size
    unit = min(width, height)
    font = font_for_text("bold", config.font, headline, round(unit * 0.04))
    pad = round(unit * 0.015)
    box = font.getbbox(headline)
    margin = round(unit * 0.05)
    strap_w = min(width - 2 * margin, box[2] + 2 * pad)
    picture = Image.new("RGBA", (strap_w, box[3] + 2 * pad), (*rgb(config.accent_colour), 255))
    ImageDraw.Draw(picture).text((pad, pad), headline, font=font, fill=(*rgb(config.band_colour), 255))
    top = margin if below is None else below + pad
    return Overlay(np.asarray(picture), margin, top, config.lower_third_in_s, None, slide_px=round(unit * 0.04))


def lower_third(config: GraphicsConfig, size: tuple[int, int], name: str, title: str | None,
                face: tuple[int, int, int, int] | None = None, shelf: int | None = None) -> Overlay:
    """The name (bold) over the title, on a band with an accent bar, low on the left inside the safe area; moved
    above or below the presenter's face where it would cover it (a portrait canvas has room above)."""
    from PIL import Image, ImageDraw

    width, height = size
    unit = min(width, height)
    name_font = font_for_text("bold", config.font, name, round(unit * 0.052))
    title_font = font_for_text("regular", config.font, title or "", round(unit * 0.036))
    pad, bar = round(unit * 0.02), max(4, round(unit * 0.008))
    name_box = name_font.getbbox(name)
    title_box = title_font.getbbox(title) if title else (0, 0, 0, 0)
    text_w = max(name_box[2], title_box[2])
    band_w = min(width - 2 * round(unit * 0.05), max(text_w + 4 * pad + bar, round(unit * 0.5)))
    band_h = name_box[3] + (title_box[3] + pad // 2 if title else 0) + 2 * pad
    picture = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, band_w, band_h], fill=(*rgb(config.band_colour), round(255 * config.band_opacity)))
    draw.rectangle([0, 0, bar, band_h], fill=(*rgb(config.accent_colour), 255))
    draw.text((bar + pad, pad), name, font=name_font, fill=(*rgb(config.text_colour), 255))
    if title:
        draw.text((bar + pad, pad + name_box[3] + pad // 2), title, font=title_font, fill=(*rgb(config.title_colour), 255))
    margin = round(unit * 0.05)
    raised = round(unit * (0.19 if config.burn_captions else 0.12))  # clear of the captions' two lines
    y = _clear_of(face, margin, height - margin - raised - band_h, band_w, band_h, height, pad, shelf)
    return Overlay(np.asarray(picture), margin, y, config.lower_third_in_s,
                   config.lower_third_in_s + config.lower_third_for_s if config.lower_third_for_s else None,
                   slide_px=round(unit * 0.04))


def _clear_of(face, x: int, y: int, width: int, height: int, picture_height: int, gap: int,
              shelf: int | None = None) -> int:
    """`y`, or else the first of these rows where a band at (x, y, width, height) does not cover `face`: on
    `shelf` (the row just above the presenter's box on a canvas), above the face, below it."""
    if face is None:
        return y
    left, top, right, bottom = face
    margin = x  # the band's left edge sits on the safe margin
    candidates = [y, *([shelf - gap - height] if shelf is not None else []), top - gap - height, bottom + gap]
    for row in candidates:
        inside = margin <= row <= picture_height - margin - height
        if inside and (x + width <= left or x >= right or row + height <= top or row >= bottom):
            return row
    return y


def graphics_file(spec: str | None, base: Path | None) -> Path | None:
    """A logo's or font's file: relative paths start at `base` (the script's folder)."""
    if spec is None:
        return None
    path = Path(spec).expanduser()
    return path if path.is_absolute() or base is None else base / path


def logo(config: GraphicsConfig, size: tuple[int, int], base: Path | None = None) -> Overlay:
    """The logo scaled to `logo_height` of the picture's shorter side, in its corner inside the safe margin; shown
    for the whole clip."""
    from PIL import Image

    path = graphics_file(config.logo, base)
    if path.is_file():
        refuse_huge_image(path, "the logo")
    try:
        image = Image.open(path).convert("RGBA")
    except (OSError, ValueError) as error:
        raise InputError("logo is not a readable image", path=path, fix="give a PNG (with transparency) or a JPEG") from error
    x, y, box_w, box_h = logo_box(config, size, image.size)
    image = image.resize((box_w, box_h), Image.LANCZOS)
    return Overlay(np.asarray(image), x, y, 0.0, None)


def logo_box(config: GraphicsConfig, size: tuple[int, int], image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the logo on the picture."""
    width, height = size
    unit = min(width, height)
    box_h = max(8, round(unit * config.logo_height))
    box_w = max(8, round(image_size[0] * box_h / image_size[1]))
    margin = round(unit * 0.05)
    vertical, horizontal = config.logo_corner.split("-")
    x = margin if horizontal == "left" else width - margin - box_w
    y = margin if vertical == "top" else height - margin - box_h
    return x, y, box_w, box_h


def font_for_text(weight: str, chosen: str | None, text: str, size: int):
    """A Pillow font of `size` pixels that holds every character of `text` (see _font_for)."""
    from PIL import ImageFont

    path = _font_for(weight, chosen, text)
    return ImageFont.truetype(str(path), size)


def _font_for(weight: str, chosen: str | None, text: str) -> Path:
    """The chosen font, else the first installed candidate; either must hold every character of `text`, so Hangul
    never shows as boxes."""
    candidates = [Path(chosen).expanduser()] if chosen else [Path(p) for p in FONT_CANDIDATES[weight]]
    for path in candidates:
        if path.is_file():
            try:
                known = _characters(str(path))
            except Exception as error:  # fontTools raises its own TTLibError, and struct errors on a truncated file
                raise InputError(f"font is not a TrueType or OpenType font ({error})", path=path,
                                 fix="give a .ttf, .otf or .ttc font file") from None
            missing = [ch for ch in dict.fromkeys(text) if not ch.isspace() and ord(ch) not in known]
            if missing:
                raise InputError(f"font has no glyph for {''.join(missing[:8])!r} "
                                 f"({unicodedata.name(missing[0], 'unnamed')})", path=path,
                                 fix="choose a font that covers the text, e.g. NanumGothic (apt install fonts-nanum)")
            return path
    raise InputError("no font for on-screen text is installed", path=candidates[0],
                     fix="apt install fonts-nanum (Hangul and Latin), or set the template's font")


def _characters(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    fonts = TTCollection(path).fonts if path.lower().endswith(".ttc") else [TTFont(path, lazy=True)]
    return frozenset(code for font in fonts[:1] for code in font.getBestCmap())


def rgb(spec: str, what: str = "colour") -> tuple[int, int, int]:
    digits = spec.lstrip("#")
    if not spec.startswith("#") or len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise InputError(f"{what} '{spec}' is not a colour", fix="write it as #rrggbb, e.g. #102a43")
    return tuple(int(digits[k:k + 2], 16) for k in (0, 2, 4))


def _ease(x: float) -> float:
    return x * x * (3 - 2 * x)


__all__ = ["OnScreenText", "Overlay", "overlays", "headline_strap", "lower_third", "logo", "logo_box", "rgb",
           "font_for_text"]
