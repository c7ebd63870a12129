"""The studio's HTTP API (httpx against the app): submit, render by a worker, fetch, review, webhooks; and its
security: tokens, roles, CSRF, uploads."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from announcer.config import FaceConfig, RenderConfig
from announcer.studio import StudioConfig, create_app
from announcer.studio.auth import SESSION_COOKIE
from announcer.studio.webhooks import SIGNATURE_HEADER, verify

from .conftest import MEDIA, MODELS, probe

PORTRAIT = MEDIA / "portraits" / "woman_brown_hair.jpg"
PNG = (MEDIA / "portraits" / "woman_smile.png").read_bytes()


class Studio:
    def __init__(self, home: Path, **options):
        self.home = home
        self.render_config = RenderConfig(face=FaceConfig(models_dir=MODELS), home=home, progress=False, device="cpu")
        self.app = create_app(StudioConfig(self.render_config, webhook_poll_s=0.2, **options))
        self.store = self.app.state.store
        self.tokens = {role: self.store.add_user(f"{role}-1", role) for role in ("editor", "reviewer", "admin")}
        (home / "presenters").mkdir(parents=True, exist_ok=True)
        (home / "presenters" / "anna.yaml").write_text(f"name: Anna Kim\ntitle: Evening news\navatar: {PORTRAIT}\n")

    def client(self, role: str | None = None) -> TestClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return TestClient(self.app, headers=headers)

    def render_queued(self) -> None:
        """What `announcer worker` does: render every queued job, then stop."""
        from announcer.jobs import close_engine, make_engine, work, worker_name

        engine = make_engine("local", self.render_config, store=self.store)
        try:
            work(self.store, engine, worker_name(), until_empty=True)
        finally:
            close_engine(engine)


@pytest.fixture
def studio(tmp_path) -> Studio:
    return Studio(tmp_path / "home")


class Listener:
    """A local webhook receiver: keeps each request's headers and body."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, seconds: float = 15.0) -> list:
        import time

        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


def test_health_is_open_and_everything_else_needs_a_token(studio):
    anonymous = studio.client()
    assert anonymous.get("/health").json() == {"ok": True}
    for method, path in (("get", "/api/v1/clips"), ("get", "/api/v1/jobs/1"), ("post", "/api/v1/clips"),
                         ("get", "/api/v1/clips/1/files/video"), ("post", "/api/v1/clips/1/review")):
        assert getattr(anonymous, method)(path).status_code == 401, path
    wrong = TestClient(studio.app, headers={"Authorization": "Bearer ann_not-a-token"})
    assert wrong.get("/api/v1/clips").status_code == 401
    assert studio.client("editor").get("/api/v1/clips").json() == []
    assert anonymous.get("/api/openapi.json").status_code == anonymous.get("/api/docs").status_code == 401
    assert "/api/v1/clips" in studio.client("editor").get("/api/openapi.json").json()["paths"]
    assert "swagger" in studio.client("editor").get("/api/docs").text.lower()


def test_a_bad_script_is_refused_at_its_line_and_queues_nothing(studio):
    editor = studio.client("editor")
    answer = editor.post("/api/v1/clips", json={"script": "---\ntitle: x\ncolour: red\n---\nHello.\n"})
    assert answer.status_code == 422 and "script:3: unknown front matter key 'colour'" in answer.json()["detail"]["error"]
    assert studio.store.jobs() == []


@pytest.mark.parametrize("front_matter", ["avatar: /etc/passwd", "background: ../../secret.png", "intro: /tmp/x.mp4",
                                          "presenter: ../../etc/anna", "template: /srv/brand", "voice: piper:/tmp/x.onnx",
                                          "output: ../../escape"])
def test_no_path_comes_from_a_client(studio, front_matter):
    answer = studio.client("editor").post("/api/v1/clips", json={"script": f"---\n{front_matter}\n---\nHello.\n"})
    assert answer.status_code == 422, answer.text
    assert not list((studio.home / "work" / "studio" / "scripts").glob("*"))  # nothing kept from a refused script


