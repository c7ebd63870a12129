"""Batch throughput: clips per hour for ten 20-second scripts, and what the job system itself costs.

    .venv/bin/python benchmarks/batch.py [--clips 10] [--avatar PHOTO_OR_VIDEO] [--engines local ray]

Three runs, each in its own empty home (no cached stages): a plain loop over `Pipeline.render`
(no job system), `run_batch` with the local engine, and `run_batch` with Ray on this machine.
The job system's overhead is measured two ways: the local batch's wall time against the plain
loop's (noisy: a few percent either way between runs), and directly, as the local batch's wall
time spent outside any job (enqueueing, claiming, recording, the index).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from announcer import Pipeline, RenderConfig, RenderRequest
from announcer.config import FaceConfig
from announcer.jobs import run_batch

REPO = Path(__file__).resolve().parent.parent
SENTENCES = [
    "Good morning, and welcome to the bulletin.", "Markets in Asia opened higher after a quiet night in New York.",
    "The central bank left interest rates unchanged, as most economists expected.",
    "In the capital, the council has approved a new plan for the riverside park.",
    "Rail services in the north are running normally again after yesterday's storm.",
    "Temperatures will climb to eighteen degrees this afternoon, with a light breeze from the west.",
    "The national team won its third match in a row on Sunday evening.", "That is all for now. Thank you for watching.",
]


def write_scripts(folder: Path, count: int) -> list[Path]:
    """Scripts of about 20 seconds each (five sentences, about 55 words), each a different rotation of the sentences."""
    folder.mkdir(parents=True, exist_ok=True)
    scripts = []
    for k in range(count):
        text = " ".join(SENTENCES[(k + i) % len(SENTENCES)] for i in range(5))
        path = folder / f"bulletin{k:02}.txt"
        path.write_text(text + "\n")
        scripts.append(path)
    return scripts


def plain_loop(scripts: list[Path], avatar: str, out: Path, config: RenderConfig) -> tuple[float, float]:
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    video_seconds = 0.0
    with Pipeline(config) as pipeline:
        for script in scripts:
            result = pipeline.render(RenderRequest(script=script, avatar=avatar, output=out / f"{script.stem}.mp4"))
            video_seconds += result.manifest["video"]["duration_s"]
    return time.perf_counter() - began, video_seconds


def batch(folder: Path, avatar: str, out: Path, config: RenderConfig, engine: str) -> tuple[float, float]:
    began = time.perf_counter()
    result = run_batch(folder, avatar, out, config, engine=engine)
    elapsed = time.perf_counter() - began
    if not result.ok:
        raise SystemExit(f"{engine} batch failed: {[job.error for job in result.failed]}")
    video_seconds = sum(json.loads(Path(job.outputs["manifest"]).read_text())["video"]["duration_s"] for job in result.jobs)
    if engine == "local":
        # Jobs run one after another: wall time not inside any job (claim to finish) is the job system's own.
        inside_jobs = sum(job.finished - job.started for job in result.jobs)
        print(json.dumps({"run": "batch, local engine", "seconds_outside_jobs": round(elapsed - inside_jobs, 2),
                          "percent_of_wall": round((elapsed - inside_jobs) / elapsed * 100, 2)}), flush=True)
    return elapsed, video_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--avatar", default=str(REPO.parent / "shared" / "media" / "portraits" / "woman_brown_hair.jpg"))
    parser.add_argument("--height", type=int, default=512, help="output height (default 512)")
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        scripts = write_scripts(root / "scripts", args.clips)
        base = RenderConfig(face=FaceConfig(models_dir=REPO.parent / "shared" / "models"), progress=False)
        base = replace(base, encode=replace(base.encode, height=args.height))
        runs = {"plain loop (no job system)": lambda: plain_loop(scripts, args.avatar, root / "plain",
                                                                  replace(base, home=root / "home-plain"))}
        for engine in args.engines:
            runs[f"batch, {engine} engine"] = (lambda e=engine: batch(root / "scripts", args.avatar, root / e, replace(base, home=root / f"home-{e}"), e))
        figures = {}
        for label, run in runs.items():
            elapsed, video = run()
            figures[label] = elapsed
            print(json.dumps({"run": label, "clips": args.clips, "video_seconds": round(video, 1), "wall_seconds": round(elapsed, 1),
                              "clips_per_hour": round(args.clips * 3600 / elapsed, 1)}), flush=True)
        plain = figures["plain loop (no job system)"]
        if "batch, local engine" in figures:
            overhead = (figures["batch, local engine"] - plain) / plain * 100
            print(json.dumps({"local_batch_vs_plain_loop_percent": round(overhead, 2)}))


if __name__ == "__main__":
    main()
