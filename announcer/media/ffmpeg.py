"""Locating and running ffmpeg/ffprobe. Commands are argument lists; stderr travels in the exception."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError, ToolError


@lru_cache(maxsize=None)
def ffmpeg_binary() -> str:
    """System ffmpeg, else the one bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise ToolError("ffmpeg not found", fix="install ffmpeg (apt-get install ffmpeg) or pip install imageio-ffmpeg") from error


@lru_cache(maxsize=None)
def ffprobe_binary() -> str | None:
    return shutil.which("ffprobe")


def run_ffmpeg(args: list[str], what: str, stdin: bytes | None = None) -> bytes:
    """Run ffmpeg with `args` (no shell); raise ToolError with its stderr on failure."""
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *args] if stdin is None else \
        [ffmpeg_binary(), "-hide_banner", "-y", *args]
    result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        raise ToolError(f"ffmpeg failed to {what}", detail=_tail(result.stderr))
    return result.stdout


def probe(path: Path) -> dict:
    """ffprobe's JSON of streams and format; read from ffmpeg's own banner when only ffmpeg is present."""
    binary = ffprobe_binary()
    if binary is None:
        return _probe_with_ffmpeg(path)
    result = subprocess.run([binary, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise InputError(f"cannot read media ({_reason(result.stderr, path)})", path=path,
                         fix="give a valid image, video or audio file")
    return json.loads(result.stdout)


_STREAM = re.compile(r"Stream #\d+:\d+.*?: (Video|Audio): (\w+)(.*)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})[ ,]")
_FPS = re.compile(r", ([\d.]+) fps")
_ROTATION = re.compile(r"rotation of (-?[\d.]+) degrees")


def _probe_with_ffmpeg(path: Path) -> dict:
    """The few ffprobe fields the pipeline reads, parsed from `ffmpeg -i` (imageio-ffmpeg ships no ffprobe)."""
    result = subprocess.run([ffmpeg_binary(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, check=False)
    banner = result.stderr.decode("utf-8", "replace")
    streams: list[dict] = []
    for line in banner.splitlines():
        stream = _STREAM.search(line)
        if stream:
            kind, codec, details = stream.groups()
            entry = {"codec_type": kind.lower(), "codec_name": codec}
            size, fps = _SIZE.search(details), _FPS.search(details)
            if size:
                entry.update(width=int(size.group(1)), height=int(size.group(2)))
            if fps:
                entry["avg_frame_rate"] = f"{float(fps.group(1)):.6g}"
            streams.append(entry)
        rotation = _ROTATION.search(line)
        if rotation and streams:
            streams[-1]["side_data_list"] = [{"rotation": int(float(rotation.group(1)))}]
    if not streams:
        raise InputError(f"cannot read media ({_reason(result.stderr, path)})", path=path,
                         fix="give a valid image, video or audio file")
    return {"streams": streams}


def decode_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Any audio (or a video's audio track) as mono float32 at `sample_rate`."""
    raw = run_ffmpeg(["-i", str(path), "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "pipe:1"],
                     f"decode the audio of {path}")
    return np.frombuffer(raw, dtype=np.float32).copy()


def _reason(stderr: bytes, path: Path) -> str:
    """ffmpeg's complaint about an input in a few words on one line, without its demuxer tags or the file's name."""
    reasons = []
    for line in stderr.decode("utf-8", "replace").strip().splitlines()[-3:]:
        line = re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", line.strip())
        line = line[len(str(path)) + 2:] if line.startswith(f"{path}: ") else line
        if line and line not in reasons:
            reasons.append(line)
    return "; ".join(reasons) or "unknown format"


def _tail(stderr: bytes, lines: int = 6) -> str:
    return "\n".join(stderr.decode("utf-8", "replace").strip().splitlines()[-lines:])
