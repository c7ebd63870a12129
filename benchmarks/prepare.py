"""Time `announcer avatar prepare` on a presenter video of a given length (issue 4: 60 s in under 10 minutes on one H100).

    .venv/bin/python benchmarks/prepare.py [--seconds 60] [--device cuda] [--quick]

The shared talking videos are 5-10 s long, so the presenter video is the source clip played
forwards and backwards until it lasts `--seconds` (every frame is a real frame of the presenter;
the face is tracked on each one). Only times and memory are reported: the looped clip's held-out
frames repeat training frames, so its quality figures would flatter the models; quality comes from
`announcer avatar eval` on an unlooped video (benchmarks/RESULTS.md).
Prints tracking, generator and cleanup training times, the total, and peak GPU memory.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO.parent / "shared" / "media" / "videos" / "talk_hdtf_512.mp4"
MODELS = REPO.parent / "shared" / "models"


def looped_video(source: Path, seconds: float, folder: Path) -> Path:
    """`source` forwards then backwards, repeated until `seconds` long; video only.

    FFV1 in Matroska: lossless, so every frame is the source's decoded frame, and built into every
    ffmpeg (the lent GPU machine carries a minimal one without libx264, see benchmarks/device)."""
    from announcer.media.ffmpeg import run_ffmpeg

    there_and_back = folder / "there_and_back.mkv"
    run_ffmpeg(["-i", str(source), "-filter_complex", "[0:v]split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1:a=0[v]",
                "-map", "[v]", "-c:v", "ffv1", str(there_and_back)], "loop the presenter clip")
    looped = folder / f"presenter_{int(seconds)}s.mkv"
    run_ffmpeg(["-stream_loop", "-1", "-i", str(there_and_back), "-t", f"{seconds:.3f}", "-c", "copy", str(looped)],
               "repeat the presenter clip")
    return looped


def main() -> None:
    from announcer import Pipeline, RenderConfig
    from announcer.avatar import PrepareConfig, prepare_avatar
    from announcer.config import FaceConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=SOURCE)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="the tiny CPU preparation the tests use (checks the script runs)")
    parser.add_argument("--size", type=int, help="crop size (default: prepare's default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # a line per stage and checkpoint
    prepare = PrepareConfig.quick() if args.quick else PrepareConfig()
    prepare = replace(prepare, size=args.size) if args.size else prepare
    with tempfile.TemporaryDirectory() as scratch:
        video = looped_video(args.video, args.seconds, Path(scratch))
        config = RenderConfig(face=FaceConfig(models_dir=MODELS, max_avatar_seconds=args.seconds + 1), device=args.device,
                              home=Path(scratch) / "home", progress=False)
        device = torch.device(args.device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        began = time.perf_counter()
        with Pipeline(config) as pipeline:
            bundle = prepare_avatar(video, "benchmark", pipeline.runtime, prepare)
        total = time.perf_counter() - began
        meta = bundle.read_meta()
    generator, cleanup = meta["generator"]["seconds"], meta["cleanup"]["seconds"]
    figures = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)",
               "video_seconds": args.seconds, "frames": meta["frames"], "crop": prepare.size,
               "generator_steps": prepare.generator_steps, "cleanup_steps": prepare.cleanup_steps,
               "tracking_and_crops_s": round(total - generator - cleanup, 1), "generator_s": round(generator, 1),
               "cleanup_s": round(cleanup, 1), "total_s": round(total, 1),
               "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 2) if device.type == "cuda" else None}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
