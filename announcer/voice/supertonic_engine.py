"""Supertonic 3: a neural voice for 31 languages, Korean included, with ten voice styles (F1-F5, M1-M5).

The model gives no phoneme alignment, so the phones of each sentence are heard in its own audio by the same
recogniser that times narration in other languages (voice.phones).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from .types import SentenceAudio, VoiceEngine

DEFAULT_STYLE = "F1"
MODEL_NAME = "supertonic-3"
SPEED_SCALE = 1.05
"""Supertonic's own default rate, which its authors tuned as normal speech; `speed` 1.0 maps to it."""
DIFFUSION_STEPS = 8


class SupertonicEngine(VoiceEngine):
    name = "supertonic"

    def __init__(self, style: str | None, language: str, speed: float, models_dir: Path,
                 phone_recogniser: Callable | None = None):
        """`models_dir`: the release is kept in its `supertonic-3` folder (fetched on first use).
        `phone_recogniser`: loads the recogniser that times each sentence's phones (voice.phones by default)."""
        from .catalogue import VoiceCatalogue, install_supertonic

        release = VoiceCatalogue.load().supertonic
        if release is None:
            raise InputError("the voice catalogue has no Supertonic release", fix="use the shipped catalogue")
        self.voice_name = style or DEFAULT_STYLE
        if self.voice_name not in release.styles:
            raise InputError(f"Supertonic has no voice '{self.voice_name}'", fix=f"use one of {', '.join(release.styles)}")
        self.language = language.replace("-", "_").lower().split("_")[0]
        if not release.speaks(self.language):
            raise InputError(f"Supertonic does not speak '{language}'", fix="use --voice espeak for this language")
        self.speed = speed * SPEED_SCALE
        folder = install_supertonic(release, models_dir / MODEL_NAME)
        self._tts = _load(folder)
        self._style = self._tts.get_voice_style(self.voice_name)
        self.sample_rate = int(self._tts.sample_rate)
        self.model_files = {str(folder / path): sha256 for path, (sha256, _) in release.files.items()}
        self._phone_recogniser = phone_recogniser
        self._recogniser = None

    def speak(self, text: str) -> SentenceAudio:
        try:
            waveform, duration = self._tts.synthesize(text, voice_style=self._style, total_steps=DIFFUSION_STEPS,
                                                      speed=self.speed, lang=self.language)
        except ValueError as error:  # the text holds characters the model cannot read
            raise InputError(f"Supertonic cannot read this sentence: {error}", fix="rephrase it, or use --voice espeak") from error
        audio = np.asarray(waveform, np.float32).reshape(-1)[:int(round(float(np.ravel(duration)[0]) * self.sample_rate))]
        return SentenceAudio(audio, self.sample_rate, self._recogniser_loaded().phones(audio, self.sample_rate))

    def _recogniser_loaded(self):
        if self._recogniser is None:
            from .phones import load_phone_recogniser, model_checksums

            self._recogniser = (self._phone_recogniser or load_phone_recogniser)()
            self.model_files.update(model_checksums())
        return self._recogniser


def _load(folder: Path):
    """On onnxruntime's CPU provider: the supertonic package chooses no other."""
    from supertonic import TTS

    try:
        tts = TTS(model=MODEL_NAME, model_dir=folder, auto_download=False)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        raise InputError(f"Supertonic model in {folder} does not load: {error}",
                         fix="delete the folder, and it will be downloaded again") from error
    return tts
