"""The presenter's frames, rendered once, composed onto each delivery's picture and encoded between its intro and
outro, with the clip's sound."""
from __future__ import annotations

import shutil
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from tqdm import tqdm

from ..config import EncodeConfig, GraphicsConfig, LayoutConfig
from ..deliver import OutputSet, StagedOutputs, disk_full
from ..media.encode import VideoEncoder, encode_command
from ..scratch import scratch_file, sweep
from ..timeline import TimedUnit
from . import Bookend, BurnedCaptions, Canvas, OnScreenText, compose, face_region, overlays
from .cutout import Matte
from .programme import Programme
from .soundtrack import PROGRAMME_RATE, Soundtrack, fitted


@dataclass
class Delivery:
    """One layout's clip: its canvas and graphics, written to its own files."""
    outputs: OutputSet
    layout: LayoutConfig
    canvas: Canvas | None
    graphics: list
    staged: StagedOutputs
    thumbnail: np.ndarray | None = None

    def size(self, presenter_size: tuple[int, int]) -> tuple[int, int]:
        return self.canvas.size if self.canvas is not None else presenter_size

    def close(self) -> None:
        if self.canvas is not None:
            self.canvas.close()


@dataclass(frozen=True)
class PresenterFrames:
    """What is known of the presenter's frames before they are rendered."""
    size: tuple[int, int]
    landmarks: np.ndarray
    """Every source frame's landmarks (where the face will be on the picture)."""
    fps: int
    n_frames: int


@dataclass(frozen=True)
class Narration:
    audio: np.ndarray
    sample_rate: int
    loudness_lufs: float
    true_peak_dbtp: float


def delivery_for(outputs: OutputSet, layout: LayoutConfig, graphics: GraphicsConfig, text: OnScreenText,
                 base: Path | None, presenter: PresenterFrames, captions: list[TimedUnit]) -> Delivery:
    """A layout's canvas and its graphics, placed for that picture's size and the face's place on it."""
    canvas = Canvas.for_layout(layout, presenter.size, base, presenter.fps) if layout.aspect else None
    size = canvas.size if canvas else presenter.size
    placed = overlays(graphics, size, text, base, face_region(presenter.landmarks, presenter.size, canvas),
                      canvas.box[1] if canvas else None)
    if graphics.burn_captions:
        placed.append(BurnedCaptions(captions, graphics, size))
    return Delivery(outputs, layout, canvas, placed, StagedOutputs(outputs))


@dataclass(frozen=True)
class Production:
    """How the deliveries are made: the frames' source, what goes around them, and how they are encoded."""
    presenter: PresenterFrames
    programme: Programme
    narration: Narration
    encode: EncodeConfig
    scratch: Path
    progress: bool = True
    segmenter: object | None = None
    """MediaPipe's selfie segmenter, for deliveries that cut the presenter out."""


def produce(production: Production, frames: Iterable[np.ndarray], deliveries: list[Delivery],
            keep: list[int]) -> tuple[dict[int, np.ndarray], Soundtrack | None]:
    """Encode every delivery from one pass over `frames` (batches of the presenter's frames). Each delivery gets its
    thumbnail; returned: copies of the frames numbered in `keep`, and the programme's sound (None where the narration
    is delivered as it is)."""
    production.scratch.mkdir(parents=True, exist_ok=True)
    sweep(production.scratch, "sound.*")
    audio_path = scratch_file(production.scratch, "sound", ".wav", mode=0o600)
    presenter, programme = production.presenter, production.programme
    kept: dict[int, np.ndarray] = {}
    try:
        soundtrack = _write_sound_or_say_disk_full(audio_path, production)
        total = presenter.n_frames + programme.frames_around()
        with ExitStack() as stack:
            encoders = [stack.enter_context(VideoEncoder(encode_command(
                d.staged.temp_for(d.outputs.video), audio_path, d.size(presenter.size), presenter.fps, total,
                production.encode), d.outputs.video)) for d in deliveries]
            bar = stack.enter_context(tqdm(total=total * len(deliveries), unit="frame", desc="render",
                                           disable=not production.progress or None))
            _write_bookend(programme.intro, deliveries, encoders, presenter.size, bar)
            _write_presenter(production, frames, deliveries, encoders, keep, kept, bar)
            _write_bookend(programme.outro, deliveries, encoders, presenter.size, bar)
    finally:
        audio_path.unlink(missing_ok=True)
    return kept, soundtrack


def _write_presenter(production: Production, frames: Iterable[np.ndarray], deliveries: list[Delivery],
                     encoders: list[VideoEncoder], keep: list[int], kept: dict[int, np.ndarray], bar) -> None:
    thumbnail_index = int(production.presenter.n_frames * production.encode.thumbnail_at)
    cutting = any(d.canvas is not None and d.canvas.cutout for d in deliveries)
    matte = Matte(production.segmenter) if cutting else None
    done = 0
    for batch in frames:
        kept.update({k: batch[k - done].copy() for k in keep if done <= k < done + len(batch)})
        cutout = matte(batch) if matte is not None else None
        for delivery, encoder in zip(deliveries, encoders, strict=True):
            composed = compose(batch, delivery.canvas, delivery.graphics, done, production.presenter.fps, cutout)
            if delivery.thumbnail is None and done + len(batch) > thumbnail_index:
                delivery.thumbnail = composed[thumbnail_index - done].copy()
            encoder.write(composed)
            bar.update(len(batch))
        done += len(batch)


def _write_bookend(bookend: Bookend | None, deliveries: list[Delivery], encoders: list[VideoEncoder],
                   presenter_size: tuple[int, int], bar) -> None:
    if bookend is None:
        return
    for delivery, encoder in zip(deliveries, encoders, strict=True):
        for batch in bookend.frames(delivery.size(presenter_size)):
            encoder.write(batch)
            bar.update(len(batch))


def _write_sound_or_say_disk_full(path: Path, production: Production) -> Soundtrack | None:
    try:
        return _write_sound(path, production)
    except (OSError, RuntimeError):  # libsndfile says only "System error" when the disk is full
        presenter = production.presenter
        needed = int((presenter.n_frames / presenter.fps + 1) * PROGRAMME_RATE * 3)
        if shutil.disk_usage(path.parent).free < needed:
            raise disk_full(path.parent, needed) from None
        raise


def _write_sound(path: Path, production: Production) -> Soundtrack | None:
    """The narration as the clip's sound (padded to the pictures); or, with an intro, outro or music bed, the whole
    programme's sound mixed to the loudness target."""
    narration, programme = production.narration, production.programme
    seconds = production.presenter.n_frames / production.presenter.fps
    if programme.is_plain:
        padded = fitted(narration.audio, int(round(seconds * narration.sample_rate)))
        soundfile.write(path, padded, narration.sample_rate, subtype="PCM_16", format="WAV")
        return None
    soundtrack = programme.sound(narration.audio, narration.sample_rate, seconds, narration.loudness_lufs,
                                 narration.true_peak_dbtp)
    soundfile.write(path, soundtrack.audio, soundtrack.sample_rate, subtype="PCM_24", format="WAV")
    return soundtrack


__all__ = ["Delivery", "Narration", "PresenterFrames", "Production", "delivery_for", "produce"]