def test_an_editor_cannot_review_and_a_clip_not_rendered_cannot_be(studio):
    job = studio.client("editor").post("/api/v1/clips", json={"script": "Good evening.", "presenter": "anna"}).json()
    assert job["state"] == "queued" and job["submitted_by"] == "editor-1"
    review = {"decision": "approved", "comment": "fine"}
    assert studio.client("editor").post(f"/api/v1/clips/{job['id']}/review", json=review).status_code == 403
    assert studio.client("reviewer").post(f"/api/v1/clips/{job['id']}/review", json=review).status_code == 409
    assert studio.store.reviews(job["id"]) == []


def test_a_png_renamed_md_is_refused(studio):
    answer = studio.client("editor").post("/api/v1/clips", files={"file": ("news.md", PNG, "text/markdown")})
    assert answer.status_code == 415 and "not text" in answer.json()["detail"]
    assert studio.store.jobs() == []


def test_an_oversize_upload_gets_413(tmp_path):
    studio = Studio(tmp_path / "home", max_upload_mb=0.05)
    big = ("Good evening. " * 5000).encode()  # 70 kB
    answer = studio.client("editor").post("/api/v1/clips", files={"file": ("news.md", big, "text/markdown")})
    assert answer.status_code == 413
    small = studio.client("editor").post("/api/v1/clips", files={"file": ("news.md", b"Good evening.", "text/markdown")})
    assert small.status_code == 201


def test_an_upload_named_with_dot_dot_writes_only_under_a_generated_name(studio, tmp_path):
    before = {p for p in tmp_path.rglob("*")}
    evil_before = set(tmp_path.parent.parent.rglob("evil*"))
    answer = studio.client("editor").post("/api/v1/clips", files={"file": ("../../../evil.md", b"Good evening.", "text/plain")})
    assert answer.status_code == 201
    added = {p for p in tmp_path.rglob("*")} - before
    scripts = studio.home / "work" / "studio" / "scripts"
    assert all(scripts in p.parents or p in scripts.parents or p == scripts or p.name.startswith("jobs.sqlite")
               for p in added), added
    assert set(tmp_path.parent.parent.rglob("evil*")) == evil_before  # nothing named after the upload, anywhere near
    job = studio.store.get(answer.json()["id"])
    assert Path(job.script).parent == scripts and Path(job.script).name != "evil.md"


def test_a_form_with_a_forged_csrf_token_is_refused(studio):
    browser = studio.client()
    signed_in = browser.post("/login", data={"token": studio.tokens["editor"]}, follow_redirects=False)
    assert signed_in.status_code == 303 and SESSION_COOKIE in browser.cookies
    assert browser.get("/api/v1/clips").status_code == 200  # the session reads
    forged = browser.post("/api/v1/clips", data={"csrf": "forged"}, files={"file": ("n.md", b"Hello.", "text/plain")})
    missing = browser.post("/api/v1/clips", json={"script": "Hello."})
    assert forged.status_code == 403 and missing.status_code == 403
    csrf = studio.store.session(browser.cookies[SESSION_COOKIE]).csrf
    good = browser.post("/api/v1/clips", data={"csrf": csrf}, files={"file": ("n.md", b"Hello.", "text/plain")})
    assert good.status_code == 201
    assert studio.client().post("/login", data={"token": "ann_wrong"}, follow_redirects=False).headers["location"] \
        == "/login?failed=1"


