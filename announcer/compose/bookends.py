"""Intro and outro clips: decoded at the delivered picture's size and frame rate and fed to the same encoder as the
presenter's frames, their sound joined to the narration's sample for sample.

One encode for the whole programme means one time base and one GOP structure: no timestamp jump, no frozen or
doubled frame and no audio gap at the joins (concatenating separately encoded files risks all three).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..media.ffmpeg import decode_audio, ffmpeg_binary, probe
from ..media.frames import FrameReader
from .soundtrack import PROGRAMME_RATE

MAX_BOOKEND_S = 60.0
FRAMES_PER_READ = 8


@dataclass(frozen=True)
class Bookend:
    path: Path
    role: str
    """intro | outro"""
    n_frames: int
    fps: int
    audio: np.ndarray
    """Its sound at PROGRAMME_RATE, exactly as long as its pictures (silence where it has none)."""

    @property
    def seconds(self) -> float:
        return self.n_frames / self.fps

    def frames(self, size: tuple[int, int]) -> Iterator[np.ndarray]:
        """Batches of (n, height, width, 3) RGB frames at `size`, the picture fitted inside it (bars where the shapes
        differ, never cropped: a sting's logo must not lose its edges); exactly `n_frames` in all."""
        sent, last = 0, None
        with FrameReader(bookend_decode_command(self.path, size, self.fps), size) as reader:
            for batch in reader.batches(FRAMES_PER_READ, self.n_frames):
                sent, last = sent + len(batch), batch[-1]
                yield batch
            if last is None:
                raise reader.failed(f"decode the {self.role}")
        if sent < self.n_frames:  # a stream a frame or two shorter than its container says: hold its last picture
            yield np.repeat(last[None], self.n_frames - sent, axis=0)


def load_bookend(path: Path, role: str, fps: int) -> Bookend:
    """An intro or outro: checked, its length in frames at `fps`, its sound decoded. Fails naming the file."""
    if not path.is_file():
        raise InputError(f"{role} clip not found", path=path, fix=f"give an existing video as the {role}")
    info = probe(path)
    if not any(s.get("codec_type") == "video" for s in info.get("streams", [])):
        raise InputError(f"{role} has no pictures", path=path, fix="give a video file (MP4, MOV, WebM)")
    seconds = _duration(info, path, role)
    n_frames = max(1, round(seconds * fps))
    audio = np.zeros(round(n_frames / fps * PROGRAMME_RATE), np.float32)
    if any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
        sound = decode_audio(path, PROGRAMME_RATE)[:len(audio)]
        audio[:len(sound)] = sound
    return Bookend(path, role, n_frames, fps, audio)


def bookend_decode_command(path: Path, size: tuple[int, int], fps: int) -> list[str]:
    """ffmpeg arguments: `path`'s pictures at `fps`, fitted inside `size` on black, as raw RGB on stdout."""
    width, height = size
    fit = (f"fps={fps},scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
           f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=rgb24")
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-an", "-vf", fit,
            "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


def _duration(info: dict, path: Path, role: str) -> float:
    candidates = [s.get("duration") for s in info.get("streams", []) if s.get("codec_type") == "video"]
    candidates.append(info.get("format", {}).get("duration"))  # a container's length may include its sound's
    seconds = next((float(c) for c in candidates if c not in (None, "N/A")), None)
    if seconds is None or seconds <= 0:
        raise InputError(f"cannot tell how long the {role} is", path=path, fix="re-save it as an MP4")
    if seconds > MAX_BOOKEND_S:
        raise InputError(f"{role} is {seconds:.0f}s long", path=path, fix=f"use a clip of at most {MAX_BOOKEND_S:.0f}s")
    return seconds


__all__ = ["Bookend", "bookend_decode_command", "load_bookend"]
