"""Neural face generation for a prepared presenter: their own generator redraws the lower face.

Per batch, on the device: cut upright lower-face crops from the avatar frames, mask the lower
face, let the presenter's U-Net redraw it from a reference crop and the target mouth drawn as
lines, clean the result with the presenter's denoising autoencoder, and paste it back through a
feathered mask. Outside that mask the frame's pixels are untouched.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import numpy as np
import torch

from ..face import Avatar, FaceTrack
from ..motion import MotionPlan
from .crops import CropGeometry
from .targets import plan_targets
from .unet import MouthGenerator


class NeuralRenderer:
    name = "neural"

    def __init__(self, generator: MouthGenerator, cleanup: torch.nn.Module | None, reference: torch.Tensor,
                 device: torch.device, batch_size: int = 16):
        self.generator = generator.to(device).eval()
        self.cleanup = cleanup.to(device).eval() if cleanup is not None else None
        self.geometry = CropGeometry(generator.settings.size)
        self.reference = reference.to(device)
        """(3, S, S) 0..1: the presenter's mouth, open, as a crop."""
        self.mask = self.geometry.mask(device)
        self.device = device
        self.batch_size = batch_size

    def __call__(self, avatar: Avatar, track: FaceTrack, plan: MotionPlan) -> Iterator[np.ndarray]:
        targets = plan_targets(track.landmarks, plan)
        yield from self.render_landmarks(avatar, track, plan.source_frame, targets)

    def render_landmarks(self, avatar: Avatar, track: FaceTrack, source_frames: np.ndarray,
                         targets: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, len(source_frames), self.batch_size):
            batch = slice(start, start + self.batch_size)
            frames = torch.from_numpy(avatar.frames[source_frames[batch]]).to(self.device)
            yield self.render_batch(frames, track.landmarks[source_frames[batch]], targets[batch]).cpu().numpy()

    @torch.no_grad()
    def render_batch(self, frames: torch.Tensor, sources: np.ndarray, targets: np.ndarray) -> torch.Tensor:
        """(B, H, W, 3) uint8 frames on the device, their landmarks and the target landmarks -> finished frames."""
        crops = self.geometry.cut(frames, sources)
        maps = self.geometry.landmark_maps(self.geometry.landmarks_in_crop(targets, sources)).to(self.device)
        with self._autocast():
            drawn = self.generate(crops, maps)
        return self.geometry.paste(frames, drawn.float(), sources)

    def generate(self, crops: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) crops and target maps -> crops whose masked region is redrawn (and cleaned)."""
        kept = crops * (1 - self.mask)
        drawn = self.generator(kept, self.reference.expand(len(crops), -1, -1, -1), maps)
        composed = kept + drawn * self.mask
        if self.cleanup is not None:
            composed = kept + self.cleanup(composed) * self.mask
        return composed

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()


__all__ = ["NeuralRenderer"]
