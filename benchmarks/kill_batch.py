"""kill -9 at random moments of a six-script batch, each followed by a re-run: every clip delivered exactly once.

    .venv/bin/python benchmarks/kill_batch.py [--trials 20] [--seed 1]

Each trial starts `announcer batch` on six scripts into a fresh output folder and kills it with SIGKILL: half the
trials at a random moment of the batch, half the instant a clip's manifest is staged (between writing the clip's
files and renaming them into place, the moment the fuzz found). Then the same command runs again to the end.
Checked for every trial:
- the re-run exits 0, and all six clips are there, each with its five files and no temp file left;
- a clip that was whole on disk before the kill is not delivered again (same inode and mtime after the re-run);
- `jobs list` has every job done, a clip delivered before the kill with one attempt, and no job twice.
The home (and so the face and voice cache) is shared by the trials, so each batch takes seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ANNOUNCER_TEST_SHARED", REPO.parent / "shared"))
AVATAR = SHARED / "media" / "portraits" / "woman_smile.png"
LINES = ["Good morning. Markets opened higher.", "Rain is expected this afternoon.", "The council meets on Monday.",
         "Traffic is light on the ring road.", "The museum opens a new wing.", "Thank you for watching."]
DELIVERABLES = (".mp4", ".srt", ".vtt", ".jpg", ".json")


def batch_command(scripts: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "announcer", "batch", str(scripts), "--avatar", str(AVATAR), "--out", str(out), "--quiet"]


def whole_clips(out: Path) -> dict[str, tuple[int, int]]:
    """Clips whose manifest is in place (it is renamed last): name -> (inode, mtime) of the video."""
    clips = {}
    for manifest in out.glob("clip*.json"):
        video = manifest.with_suffix(".mp4")
        if video.is_file():
            clips[video.name] = (video.stat().st_ino, video.stat().st_mtime_ns)
    return clips


def jobs(home: Path, env: dict) -> list[dict]:
    listed = subprocess.run([sys.executable, "-m", "announcer", "jobs", "list", "--json"], env=env, capture_output=True,
                            text=True, check=True)
    return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]


def trial(number: int, rng: random.Random, root: Path, scripts: Path, env: dict, full_seconds: float) -> list[str]:
    out = root / f"out{number:02d}"
    at_delivery = number % 2 == 1
    process = subprocess.Popen(batch_command(scripts, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started, wait = time.monotonic(), rng.uniform(0.5, full_seconds)
    while process.poll() is None:
        staged = [p for p in out.glob(".clip*.part.*") if p.suffix in (".json", ".jpg", ".vtt")] if out.is_dir() else []
        if (at_delivery and staged) or (not at_delivery and time.monotonic() - started > wait):
            break
        time.sleep(0.002 if at_delivery else 0.02)
    killed_at = time.monotonic() - started
    finished_first = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = whole_clips(out) if out.is_dir() else {}
    again = subprocess.run(batch_command(scripts, out), env=env, capture_output=True, text=True, timeout=900)
    problems = []
    if again.returncode != 0:
        problems.append(f"re-run exited {again.returncode}: {again.stderr.strip()[-300:]}")
    after = whole_clips(out)
    for k in range(len(LINES)):
        missing = [suffix for suffix in DELIVERABLES if not (out / f"clip{k}{suffix}").is_file()]
        if missing:
            problems.append(f"clip{k} lacks {missing}")
    for name, identity in before.items():
        if after.get(name) != identity:
            problems.append(f"{name} was delivered again after the kill")
    leftovers = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    if leftovers:
        problems.append(f"temp files left: {leftovers}")
    mine = [job for job in jobs(root / "home", env) if job["output"].startswith(str(out))]
    if len(mine) != len(LINES) or any(job["state"] != "done" for job in mine):
        problems.append(f"jobs: {[(job['id'], job['state']) for job in mine]}")
    once = {Path(job["output"]).name: job["attempts"] for job in mine}
    twice = [name for name in before if once.get(name, 1) != 1]
    if twice:
        problems.append(f"delivered before the kill yet attempted again: {twice}")
    moment = "finished before the kill (meant at delivery)" if finished_first and at_delivery else \
        "finished before the kill" if finished_first else "at delivery" if at_delivery else "at random"
    print(f"trial {number:2d}: killed {moment} after {killed_at:5.2f} s with {len(before)} clip(s) whole; "
          + ("ok" if not problems else "; ".join(problems)), flush=True)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-batch-") as folder:
        root = Path(folder)
        scripts = root / "scripts"
        scripts.mkdir()
        for k, line in enumerate(LINES):
            (scripts / f"clip{k}.txt").write_text(line + "\n")
        env = {**os.environ, "ANNOUNCER_HOME": str(root / "home"), "ANNOUNCER_MODELS": str(SHARED / "models")}
        for warm in ("cold", "warm"):  # the first fills the cache; the second is what a trial's batch takes
            started = time.monotonic()
            first = subprocess.run(batch_command(scripts, root / warm), env=env, capture_output=True, text=True)
            if first.returncode != 0:
                print(first.stderr)
                return 1
        full_seconds = time.monotonic() - started
        print(f"a whole batch of {len(LINES)} clips takes {full_seconds:.1f} s with a warm cache", flush=True)
        failed = [number for number in range(args.trials) if trial(number, rng, root, scripts, env, full_seconds)]
    print(f"{args.trials - len(failed)} of {args.trials} trials delivered every clip exactly once"
          + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
