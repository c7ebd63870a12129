"""Training loops for a presenter's generator and cleanup model: batched, mixed precision on CUDA, resumable.

Both loops draw batches from `PresenterCrops` (every frame's lower-face crop and target map, kept
on the device as uint8), step an Adam optimiser, and checkpoint weights, optimiser state and step
to safetensors every `checkpoint_every` steps, so a killed run resumes where it stopped.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..cleanup import DenoisingAutoencoder, corrupt
from ..generate.neural import mixed_precision
from ..generate.unet import MouthGenerator

log = logging.getLogger(__name__)


@dataclass
class PresenterCrops:
    crops: torch.Tensor
    """(N, 3, S, S) uint8: every frame's lower-face crop."""
    warped: torch.Tensor
    """(N, 3, S, S) uint8: the same crops as the warp renderer draws them from the frame's mouth closed
    (the generator's input)."""
    maps: torch.Tensor
    """(N, 3, S, S) uint8: every frame's own mouth drawn as lines (the generator's target map)."""
    mask: torch.Tensor
    """(1, 1, S, S) float: the region the generator redraws."""
    train: torch.Tensor
    """Indices of training frames."""
    reference: int
    """The open-mouth frame shown to the generator at render time."""

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return self.train[torch.randint(len(self.train), (count,), generator=generator)].to(self.crops.device)

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        return self.crops[indices].float() / 255

    def warped_images(self, indices: torch.Tensor) -> torch.Tensor:
        return self.warped[indices].float() / 255

    def target_maps(self, indices: torch.Tensor) -> torch.Tensor:
        return self.maps[indices].float() / 255


@dataclass
class LossLog:
    start_step: int = 0
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        tail = self.losses[-20:]
        return {"steps_run": len(self.losses), "resumed_from": self.start_step, "seconds": round(self.seconds, 1),
                "loss_first": round(self.losses[0], 5) if self.losses else None,
                "loss_last": round(sum(tail) / len(tail), 5) if tail else None}


@dataclass(frozen=True)
class TrainingRun:
    """How one model is trained: its steps and batches, and where its checkpoint is kept (resumed from if there)."""
    steps: int
    batch_size: int
    learning_rate: float
    checkpoint: Path
    checkpoint_every: int
    seed: int = 0
    progress: bool = False


