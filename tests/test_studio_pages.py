"""The studio's pages, driven as a browser drives them: signed in by cookie, forms with their CSRF token."""
import re

import pytest

from .conftest import MEDIA
from .test_studio_api import Studio

PORTRAIT = MEDIA / "portraits" / "woman_brown_hair.jpg"


@pytest.fixture
def studio(tmp_path) -> Studio:
    return Studio(tmp_path / "home", send_webhooks=False)


def signed_in(studio: Studio, role: str):
    browser = studio.client()
    browser.post("/login", data={"token": studio.tokens[role]})
    return browser, re.search(r'name="csrf" value="([^"]+)"', browser.get("/clips/new").text).group(1)


def test_pages_need_a_session_and_send_strangers_to_sign_in(studio):
    anonymous = studio.client()
    for path in ("/jobs", "/clips/new", "/presenters", "/schedules", "/jobs/1"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    token_holder = studio.client("editor")  # a bearer token is for the API, not a browser session
    assert token_holder.get("/jobs", follow_redirects=False).status_code == 303


def test_a_clip_written_on_the_new_clip_page_is_queued_and_shown(studio):
    browser, csrf = signed_in(studio, "editor")
    page = browser.get("/clips/new").text
    assert 'value="anna"' in page or ">anna<" in page  # the home's presenters are offered
    answer = browser.post("/clips/new", data={"csrf": csrf, "script": "Good evening.", "title": "Opening", "presenter": "anna",
                                              "layout": "16:9"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs/1"
    job = studio.store.get(1)
    assert job.state == "queued" and open(job.script).read() == "Good evening."  # the script as written, never rewritten
    from announcer.jobs.runner import job_request

    assert job_request(job).settings == {"title": "Opening", "presenter": "anna", "layout": "16:9"}  # the form's settings
    jobs = browser.get("/jobs").text
    assert "Opening" in jobs and "queued" in jobs
    review = browser.get("/jobs/1").text
    assert "Opening" in review and "Downloads open once the clip is approved" in review
    assert 'id="review-form"' not in review  # an editor sees no review buttons


def test_the_new_clip_page_shows_a_bad_script_with_its_line_and_keeps_the_text(studio):
    browser, csrf = signed_in(studio, "editor")
    answer = browser.post("/clips/new", data={"csrf": csrf, "script": "---\ntitle: x\ncolour: red\n---\nHello."})
    assert answer.status_code == 422
    assert "script:3: unknown front matter key" in answer.text and "colour: red" in answer.text
    forged = browser.post("/clips/new", data={"csrf": "forged", "script": "Hello."})
    assert forged.status_code == 403 and studio.store.jobs() == []


def test_a_spreadsheet_uploaded_on_the_page_queues_a_clip_per_row(studio):
    browser, csrf = signed_in(studio, "editor")
    table = "text,title,presenter\nGood evening.,Opening,anna\nRain later.,Weather,\n"
    answer = browser.post("/clips/new", data={"csrf": csrf, "kind": "table"},
                          files={"file": ("bulletin.csv", table.encode(), "text/csv")}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs"
    assert [studio.store.clip(job.id)["title"] for job in studio.store.jobs()] == ["Opening", "Weather"]
    bad = "text,avatar\nHello.,/etc/passwd\n"
    refused = browser.post("/clips/new", data={"csrf": csrf, "kind": "table"},
                           files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422 and "bad.csv:2: avatar" in refused.text and "is not a name" in refused.text
    assert len(studio.store.jobs()) == 2


@pytest.mark.slow
def test_the_voice_preview_speaks_the_line(studio):
    browser, csrf = signed_in(studio, "editor")
    answer = browser.post("/voices/preview", data={"csrf": csrf, "text": "Good evening.", "voice": "piper"})
    assert answer.status_code == 200 and answer.content[:4] == b"RIFF" and len(answer.content) > 20000
    assert browser.post("/voices/preview", data={"csrf": csrf, "voice": "piper:/etc/x.onnx"}).status_code == 422
    assert browser.post("/voices/preview", data={"csrf": "forged", "text": "Hi"}).status_code == 403


def test_an_admin_adds_a_presenter_from_a_photo_checked_by_content(studio):
    admin, csrf = signed_in(studio, "admin")
    added = admin.post("/presenters", data={"csrf": csrf, "key": "jordan", "name": "Jordan Lee", "title": "Anchor"},
                       files={"file": ("../../jordan.md", PORTRAIT.read_bytes(), "text/plain")}, follow_redirects=False)
    assert added.status_code == 303
    written = (studio.home / "presenters" / "jordan.yaml").read_text()
    assert "Jordan Lee" in written and "/work/studio/presenters/" in written and "jordan.md" not in written
    assert admin.get("/presenters/jordan/picture").content == PORTRAIT.read_bytes()
    text = admin.post("/presenters", data={"csrf": csrf, "key": "fake"}, files={"file": ("fake.jpg", b"hello", "image/jpeg")})
    assert text.status_code == 415
    editor, editor_csrf = signed_in(studio, "editor")
    assert editor.post("/presenters", data={"csrf": editor_csrf, "key": "x"},
                       files={"file": ("x.jpg", PORTRAIT.read_bytes(), "image/jpeg")}).status_code == 403


@pytest.mark.slow
def test_a_reviewer_approves_on_the_review_page_and_downloads_open(studio):
    browser, csrf = signed_in(studio, "editor")
    browser.post("/clips/new", data={"csrf": csrf, "script": "Good evening.", "presenter": "anna"})
    studio.render_queued()
    reviewer, reviewer_csrf = signed_in(studio, "reviewer")
    page = reviewer.get("/jobs/1").text
    assert '<track kind="subtitles"' in page and 'id="closeups"' in page and 'id="tone-sheet"' in page and 'id="manifest"' in page
    assert "?download=1" not in page
    reviewer.post("/jobs/1/review", data={"csrf": reviewer_csrf, "decision": "rejected", "comment": "too fast"})
    reviewer.post("/jobs/1/review", data={"csrf": reviewer_csrf, "decision": "approved", "comment": "ok now"})
    page = reviewer.get("/jobs/1").text
    assert "too fast" in page and "?download=1" in page
    assert [r.decision for r in studio.store.reviews(1)] == ["rejected", "approved"]
    video = reviewer.get("/api/v1/clips/1/files/video?download=1")
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


@pytest.mark.slow
def test_a_presenter_video_is_prepared_as_a_job_that_a_worker_runs(studio):
    admin, csrf = signed_in(studio, "admin")
    video = MEDIA / "videos" / "talk_face1.mp4"
    added = admin.post("/presenters", data={"csrf": csrf, "key": "sam", "name": "Sam", "prepare": "1", "quick": "1"},
                       files={"file": ("sam.mp4", video.read_bytes(), "video/mp4")}, follow_redirects=False)
    assert added.status_code == 303
    job = studio.store.jobs()[0]
    assert job.options["kind"] == "prepare-avatar" and job.options["name"] == "sam" and job.state == "queued"
    assert "prepare avatar sam" in admin.get("/jobs").text
    studio.render_queued()
    job = studio.store.get(job.id)
    assert job.state == "done", job.error
    assert (studio.home / "avatars" / "sam" / "bundle.json").is_file()
    page = admin.get("/presenters").text
    assert "<code>sam</code>" in page and "done" in page
    assert admin.get("/presenters/sam/picture").content[:3] == b"\xff\xd8\xff"  # a still of the video
    queued = studio.client("editor").post("/api/v1/clips", json={"script": "Good evening.", "avatar": "sam"})
    assert queued.status_code == 201  # the prepared avatar can now be chosen by name


def test_the_schedules_page_shows_the_next_runs_and_runs_one_now(tmp_path):
    workflows = tmp_path / "workflows"
    (workflows / "inbox").mkdir(parents=True)
    (workflows / "inbox" / "morning.md").write_text("Good morning.\n")
    (workflows / "morning.yaml").write_text("scripts: inbox\nout: out\ncron: \"0 6 * * *\"\ntimezone: Asia/Seoul\n")
    studio = Studio(tmp_path / "home", send_webhooks=False, schedules=workflows)
    browser, csrf = signed_in(studio, "editor")
    page = browser.get("/schedules").text
    assert "morning" in page and "cron 0 6 * * * (Asia/Seoul)" in page and "T06:00:00+09:00" in page
    ran = browser.post("/schedules/morning/run", data={"csrf": csrf}, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"] == "/schedules?queued=1"
    jobs = studio.store.jobs()
    assert len(jobs) == 1 and jobs[0].script.endswith("morning.md") and jobs[0].options.get("schedule") == "morning"
    assert browser.post("/schedules/evening/run", data={"csrf": csrf}).status_code == 404
    assert browser.post("/schedules/morning/run", data={"csrf": "forged"}).status_code == 403


def test_users_add_prints_a_token_once_that_signs_in(tmp_path):
    from .conftest import run_cli

    home = tmp_path / "home"
    added = run_cli("users", "add", "mina", "--role", "reviewer", "--home", home, cwd=tmp_path, home=home)
    token = added.stdout.strip()
    assert added.returncode == 0 and token.startswith("ann_") and "shown only now" in added.stderr
    listed = run_cli("users", "list", "--home", home, cwd=tmp_path, home=home)
    assert listed.stdout.strip() == "mina\treviewer" and token not in listed.stdout
    studio = Studio(home, send_webhooks=False)
    assert studio.store.user_by_token(token).name == "mina"
    assert token not in (home / "work" / "jobs.sqlite").read_bytes().decode("latin-1")  # only its hash is kept
    again = run_cli("users", "add", "mina", "--role", "editor", "--home", home, cwd=tmp_path, home=home)
    assert again.returncode != 0 and "user 'mina' exists" in again.stderr


def test_the_new_clip_page_offers_every_setting_and_checks_each_before_queueing(studio):
    browser, csrf = signed_in(studio, "editor")
    page = browser.get("/clips/new").text
    for key in ("speed", "short_side", "cutout", "head_motion"):  # under More settings, made from announcer.settings
        assert f'name="{key}"' in page
    for key in ("intro", "music", "background", "output"):  # settings that name files are the admin's
        assert f'name="{key}"' not in page
    refused = browser.post("/clips/new", data={"csrf": csrf, "script": "Good evening.", "speed": "fast"})
    assert refused.status_code == 422 and "the speed field: &#39;fast&#39; is not a number" in refused.text
    assert studio.store.jobs() == []
    answer = browser.post("/clips/new", data={"csrf": csrf, "script": "Good evening.", "head_motion": "0.5",
                                              "cutout": "true"}, follow_redirects=False)
    assert answer.status_code == 303
    from announcer.jobs.runner import job_request

    assert job_request(studio.store.jobs()[0]).settings == {"head_motion": "0.5", "cutout": "true"}
