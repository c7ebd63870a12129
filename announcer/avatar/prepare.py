"""`announcer avatar prepare`: turn a presenter video into a bundle with its own generator and cleanup model."""
from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..cleanup import CleanupSettings, DenoisingAutoencoder, save_cleanup
from ..errors import InputError
from ..face import layout, load_avatar
from ..generate.crops import CropGeometry
from ..generate.unet import GeneratorSettings, MouthGenerator
from ..weights import save_weights
from .bundle import AvatarBundle, bundle_for
from .train import PresenterCrops, train_cleanup, train_generator

log = logging.getLogger(__name__)


@dataclass
class PrepareConfig:
    size: int = 256
    """Crop side the generator works at: 256 or 512 (multiples of 32)."""
    width: int = 32
    """Generator channels at full resolution."""
    generator_steps: int = 3000
    cleanup_steps: int = 1500
    batch_size: int = 8
    learning_rate: float = 2e-4
    held_out_share: float = 0.15
    """The video's last frames, kept out of training for evaluation."""
    checkpoint_every: int = 200
    seed: int = 0

    @staticmethod
    def quick() -> "PrepareConfig":
        """A short CPU run (tests, trying the command): tiny crops, a few steps."""
        return PrepareConfig(size=64, width=8, generator_steps=30, cleanup_steps=30, batch_size=4, checkpoint_every=10)

    def validate(self) -> "PrepareConfig":
        if self.size % 32 or not 64 <= self.size <= 1024:
            raise InputError(f"generator size {self.size} is not usable", fix="use a multiple of 32 from 64 to 1024 (256 or 512)")
        if self.generator_steps < 1 or self.cleanup_steps < 0 or self.batch_size < 1:
            raise InputError("steps and batch size must be positive", fix="use --steps N and --batch-size N with N >= 1")
        return self


def prepare_avatar(video: Path, name: str, pipeline, config: PrepareConfig) -> AvatarBundle:
    """Track, crop, train the generator then the cleanup model, evaluate on held-out frames, write the bundle."""
    config = config.validate()
    bundle = bundle_for(pipeline.home.avatars_dir, name)
    avatar = load_avatar(Path(video), None, pipeline.config.encode.max_height, pipeline.config.face.max_avatar_seconds)
    if not avatar.is_video:
        raise InputError("a prepared avatar needs a video of the presenter", path=video,
                         fix="give an .mp4 of the presenter talking (a minute or more is best)")
    _start_bundle(bundle, Path(video), avatar.sha256)
    track = pipeline.face_track(avatar)
    data = presenter_crops(avatar.frames, track.landmarks, CropGeometry(config.size), config.held_out_share, pipeline.device)
    bundle.write_reference(data.images(torch.tensor([data.reference], device=pipeline.device))[0])
    generator = MouthGenerator(GeneratorSettings(config.size, config.width))
    generator_log = train_generator(generator, data, config.generator_steps, config.batch_size, config.learning_rate,
                                    bundle.checkpoints / "generator.safetensors", config.checkpoint_every, config.seed,
                                    pipeline.config.progress)
    save_weights(bundle.generator_path, generator.state_dict(), generator.settings, {"trained": generator_log.summary()})
    cleanup = DenoisingAutoencoder(CleanupSettings())
    cleanup_log = train_cleanup(cleanup, data, config.cleanup_steps, config.batch_size, config.learning_rate * 2,
                                bundle.checkpoints / "cleanup.safetensors", config.checkpoint_every, config.seed,
                                pipeline.config.progress)
    save_cleanup(cleanup, bundle.cleanup_path, {"trained": cleanup_log.summary()})
    bundle.write_meta({**bundle.read_meta(), "name": name, "source": str(Path(video).resolve()), "source_sha256": avatar.sha256,
                       "frames": len(avatar.frames), "fps": avatar.fps, "size": list(avatar.size),
                       "held_out": [len(data.train), len(avatar.frames)], "reference_frame": data.reference,
                       "prepare": asdict(config), "device": str(pipeline.device),
                       "generator": generator_log.summary(), "cleanup": cleanup_log.summary()})
    return bundle


def _start_bundle(bundle: AvatarBundle, video: Path, sha256: str) -> None:
    """Create the bundle, or keep one prepared from the same video (its checkpoints resume)."""
    meta = bundle.read_meta()
    if meta and meta.get("source_sha256") != sha256:
        raise InputError(f"avatar '{bundle.name}' was prepared from another video", path=bundle.root,
                         fix="pick another --name, or delete that folder to prepare it again")
    bundle.root.mkdir(parents=True, exist_ok=True)
    if not bundle.video.is_file():
        temporary = bundle.video.with_suffix(".partial")
        shutil.copyfile(video, temporary)
        temporary.replace(bundle.video)
    bundle.write_meta({**meta, "name": bundle.name, "source_sha256": sha256})


def presenter_crops(frames: np.ndarray, landmarks: np.ndarray, geometry: CropGeometry, held_out_share: float,
                    device: torch.device, batch: int = 32) -> PresenterCrops:
    """Every frame's crop and own-mouth map on the device; the last `held_out_share` of frames kept out of training."""
    crops, maps = [], []
    for start in range(0, len(frames), batch):
        part = slice(start, start + batch)
        points = landmarks[part]
        cut = geometry.cut(torch.from_numpy(frames[part].copy()).to(device), points)
        crops.append((cut * 255 + 0.5).clamp(0, 255).to(torch.uint8))
        maps.append((geometry.landmark_maps(geometry.landmarks_in_crop(points, points)) * 255).round().to(torch.uint8).to(device))
    count = len(frames)
    held = max(1, int(round(count * held_out_share))) if count > 4 else 0
    train = torch.arange(count - held)
    reference = int(np.argmax(layout.mouth_opening(landmarks[:count - held])))
    return PresenterCrops(torch.cat(crops), torch.cat(maps), geometry.mask(device), train, reference)


__all__ = ["PrepareConfig", "prepare_avatar", "presenter_crops"]