def train_generator(model: MouthGenerator, data: PresenterCrops, run: TrainingRun) -> LossLog:
    def loss_of_batch(indices: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        target = data.images(indices)
        # Half the batches see the render-time reference, half another frame: the model must copy
        # the mouth's appearance, not memorise one reference.
        fixed = torch.rand(len(indices), generator=rng) < 0.5
        reference_indices = torch.where(fixed.to(indices.device), torch.full_like(indices, data.reference), data.sample(len(indices), rng))
        warped = data.warped_images(indices)
        drawn = model(warped, data.images(reference_indices), data.target_maps(indices))
        composed = warped * (1 - data.mask) + drawn.float() * data.mask
        return masked_l1(composed, target, data.mask) + 0.5 * (1 - masked_ssim(composed, target, data.mask))

    return _fit(model, data, loss_of_batch, run, "generator")


def train_cleanup(model: DenoisingAutoencoder, data: PresenterCrops, run: TrainingRun, patch: int = 128) -> LossLog:
    """Each step corrupts whole crops (a seam is drawn where it would be), then learns on one
    `patch`-px square of each: the model is convolutional, and at 512 px a patch step costs a
    sixteenth of a crop's, so the same minutes train many more steps."""
    def loss_of_batch(indices: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        clean = data.images(indices)
        noisy_rng = torch.Generator(clean.device).manual_seed(int(torch.randint(2 ** 31, (1,), generator=rng)))
        noisy = corrupt(clean, noisy_rng)
        clean, noisy = same_patches((clean, noisy), patch, rng)
        restored = model(noisy).float()
        whole = torch.ones(1, 1, *clean.shape[2:], device=clean.device)
        return masked_l1(restored, clean, whole) + 0.2 * (1 - masked_ssim(restored, clean, whole))

    return _fit(model, data, loss_of_batch, run, "cleanup")


def same_patches(batches: tuple[torch.Tensor, ...], patch: int, rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    """The same random `patch`-px square of each crop in every batch, on the 8-px grid the block
    corruption uses; whole crops when they are no larger than `patch`."""
    size = batches[0].shape[-1]
    if patch >= size:
        return batches
    corners = (torch.randint((size - patch) // 8 + 1, (2, len(batches[0])), generator=rng) * 8).tolist()
    return tuple(torch.stack([crop[:, top:top + patch, left:left + patch] for crop, top, left in zip(batch, *corners, strict=True)])
                 for batch in batches)


MAX_GRADIENT_NORM = 1.0
"""Steps are clipped to this gradient norm: a rare batch with a huge loss must not throw the weights far."""


def _fit(model, data: PresenterCrops, loss_of_batch, run: TrainingRun, label: str) -> LossLog:
    device = data.crops.device
    model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=run.learning_rate, betas=(0.5, 0.999))
    start = load_checkpoint(run.checkpoint, model, optimiser)
    rng = torch.Generator().manual_seed(run.seed + start)
    record = LossLog(start_step=start)
    began = time.perf_counter()
    with tqdm(total=run.steps, initial=start, desc=label, unit="step", disable=not run.progress or None) as bar:
        for step in range(start, run.steps):
            with mixed_precision(device):
                loss = loss_of_batch(data.sample(run.batch_size, rng), rng)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRADIENT_NORM)
            optimiser.step()
            record.losses.append(loss.item())
            bar.set_postfix(loss=f"{record.losses[-1]:.4f}")
            bar.update(1)
            if (step + 1) % run.checkpoint_every == 0 or step + 1 == run.steps:
                save_checkpoint(run.checkpoint, model, optimiser, step + 1)
                if bar.disable:  # no bar (a log file, a scheduler): a line per checkpoint instead
                    elapsed = time.perf_counter() - began
                    left = elapsed / (step + 1 - start) * (run.steps - step - 1)
                    log.info("%s: step %d of %d, loss %.4f, %.0f s, about %.0f s left", label, step + 1, run.steps,
                             record.losses[-1], elapsed, left)
    record.seconds = time.perf_counter() - began
    model.eval()
    return record


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.expand_as(a)
    return ((a - b).abs() * weights).sum() / weights.sum().clamp_min(1e-6)


def masked_ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM (Gaussian window, images in 0..1) over the pixels the mask weights."""
    radius = 5
    taps = torch.exp(-torch.arange(-radius, radius + 1, device=a.device, dtype=torch.float32) ** 2 / (2 * sigma ** 2))
    window = (taps[:, None] * taps[None, :] / taps.sum() ** 2).expand(3, 1, -1, -1)

    def smooth(x):
        return F.conv2d(F.pad(x, [radius] * 4, mode="replicate"), window, groups=3)

    # In float32 even inside the training step's autocast: a variance taken as E[x²] - E[x]² in
    # bfloat16 (8 bits of mantissa) is mostly rounding error.
    with torch.autocast(a.device.type, enabled=False):
        a, b = a.float(), b.float()
        mean_a, mean_b = smooth(a), smooth(b)
        var_a, var_b = smooth(a * a) - mean_a ** 2, smooth(b * b) - mean_b ** 2
        covariance = smooth(a * b) - mean_a * mean_b
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        ssim_map = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)) / ((mean_a ** 2 + mean_b ** 2 + c1) * (var_a + var_b + c2))
        weights = mask.expand_as(ssim_map)
        return (ssim_map * weights).sum() / weights.sum().clamp_min(1e-6)


def save_checkpoint(path: Path, model: torch.nn.Module, optimiser: torch.optim.Optimizer, step: int) -> None:
    from ..weights import save_weights

    state = optimiser.state_dict()
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    for parameter, values in state["state"].items():
        for key, value in values.items():
            tensors[f"optimiser.{parameter}.{key}"] = torch.as_tensor(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_weights(path, tensors, model.settings, {"step": step, "param_groups": state["param_groups"]})


def load_checkpoint(path: Path, model: torch.nn.Module, optimiser: torch.optim.Optimizer) -> int:
    """The step to resume from: 0 without a checkpoint, or when it was made for other model settings."""
    from ..weights import load_weights

    if not path.is_file():
        return 0
    tensors, metadata = load_weights(path, "checkpoint", "delete it to start over")
    if metadata.get("settings") != json.loads(json.dumps(asdict(model.settings))):
        return 0
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimiser."):
            _, parameter, name = key.split(".", 2)
            state.setdefault(int(parameter), {})[name] = value.to(next(model.parameters()).device) if name != "step" else value
    optimiser.load_state_dict({"state": state, "param_groups": metadata["param_groups"]})
    return int(metadata["step"])
