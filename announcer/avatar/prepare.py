"""`announcer avatar prepare`: turn a presenter video into a bundle with its own generator and cleanup model."""
from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..cleanup import CleanupSettings, DenoisingAutoencoder, save_cleanup
from ..errors import InputError
from ..face import Avatar, FaceTrack, layout, load_avatar
from ..generate import WarpRenderer
from ..generate.crops import CropGeometry
from ..generate.unet import GeneratorSettings, MouthGenerator
from ..runtime import Runtime
from ..weights import save_weights
from .bundle import AvatarBundle, bundle_for
from .train import LossLog, PresenterCrops, TrainingRun, train_cleanup, train_generator

log = logging.getLogger(__name__)


TRAINING_INTERIOR = "painted"
"""The mouth interior of the warp the generator learns to refine. Measured on talk_hdtf_512 at 128 px (RESULTS.md):
the generator trained on painted interiors redraws them from its reference frame and ends better (28.56 dB after
300 steps) than one trained on the presenter's own interiors (27.14 dB), though that warp alone starts 3 dB higher."""


@dataclass
class PrepareConfig:
    size: int = 256
    """Crop side the generator works at: 256 or 512 (multiples of 32)."""
    width: int = 32
    """Generator channels at full resolution."""
    generator_steps: int = 3000
    cleanup_steps: int = 1500
    batch_size: int = 8
    cleanup_patch: int = 128
    """The cleanup model trains on squares this big cut from the crops (see `train_cleanup`)."""
    cleanup_batch_size: int = 16
    learning_rate: float = 2e-4
    held_out_share: float = 0.15
    """The video's last frames, kept out of training for evaluation."""
    checkpoint_every: int = 200
    seed: int = 0

    @staticmethod
    def quick() -> "PrepareConfig":
        """A short CPU run (tests, trying the command): tiny crops, a few steps."""
        return PrepareConfig(size=64, width=8, generator_steps=30, cleanup_steps=30, batch_size=4, cleanup_batch_size=4,
                             checkpoint_every=10)

    def validate(self) -> "PrepareConfig":
        if self.size % 32 or not 64 <= self.size <= 1024:
            raise InputError(f"generator size {self.size} is not usable", fix="use a multiple of 32 from 64 to 1024 (256 or 512)")
        if self.generator_steps < 1 or self.cleanup_steps < 0 or min(self.batch_size, self.cleanup_batch_size) < 1:
            raise InputError("steps and batch size must be positive", fix="use --steps N and --batch-size N with N >= 1")
        if self.cleanup_patch % 8 or self.cleanup_patch < 32:
            raise InputError(f"cleanup patch {self.cleanup_patch} is not usable", fix="use a multiple of 8 of at least 32 (128)")
        return self


def prepare_avatar(video: Path, name: str, runtime: Runtime, config: PrepareConfig) -> AvatarBundle:
    """Track, crop, train the generator then the cleanup model, evaluate on held-out frames, write the bundle."""
    config = config.validate()
    bundle = bundle_for(runtime.home.avatars_dir, name)
    avatar = load_avatar(Path(video), None, runtime.config.encode.max_height, runtime.config.face.max_avatar_seconds)
    if not avatar.is_video:
        raise InputError("a prepared avatar needs a video of the presenter", path=video,
                         fix="give an .mp4 of the presenter talking (a minute or more is best)")
    _start_bundle(bundle, Path(video), avatar.sha256)
    track = runtime.face_track(avatar)
    log.info("%s: %d frames tracked", name, len(avatar.frames))
    warp = WarpRenderer(replace(runtime.config.generate, close_mouths_above=0.0, mouth_interior=TRAINING_INTERIOR),
                        runtime.device)
    data = presenter_crops(avatar, track, CropGeometry(config.size), config.held_out_share, warp)
    log.info("%s: %d training crops of %d px (%d held out), on %s", name, len(data.train), config.size,
             len(avatar.frames) - len(data.train), runtime.device)
    bundle.write_reference(data.images(torch.tensor([data.reference], device=runtime.device))[0])
    generator = MouthGenerator(GeneratorSettings(config.size, config.width))
    generator_log = train_generator(generator, data, TrainingRun(
        config.generator_steps, config.batch_size, config.learning_rate, bundle.checkpoints / "generator.safetensors",
        config.checkpoint_every, config.seed, runtime.config.progress))
    save_weights(bundle.generator_path, generator.state_dict(), generator.settings, {"trained": generator_log.summary()})
    cleanup_log = _prepare_cleanup(bundle, data, config, runtime.config.progress)
    bundle.write_meta({**bundle.read_meta(), "name": name, "source": str(Path(video).resolve()), "source_sha256": avatar.sha256,
                       "frames": len(avatar.frames), "fps": avatar.fps, "size": list(avatar.size),
                       "held_out": [len(data.train), len(avatar.frames)], "reference_frame": data.reference,
                       "warp_interior": warp.config.mouth_interior,
                       "prepare": asdict(config), "device": str(runtime.device),
                       "generator": generator_log.summary(), "cleanup": cleanup_log.summary() if cleanup_log else None})
    return bundle


