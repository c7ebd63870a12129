"""Train the speech-to-mouth model on data the project makes or has.

- Speech from the project's own voices (Piper at several speeds, espeak-ng in English and Korean with
  male and female variants), each sentence both clean and played through a simulated room (reverb and
  noise): the exact phoneme timings give labels through the viseme model (gap, spread, rounding).
- The real talking videos: the landmark stage measures the real mouth gap on every frame. Each
  video's audio/video offset is estimated first (the lag where loudness best predicts the mouth)
  and corrected, since web clips are often a few frames out of sync.
Videos named in `validation` are never trained on.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .model import MouthNet, MouthNetSettings, log_mel
from .units import MAX_GAP

log = logging.getLogger(__name__)
SENTENCES_EN = [
    "Good evening, and welcome to the late edition.", "Markets closed slightly higher after a quiet session.",
    "The city council approved a new plan for the riverside park.", "Police say the road will reopen by Monday morning.",
    "Temperatures will fall close to freezing overnight.", "Thank you for watching, and good night.",
    "Officials expect the bridge repairs to take about two years.", "Scientists have found water ice near the moon's south pole.",
    "The team won its third match in a row on Sunday.", "Fuel prices rose for the fourth week running.",
    "Voters head to the polls in twelve districts tomorrow.", "A spokesman declined to comment on the report.",
    "Heavy rain is expected across the north by the weekend.", "The museum will open a new wing in the spring.",
    "Shares of the carmaker jumped after strong sales figures.", "Firefighters brought the blaze under control within hours.",
    "The airport reported delays of up to three hours.", "Students returned to school after the long holiday.",
    "Researchers say the new vaccine is safe and effective.", "The president will visit Seoul and Tokyo next month.",
    "Who will pay for the new stadium remains unclear.", "Please stay with us for the weather and sport.",
    "Unemployment fell to its lowest level in a decade.", "Bus and metro fares will rise by five percent in June.",
]
SENTENCES_KO = ["안녕하세요. 저녁 뉴스입니다.", "오늘 서울의 최고 기온은 십이 도입니다.", "시장은 새로운 공원 계획을 발표했습니다.",
                "내일은 전국에 비가 내리겠습니다.", "시청해 주셔서 감사합니다."]
VALIDATION_VIDEOS = ("talk_face1.mp4", "talk_face3.mp4", "talk_face5.mp4")
"""The shared clips whose sound and picture are in sync in the file (within a frame or two): a held-out
lip-sync score at lag 0 means something only on those. The others are 6-18 frames out and train."""
ENGLISH_VOICES = ("en-us", "en", "en-us+f1", "en-us+f2", "en-us+f3", "en-us+f4", "en-us+f5", "en-us+m3", "en-us+m7",
                  "en-us+klatt2", "en-us+Annie", "en-us+steph")
"""espeak-ng voices and variants: several speakers, female and male, so the model hears more than one vocal tract."""
REAL_SHARE = 0.03
"""Share of training examples cut from the real videos. Kept small on purpose: with about 30 s of
footage from five speakers, a 10% share made the model memorise them, and a held-out speaker's
lip-sync r fell from 0.49 to 0.28 (`benchmarks/RESULTS.md`)."""
MOUTH_DELAY_S = 0.06
"""Synthetic labels are moved this much later: a model trained on synthetic speech alone finds the real
mouths of the in-sync clips 60-120 ms behind its phoneme timings."""


@dataclass
class Clip:
    mel: torch.Tensor
    """(n_mels, steps)"""
    target: torch.Tensor
    """(3, steps): gap in inter-ocular units, spread, rounding."""
    mask: torch.Tensor
    """(3, steps): which targets are known (real videos give the gap only)."""
    name: str = ""


@dataclass
class TrainingReport:
    steps: int
    losses: list[float] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    video_offsets: dict[str, int] = field(default_factory=dict)


def synthetic_clips(settings: MouthNetSettings, quick: bool, models_dir: Path, seed: int = 0) -> list[Clip]:
    from ..config import VoiceConfig
    from ..script import parse_text
    from ..voice import load_engine, synthesize

    voices = [VoiceConfig(engine="piper", speed=s) for s in ((1.0,) if quick else (0.85, 1.0, 1.2))]
    voices += [VoiceConfig(engine="espeak", voice=v, speed=s) for v in (ENGLISH_VOICES[:3] if quick else ENGLISH_VOICES)
               for s in ((1.0,) if quick else (0.9, 1.15))]
    korean = [VoiceConfig(engine="espeak", language="ko", speed=s) for s in ((1.0,) if quick else (0.9, 1.1))]
    english = SENTENCES_EN[:3] if quick else SENTENCES_EN
    jobs = [(v, english) for v in voices] + [(v, SENTENCES_KO[:2] if quick else SENTENCES_KO) for v in korean]
    rng = np.random.default_rng(seed)
    clips = []
    for voice, sentences in tqdm(jobs, desc="synthesise", unit="voice", disable=None):
        engine = load_engine(voice, models_dir=models_dir)
        for sentence in sentences:
            speech = synthesize(parse_text(sentence, voice.language), voice, engine)
            name = f"{voice.engine}:{voice.voice or voice.language or ''}:{sentence[:20]}"
            clips.append(_labelled(speech.audio, speech, settings, name))
            clips.append(_labelled(through_a_room(speech.audio, speech.sample_rate, rng), speech, settings, name + ":room"))
    return clips


def _labelled(audio: np.ndarray, speech, settings: MouthNetSettings, name: str) -> Clip:
    from .visemes import blend, expand

    mel = log_mel(audio, speech.sample_rate, settings)
    times = (np.arange(mel.shape[1]) + 0.5) / settings.steps_per_second - MOUTH_DELAY_S
    shapes = blend(expand(speech.phonemes), times)
    shapes[:, 0] *= MAX_GAP
    return Clip(mel, torch.from_numpy(shapes.T.copy()), torch.ones(3, mel.shape[1]), name)


def through_a_room(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The clean TTS signal as a microphone in a room hears it: a random reverb tail (RT60 0.15-0.6 s,
    direct sound 3 dB below to 12 dB above the reverb) and coloured background noise 8-30 dB below the
    speech. Real narration is never studio-dry."""
    from scipy.signal import fftconvolve

    length = int(sample_rate * rng.uniform(0.15, 0.6))
    tail = rng.standard_normal(length) * np.exp(-6.9 * np.arange(length) / length)  # -60 dB at the end
    tail *= 10 ** (-rng.uniform(-3, 12) / 20) / np.sqrt(np.sum(tail ** 2))
    response = np.concatenate([[1.0], tail])
    wet = fftconvolve(audio, response)[:len(audio)]
    noise = np.convolve(rng.standard_normal(len(audio)), np.ones(rng.integers(1, 8)), "same")
    noise *= np.std(wet) / (np.std(noise) + 1e-9) * 10 ** (-rng.uniform(8, 30) / 20)
    mixed = wet + noise
    return (mixed * np.abs(audio).max() / (np.abs(mixed).max() + 1e-9)).astype(np.float32)


