"""The studio under the fuzz's attacks, as a signed-in editor: it keeps serving another user, and stays small.

    .venv/bin/python benchmarks/attack_studio.py [--seconds 60]

`announcer serve` runs in its own process on a loopback port with a temporary home. For `--seconds`, an attacker
holding an editor's token sends, round after round:
- voice previews in a new language each time (and unknown ones), and with voices that name files or crash espeak;
- clips whose front matter is a YAML alias bomb, 20,000 nested brackets, or a voice that is a path;
- a presenter photo whose header claims 32000 x 32000 pixels (with an admin's token: only admins add presenters);
- half-sent requests that stop in their headers or body, 40 at a time;
- guessed bearer tokens (from another loopback address).
Meanwhile a second user, on a third address, polls the clip list. Printed: the server's largest resident memory (its preview child
included), the other user's p50 and p95 latency and failures, and what the attacks were answered. Targets: no
crash, memory under 2 GB, the other user never refused.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

import httpx

from announcer.languages import is_known_language

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ANNOUNCER_TEST_SHARED", REPO.parent / "shared"))
OTHER_USER, GUESSER = "127.0.0.2", "127.0.0.3"
"""Loopback addresses of their own: sign-in failures are limited per address, and the guesser's must not be the
other user's."""
LANGUAGES = ["de", "fr", "es", "it", "nl", "pl", "pt", "sv", "fi", "da", "cs", "hu", "ro", "tr", "el", "ru", "uk"]
BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n")


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 3_000_000)) + chunk(b"IEND", b""))


def resident_mb(pid: int) -> float:
    """The process's and its children's resident memory."""
    total = 0.0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    try:
        direct = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return direct + [grand for child in direct for grand in _children(child)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def announcer(home: Path, *args: str, **popen):
    env = {**os.environ, "ANNOUNCER_HOME": str(home), "ANNOUNCER_MODELS": str(SHARED / "models")}
    return subprocess.Popen([sys.executable, "-m", "announcer", *args], env=env, **popen)


def token(home: Path, name: str, role: str) -> str:
    made = announcer(home, "users", "add", name, "--role", role, stdout=subprocess.PIPE, text=True)
    out, _ = made.communicate(timeout=60)
    return out.strip().split()[-1]


def half_sent(port: int, body: bool) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=40) as slow:
            slow.sendall(b"POST /api/v1/clips HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                         + (b"Content-Type: application/json\r\n\r\n{" if body else b""))
            slow.recv(100)
    except OSError:
        pass


def attack_round(http: httpx.Client, admin: httpx.Client, port: int, round_number: int, answers: Counter) -> None:
    previews = [("espeak", LANGUAGES[round_number % len(LANGUAGES)]), ("espeak", f"xx{round_number}"),
                ("espeak:..", "en"), ("piper:probe.onnx", "en"), ("coqui:.", "en")]
    for voice, language in previews:
        answers[f"preview {voice}"] += 0
        answer = http.post("/api/v1/clips", json={"script": f"---\nvoice: {voice}\nlanguage: {language}\n---\nHello.\n"})
        answers[f"clip voice={voice} -> {answer.status_code}"] += 1
    for script in (f"---\n{BOMB}---\nHello.\n", "---\ntitle: " + "[" * 20000 + "\n---\nHello.\n"):
        answers[f"clip bomb -> {http.post('/api/v1/clips', json={'script': script}).status_code}"] += 1
    upload = admin.post("/presenters", files={"file": ("huge.png", png_claiming(32000, 32000), "image/png")},
                        data={"key": f"huge{round_number}"})
    answers[f"presenter 32000x32000 -> {upload.status_code}"] += 1
    with httpx.Client(transport=httpx.HTTPTransport(local_address=GUESSER)) as guesser:
        for guess in range(3):
            answer = guesser.get(f"http://127.0.0.1:{port}/api/v1/clips", headers={"Authorization": f"Bearer ann_x{guess}"})
            answers[f"guessed token (from {GUESSER}) -> {answer.status_code}"] += 1
    slow = [threading.Thread(target=half_sent, args=(port, k % 2 == 0), daemon=True) for k in range(40)]
    for thread in slow:
        thread.start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attack-studio-") as folder:
        home = Path(folder) / "home"
        editor, other, admin_token = token(home, "mallory", "editor"), token(home, "olive", "editor"), token(home, "ada", "admin")
        port = free_port()
        server = announcer(home, "serve", "--port", str(port), "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        latencies, refused, peak = [], [], 0.0
        stop = threading.Event()

        def other_user() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {other}"}, timeout=30,
                              transport=httpx.HTTPTransport(local_address=OTHER_USER)) as http:
                while not stop.is_set():
                    started = time.perf_counter()
                    try:
                        answer = http.get("/api/v1/clips")
                        if answer.status_code != 200:
                            refused.append(answer.status_code)
                    except httpx.HTTPError as error:
                        refused.append(type(error).__name__)
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.1)

        poller = threading.Thread(target=other_user, daemon=True)
        poller.start()
        answers: Counter = Counter()
        browser = httpx.Client(base_url=base, timeout=120)
        browser.post("/login", data={"token": admin_token})
        import re

        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/clips/new").text).group(1)
        admin = httpx.Client(base_url=base, timeout=120, cookies=browser.cookies, headers={"X-CSRF-Token": csrf})
        attacker = httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {editor}"})
        previewer = httpx.Client(base_url=base, timeout=120, cookies=browser.cookies)
        until, round_number = time.monotonic() + args.seconds, 0
        while time.monotonic() < until and server.poll() is None:
            attack_round(attacker, admin, port, round_number, answers)
            for voice, language in (("espeak", LANGUAGES[round_number % len(LANGUAGES)]), ("espeak:..", "en"),
                                    ("espeak", f"zz{round_number}")):
                answer = previewer.post("/voices/preview", data={"csrf": csrf, "text": "Hello.", "voice": voice,
                                                                 "language": language})
                answers[f"preview {voice} {'known' if is_known_language(language) else 'unknown'} language -> "
                        f"{answer.status_code}"] += 1
            peak = max(peak, resident_mb(server.pid))
            round_number += 1
        stop.set()
        poller.join(30)
        alive = server.poll() is None
        peak = max(peak, resident_mb(server.pid)) if alive else peak
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    for what, count in sorted(answers.items()):
        if count:
            print(f"  {what}: {count}")
    p50, p95 = (statistics.quantiles(latencies, n=20)[9] * 1000, statistics.quantiles(latencies, n=20)[18] * 1000) \
        if len(latencies) > 20 else (float("nan"), float("nan"))
    print(f"{round_number} attack rounds in {args.seconds:.0f} s; server {'alive' if alive else 'DEAD'}; "
          f"peak memory {peak:.0f} MB (server and its preview child); the other user: {len(latencies)} requests, "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, {len(refused)} refused {Counter(map(str, refused)).most_common(3)}")
    if not alive:
        print(stderr.decode(errors="replace")[-2000:])
    return 0 if alive and peak < 2048 and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
