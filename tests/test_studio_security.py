"""The studio under attack by a signed-in user: crashes, starvation, paths in voice names, memory bombs."""
from __future__ import annotations

import os
import signal
import struct
import threading
import time
import zlib

import pytest

from announcer.errors import InputError
from announcer.jobs.store import JobSpec, JobStore

from .test_studio_api import Studio
from .test_studio_browser import Served

YAML_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" \
            "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"


def png_header(width: int, height: int) -> bytes:
    """A small PNG file whose header says it is `width` x `height`."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


@pytest.fixture
def studio(tmp_path) -> Studio:
    return Studio(tmp_path / "home", send_webhooks=False)


def _preview(studio: Studio, **fields):
    import re

    browser = studio.client()
    browser.post("/login", data={"token": studio.tokens["editor"]})
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/clips/new").text).group(1)
    return browser.post("/voices/preview", data={"csrf": csrf, "text": "Good evening.", **fields})


@pytest.mark.parametrize("voice", ["espeak:..", "piper:probe.onnx", "coqui:.", "piper:../../etc/passwd", "espeak:zz+qq"])
def test_a_voice_the_studio_does_not_offer_is_refused_before_any_engine_loads(studio, voice, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    editor = studio.client("editor")
    absent = editor.post("/api/v1/clips", json={"script": f"---\nvoice: {voice}\n---\nHello.\n"})
    (tmp_path / "probe.onnx").write_bytes(b"\0" * 64)  # the same answer whether or not such a file is there
    present = editor.post("/api/v1/clips", json={"script": f"---\nvoice: {voice}\n---\nHello.\n"})
    assert absent.status_code == present.status_code == 422
    assert absent.json() == present.json() and "not one the studio offers" in absent.text
    assert studio.store.jobs() == []
    assert _preview(studio, voice=voice).status_code == 422


def test_espeak_refuses_a_voice_it_does_not_list_instead_of_crashing():
    """`espeak:..` made libespeak-ng segfault on the first sentence, killing the server or the worker."""
    from announcer.voice.espeak_engine import EspeakEngine

    with pytest.raises(InputError, match="no voice '..'"):
        EspeakEngine("..")
    assert len(EspeakEngine("en-us+f3").speak("Hello there.").audio) > 8000


@pytest.mark.slow
def test_the_preview_speaks_in_a_child_whose_crash_never_takes_the_server(studio):
    assert _preview(studio, voice="espeak").status_code == 200
    previews = studio.app.state.voice_previews
    long_line = "This is a long line for the preview to speak. " * 6
    outcome = {}
    speaking = threading.Thread(target=lambda: outcome.update(answer=_try(previews.speak, long_line, "piper", None)))
    speaking.start()
    deadline = time.time() + 30
    while time.time() < deadline and not previews._pool._processes:
        time.sleep(0.01)
    time.sleep(0.3)
    for pid in list(previews._pool._processes):
        os.kill(pid, signal.SIGKILL)  # as a native library's crash ends it
    speaking.join(60)
    assert isinstance(outcome["answer"], RuntimeError) and "stopped" in str(outcome["answer"])
    again = _preview(studio, voice="espeak")  # a new child
    assert again.status_code == 200 and again.content[:4] == b"RIFF"


def _try(function, *args):
    try:
        return function(*args)
    except Exception as error:
        return error


def test_previews_in_ever_new_languages_keep_a_bounded_set_of_engines():
    from announcer.studio import voices

    for language in ("de", "fr", "es", "it", "nl", "pl"):
        assert voices._speak_in_child("Hallo.", "espeak", language, "/nonexistent")[:4] == b"RIFF"
        assert len(voices._ENGINES) <= voices.PREVIEW_ENGINES
    assert [key[2] for key in voices._ENGINES] == ["es", "it", "nl", "pl"][-voices.PREVIEW_ENGINES:]


@pytest.mark.parametrize("language", ["klingon", "x" * 5000, "en_" + "a" * 30])
def test_a_preview_or_clip_in_an_unknown_language_is_refused(studio, language):
    assert _preview(studio, voice="espeak", language=language).status_code == 422
    answer = studio.client("editor").post("/api/v1/clips", json={"script": f"---\nlanguage: {language}\n---\nHello.\n"})
    assert answer.status_code == 422 and "unknown language" in answer.text
    assert studio.store.jobs() == []


def test_a_yaml_alias_bomb_in_the_front_matter_is_refused_at_once(studio):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    answer = studio.client("editor").post("/api/v1/clips", json={"script": f"---\n{YAML_BOMB}---\nHello.\n"})
    assert answer.status_code == 422 and "alias" in answer.text and "script:3" in answer.text, answer.text
    assert time.perf_counter() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: nothing was expanded
    assert studio.store.jobs() == []


def test_a_photo_whose_header_claims_a_billion_pixels_is_refused_before_decoding(studio):
    import re

    admin = studio.client()
    admin.post("/login", data={"token": studio.tokens["admin"]})
    csrf = re.search(r'name="csrf" value="([^"]+)"', admin.get("/clips/new").text).group(1)
    answer = admin.post("/presenters", data={"csrf": csrf, "key": "huge"},
                        files={"file": ("huge.png", png_header(32000, 32000), "image/png")})
    assert answer.status_code == 413 and "32000x32000" in answer.text
    assert not (studio.home / "presenters" / "huge.yaml").exists()


def test_a_job_that_kills_its_worker_fails_after_its_attempts_with_the_reason(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.enqueue(JobSpec(batch="b", output=str(tmp_path / "a.mp4"), key="crasher"), max_attempts=3)
    dead = "localhost-not-this-machine:1:x"
    for attempt in range(1, 4):
        taken = store.claim(dead, lease_seconds=-1)  # the lease is over at once, as when its worker has died
        assert taken.id == job.id and taken.attempts == attempt
    assert store.claim("next-worker", 60) is None  # not taken a fourth time
    failed = store.get(job.id)
    assert failed.state == "failed" and "stopped while rendering it 3 time(s)" in failed.error


def _two_editors(studio: Studio):
    studio.tokens["editor-2"] = studio.store.add_user("editor-2", "editor")
    studio.tokens["reviewer-2"] = studio.store.add_user("reviewer-2", "reviewer")
    mine = studio.client("editor").post("/api/v1/clips", json={"script": "Good evening.", "title": "Mine"}).json()
    return mine["id"]


def test_an_editor_sees_and_manages_only_their_own_clips(studio):
    job_id = _two_editors(studio)
    other = studio.client("editor-2")
    assert other.get("/api/v1/clips").json() == []
    for path in (f"/api/v1/jobs/{job_id}", f"/api/v1/clips/{job_id}/files/video", f"/api/v1/clips/{job_id}/files/manifest"):
        assert other.get(path).status_code == 404, path  # as if there were no such clip
    assert other.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 404
    assert [clip["id"] for clip in studio.client("editor").get("/api/v1/clips").json()] == [job_id]
    assert [clip["id"] for clip in studio.client("reviewer").get("/api/v1/clips").json()] == [job_id]
    assert studio.client("reviewer").post(f"/api/v1/jobs/{job_id}/cancel").status_code == 403  # sees it, may not cancel
    assert studio.store.get(job_id).state == "queued"
    assert studio.client("admin").post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
    assert studio.client("editor").post(f"/api/v1/jobs/{job_id}/retry").status_code == 200  # the clip's own editor


def test_the_jobs_page_shows_an_editor_only_their_own_clips(studio):
    job_id = _two_editors(studio)
    browser = studio.client()
    browser.post("/login", data={"token": studio.tokens["editor-2"]})
    assert "Mine" not in browser.get("/jobs").text
    assert browser.get(f"/jobs/{job_id}").status_code == 404
    owner = studio.client()
    owner.post("/login", data={"token": studio.tokens["editor"]})
    assert "Mine" in owner.get("/jobs").text


def test_nobody_reviews_their_own_clip_unless_the_studio_is_a_one_person_team(studio, tmp_path):
    own = studio.client("reviewer").post("/api/v1/clips", json={"script": "Good evening."}).json()["id"]
    review = {"decision": "approved", "comment": "mine"}
    refused = studio.client("reviewer").post(f"/api/v1/clips/{own}/review", json=review)
    assert refused.status_code == 403 and "another reviewer" in refused.text
    assert studio.client("admin").post(f"/api/v1/clips/{own}/review", json=review).status_code == 409  # allowed; not rendered
    solo = Studio(tmp_path / "solo", send_webhooks=False, one_person_team=True)
    own = solo.client("reviewer").post("/api/v1/clips", json={"script": "Good evening."}).json()["id"]
    assert solo.client("reviewer").post(f"/api/v1/clips/{own}/review", json=review).status_code == 409  # allowed


@pytest.mark.slow
def test_an_unapproved_clips_files_reach_only_its_editor_and_the_reviewers(studio):
    job_id = _two_editors(studio)
    studio.render_queued()
    assert studio.client("editor").get(f"/api/v1/clips/{job_id}/files/video").status_code == 200
    assert studio.client("reviewer").get(f"/api/v1/clips/{job_id}/files/video").status_code == 200
    assert studio.client("editor-2").get(f"/api/v1/clips/{job_id}/files/video").status_code == 404
    assert studio.client("editor").get(f"/api/v1/clips/{job_id}/files/video?download=1").status_code == 409
    assert studio.client("reviewer-2").post(f"/api/v1/clips/{job_id}/review", json={"decision": "approved"}).status_code == 201
    assert studio.client("editor").get(f"/api/v1/clips/{job_id}/files/video?download=1").status_code == 200
    assert studio.client("editor-2").get(f"/api/v1/clips/{job_id}/files/video?download=1").status_code == 404


@pytest.mark.parametrize("ending", ["signed out", "account removed"])
def test_the_live_feed_ends_with_the_session(studio, ending):
    import httpx

    live = Served(studio.app)
    try:
        browser = httpx.Client(base_url=live.url, timeout=10)
        browser.post("/login", data={"token": studio.tokens["editor"]})
        studio.client("editor").post("/api/v1/clips", json={"script": "Good evening.", "title": "Before"})
        seen, ended_at = [], None
        with browser.stream("GET", "/jobs/events") as stream:
            started = time.time()
            for line in stream.iter_lines():
                seen.append(line)
                if line.startswith("data:") and "Before" in line and ended_at is None:
                    if ending == "signed out":
                        studio.store.close_session(browser.cookies["announcer_session"])
                    else:
                        studio.store.remove_user("editor-1")
                    ended_at = time.time()
                assert time.time() - started < 15, "the feed went on after the session ended"
        assert ended_at is not None and "event: signed-out" in seen
        assert time.time() - ended_at < 4
    finally:
        live.stop()


def test_guessing_tokens_is_slowed_to_ten_tries_a_minute(studio):
    stranger = studio.client()
    answers = [stranger.get("/api/v1/clips", headers={"Authorization": f"Bearer ann_guess{k}"}).status_code
               for k in range(12)]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]
    assert stranger.post("/login", data={"token": "ann_guess"}, follow_redirects=False).status_code == 429
    right = stranger.get("/api/v1/clips", headers={"Authorization": f"Bearer {studio.tokens['editor']}"})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1  # even a right token waits its turn


def test_pages_allow_only_their_own_scripts_and_nothing_secret_is_cached(studio):
    import re

    browser = studio.client()
    browser.post("/login", data={"token": studio.tokens["editor"]})
    answer = browser.get("/jobs")
    policy = answer.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert re.findall(r"<script[^>]*>", answer.text) == [f'<script nonce="{nonce}">']
    assert browser.get("/jobs").headers["Content-Security-Policy"] != policy  # a new nonce each time
    token = studio.client("admin").post("/api/v1/users", json={"name": "new-editor", "role": "editor"})
    assert token.status_code == 201 and token.headers["Cache-Control"] == "no-store"


def test_the_api_docs_load_nothing_from_elsewhere(studio):
    import re

    docs = studio.client("editor").get("/api/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    for source in sources:
        assert studio.client("editor").get(source).status_code == 200, source
    assert "swagger-ui-bundle.js" in docs.text


def test_a_request_that_stops_half_way_is_dropped(tmp_path):
    import socket

    studio = Studio(tmp_path / "home", send_webhooks=False, body_timeout_s=0.5)
    live = Served(studio.app, header_seconds=0.5)
    try:
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            started = time.time()
            assert slow.recv(100) == b""  # closed by the server
            assert time.time() - started < 3
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as slow:
            slow.sendall(b"POST /api/v1/clips HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                         + studio.tokens["editor"].encode() + b"\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"script\": ")
            assert slow.recv(200).startswith(b"HTTP/1.1 408")
        import httpx

        assert httpx.get(f"{live.url}/health").status_code == 200  # everyone else is served
    finally:
        live.stop()


def test_a_webhook_into_the_studios_own_network_is_refused_unless_allowed(studio, tmp_path):
    admin = studio.client("admin")
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
                "http://169.254.169.254/latest/meta-data"):
        answer = admin.post("/api/v1/webhooks", json={"url": url})
        assert answer.status_code == 422 and "inside this network" in answer.text, url
    assert admin.post("/api/v1/webhooks", json={"url": "ftp://example.org/x"}).status_code == 422
    allowed = Studio(tmp_path / "inside", send_webhooks=False, allow_private_webhooks=True)
    assert allowed.client("admin").post("/api/v1/webhooks", json={"url": "http://127.0.0.1:8080/hook"}).status_code == 201


@pytest.mark.slow
def test_one_slow_webhook_receiver_does_not_hold_the_others(studio):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from announcer.studio import webhook_payload
    from announcer.studio.webhooks import WebhookSender

    def receiver(delay: float):
        got = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                got.append(time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, got

    slow, slow_got = receiver(4.0)
    fast, fast_got = receiver(0.0)
    studio.store.add_webhook(f"http://127.0.0.1:{slow.server_port}/hook")
    studio.store.add_webhook(f"http://127.0.0.1:{fast.server_port}/hook")
    studio.client("editor").post("/api/v1/clips", json={"script": "Good evening."})
    claimed = studio.store.claim("test-worker", 60)
    studio.store.fail(claimed.id, "test-worker", "no presenter", transient=False)
    sender = WebhookSender(studio.store, lambda job_id, event: webhook_payload(studio.app.state.desk, job_id, event),
                           allow_private=True)
    started = time.time()
    sender.send_due(wait=False)
    deadline = time.time() + 3
    while not fast_got and time.time() < deadline:
        time.sleep(0.02)
    assert fast_got and fast_got[0] - started < 1.5 and not slow_got  # the fast one is not kept waiting
    sender.stop()
    slow.shutdown()
    fast.shutdown()


@pytest.mark.parametrize("path", ["/api/v1/jobs/99999999999999999999999999", "/api/v1/clips/99999999999999999999/files/video",
                                  "/api/v1/jobs/-1", "/jobs/99999999999999999999999"])
def test_a_huge_job_id_is_refused_not_a_server_error(studio, path):
    browser = studio.client("editor")
    if path.startswith("/jobs"):
        browser = studio.client()
        browser.post("/login", data={"token": studio.tokens["editor"]})
    assert browser.get(path).status_code == 422


@pytest.mark.parametrize("name, existing", [("аdmin", "admin"), ("Admin", "admin"), ("ＡＤＭＩＮ", "admin"),
                                            ("асе", "ace"), ("ad\u200bmin", None), ("a/b", None)])
def test_a_user_name_that_looks_like_another_is_refused(studio, name, existing):
    if existing:
        studio.store.add_user(existing, "editor")
    answer = studio.client("admin").post("/api/v1/users", json={"name": name, "role": "admin"})
    assert answer.status_code == 422, answer.text
    assert all(user["name"] != name for user in studio.client("admin").get("/api/v1/users").json())


@pytest.mark.slow
def test_a_preview_that_fails_in_its_engine_answers_503_and_the_server_goes_on(studio):
    from announcer.studio import voices

    outcome = voices._speak_in_child("Hello.", "supertonic:F1", "en", "/nonexistent-models")
    assert isinstance(outcome, tuple) and outcome[0] in ("input", "failed")
    answer = _preview(studio, voice="supertonic:F1")
    assert answer.status_code in (422, 503) and "detail" in answer.json()
    assert _preview(studio, voice="espeak").status_code == 200


@pytest.mark.slow
def test_serving_beyond_loopback_is_warned_about_even_when_quiet(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:  # the port is taken, so the server stops right after its warning
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "announcer", "serve", "--quiet", "--host", "127.0.0.1.", "--port",
                                 str(port), "--home", str(tmp_path / "home")], capture_output=True, text=True, timeout=60)
    assert "warning: serving on 127.0.0.1." in result.stderr and "HTTPS" in result.stderr, result.stderr
