"""Coqui TTS (the maintained `coqui-tts` fork): Tacotron2-DDC, Glow-TTS, VITS, XTTS-v2.

A voice is a model-zoo name (downloaded once into ANNOUNCER_HOME/models/coqui) or a local
checkpoint folder holding `config.json` and a `.pth` checkpoint (loaded with weights_only=True
by the library on torch >= 2.4). Phoneme timings come from the model's own alignment matrix;
models without one (XTTS) get espeak-ng's phoneme timings stretched over their voiced audio.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..assets import sha256_of
from ..errors import InputError
from .loudness import voiced_span
from .types import SentenceAudio, TimedUnit, VoiceEngine

log = logging.getLogger(__name__)
DEFAULT_MODELS = {"en": "tts_models/en/ljspeech/tacotron2-DDC", "ko": "tts_models/multilingual/multi-dataset/xtts_v2"}
SILENCE_THRESHOLD = 0.02


class CoquiEngine(VoiceEngine):
    name = "coqui"

    def __init__(self, voice: str | None, language: str = "en", device: str = "cpu", cache_dir: Path | None = None,
                 speaker_wav: str | None = None):
        self.language = language
        self.speaker_wav = speaker_wav
        self.voice_name = voice or DEFAULT_MODELS.get(language[:2], DEFAULT_MODELS["en"])
        self.synthesizer = self._load(self.voice_name, device, cache_dir)
        self.model = self.synthesizer.tts_model
        self.sample_rate = int(self.synthesizer.output_sample_rate)

    def _load(self, voice: str, device: str, cache_dir: Path | None):
        from TTS.utils.synthesizer import Synthesizer

        local = Path(voice).expanduser()
        if local.is_dir():
            config_path = local / "config.json"
            checkpoints = sorted(local.glob("*.pth")) + sorted(local.glob("*.pt"))
            if not config_path.is_file() or not checkpoints:
                raise InputError("a Coqui checkpoint folder needs config.json and a .pth checkpoint", path=local,
                                 fix="point --voice coqui:DIR at a folder trained with coqui-tts")
            self.model_files = {str(p): sha256_of(p) for p in (config_path, checkpoints[-1])}
            synthesizer = Synthesizer(tts_checkpoint=str(checkpoints[-1]), tts_config_path=str(config_path))
        elif voice.startswith("tts_models/"):
            if cache_dir is not None:
                os.environ.setdefault("TTS_HOME", str(cache_dir))
            from TTS.api import TTS

            synthesizer = TTS(voice, progress_bar=True).synthesizer
            self.model_files = {voice: "model zoo (hash checked by coqui-tts)"}
        else:
            raise InputError(f"Coqui voice '{voice}' is neither a checkpoint folder nor a model name",
                             fix="use a name like tts_models/en/ljspeech/glow-tts or a folder with config.json")
        synthesizer.tts_model.to(device)
        return synthesizer

    def speak(self, text: str) -> SentenceAudio:
        import torch

        extra = {}
        if getattr(self.model, "language_manager", None) is not None or "xtts" in self.voice_name:
            extra["language"] = self.language[:2]
        if self.speaker_wav:
            extra["speaker_wav"] = self.speaker_wav
        use_griffin_lim = self.synthesizer.vocoder_model is None
        with torch.inference_mode():
            outputs = self.model.synthesize(text=text, use_griffin_lim=use_griffin_lim, **extra)
            if use_griffin_lim:
                waveform = outputs["wav"]
            else:  # the vocoder step of Synthesizer.tts(), which has no public per-sentence form
                waveform = self.synthesizer._run_vocoder(outputs["outputs"]["model_outputs"][0],
                                                         next(self.synthesizer.vocoder_model.parameters()).device)
        if isinstance(waveform, torch.Tensor):
            waveform = waveform.detach().cpu().numpy()
        audio = np.asarray(waveform, dtype=np.float32).squeeze()
        return SentenceAudio(audio, self.sample_rate, self._timings(outputs, text, audio))

    def _timings(self, outputs: dict, text: str, audio: np.ndarray) -> list[TimedUnit]:
        duration = len(audio) / self.sample_rate
        alignment = outputs.get("outputs", {}).get("alignments")
        token_ids = outputs.get("text_inputs")
        if alignment is not None and token_ids is not None and getattr(self.model, "tokenizer", None) is not None:
            return _from_alignment(alignment, token_ids, self.model.tokenizer, duration)
        return _stretch_espeak_timings(text, self.language, audio, self.sample_rate)


def _from_alignment(alignment, token_ids, tokenizer, duration: float) -> list[TimedUnit]:
    """Each decoder frame belongs to the input token it attends to most."""
    matrix = alignment.detach().cpu().float().numpy() if hasattr(alignment, "detach") else np.asarray(alignment)
    matrix = matrix.reshape(matrix.shape[-2], matrix.shape[-1])
    ids = np.asarray(token_ids.detach().cpu() if hasattr(token_ids, "detach") else token_ids).reshape(-1)
    if matrix.shape[1] != len(ids) and matrix.shape[0] == len(ids):
        matrix = matrix.T
    owner = matrix.argmax(axis=1)
    frame_seconds = duration / len(owner)
    units, start = [], 0
    for frame in range(1, len(owner) + 1):
        if frame == len(owner) or owner[frame] != owner[start]:
            label = tokenizer.decode([int(ids[owner[start]])])
            if label.strip():
                units.append(TimedUnit(label, start * frame_seconds, frame * frame_seconds))
            start = frame
    return units


def _stretch_espeak_timings(text: str, language: str, audio: np.ndarray, sample_rate: int) -> list[TimedUnit]:
    from .espeak_engine import EspeakEngine

    reference = EspeakEngine(language=language).speak(text).phonemes
    span = voiced_span(audio, sample_rate, SILENCE_THRESHOLD)
    if not reference or span is None:
        return []
    begin, end = span
    ref_begin, ref_end = reference[0].start, reference[-1].end
    scale = (end - begin) / max(ref_end - ref_begin, 1e-6)
    return [TimedUnit(p.label, begin + (p.start - ref_begin) * scale, begin + (p.end - ref_begin) * scale)
            for p in reference]
