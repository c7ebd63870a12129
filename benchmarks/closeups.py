"""Close-up sheets of every shared portrait with the renderer's defaults: eyes and mouth at 1:1 and 2x at three
mouth openings and a blink.

    .venv/bin/python benchmarks/closeups.py -o docs/closeups --label after [--height 720]

Writes PORTRAIT.LABEL.jpg per portrait (JPEG quality 92, to keep the repository small). For "before", run it with
PYTHONPATH pointing at a checkout of an older commit, with this commit's announcer/eval/closeups.py copied in.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from announcer.config import FaceConfig, GenerateConfig
from announcer.deliver.closeups import Moment, closeup_sheet
from announcer.face import FaceStage, load_avatar
from announcer.generate import WarpRenderer
from announcer.motion import MotionPlan

SHARED = Path(__file__).resolve().parents[2] / "shared"
OPENINGS = (0.35, 0.65, 1.0)


def plan() -> MotionPlan:
    openings = [*OPENINGS, 0.0]
    mouth = np.zeros((len(openings), 3), np.float32)
    mouth[:, 0] = openings
    blink = np.array([0, 0, 0, 1.0], np.float32)
    return MotionPlan(25, mouth, blink, np.zeros((len(openings), 3), np.float32), np.zeros(len(openings), np.int64), "phonemes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--label", default="after")
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    stage = FaceStage(FaceConfig(models_dir=args.models_dir))
    moments = [Moment(k, f"mouth open {o:.2f}") for k, o in enumerate(OPENINGS)] + [Moment(len(OPENINGS), "blink 1.00")]
    for path in sorted((SHARED / "media" / "portraits").glob("*")):
        avatar = load_avatar(path, args.height, args.height, 1)
        track = stage(avatar)
        motion = plan()
        frames = np.concatenate(list(WarpRenderer(GenerateConfig(), torch.device("cpu"))(avatar, track, motion)))
        sheet = closeup_sheet(frames, np.repeat(track.landmarks[:1], len(frames), axis=0), moments)
        out = args.output / f"{path.stem}.{args.label}.jpg"
        cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        print(f"wrote {out}")
    stage.close()


if __name__ == "__main__":
    main()
