"""Still images are measured from their header before they are decoded.

A 3 MB PNG may say it is 32000 x 32000: decoding it takes gigabytes before anything can say it is not a face.
Every image announcer decodes (avatars, backgrounds, logos, studio uploads) is first checked here.
"""
from __future__ import annotations

import io
from pathlib import Path

from ..errors import InputError

MAX_IMAGE_PIXELS = 100_000_000
"""8K UHD (7680 x 4320) is 33 megapixels, a medium-format camera's photo 100 (decoded: 300 MB)."""


def header_size(source: Path | bytes) -> tuple[int, int] | None:
    """(width, height) as the image's header states them, read without decoding; None where Pillow cannot tell."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return image.size
    except Image.DecompressionBombError as error:  # Pillow's own refusal, past twice its limit: still a size
        return _stated_size(str(error))
    except (OSError, ValueError, SyntaxError):
        return None


def refuse_huge_image(source: Path | bytes, what: str, path: Path | str | None = None) -> None:
    """InputError when the header states more than MAX_IMAGE_PIXELS."""
    size = header_size(source)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise InputError(f"{what} is {size[0]}x{size[1]} pixels, more than the {MAX_IMAGE_PIXELS // 1_000_000} "
                         f"megapixels announcer decodes", path=path if path is not None else source,
                         fix="scale it down; 8K, 7680x4320, is plenty")


def _stated_size(message: str) -> tuple[int, int] | None:
    """Pillow says 'Image size (1024000000 pixels) exceeds ...': the pixel count, as a square."""
    import re

    match = re.search(r"\((\d+) pixels\)", message)
    side = int(int(match.group(1)) ** 0.5) if match else None
    return (side, side) if side else None


__all__ = ["MAX_IMAGE_PIXELS", "header_size", "refuse_huge_image"]
