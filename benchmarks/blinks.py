"""Blinks on every shared portrait, as MediaPipe sees them: the re-detected eye at the deepest frame as a share of
its usual opening, the mean eyeBlink score, and the grain kept (eval.eyes.grain, shut against open).

    .venv/bin/python benchmarks/blinks.py [--models-dir ../shared/models]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from announcer.config import FaceConfig, GenerateConfig
from announcer.eval.eyes import grain
from announcer.face.meter import FaceMeter
from announcer.face import FaceStage, load_avatar
from announcer.generate import WarpRenderer
from announcer.motion import MotionPlan

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args()
    stage = FaceStage(FaceConfig(models_dir=args.models_dir))
    meter = FaceMeter(args.models_dir / "face_landmarker_v2_with_blendshapes.task")
    renderer = WarpRenderer(GenerateConfig(), torch.device("cpu"))
    plan = MotionPlan(25, np.zeros((3, 3), np.float32), np.array([0, 0.6, 1.0], np.float32), np.zeros((3, 3), np.float32),
                      np.zeros(3, np.int64), "phonemes")
    print(f"{'portrait':28} {'open share':>10} {'eyeBlink':>9} {'grain kept':>10}")
    for path in sorted((SHARED / "media" / "portraits").glob("*")):
        avatar = load_avatar(path, args.height, args.height, 1)
        track = stage(avatar)
        frames = np.concatenate(list(renderer(avatar, track, plan)))
        readings = meter.read(frames)
        kept = grain(frames[2], track.landmarks[0]) / max(grain(frames[0], track.landmarks[0]), 1e-6)
        print(f"{path.name:28} {readings.opening[2] / readings.opening[0]:>10.2f} {readings.blink[2]:>9.2f} {kept:>10.2f}")
    meter.close()
    stage.close()


if __name__ == "__main__":
    main()
