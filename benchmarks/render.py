"""Render a 30-second script on a photo avatar and on a video avatar at 720p, and 30 seconds of recorded
narration (LJ Speech clips joined, with their transcript as the script, so the voice stage aligns
phonemes and subtitles) on the photo; print time per stage, real-time factor and peak memory, on
the CPU and on CUDA when present.

    .venv/bin/python benchmarks/render.py [--height 720] [--devices cpu cuda] [--expressiveness 0]

Each case runs in its own process (cold start, empty work dir), so peak memory is the case's own.
Target on a 2-core CPU: a 30-second 720p clip in under 60 s (real-time factor under 2).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEDIA = REPO.parent / "shared" / "media"
MODELS = REPO.parent / "shared" / "models"
SCRIPT = """---
title: Benchmark bulletin
voice: piper
---
Good evening, and welcome to the late edition. City officials approved a new plan today to expand the riverside park,
adding twelve hectares of green space. [pause 600ms] In business news, markets closed slightly higher after a quiet session, with technology shares
leading the gains. [pause 600ms]
And finally, the weather: a clear and cold night, with temperatures falling close to freezing before a bright, dry
morning. That is all for now. Thank you for watching, and good night.
"""
PHOTO = MEDIA / "portraits" / "woman_brown_hair.jpg"
CASES = {"photo": PHOTO, "video": MEDIA / "videos" / "talk_face2.mp4", "narration": PHOTO, "photo-16:9": PHOTO,
         "programme-16:9": PHOTO, "layouts-16:9+9:16": PHOTO, "cutout-16:9": PHOTO}
"""photo-16:9 is the photo case delivered as a 16:9 broadcast canvas `--height` lines tall, with a lower third and
burned-in captions: against `photo`, what composition costs. Against photo-16:9: programme-16:9 adds the example
template's intro and outro sting and its music bed; layouts-16:9+9:16 delivers a 9:16 clip too from the same render;
cutout-16:9 cuts the presenter out onto a looping video background (it needs the selfie segmenter: in the models
dir, downloadable, or given with --segmenter FILE, which pins that file's own sha256)."""
TEMPLATES = REPO / "examples" / "templates"
LJ_SPEECH = MEDIA / "audio" / "ljspeech"


def write_narration(folder: Path, seconds: float = 30.0) -> tuple[Path, Path]:
    """LJ Speech clips joined (with a short pause between) until `seconds`, and their transcript as a script."""
    import numpy as np
    import soundfile

    parts, lines, total = [], [], 0.0
    for row in (LJ_SPEECH / "metadata.csv").read_text().splitlines():
        name, _, text = row.split("|")
        audio, rate = soundfile.read(LJ_SPEECH / f"{name}.wav", dtype="float32")
        parts += [audio, np.zeros(int(0.4 * rate), np.float32)]
        lines.append(text)
        total += len(audio) / rate + 0.4
        if total >= seconds:
            break
    soundfile.write(folder / "narration.wav", np.concatenate(parts), rate)
    (folder / "narration.txt").write_text("\n\n".join(lines) + "\n")
    return folder / "narration.wav", folder / "narration.txt"


def pin_segmenter(pipeline, model: Path) -> None:
    """Use `model` as the selfie segmenter, pinned by its own sha256 (for a machine that cannot fetch the real one)."""
    import hashlib

    spec = pipeline.registry.specs["selfie_segmenter"]
    pipeline.registry.specs["selfie_segmenter"] = replace(spec, url=model.resolve().as_uri(), size=None,
                                                          sha256=hashlib.sha256(model.read_bytes()).hexdigest())


def run_case(case: str, device: str, height: int, segmenter: Path | None = None, expressiveness: float | None = None) -> dict:
    from announcer import Pipeline, RenderConfig, RenderRequest
    from announcer.config import EncodeConfig, FaceConfig, GraphicsConfig, LayoutConfig, ProgrammeConfig

    with tempfile.TemporaryDirectory() as folder:
        script, audio = Path(folder) / "bulletin.md", None
        script.write_text(SCRIPT)
        if case == "narration":
            audio, script = write_narration(Path(folder))
        config = RenderConfig(face=FaceConfig(models_dir=MODELS), encode=EncodeConfig(height=height), device=device,
                              home=Path(folder) / "home", progress=False)
        presenter, layouts = None, []
        if case.endswith("16:9") or case.startswith("layouts"):
            config = replace(config, encode=EncodeConfig(), layout=LayoutConfig(aspect="16:9", short_side=height),
                             graphics=GraphicsConfig(burn_captions=True))
            presenter = Path(folder) / "anchor.yaml"
            presenter.write_text("name: Jordan Lee\ntitle: Evening news\n")
        if case == "programme-16:9":
            config = replace(config, programme=ProgrammeConfig(intro=str(TEMPLATES / "a1-sting-16x9.mp4"),
                                                               outro=str(TEMPLATES / "a1-sting-16x9.mp4"),
                                                               music=str(TEMPLATES / "a1-bed.m4a")))
        if case.startswith("layouts"):
            layouts = ["16:9", "9:16"]
        if case == "cutout-16:9":
            studio = Path(folder) / "studio.mp4"
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "gradients=s=1280x720:d=4:r=25:speed=0.05",
                            "-pix_fmt", "yuv420p", str(studio)], check=True)
            config = replace(config, layout=replace(config.layout, cutout=True, background=str(studio), position="right"))
        started = time.perf_counter()
        with Pipeline(config) as pipeline:
            if case == "cutout-16:9" and segmenter:
                pin_segmenter(pipeline, segmenter)
            result = pipeline.render(RenderRequest(avatar=CASES[case], output=Path(folder) / "out.mp4", script=script,
                                                   audio=audio, settings={"presenter": str(presenter) if presenter else None,
                                                                                 "layouts": layouts,
                                                                                 "expressiveness": expressiveness}))
        total = time.perf_counter() - started
    figures = {"case": case, "device": device, "video_s": result.manifest["video"]["duration_s"],
               "size": f'{result.manifest["video"]["width"]}x{result.manifest["video"]["height"]}',
               "stages_s": {k: round(v, 2) for k, v in result.timings.items()},
               "total_s": round(total, 2), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    figures["real_time_factor"] = round(total / figures["video_s"], 2)
    if device.startswith("cuda"):
        import torch

        figures["peak_cuda_mb"] = torch.cuda.max_memory_allocated() // (1 << 20)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--devices", nargs="*", default=None)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--segmenter", type=Path, help="a selfie segmenter .tflite for the cutout case")
    parser.add_argument("--expressiveness", type=float, help="how far the face acts (0: a still face; default: the style's)")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one[0], args.one[1], args.height, args.segmenter, args.expressiveness)))
        return
    import torch

    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    print(f"announcer render benchmark: 30-second script, {args.height}p, {os.cpu_count()} CPU cores, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    print(f"{'case':18} {'device':6} {'size':>9} {'video s':>8} {'voice':>6} {'face':>6} {'render':>7} "
          f"{'total s':>8} {'RTF':>5} {'peak MB':>8}")
    for device in devices:
        for case in args.cases:
            extra = ["--segmenter", str(args.segmenter)] if args.segmenter else []
            extra += ["--expressiveness", str(args.expressiveness)] if args.expressiveness is not None else []
            done = subprocess.run([sys.executable, __file__, "--one", case, device, "--height", str(args.height), *extra],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{case:18} {device:6} did not run: {done.stderr.strip().splitlines()[-1]}")
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            stages = row["stages_s"]
            print(f"{row['case']:18} {row['device']:6} {row['size']:>9} {row['video_s']:>8.1f} "
                  f"{stages['voice']:>6.1f} {stages['face']:>6.1f} {stages['generate+encode']:>7.1f} {row['total_s']:>8.1f} "
                  f"{row['real_time_factor']:>5.2f} {row.get('peak_cuda_mb', row['peak_rss_mb']):>8}")
            print("       stages:", json.dumps(stages))


if __name__ == "__main__":
    main()
