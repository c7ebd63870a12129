"""Load on the studio: 50 clients on loopback for 60 s, each submitting a clip now and then and polling its status,
while `announcer worker` renders. Prints p50 and p95 status latency (target: p95 under 200 ms) and checks that every
submitted job exists exactly once and that no request failed.

    .venv/bin/python benchmarks/serve.py [--clients 50] [--seconds 60] [--no-worker]

The server and the worker run as their own processes (`announcer serve`, `announcer worker`) on a temporary home.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
PORTRAIT = REPO.parent / "shared" / "media" / "portraits" / "woman_brown_hair.jpg"
MODELS = REPO.parent / "shared" / "models"
SUBMIT_EVERY = 20
"""A client submits one clip per this many status polls (the rest of the time it polls, as a CMS does)."""


def announcer(*args: str, home: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "ANNOUNCER_HOME": str(home), "ANNOUNCER_MODELS": str(MODELS)}
    return subprocess.Popen([sys.executable, "-m", "announcer", *args], env=env, **popen)


async def client(number: int, base: str, token: str, until: float, latencies: list, submitted: list, errors: list) -> None:
    rng = random.Random(number)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        mine: list[int] = []
        polls = 0
        while time.monotonic() < until:
            try:
                if not mine or polls % SUBMIT_EVERY == 0:
                    answer = await http.post("/api/v1/clips", json={"script": f"Item {number}.{len(mine)}: good evening.",
                                                                    "presenter": "anna"})
                    if answer.status_code != 201:
                        errors.append(f"submit {answer.status_code}")
                    else:
                        mine.append(answer.json()["id"])
                        submitted.append(answer.json()["id"])
                started = time.perf_counter()
                answer = await http.get(f"/api/v1/jobs/{rng.choice(mine)}")
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    errors.append(f"status {answer.status_code}")
                polls += 1
            except httpx.HTTPError as error:
                errors.append(type(error).__name__)
            await asyncio.sleep(rng.uniform(0.05, 0.25))


async def load(base: str, token: str, clients: int, seconds: float) -> tuple[list, list, list]:
    latencies, submitted, errors = [], [], []
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(n, base, token, until, latencies, submitted, errors) for n in range(clients)))
    return latencies, submitted, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-worker", action="store_true", help="measure the server alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        (home / "presenters").mkdir(parents=True)
        (home / "presenters" / "anna.yaml").write_text(f"name: Anna Kim\navatar: {PORTRAIT}\n")
        token = subprocess.run([sys.executable, "-m", "announcer", "users", "add", "loadtest", "--role", "editor",
                                "--home", str(home)], capture_output=True, text=True, check=True).stdout.strip()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = announcer("serve", "--port", str(port), "--quiet", home=home, stderr=subprocess.DEVNULL)
        worker = None if args.no_worker else announcer("worker", "--quiet", home=home, stderr=subprocess.DEVNULL,
                                                       cwd=folder)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            latencies, submitted, errors = asyncio.run(load(base, token, args.clients, args.seconds))
            listed = httpx.get(base + "/api/v1/clips", headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
        finally:
            for process in (worker, server):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=60)
    ids = [clip["id"] for clip in listed]
    states = {state: sum(clip["state"] == state for clip in listed) for state in ("queued", "running", "done", "failed")}
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"studio load: {args.clients} clients, {args.seconds:.0f} s, worker {'off' if args.no_worker else 'rendering'}, "
          f"{os.cpu_count()} CPU cores")
    print(f"status requests: {len(latencies)}  p50 {quantiles[49] * 1000:.0f} ms  p95 {quantiles[94] * 1000:.0f} ms  "
          f"max {max(latencies) * 1000:.0f} ms")
    print(f"clips submitted: {len(submitted)}  listed: {len(ids)}  unique: {len(set(ids))}  states: {states}")
    print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")
    ok = sorted(ids) == sorted(submitted) and len(set(ids)) == len(ids) and not errors and states["failed"] == 0
    print("every submitted job exists exactly once, no errors" if ok else "CHECK FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
