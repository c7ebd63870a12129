"""A learned speech-to-mouth model: log-mel frames in, mouth shape per frame out.

Dilated 1-D convolutions see about ±260 ms of audio around each 10 ms step, so the mouth can open
before a vowel sounds, as real mouths do. Weights are safetensors; the settings they were trained
with travel in the file's metadata.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..config import MotionConfig
from ..weights import load_weights, save_weights
from .units import MAX_GAP

EDGE_CONTEXT_STEPS = 30
"""Mirrored context at each edge of a recording (0.3 s: about the model's reach)."""
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "mouth_net.safetensors"
TRAINED_WEIGHTS_NAME = "mouth_net.safetensors"
"""What `announcer train-mouth` writes into the home's models folder; renders take it before DEFAULT_WEIGHTS."""


def with_trained_mouth(motion: MotionConfig, models_dir: Path) -> MotionConfig:
    """'auto' speech-to-mouth weights: those `announcer train-mouth` wrote into the home, else the packaged ones."""
    trained = models_dir / TRAINED_WEIGHTS_NAME
    return replace(motion, mouth_model=str(trained)) if motion.mouth_model == "auto" and trained.is_file() else motion


@dataclass(frozen=True)
class MouthNetSettings:
    sample_rate: int = 16000
    hop: int = 160
    """10 ms steps."""
    n_mels: int = 80
    hidden: int = 96
    max_gap: float = 0.5
    """The opening output's ceiling, in inter-ocular units."""
    dropout: float = 0.15

    @property
    def steps_per_second(self) -> float:
        return self.sample_rate / self.hop


class MouthNet(nn.Module):
    """(batch, n_mels, steps) normalised log-mel -> (batch, 3, steps): gap (IOD units), spread (-1..1), rounding (0..1)."""

    def __init__(self, settings: MouthNetSettings = MouthNetSettings()):
        super().__init__()
        self.settings = settings
        width = settings.hidden
        layers: list[nn.Module] = [nn.Conv1d(settings.n_mels, width, 3, padding=1), nn.GELU()]
        for dilation in (1, 2, 4, 8, 1):
            layers += [nn.Conv1d(width, width, 5, padding=2 * dilation, dilation=dilation), nn.GELU(),
                       nn.Dropout(settings.dropout)]
        layers.append(nn.Conv1d(width, 3, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        raw = self.net(mel)
        return torch.cat([torch.sigmoid(raw[:, :1]) * self.settings.max_gap, torch.tanh(raw[:, 1:2]),
                          torch.sigmoid(raw[:, 2:3])], dim=1)

    def save(self, path: Path, extra: dict | None = None) -> None:
        save_weights(path, self.state_dict(), self.settings, extra)

    @staticmethod
    def load(path: Path, device: torch.device | str = "cpu") -> "MouthNet":
        tensors, metadata = load_weights(path, "speech-to-mouth weights", "train them with `announcer train-mouth`")
        model = MouthNet(MouthNetSettings(**metadata["settings"]))
        model.load_state_dict(tensors)
        return model.to(device).eval()


def log_mel(audio: np.ndarray, sample_rate: int, settings: MouthNetSettings, device="cpu") -> torch.Tensor:
    """(n_mels, steps) log-mel, normalised per utterance so microphone level and gain do not matter."""
    import torchaudio

    signal = torch.as_tensor(audio, dtype=torch.float32, device=device)
    if sample_rate != settings.sample_rate:
        signal = torchaudio.functional.resample(signal, sample_rate, settings.sample_rate)
    transform = torchaudio.transforms.MelSpectrogram(settings.sample_rate, n_fft=512, win_length=400, hop_length=settings.hop,
                                                     n_mels=settings.n_mels, f_min=60, f_max=7600).to(device)
    power = transform(signal)
    # A floor relative to the clip's own energy: a gain on the audio then shifts every log value
    # equally, and the normalisation below removes it exactly.
    mel = torch.log(power + 1e-4 * power.mean() + 1e-12)
    return (mel - mel.mean(dim=1, keepdim=True)) / (mel.std(dim=1, keepdim=True) + 1e-5)


def with_mirrored_edges(mel: torch.Tensor, context: int) -> torch.Tensor:
    """(n_mels, steps + 2 * context): a recording cut mid-word must not read as silence at its edges,
    so the model sees each edge's mirror image as context instead of zero padding."""
    context = min(context, mel.shape[1] - 1)
    return torch.nn.functional.pad(mel[None], (context, context), mode="reflect")[0] if context > 0 else mel


@torch.no_grad()
def predict_mouth(model: MouthNet, audio: np.ndarray, sample_rate: int, fps: int, n_frames: int) -> np.ndarray:
    """(n_frames, 3) mouth shapes at the video's frame centres, in the renderer's units (open 0..1)."""
    device = next(model.parameters()).device
    mel = log_mel(audio, sample_rate, model.settings, device)
    steps = model(with_mirrored_edges(mel, EDGE_CONTEXT_STEPS)[None])[0]
    context = (steps.shape[1] - mel.shape[1]) // 2
    steps = steps[:, context:context + mel.shape[1]].cpu().numpy()
    step_times = (np.arange(steps.shape[1]) + 0.5) / model.settings.steps_per_second
    frame_times = (np.arange(n_frames) + 0.5) / fps
    shapes = np.stack([np.interp(frame_times, step_times, channel) for channel in steps], axis=1)
    shapes[:, 0] = np.clip(shapes[:, 0] / MAX_GAP, 0, 1)
    return shapes.astype(np.float32)