def video_clips(videos: list[Path], face_stage, settings: MouthNetSettings) -> tuple[list[Clip], dict[str, int]]:
    from ..face import layout, load_avatar
    from ..media.ffmpeg import decode_audio

    clips, offsets = [], {}
    for video in tqdm(videos, desc="measure mouths", unit="video", disable=None):
        avatar = load_avatar(video, 360, 1080, 60)
        opening = layout.mouth_opening(face_stage(avatar).landmarks)
        audio = decode_audio(video, settings.sample_rate)
        offset = estimate_offset(audio, settings.sample_rate, opening, avatar.fps)
        offsets[video.name] = offset
        mel = log_mel(audio, settings.sample_rate, settings)
        # The mouth on frame k belongs to the sound at frame k + offset.
        frame_times = (np.arange(len(opening)) + 0.5 + offset) / avatar.fps
        step_times = (np.arange(mel.shape[1]) + 0.5) / settings.steps_per_second
        known = (step_times >= frame_times[0]) & (step_times <= frame_times[-1])
        target = torch.zeros(3, mel.shape[1])
        target[0] = torch.from_numpy(np.interp(step_times, frame_times, opening).astype(np.float32))
        mask = torch.zeros(3, mel.shape[1])
        mask[0] = torch.from_numpy(known.astype(np.float32))
        clips.append(Clip(mel, target, mask, video.name))
    return clips, offsets


