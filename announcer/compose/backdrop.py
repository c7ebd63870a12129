"""A looping video behind the presenter: decoded by ffmpeg at the canvas's size (covering it, cut from the middle)
and frame rate, read frame by frame as the clip is composed, looped for as long as the clip runs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..media.ffmpeg import ffmpeg_binary, probe
from ..media.frames import FrameReader

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}


class BackgroundVideo:
    """`read(n)` gives the next n frames, (n, height, width, 3) RGB; the video restarts at its end."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int):
        if not path.is_file():
            raise InputError("background video not found", path=path, fix="give an existing video file")
        if not any(s.get("codec_type") == "video" for s in probe(path).get("streams", [])):
            raise InputError("background has no pictures", path=path, fix="give a video (MP4, MOV, WebM) or an image")
        self.path, self.size, self.fps = path, size, fps
        self._reader = FrameReader(background_decode_command(path, size, fps), size)

    def read(self, n: int) -> np.ndarray:
        frames = self._reader.read(n)
        if len(frames) < n:
            raise self._reader.failed("go on decoding the background video")
        return frames

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> "BackgroundVideo":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def background_decode_command(path: Path, size: tuple[int, int], fps: int) -> list[str]:
    """ffmpeg arguments: `path` looped without end, at `fps`, scaled to cover `size` and cut to it, as raw RGB."""
    width, height = size
    cover = (f"fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
             f"crop={width}:{height},setsar=1,format=rgb24")
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-stream_loop", "-1", "-i", str(path),
            "-an", "-vf", cover, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


__all__ = ["VIDEO_SUFFIXES", "BackgroundVideo", "background_decode_command"]