@pytest.mark.slow
def test_submit_render_fetch_review_and_hear_the_webhook(tmp_path):
    studio = Studio(tmp_path / "home", allow_private_webhooks=True)  # the receiver is on this machine
    listener = Listener()
    with studio.client("admin") as admin:  # the context runs the app's lifespan: the webhook sender
        hook = admin.post("/api/v1/webhooks", json={"url": listener.url}).json()
        assert hook["secret"].startswith("whsec_")
        assert studio.client("editor").post("/api/v1/webhooks", json={"url": listener.url}).status_code == 403
        script = "---\ntitle: Parks budget\nlayout: 16:9\n---\nThe council agreed a new budget for the parks today.\n"
        submitted = studio.client("editor").post("/api/v1/clips", json={"script": script, "presenter": "anna"})
        assert submitted.status_code == 201, submitted.text
        clip_id = submitted.json()["id"]

        studio.render_queued()

        reviewer = studio.client("reviewer")
        status = reviewer.get(f"/api/v1/jobs/{clip_id}").json()
        assert status["state"] == "done" and status["title"] == "Parks budget" and status["review"]["state"] == "pending"
        assert {s["stage"] for s in status["stages"]} >= {"voice", "generate+encode"}
        assert set(status["files"]) >= {"video", "srt", "vtt", "thumbnail", "manifest", "closeups", "tone"}
        video = reviewer.get(status["files"]["video"])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        saved = studio.home / "fetched.mp4"
        saved.write_bytes(video.content)
        assert {s["codec_type"] for s in probe(saved)["streams"]} == {"video", "audio"}
        manifest = reviewer.get(status["files"]["manifest"]).json()
        assert manifest["inputs"]["presenter"]["name"] == "Anna Kim" and manifest["video"]["width"] == 1920
        assert "parks" in reviewer.get(status["files"]["srt"]).text
        assert reviewer.get(f"/api/v1/clips/{clip_id}/files/../../jobs.sqlite").status_code == 404
        assert reviewer.get(f"/api/v1/clips/{clip_id}/files/video?download=1").status_code == 409  # not approved yet

        rejected = reviewer.post(f"/api/v1/clips/{clip_id}/review", json={"decision": "rejected", "comment": "lower third late"})
        approved = reviewer.post(f"/api/v1/clips/{clip_id}/review", json={"decision": "approved", "comment": "good"})
        assert rejected.status_code == approved.status_code == 201
        review = approved.json()["review"]
        assert review["state"] == "approved"
        assert [(r["decision"], r["comment"], r["reviewer"]) for r in review["history"]] == [
            ("rejected", "lower third late", "reviewer-1"), ("approved", "good", "reviewer-1")]
        download = reviewer.get(f"/api/v1/clips/{clip_id}/files/video?download=1")
        assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]

        headers, body = listener.wait_for(1)[0]
        assert headers["Announcer-Event"] == "clip.delivered"
        assert verify(hook["secret"], headers[SIGNATURE_HEADER], body)
        assert not verify("whsec_someone-else", headers[SIGNATURE_HEADER], body)
        assert json.loads(body)["clip"]["id"] == clip_id
    assert len(listener.received) == 1  # delivered once, recorded, not sent again


def test_a_failed_clip_is_announced_and_a_refused_delivery_is_tried_again(studio):
    from announcer.studio import webhook_payload
    from announcer.studio.webhooks import WebhookSender

    statuses = [500, 204]

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(statuses[min(len(received) - 1, 1)])
            self.end_headers()

        def log_message(self, *args):
            pass

    received: list = []
    server = HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = studio.store.add_webhook(f"http://127.0.0.1:{server.server_port}/hook")
    job = studio.client("editor").post("/api/v1/clips", json={"script": "Good evening."}).json()
    claimed = studio.store.claim("test-worker", 60)
    studio.store.fail(claimed.id, "test-worker", "the presenter could not be found", transient=False)
    sender = WebhookSender(studio.store, lambda job_id, event: webhook_payload(studio.app.state.desk, job_id, event),
                           backoff_s=0.05, allow_private=True)
    assert sender.send_due() == 0  # the receiver answered 500
    import time

    time.sleep(0.2)
    assert sender.send_due() == 1
    assert sender.send_due() == 0 and len(received) == 2  # delivered once, not again
    for headers, body in received:
        assert headers["Announcer-Event"] == "clip.failed" and verify(hook.secret, headers[SIGNATURE_HEADER], body)
    payload = json.loads(received[-1][1])
    assert payload["clip"]["id"] == job["id"] and payload["clip"]["error"] == "the presenter could not be found"
    record = studio.store.deliveries(job["id"])[0]
    assert record["attempts"] == 2 and record["delivered"] is not None and record["last_error"] is None
    server.shutdown()


