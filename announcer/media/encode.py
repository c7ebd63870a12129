"""Encode and mux: raw RGB frames piped into ffmpeg, muxed with the narration, H.264 + AAC, faststart."""
from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from pathlib import Path

import ffmpeg
import numpy as np

from ..config import EncodeConfig
from ..errors import InputError, ToolError
from .ffmpeg import ffmpeg_binary

AUDIO_SAMPLE_RATE = 48000


def encode_command(output: Path, audio: Path, size: tuple[int, int], fps: int, n_frames: int,
                   config: EncodeConfig) -> list[str]:
    """The ffmpeg argument list (data, not a shell string): video from stdin, audio from a WAV."""
    width, height = size
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", framerate=fps)
    sound = ffmpeg.input(str(audio))
    stream = ffmpeg.output(video, sound, str(output), vcodec="libx264", pix_fmt="yuv420p", preset=config.preset,
                           crf=config.crf, acodec="aac", audio_bitrate=config.audio_bitrate, ar=AUDIO_SAMPLE_RATE,
                           movflags="+faststart", t=f"{n_frames / fps:.6f}", format="mp4",
                           **{"metadata:s:a:0": "language=und"})
    return stream.global_args("-hide_banner", "-loglevel", "error", "-nostats").overwrite_output().compile(cmd=ffmpeg_binary())


class VideoEncoder:
    """Feed frame batches in order; `finish()` waits for ffmpeg and raises with its stderr on failure.

    A thread hands the batches to ffmpeg, so the next batch is rendered while ffmpeg takes this one (a pipe holds
    64 KiB, a 720p frame 1.5 MB: writing directly would stall the renderer on every frame). The encoder keeps each
    batch until ffmpeg has it: do not change a batch after writing it. As a context manager it finishes when the
    block ends and kills ffmpeg if the block raises.
    """

    QUEUED_BATCHES = 2

    def __init__(self, command: list[str], output: Path | None = None):
        """`output`: the file ffmpeg writes (named in a full disk's message)."""
        self.output = Path(output) if output is not None else None
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self._pipe_broken = False
        self._writer = threading.Thread(target=self._hand_over, name="ffmpeg-writer", daemon=True)
        self._writer.start()
        self.frames_written = 0

    def write(self, frames: np.ndarray) -> None:
        if self._pipe_broken:
            self._stopped()
        self._queue.put(np.ascontiguousarray(frames, dtype=np.uint8))
        self.frames_written += len(frames)

    def finish(self) -> None:
        self._stop_writer()
        if self._pipe_broken:
            self._stopped()
        self._process.stdin.close()
        if self._process.wait() != 0:
            self._refuse_full_disk()
            raise ToolError("ffmpeg failed to encode the clip", detail=self._stderr())
        self._log.close()

    def __enter__(self) -> "VideoEncoder":
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.finish()
        else:
            self.abort()

    def abort(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._stop_writer()
        self._log.close()

    def _hand_over(self) -> None:
        """The writer thread: batches from the queue into ffmpeg's stdin until None; after a broken pipe it only drains."""
        while (frames := self._queue.get()) is not None:
            if self._pipe_broken:
                continue
            try:
                self._process.stdin.write(frames.data)
            except (BrokenPipeError, ValueError):  # ValueError: stdin closed by abort()
                self._pipe_broken = True

    def _stop_writer(self) -> None:
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()

    def _stopped(self) -> None:
        self._process.wait()
        self._refuse_full_disk()
        raise ToolError("ffmpeg stopped while encoding", detail=self._stderr())

    def _refuse_full_disk(self) -> None:
        """ffmpeg's "No space left on device" as the user's problem to fix, naming where."""
        if "No space left on device" in self._stderr():
            raise InputError("the disk is full: ffmpeg could not write the clip",
                             path=self.output.parent if self.output else None, fix="free some space there, or choose another -o")

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-2000:]
