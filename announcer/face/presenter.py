"""The presenter used when none is given: NASA's public-domain portrait of astronaut Eileen Collins, as shipped in
scikit-image (`skimage.data.astronaut()`), framed head and shoulders. It lets a first render run on a fresh machine
with nothing but the package and its dependencies."""
from __future__ import annotations

import os
from pathlib import Path

import cv2

DEFAULT_PRESENTER_NAME = "default-presenter.png"
CREDIT = "NASA portrait of Eileen Collins (public domain), from scikit-image's data.astronaut()"
HEAD_AND_SHOULDERS = (slice(0, 384), slice(64, 448))
"""The crop of the 512 x 512 portrait: the face in the upper middle, the suit's collar below."""


def default_presenter(folder: Path) -> Path:
    """The default presenter's photo in `folder` (written there once, atomically)."""
    path = folder / DEFAULT_PRESENTER_NAME
    if not path.is_file():
        from skimage import data

        folder.mkdir(parents=True, exist_ok=True)
        framed = data.astronaut()[HEAD_AND_SHOULDERS]
        temp = path.with_name(f".{path.name}.{os.getpid()}.png")
        cv2.imwrite(str(temp), cv2.cvtColor(framed, cv2.COLOR_RGB2BGR))
        os.replace(temp, path)
    return path
