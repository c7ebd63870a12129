"""The evaluation's plot and side-by-side video."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile

from ..media.encode import VideoEncoder, encode_command
from .metrics import runs


def write_plot(path: Path, fps: int, real, generated, baseline, speaking, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.arange(len(real)) / fps
    figure, axes = plt.subplots(figsize=(12, 3.6), dpi=110)
    for start, end in runs(speaking):
        axes.axvspan(start / fps, end / fps, color="#dde8f5", lw=0)
    axes.plot(times, real, color="black", lw=1.6, label="real mouth")
    axes.plot(times, generated, color="#d1495b", lw=1.4, label="announcer")
    axes.plot(times, baseline, color="#8d99ae", lw=1.0, ls="--", label="loudness baseline")
    axes.set_xlabel("seconds (shaded: speech)")
    axes.set_ylabel("inner-lip gap / inter-ocular")
    axes.set_title(f"Mouth opening: {title}")
    axes.legend(loc="upper right")
    axes.set_xlim(0, times[-1] if len(times) else 1)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_side_by_side(path: Path, real_frames: np.ndarray, generated: np.ndarray, speech, fps: int, encode_config) -> None:
    """Real footage on the left, the generated mouth on the right, with the video's own audio."""
    pairs = np.concatenate([real_frames, generated], axis=2)
    with tempfile.TemporaryDirectory() as scratch:
        audio = Path(scratch) / "speech.wav"
        soundfile.write(audio, speech.audio, speech.sample_rate, subtype="PCM_16")
        height, width = pairs.shape[1:3]
        with VideoEncoder(encode_command(path, audio, (width, height), fps, len(pairs), encode_config)) as encoder:
            for start in range(0, len(pairs), 32):
                encoder.write(pairs[start:start + 32])