def _prepare_cleanup(bundle: AvatarBundle, data: PresenterCrops, config: PrepareConfig, progress: bool) -> LossLog | None:
    """Train and save the cleanup model; with no cleanup steps the bundle renders without one (its checkpoint stays)."""
    if config.cleanup_steps == 0:
        bundle.cleanup_path.unlink(missing_ok=True)
        return None
    cleanup = DenoisingAutoencoder(CleanupSettings())
    log = train_cleanup(cleanup, data, TrainingRun(
        config.cleanup_steps, config.cleanup_batch_size, config.learning_rate * 2, bundle.checkpoints / "cleanup.safetensors",
        config.checkpoint_every, config.seed, progress), patch=config.cleanup_patch)
    save_cleanup(cleanup, bundle.cleanup_path, {"trained": log.summary()})
    return log


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


def presenter_crops(avatar: Avatar, track: FaceTrack, geometry: CropGeometry, held_out_share: float,
                    warp: WarpRenderer) -> PresenterCrops:
    """Every frame's crop, the warp renderer's redraw of it and its own-mouth map, on the warp's device;
    the last `held_out_share` of frames kept out of training.

    The warp redraws each frame to its own landmarks from its mouth closed (`warp` closes every
    mouth first), which is what the generator is given at render time, with the real frame as the answer.
    Its mouth interiors come from other frames than the one drawn (`_interior_donors`), as they do at render time.
    """
    crops, warped_crops, maps = [], [], []
    count = len(avatar.frames)
    held = max(1, int(round(count * held_out_share))) if count > 4 else 0
    for frames, donors in _interior_donors(count, held):
        done = int(frames[0])
        for warped in warp.landmark_batches_on_device(avatar, track, frames, track.landmarks[frames], donors):
            part = slice(done, done + len(warped))
            done += len(warped)
            points = track.landmarks[part]
            crops.append(_as_bytes(geometry.cut(torch.from_numpy(avatar.frames[part].copy()).to(warp.device), points)))
            warped_crops.append(_as_bytes(geometry.cut(warped, points)))
            maps.append(_as_bytes(geometry.landmark_maps(geometry.landmarks_in_crop(points, points), warp.device)))
    train = torch.arange(count - held)
    reference = int(np.argmax(layout.mouth_opening(track.landmarks[:count - held])))
    return PresenterCrops(torch.cat(crops), torch.cat(warped_crops), torch.cat(maps), geometry.mask(warp.device), train, reference)


def _interior_donors(count: int, held: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frames, the frames their mouth interiors come from), in frame order. A frame is never its own donor, nor are
    its neighbours: each half of the training frames takes its interiors from the other half, as held-out frames and
    rendering take theirs from frames other than themselves; the held-out frames take them from all training frames."""
    train = np.arange(count - held)
    if len(train) < 4:
        return [(np.arange(count), train)]
    first, second = train[:len(train) // 2], train[len(train) // 2:]
    groups = [(first, second), (second, first)]
    return groups + ([(np.arange(count - held, count), train)] if held else [])


def _as_bytes(images: torch.Tensor) -> torch.Tensor:
    return (images * 255 + 0.5).clamp(0, 255).to(torch.uint8)


__all__ = ["PrepareConfig", "prepare_avatar", "presenter_crops"]
