"""Does a refactor leave the pictures alone? Render a fixed set of clips (the README's example, a template with a
presenter and several layouts, front matter layout settings under command-line flags) and either save their
frames and manifests as a reference or compare them with one: PSNR per clip (identical frames print inf) and
any manifest field that changed.

    .venv/bin/python benchmarks/same_frames.py --save /tmp/before     # on the old code
    .venv/bin/python benchmarks/same_frames.py --against /tmp/before  # on the new code
    .venv/bin/python benchmarks/same_frames.py --against /tmp/before --extra=--expressiveness=0  # a new setting's off

Each run renders into a fresh home, so only the speech comes from the cache: Piper's voice samples noise, so two
syntheses of one sentence differ, and the comparison then starts from the reference's own speech (--save keeps its
voice artifacts). Target: PSNR of at least 60 dB on every clip.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PHOTO = SHARED / "media" / "portraits" / "woman_brown_hair.jpg"
SETTINGS_SCRIPT = """---
title: Settings at every source
layout: "9:16"
position: left
speed: 1.1
loudness: web
headline: Settings
---
A short bulletin, read a little faster. It rains tomorrow.
"""
VOLATILE = {"created", "stage_seconds", "environment", "path", "file", "job", "announcer", "home", "models_dir"}


def cases(folder: Path) -> dict[str, list[str]]:
    settings = folder / "settings.md"
    settings.write_text(SETTINGS_SCRIPT, encoding="utf-8")
    examples = REPO / "examples"
    return {
        "readme": ["render", str(examples / "evening-news.md"), "--avatar", str(PHOTO)],
        "template": ["render", str(examples / "evening-news.md"), "--presenter", str(examples / "presenters" / "jordan.yaml"),
                     "--template", str(examples / "templates" / "evening-news.yaml"), "--layouts", "16:9,1:1"],
        "settings": ["render", str(settings), "--avatar", str(PHOTO), "--position", "right", "--speed", "0.9"],
    }


def render_all(folder: Path, speech_from: Path | None = None, extra: list[str] = ()) -> dict[str, list[Path]]:
    if speech_from is not None:
        shutil.copytree(speech_from, folder / "home" / "work" / "voice")
    made = {}
    for name, arguments in cases(folder).items():
        out = folder / name / "clip.mp4"
        command = [sys.executable, "-m", "announcer", *arguments, "-o", str(out), "--quiet", "--home", str(folder / "home"),
                   "--models-dir", str(SHARED / "models"), *extra]
        subprocess.run(command, check=True, cwd=folder)
        made[name] = sorted(out.parent.glob("*.mp4"))
    return made


def frames(video: Path) -> np.ndarray:
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "json", str(video)], check=True, capture_output=True, text=True)
    stream = json.loads(probe.stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, stream["height"], stream["width"], 3)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return float("nan")
    squared = sum(float(np.sum((x.astype(np.float32) - y.astype(np.float32)) ** 2)) for x, y in zip(a, b, strict=True))
    mse = squared / a.size
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def stable(manifest: dict):
    if isinstance(manifest, dict):
        return {k: stable(v) for k, v in manifest.items() if k not in VOLATILE}
    if isinstance(manifest, list):
        return sorted((stable(v) for v in manifest), key=lambda v: json.dumps(v, sort_keys=True))
    return manifest


def differences(a, b, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in differences(a.get(key), b.get(key), f"{where}.{key}")]
    return [] if a == b else [f"{where}: {json.dumps(a, default=str)[:80]} -> {json.dumps(b, default=str)[:80]}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--save", type=Path, help="folder to keep the reference in")
    side.add_argument("--against", type=Path, help="a folder --save wrote")
    parser.add_argument("--extra", action="append", default=[], help="a render argument added to every clip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        made = render_all(Path(scratch), args.against / "voice" if args.against else None, args.extra)
        if args.save:
            shutil.copytree(Path(scratch) / "home" / "work" / "voice", args.save / "voice", dirs_exist_ok=True)
            for name, videos in made.items():
                (args.save / name).mkdir(parents=True, exist_ok=True)
                for video in videos:
                    np.save(args.save / name / f"{video.stem}.npy", frames(video))
                    manifest = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
                    (args.save / name / f"{video.stem}.json").write_text(json.dumps(stable(manifest), indent=1))
            print(f"saved {sum(len(v) for v in made.values())} clips to {args.save}")
            return 0
        worst = math.inf
        for name, videos in made.items():
            for video in videos:
                reference = np.load(args.against / name / f"{video.stem}.npy", mmap_mode="r")
                value = psnr(reference, frames(video))
                worst = min(worst, value) if not math.isnan(value) else -math.inf
                before = json.loads((args.against / name / f"{video.stem}.json").read_text(encoding="utf-8"))
                changed = differences(before, stable(json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))))
                print(f"{name}/{video.name}: PSNR {value:.1f} dB, {len(changed)} manifest fields changed")
                for line in changed[:12]:
                    print(f"    {line}")
        print(f"worst PSNR {worst:.1f} dB (target >= 60)")
        return 0 if worst >= 60 else 1


if __name__ == "__main__":
    sys.exit(main())
