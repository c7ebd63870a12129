"""Load the presenter: a photo or a video, checked and scaled to the output size, as RGB frames."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ..assets import sha256_of
from ..errors import InputError
from ..media.ffmpeg import ffmpeg_binary, probe
from ..media.frames import FrameReader, read_all
from ..media.images import refuse_huge_image

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
MIN_SIDE = 96


@dataclass
class Avatar:
    source: Path
    frames: np.ndarray
    """(N, H, W, 3) uint8 RGB; one frame for a photo."""
    fps: float
    is_video: bool
    sha256: str
    used_frames: tuple[int, int] | None = None
    """Set when only frames [start, stop) of the video are used (the face left the picture elsewhere)."""

    @property
    def size(self) -> tuple[int, int]:
        return self.frames.shape[2], self.frames.shape[1]

    def scaled_down(self, height: int) -> "Avatar":
        """The same avatar `height` lines tall (even, aspect kept), without decoding its file again."""
        size = output_size(*self.size, height, self.size[1])
        frames = np.empty((len(self.frames), size[1], size[0], 3), np.uint8)
        for k, frame in enumerate(self.frames):
            frames[k] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        return replace(self, frames=frames)


def output_size(width: int, height: int, wanted_height: int | None, max_height: int) -> tuple[int, int]:
    """Even width and height with the source's aspect; scaled down to max_height, or to the height asked for."""
    target = wanted_height or min(height, max_height)
    scaled_width = width * target / height
    return int(round(scaled_width / 2)) * 2, int(round(target / 2)) * 2


def load_avatar(path: Path, wanted_height: int | None, max_height: int, max_seconds: float) -> Avatar:
    path = Path(path)
    if not path.is_file():
        raise InputError("avatar not found", path=path, fix="give a photo, a video, or a prepared avatar name")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return _load_photo(path, wanted_height, max_height)
    if suffix in VIDEO_SUFFIXES:
        return _load_video(path, wanted_height, max_height, max_seconds)
    raise InputError(f"avatar has an unknown file type '{suffix}'", path=path,
                     fix=f"use a photo ({', '.join(sorted(IMAGE_SUFFIXES))}) or a video ({', '.join(sorted(VIDEO_SUFFIXES))})")


def _load_photo(path: Path, wanted_height: int | None, max_height: int) -> Avatar:
    # IMREAD_COLOR applies EXIF orientation and turns grayscale, CMYK and 16-bit images into 8-bit BGR.
    data = np.fromfile(path, dtype=np.uint8)
    refuse_huge_image(path, "the avatar photo")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if len(data) else None
    if image is None:
        raise InputError("cannot read the image: it is corrupt or not an image", path=path,
                         fix="re-export it as JPEG or PNG")
    height, width = image.shape[:2]
    _check_dimensions(path, width, height)
    size = output_size(width, height, wanted_height, max_height)
    interpolation = cv2.INTER_AREA if size[1] < height else cv2.INTER_CUBIC
    rgb = cv2.cvtColor(cv2.resize(image, size, interpolation=interpolation), cv2.COLOR_BGR2RGB)
    return Avatar(path, rgb[None], 0.0, False, sha256_of(path))


def _load_video(path: Path, wanted_height: int | None, max_height: int, max_seconds: float) -> Avatar:
    info = probe(path)
    video = next((s for s in info.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise InputError("the avatar video has no video stream", path=path, fix="give a video of the presenter")
    width, height = int(video["width"]), int(video["height"])
    if _rotation(video) % 180 == 90:  # ffmpeg auto-rotates, so the frames come out turned
        width, height = height, width
    _check_dimensions(path, width, height)
    # Decode at a constant rate (the stream's base rate), so frame k is at k / fps even for variable-rate files.
    rate = video.get("r_frame_rate") or video.get("avg_frame_rate") or "25/1"
    fps = _frame_rate(rate) or 25.0
    if not 5 <= fps <= 120:
        rate, fps = "25/1", 25.0
    size = output_size(width, height, wanted_height, max_height)
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
               "-t", f"{max_seconds:.3f}", "-an", "-vf", f"fps={rate},scale={size[0]}:{size[1]}:flags=area",
               "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"]
    with FrameReader(command, size) as reader:
        frames = read_all(reader, int(max_seconds * fps) + 2)
        reader.finish(f"decode the avatar video {path}")
    if len(frames) == 0:
        raise InputError("the avatar video has no decodable frames", path=path, fix="re-encode it (e.g. H.264 MP4)")
    return Avatar(path, frames, fps, True, sha256_of(path))


def _frame_rate(text: str) -> float:
    """'25/1', '30000/1001' or '25' as frames per second; 0 when unknown."""
    numerator, _, denominator = text.partition("/")
    try:
        return float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def _rotation(stream: dict) -> int:
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return int(side_data["rotation"]) % 360
    return int(stream.get("tags", {}).get("rotate", 0)) % 360


def _check_dimensions(path: Path, width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise InputError(f"avatar is {width}x{height}, too small for a face", path=path,
                         fix=f"use at least {MIN_SIDE}x{MIN_SIDE}, ideally 512 or more")
    if max(width, height) / min(width, height) > 4:
        raise InputError(f"avatar is {width}x{height}, an extreme aspect ratio", path=path,
                         fix="crop it to the presenter")
