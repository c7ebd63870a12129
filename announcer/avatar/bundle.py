"""A prepared presenter on disk: `AVATARS_DIR/NAME/`.

    bundle.json            what was trained on what, and the held-out evaluation
    video.mp4              the presenter video itself (the bundle does not depend on where it came from)
    reference.png          the open-mouth crop the generator copies teeth and lips from
    generator.safetensors  the presenter's mouth generator
    cleanup.safetensors    the presenter's denoising autoencoder
    checkpoints/           resumable training state (weights, optimiser, step)
    preview.jpg            held-out frames: real | warp renderer | generator
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class AvatarBundle:
    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def meta_path(self) -> Path:
        return self.root / "bundle.json"

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    @property
    def reference_path(self) -> Path:
        return self.root / "reference.png"

    @property
    def generator_path(self) -> Path:
        return self.root / "generator.safetensors"

    @property
    def cleanup_path(self) -> Path:
        return self.root / "cleanup.safetensors"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def preview_path(self) -> Path:
        return self.root / "preview.jpg"

    @property
    def is_ready(self) -> bool:
        """Prepared to the end: a run stopped part way (its checkpoints resume) is not rendered with or scored."""
        return self.generator_path.is_file() and self.video.is_file() and "held_out" in self.read_meta()

    def read_meta(self) -> dict:
        return json.loads(self.meta_path.read_text()) if self.meta_path.is_file() else {}

    def write_meta(self, meta: dict) -> None:
        temporary = self.meta_path.with_suffix(".json.partial")
        temporary.write_text(json.dumps(meta, indent=2) + "\n")
        temporary.replace(self.meta_path)

    def write_reference(self, crop: torch.Tensor) -> None:
        import cv2

        image = (crop.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(self.reference_path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    def read_reference(self) -> torch.Tensor:
        import cv2

        image = cv2.imread(str(self.reference_path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError("avatar bundle has no reference image", path=self.reference_path,
                             fix=f"prepare it again with `announcer avatar prepare VIDEO --name {self.name}`")
        return torch.from_numpy(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).permute(2, 0, 1).float() / 255


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InputError(f"'{name}' is not a usable avatar name",
                         fix="use letters, digits, '.', '_' or '-' (up to 64), starting with a letter or digit")
    return name


def bundle_for(avatars_dir: Path, name: str) -> AvatarBundle:
    """The bundle's place (it may not exist yet). Names are checked, so a bundle never lands outside `avatars_dir`."""
    return AvatarBundle(Path(avatars_dir) / check_name(name))


def find_bundle(avatars_dir: Path, name: str) -> AvatarBundle | None:
    """The prepared bundle called `name`, or None when `name` is not a bundle name or none is prepared."""
    if not NAME_PATTERN.match(name):
        return None
    bundle = AvatarBundle(Path(avatars_dir) / name)
    return bundle if bundle.is_ready else None


def list_bundles(avatars_dir: Path) -> list[AvatarBundle]:
    if not Path(avatars_dir).is_dir():
        return []
    return [AvatarBundle(p) for p in sorted(Path(avatars_dir).iterdir()) if AvatarBundle(p).is_ready]
