"""Typed values of the voice stage."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..timeline import TimedUnit, spread_by_length  # noqa: F401 (part of the voice stage's types)


@dataclass
class SentenceAudio:
    """What an engine returns for one sentence: audio plus phonemes timed from its start."""
    audio: np.ndarray
    sample_rate: int
    phonemes: list[TimedUnit]


@dataclass
class Speech:
    """The whole narration: mono float32 audio and its timings on the clip's timeline."""
    audio: np.ndarray
    sample_rate: int
    phonemes: list[TimedUnit]
    """IPA phonemes with times: the TTS engine's, or aligned to recorded English narration (voice.align);
    empty for other narration (motion then reads the audio)."""
    captions: list[TimedUnit]
    """Subtitle text with times: one per script sentence."""
    engine: str
    voice: str
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    model_files: dict[str, str] = field(default_factory=dict)
    """Model file path -> sha256, for the manifest."""

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def to_artifact(self) -> tuple[dict, dict]:
        """(arrays, record) for the stage cache."""
        arrays = {"audio": self.audio,
                  "phoneme_times": np.array([[p.start, p.end] for p in self.phonemes], np.float64).reshape(-1, 2)}
        record = {"sample_rate": self.sample_rate, "phonemes": [p.label for p in self.phonemes],
                  "captions": [[c.label, c.start, c.end] for c in self.captions], "engine": self.engine,
                  "voice": self.voice, "loudness_lufs": self.loudness_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                  "model_files": self.model_files}
        return arrays, record

    @classmethod
    def from_artifact(cls, arrays: dict, record: dict) -> "Speech":
        phonemes = [TimedUnit(label, float(start), float(end))
                    for label, (start, end) in zip(record["phonemes"], arrays["phoneme_times"], strict=True)]
        captions = [TimedUnit(label, start, end) for label, start, end in record["captions"]]
        return cls(arrays["audio"], record["sample_rate"], phonemes, captions, record["engine"], record["voice"],
                      record["loudness_lufs"], record["true_peak_dbtp"], record["model_files"])


class VoiceEngine:
    """One TTS backend. Load weights in the constructor; `speak` one sentence at a time."""

    name = "base"
    voice_name = ""
    model_files: dict[str, str] = {}

    def speak(self, text: str) -> SentenceAudio:
        raise NotImplementedError
