"""A looping video behind the presenter: decoded by ffmpeg at the canvas's size (covering it, cut from the middle)
and frame rate, read frame by frame as the clip is composed, looped for as long as the clip runs."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from ..errors import InputError, ToolError
from ..media.ffmpeg import ffmpeg_binary, probe

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}


class BackgroundVideo:
    """`read(n)` gives the next n frames, (n, height, width, 3) RGB; the video restarts at its end."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int):
        if not path.is_file():
            raise InputError("background video not found", path=path, fix="give an existing video file")
        if not any(s.get("codec_type") == "video" for s in probe(path).get("streams", [])):
            raise InputError("background has no pictures", path=path, fix="give a video (MP4, MOV, WebM) or an image")
        self.path, self.size, self.fps = path, size, fps
        self._process: subprocess.Popen | None = None

    def read(self, n: int) -> np.ndarray:
        width, height = self.size
        if self._process is None:
            self._process = subprocess.Popen(background_decode_command(self.path, self.size, self.fps),
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data = self._process.stdout.read(width * height * 3 * n)
        if len(data) < width * height * 3 * n:
            detail = self._stop()
            raise ToolError("ffmpeg stopped decoding the background video", detail=detail)
        return np.frombuffer(data, np.uint8).reshape(n, height, width, 3).copy()

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> "BackgroundVideo":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _stop(self) -> str:
        if self._process is None:
            return ""
        process, self._process = self._process, None
        process.kill()
        process.stdout.close()
        stderr = process.stderr.read().decode("utf-8", "replace")[-2000:]
        process.stderr.close()
        process.wait()
        return stderr


def background_decode_command(path: Path, size: tuple[int, int], fps: int) -> list[str]:
    """ffmpeg arguments: `path` looped without end, at `fps`, scaled to cover `size` and cut to it, as raw RGB."""
    width, height = size
    cover = (f"fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
             f"crop={width}:{height},setsar=1,format=rgb24")
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-stream_loop", "-1", "-i", str(path),
            "-an", "-vf", cover, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


__all__ = ["VIDEO_SUFFIXES", "BackgroundVideo", "background_decode_command"]
