"""Neural face generation for a prepared presenter: warp first, then their own generator refines it.

Per batch, on the device: the warp renderer moves the presenter's lips to the target landmarks
and fills the mouth with the presenter's own interior (or the painted one the generator was trained on); upright lower-face crops are cut from those frames, the presenter's
U-Net corrects them (real teeth and lips from a reference crop, the target mouth drawn as lines),
the presenter's denoising autoencoder cleans the result, and it is pasted back through a
feathered mask. Outside that mask the warp renderer's pixels are untouched.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import numpy as np
import torch

from ..face import Avatar, FaceTrack
from ..motion import MotionPlan
from . import WarpRenderer
from .crops import CropGeometry
from .targets import plan_targets
from .unet import MouthGenerator


class NeuralRenderer:
    name = "neural"

    def __init__(self, warp: WarpRenderer, generator: MouthGenerator, cleanup: torch.nn.Module | None,
                 reference: torch.Tensor, device: torch.device):
        self.warp = warp
        self.generator = generator.to(device).eval()
        self.cleanup = cleanup.to(device).eval() if cleanup is not None else None
        self.geometry = CropGeometry(generator.settings.size)
        self.reference = reference.to(device)
        """(3, S, S) 0..1: the presenter's mouth, open, as a crop."""
        self.mask = self.geometry.mask(device)
        self.device = device

    def __call__(self, avatar: Avatar, track: FaceTrack, plan: MotionPlan) -> Iterator[np.ndarray]:
        targets = plan_targets(track.landmarks, plan)
        yield from self.render_landmarks(avatar, track, plan.source_frame, targets)

    def render_landmarks(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray, targets: np.ndarray,
                         interior_frames: np.ndarray | None = None) -> Iterator[np.ndarray]:
        done = 0
        for warped in self.warp.landmark_batches_on_device(avatar, track, source_frames, targets, interior_frames):
            batch = slice(done, done + len(warped))
            done += len(warped)
            yield self.render_batch(warped, track.landmarks[source_frames[batch]], targets[batch]).cpu().numpy()

    @torch.no_grad()
    def render_batch(self, warped: torch.Tensor, sources: np.ndarray, targets: np.ndarray) -> torch.Tensor:
        """(B, H, W, 3) uint8 warp-rendered frames on the device, their avatar landmarks and the target landmarks
        -> finished frames."""
        crops = self.geometry.cut(warped, sources)
        maps = self.geometry.landmark_maps(self.geometry.landmarks_in_crop(targets, sources), self.device)
        with mixed_precision(self.device):
            drawn = self.generate(crops, maps)
        return self.geometry.paste(warped, drawn.float(), sources)

    def generate(self, warped_crops: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) warp-rendered crops and target maps -> crops whose masked region is redrawn (and cleaned)."""
        kept = warped_crops * (1 - self.mask)
        drawn = self.generator(warped_crops, self.reference.expand(len(warped_crops), -1, -1, -1), maps)
        composed = kept + drawn * self.mask
        if self.cleanup is not None:
            composed = kept + self.cleanup(composed) * self.mask
        return composed


def mixed_precision(device: torch.device):
    """The presenter models run (and train) in bfloat16 on CUDA, in float32 on the CPU."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


__all__ = ["NeuralRenderer", "mixed_precision"]