def estimate_offset(audio: np.ndarray, sample_rate: int, opening: np.ndarray, fps: float, max_lag: int = 20) -> int:
    """Frames by which the audio trails the picture: the lag where loudness best predicts the mouth.

    Web clips are seen out of sync by up to 0.7 s (talk_face4: 18 frames), so the search spans ±20 frames.
    """
    from ..signals import best_offset
    from .audio import frame_levels_db

    return best_offset(frame_levels_db(audio, sample_rate, fps, len(opening)), opening, max_lag)


def train(clips: list[Clip], validation: list[Clip], settings: MouthNetSettings, steps: int, device: str = "cpu",
          seed: int = 0, crop_steps: int = 300, batch_size: int = 16,
          real_share: float = REAL_SHARE) -> tuple[MouthNet, TrainingReport]:
    torch.manual_seed(seed)
    random.seed(seed)
    model = MouthNet(settings).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps)
    report = TrainingReport(steps)
    real = [clip for clip in clips if clip.mask[1].sum() == 0]  # real videos label the gap only
    synthetic = [clip for clip in clips if clip.mask[1].sum() > 0]
    for _ in tqdm(range(steps), desc="train", unit="step", disable=None):
        batch = [_crop(_draw(synthetic, real, real_share), crop_steps) for _ in range(batch_size)]
        mel, target, mask = (torch.stack(parts).to(device) for parts in zip(*batch, strict=True))
        prediction = model(_augment(mel))
        loss = ((prediction - target).abs() * mask * torch.tensor([4.0, 1.0, 1.0], device=device)[None, :, None]).sum() / mask.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        report.losses.append(loss.item())
    model.eval()
    report.validation = {clip.name: validation_r(model, clip) for clip in validation}
    return model, report


def _draw(synthetic: list[Clip], real: list[Clip], real_share: float) -> Clip:
    if real and (not synthetic or random.random() < real_share):
        return random.choice(real)
    return random.choice(synthetic)


@torch.no_grad()
def validation_r(model: MouthNet, clip: Clip) -> float:
    from ..signals import pearson

    prediction = model(clip.mel[None].to(next(model.parameters()).device))[0, 0].cpu().numpy()
    known = clip.mask[0].numpy() > 0
    return round(pearson(prediction[known], clip.target[0].numpy()[known]), 4)


def _augment(mel: torch.Tensor, noise: float = 0.15, max_masked_bands: int = 10, max_warp: float = 0.12) -> torch.Tensor:
    """Vocal tract length (a stretch of the mel axis), noise and a masked band of mel bins (SpecAugment):
    the synthetic voices are a few speakers, and real rooms and microphones sound different."""
    mel = _stretch_frequencies(mel, max_warp) + noise * torch.randn_like(mel)
    for row in mel:
        width = random.randrange(0, max_masked_bands + 1)
        start = random.randrange(0, mel.shape[1] - width + 1)
        row[start:start + width] = 0.0
    return mel


def _stretch_frequencies(mel: torch.Tensor, max_warp: float) -> torch.Tensor:
    """Each example's mel axis scaled by its own random factor in 1 ± max_warp (VTLP)."""
    batch, bins, _ = mel.shape
    factors = 1 + max_warp * (2 * torch.rand(batch, 1, device=mel.device) - 1)
    source = (torch.arange(bins, device=mel.device)[None] * factors).clamp(0, bins - 1)
    low = source.floor().long()
    high = (low + 1).clamp(max=bins - 1)
    weight = (source - low)[..., None]
    steps = mel.shape[2]
    below = torch.gather(mel, 1, low[..., None].expand(-1, -1, steps))
    above = torch.gather(mel, 1, high[..., None].expand(-1, -1, steps))
    return below * (1 - weight) + above * weight


def _crop(clip: Clip, length: int):
    steps = clip.mel.shape[1]
    if steps <= length:
        pad = length - steps
        return (torch.nn.functional.pad(clip.mel, (0, pad)), torch.nn.functional.pad(clip.target, (0, pad)),
                torch.nn.functional.pad(clip.mask, (0, pad)))
    start = random.randrange(0, steps - length)
    return clip.mel[:, start:start + length], clip.target[:, start:start + length], clip.mask[:, start:start + length]
