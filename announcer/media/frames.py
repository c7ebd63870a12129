"""Reading video frames: ffmpeg decodes to raw RGB on a pipe, and the frames are read from it a batch at a time (never
the whole video as one block of bytes)."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator

import numpy as np

from ..errors import ToolError


class FrameReader:
    """Frames of `size` (width, height) from an ffmpeg command writing raw RGB to stdout. `read(n)` gives up to n
    frames, fewer at the end; ffmpeg's stderr is kept for the error when it stops early."""

    def __init__(self, command: list[str], size: tuple[int, int]):
        self.command, self.size = command, size
        self._process: subprocess.Popen | None = None
        self.stderr = ""

    @property
    def frame_bytes(self) -> int:
        return self.size[0] * self.size[1] * 3

    def read(self, n: int) -> np.ndarray:
        frames = np.empty((n, self.size[1], self.size[0], 3), np.uint8)
        return frames[:self.read_into(frames)]

    def read_into(self, frames: np.ndarray) -> int:
        """Fill `frames` ((n, height, width, 3) uint8, contiguous) from the pipe; how many whole frames it holds."""
        process = self._started()
        view = memoryview(frames.reshape(-1)).cast("B")
        filled = 0
        while filled < len(view):
            got = process.stdout.readinto(view[filled:])
            if not got:
                break
            filled += got
        return filled // self.frame_bytes

    def batches(self, batch: int, limit: int | None = None) -> Iterator[np.ndarray]:
        """Batches of up to `batch` frames until the stream ends (or `limit` frames are read)."""
        sent = 0
        while limit is None or sent < limit:
            frames = self.read(batch if limit is None else min(batch, limit - sent))
            if len(frames) == 0:
                return
            sent += len(frames)
            yield frames

    def close(self) -> str:
        """Stop ffmpeg; its stderr (the reason, when it stopped early)."""
        if self._process is None:
            return self.stderr
        process, self._process = self._process, None
        process.kill()
        process.stdout.close()
        self.stderr = process.stderr.read().decode("utf-8", "replace")[-2000:]
        process.stderr.close()
        process.wait()
        return self.stderr

    def finish(self, what: str) -> None:
        """Let ffmpeg end on its own (whatever it still writes is dropped); ToolError with its stderr if it failed."""
        process = self._started()
        while process.stdout.read(1 << 20):
            pass
        process.wait()
        if process.returncode != 0:
            raise self.failed(what)
        self.close()

    def failed(self, what: str) -> ToolError:
        return ToolError(f"ffmpeg could not {what}", detail=self.close())

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _started(self) -> subprocess.Popen:
        if self._process is None:
            self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self._process


def read_all(reader: FrameReader, most: int) -> np.ndarray:
    """Every frame of the stream, at most `most`, read into one array as they come (no second copy)."""
    frames = np.empty((most, reader.size[1], reader.size[0], 3), np.uint8)
    count = reader.read_into(frames)
    return frames[:count]


__all__ = ["FrameReader", "read_all"]