def test_answers_carry_headers_against_sniffing_and_framing(studio):
    answer = studio.client().get("/login")
    assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["x-frame-options"] == "DENY"


def test_an_admin_manages_accounts_and_no_one_else_may(studio):
    admin, editor = studio.client("admin"), studio.client("editor")
    assert editor.post("/api/v1/users", json={"name": "mina", "role": "reviewer"}).status_code == 403
    assert editor.get("/api/v1/users").status_code == 403
    made = admin.post("/api/v1/users", json={"name": "mina", "role": "reviewer"})
    assert made.status_code == 201 and made.json()["token"].startswith("ann_")
    assert TestClient(studio.app, headers={"Authorization": f"Bearer {made.json()['token']}"}).get("/api/v1/clips").status_code == 200
    assert admin.post("/api/v1/users", json={"name": "mina", "role": "editor"}).status_code == 409
    assert admin.post("/api/v1/users", json={"name": "../x", "role": "editor"}).status_code == 422
    assert {"name": "mina", "role": "reviewer"} in admin.get("/api/v1/users").json()
    assert admin.delete("/api/v1/users/admin-1").status_code == 409
    assert admin.delete("/api/v1/users/mina").status_code == 204
    assert TestClient(studio.app, headers={"Authorization": f"Bearer {made.json()['token']}"}).get("/api/v1/clips").status_code == 401
    first = admin.post("/api/v1/webhooks", json={"url": "https://cms.example/hook"})
    again = admin.post("/api/v1/webhooks", json={"url": "https://cms.example/hook"})
    assert first.status_code == 201 and again.status_code == 409  # one subscription per URL, and its secret once


def test_a_sign_in_posted_from_another_site_is_refused(studio):
    browser = studio.client()
    forged = browser.post("/login", data={"token": studio.tokens["editor"]}, headers={"Origin": "https://evil.example"},
                          follow_redirects=False)
    assert forged.status_code == 403 and SESSION_COOKIE not in browser.cookies
    own = browser.post("/login", data={"token": studio.tokens["editor"]}, headers={"Origin": "http://testserver"},
                       follow_redirects=False)
    assert own.status_code == 303 and SESSION_COOKIE in browser.cookies


def test_the_tone_of_each_sentence_is_shown_before_anything_renders(studio):
    editor = studio.client("editor")
    script = "Good evening.\n\nA man died in a crash on the ring road. Police are appealing for witnesses.\n\n" \
             "[tone neutral] Now the weather.\n"
    rows = editor.post("/api/v1/tones", json={"script": script}).json()
    assert [(row["tone"], row["source"]) for row in rows] == [
        ("warm", "analysis"), ("grave", "analysis"), ("grave", "story"), ("neutral", "tag")]
    assert rows[1]["line"] == 3 and "died" in rows[1]["cues"]
    chosen = editor.post("/api/v1/tones", json={"script": "---\ntone: grave\n---\nGood evening.\n"}).json()
    assert [(row["tone"], row["source"]) for row in chosen] == [("grave", "setting")]  # the front matter's tone
    assert editor.post("/api/v1/tones", json={"script": "Hello.", "tone": "cheerful"}).status_code == 422
    bad = editor.post("/api/v1/tones", json={"script": "Hello.\n\n[tone happy] Hi.\n"})
    assert bad.status_code == 422 and bad.json()["detail"]["line"] == 3 and "unknown tone 'happy'" in bad.json()["detail"]["error"]
    assert studio.client().post("/api/v1/tones", json={"script": "Hello."}).status_code == 401
    assert studio.store.jobs() == []  # nothing queued
