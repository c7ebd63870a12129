"""The studio's pages, rendered on the server (Jinja2 and plain forms; a few lines of script only for live progress
and the voice preview, so there is no JavaScript build step)."""
from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from ..config import ASPECTS, STAGES, TONES
from ..errors import InputError
from .access import JobId, check_may_manage, check_may_review, check_may_see, may_see
from .auth import SESSION_COOKIE, browser_session, check_csrf, require
from .limits import client_of
from ..jobs.runner import PREPARE_AVATAR
from ..languages import checked_language
from ..media.images import refuse_huge_image
from ..settings import SETTINGS
from .clips import NAME, OPTION_KEYS, NotReviewable, review_state
from .store import SESSION_SECONDS, Session
from .uploads import UploadRefused, media_kind, store_bytes, text_upload
from .voices import checked_voice, offered_voices

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["tones"] = list(TONES)
router = APIRouter(include_in_schema=False)
LAYOUTS = ("", *ASPECTS)
PREVIEW_CHARS = 300
JOBS_SHOWN = 200
"""The Jobs page (and its live feed) shows the newest this many."""


class SignIn(Exception):
    """No browser session: the page answers with a redirect to the sign-in page."""


def signed_in(request: Request) -> Session:
    session = browser_session(request)
    if session is None:
        raise SignIn()
    return session


def page(request: Request, template: str, session: Session, status_code: int = 200, **values) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {"user": session.user, "csrf": session.csrf, **values},
                                      status_code=status_code)


@router.get("/")
def home_page(request: Request):
    return RedirectResponse("/jobs" if browser_session(request) else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, failed: bool = False):
    return TEMPLATES.TemplateResponse(request, "login.html", {"failed": failed})


@router.post("/login")
def login(request: Request, token: str = Form(...)):
    """A token (from `announcer users add`) opens a browser session; the cookie holds only the session's id. A sign-in
    posted from another site is refused, so no page elsewhere can sign a browser in as someone else."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "sign in from the studio's own page")
    limiter = request.app.state.sign_in_limiter
    limiter.check(client_of(request))
    user = request.app.state.store.user_by_token(token.strip()[:200])
    if user is None:
        limiter.failed(client_of(request))
        return RedirectResponse("/login?failed=1", status_code=303)
    session_id, _ = request.app.state.store.open_session(user)
    answer = RedirectResponse("/jobs", status_code=303)
    answer.set_cookie(SESSION_COOKIE, session_id, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                      secure=request.app.state.config.secure_cookies)
    return answer


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    session = signed_in(request)
    check_csrf(request, session, csrf)
    request.app.state.store.close_session(request.cookies[SESSION_COOKIE])
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


@router.get("/clips/new", response_class=HTMLResponse)
def new_clip_page(request: Request):
    session = signed_in(request)
    return page(request, "new_clip.html", session, choices=_choices(request), error=None, values={})


@router.post("/clips/new")
async def new_clip(request: Request):
    """The editor's form: a script typed in, or a script or spreadsheet uploaded; each clip becomes a job."""
    session = signed_in(request)
    form = await request.form()
    check_csrf(request, session, str(form.get("csrf", "")))
    require(session.user, "editor")
    options = {key: str(form[key]) for key in FORM_SETTINGS if form.get(key)}
    try:
        ids = _submit_form(request, session, form, options)
    except (InputError, UploadRefused) as error:
        message = error.one_line() if isinstance(error, InputError) else str(error)
        return page(request, "new_clip.html", session, status_code=getattr(error, "status", 422), choices=_choices(request),
                    error=message, values={**options, "script": str(form.get("script", ""))})
    return RedirectResponse(f"/jobs/{ids[0]}" if len(ids) == 1 else "/jobs", status_code=303)


def _submit_form(request: Request, session: Session, form, options: dict) -> list[int]:
    desk = request.app.state.desk
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = upload.file.read()
        text = text_upload(data, "the upload")
        if form.get("kind") == "table":
            return [job.id for job in desk.submit_table(session.user.name, text, upload.filename)]
        return [desk.submit(session.user.name, text, options, upload.filename).id]
    script = str(form.get("script", "")).strip()
    if not script:
        raise InputError("the script is empty", fix="type a script, or upload a script or spreadsheet")
    return [desk.submit(session.user.name, script, options, "script").id]


@router.post("/voices/preview")
async def voice_preview(request: Request):
    """A line in the chosen voice, as WAV, through the whole voice stage (loudness included)."""
    session = signed_in(request)
    form = await request.form()
    check_csrf(request, session, str(form.get("csrf", "")))
    text = str(form.get("text", "")).strip()[:PREVIEW_CHARS] or "Good evening, and welcome to the news."
    try:
        voice = checked_voice(str(form.get("voice", "") or "piper")[:200])
        language = checked_language(str(form.get("language", ""))[:40]) if form.get("language") else None
        audio = await asyncio.to_thread(request.app.state.voice_previews.speak, text, voice, language)
    except InputError as error:
        raise HTTPException(422, error.one_line()) from None
    except RuntimeError as error:
        raise HTTPException(503, str(error)) from None
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "no-store"})


@router.post("/clips/tones")
async def clip_tones(request: Request):
    """The New clip form's tone check: each sentence with the tone it would be read in, before anything renders."""
    session = signed_in(request)
    form = await request.form()
    check_csrf(request, session, str(form.get("csrf", "")))
    require(session.user, "editor")
    try:
        rows = request.app.state.desk.tones(str(form.get("script", "")), str(form.get("tone", "")) or None)
    except InputError as error:
        raise HTTPException(422, error.one_line()) from None
    return JSONResponse(rows, headers={"Cache-Control": "no-store"})


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request):
    session = signed_in(request)
    return page(request, "jobs.html", session, jobs=[_row(request, job) for job in reversed(_recent(request, session.user))])


@router.get("/jobs/events")
async def job_events(request: Request):
    """Server-sent events: every job whose state or stage changed, once a second, while the page is open and its
    session lasts (signed out, expired or the account removed: the stream ends)."""
    signed_in(request)

    async def changes():
        seen: dict[int, str] = {}
        while not await request.is_disconnected():
            session = await asyncio.to_thread(browser_session, request)
            if session is None:
                yield "event: signed-out\ndata: {}\n\n"
                return
            rows = await asyncio.to_thread(lambda: [_row(request, job) for job in _recent(request, session.user)])
            for row in rows:
                signature = json.dumps(row, sort_keys=True)
                if seen.get(row["id"]) != signature:
                    seen[row["id"]] = signature
                    yield f"event: job\ndata: {signature}\n\n"
            yield ": still here\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(changes(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/jobs/{job_id}/retry")
def retry_page(request: Request, job_id: JobId, csrf: str = Form("")):
    return _job_action(request, job_id, csrf, "retry")


@router.post("/jobs/{job_id}/cancel")
def cancel_page(request: Request, job_id: JobId, csrf: str = Form("")):
    return _job_action(request, job_id, csrf, "cancel")


def _job_action(request: Request, job_id: int, csrf: str, action: str):
    session = signed_in(request)
    check_csrf(request, session, csrf)
    check_may_manage(session.user, request.app.state.store.clip(job_id), job_id)
    try:
        getattr(request.app.state.store, action)(job_id)
    except InputError as error:
        raise HTTPException(409, error.one_line()) from None
    return RedirectResponse("/jobs", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def review_page(request: Request, job_id: JobId):
    session = signed_in(request)
    store, desk = request.app.state.store, request.app.state.desk
    if store.clip(job_id) is None:
        raise HTTPException(404, f"no clip {job_id}")
    check_may_see(session.user, store.clip(job_id), job_id)
    job = store.get(job_id)
    clip = desk.describe(job)
    manifest_path = desk.file(job, "manifest")
    manifest = manifest_path.read_text(encoding="utf-8") if manifest_path else None
    language = json.loads(manifest)["inputs"].get("language") or "en" if manifest else "en"
    return page(request, "review.html", session, clip=clip, job=job, manifest=manifest, language=language,
                approved=clip["review"]["state"] == "approved",
                can_review=_may_review(request, session, store.clip(job_id), job_id))


@router.post("/jobs/{job_id}/review")
def review(request: Request, job_id: JobId, decision: str = Form(...), comment: str = Form(""), csrf: str = Form("")):
    session = signed_in(request)
    check_csrf(request, session, csrf)
    check_may_review(session.user, request.app.state.store.clip(job_id), job_id, request.app.state.config.one_person_team)
    try:
        request.app.state.desk.review(job_id, decision, comment, session.user.name)
    except NotReviewable as error:
        raise HTTPException(409, error.one_line()) from None
    except InputError as error:
        raise HTTPException(422, error.one_line()) from None
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/presenters", response_class=HTMLResponse)
def presenters_page(request: Request, error: str | None = None):
    session = signed_in(request)
    from ..avatar.bundle import list_bundles  # torch comes with it: only on this page

    preparing = [job for job in request.app.state.store.jobs() if job.options.get("kind") == PREPARE_AVATAR]
    return page(request, "presenters.html", session, presenters=_presenters(request), error=error, preparing=preparing,
                prepared=[bundle.name for bundle in list_bundles(request.app.state.home.avatars_dir)])


@router.post("/presenters")
async def add_presenter(request: Request):
    """An admin adds a presenter: a photo or video (checked by its content, kept under a generated name) with the
    name and title for the lower third."""
    session = signed_in(request)
    form = await request.form()
    check_csrf(request, session, str(form.get("csrf", "")))
    require(session.user, "admin")
    key, upload = str(form.get("key", "")), form.get("file")
    if not NAME.fullmatch(key):
        return presenters_page(request, error="the presenter's key must be letters, digits, '-' and '_'")
    if not isinstance(upload, UploadFile):
        return presenters_page(request, error="choose a photo or a video of the presenter")
    data = await upload.read()
    suffix = media_kind(data[:16])
    if suffix is None:
        raise HTTPException(415, "a presenter's picture must be a JPEG, PNG, MP4 or WebM (by its content)")
    if suffix in (".jpg", ".png"):
        try:
            refuse_huge_image(data, "the presenter's photo", upload.filename or "upload")
        except InputError as error:
            raise HTTPException(413, error.one_line()) from None
    home = request.app.state.home
    stored = store_bytes(home.work_dir / "studio" / "presenters", data, suffix, upload.filename or "presenter")
    fields = {"name": str(form.get("name", "")) or key, "title": str(form.get("title", "")) or None, "avatar": str(stored.path)}
    home.presenters_dir.mkdir(parents=True, exist_ok=True)
    (home.presenters_dir / f"{key}.yaml").write_text(yaml.safe_dump({k: v for k, v in fields.items() if v},
                                                                     allow_unicode=True, sort_keys=False), encoding="utf-8")
    if suffix in (".mp4", ".webm"):
        await asyncio.to_thread(_poster, stored.path)
    if suffix in (".mp4", ".webm") and form.get("prepare"):
        _queue_prepare(request, key, stored.path, quick=bool(form.get("quick")))
    return RedirectResponse("/presenters", status_code=303)


def _poster(video: Path) -> None:
    """A still of a presenter's video (one second in), beside it, for the Presenters page; a video ffmpeg cannot read
    is refused."""
    from ..media.ffmpeg import run_ffmpeg
    from ..errors import ToolError

    try:
        run_ffmpeg(["-ss", "1", "-i", str(video), "-frames:v", "1", "-vf", "scale=-2:240", str(video.with_suffix(".jpg"))],
                   "take a still of the presenter's video")
    except ToolError:
        video.unlink(missing_ok=True)
        raise HTTPException(415, "the presenter's video cannot be read: give an MP4 or WebM") from None


def _queue_prepare(request: Request, key: str, video: Path, quick: bool) -> None:
    """`announcer avatar prepare` as a job, which a worker runs: the presenter's own generator, trained on their video."""
    from ..avatar.bundle import bundle_for
    from ..jobs.store import JobSpec

    home = request.app.state.home
    options = {"kind": PREPARE_AVATAR, "video": str(video), "name": key, "quick": quick}
    request.app.state.store.enqueue(JobSpec(batch=str(home.work_dir / "studio" / "presenters"),
                                            output=str(bundle_for(home.avatars_dir, key).meta_path), avatar=str(video),
                                            options=options, key=f"prepare-{key}-{secrets.token_hex(4)}"))


@router.get("/presenters/{key}/picture")
def presenter_picture(request: Request, key: str):
    signed_in(request)
    presenter = next((p for p in _presenters(request) if p["key"] == key), None)
    if presenter is None or presenter["picture"] is None:
        raise HTTPException(404, f"no picture for presenter {key}")
    return FileResponse(presenter["picture"])


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, queued: int | None = None, error: str | None = None):
    session = signed_in(request)
    from ..jobs.schedule import load_schedules, next_runs

    folder = request.app.state.config.schedules
    try:
        schedules = [(schedule, next_runs(schedule)) for schedule in load_schedules(folder)]
    except InputError as problem:
        schedules, error = [], problem.one_line()
    return page(request, "schedules.html", session, schedules=schedules, folder=folder, queued=queued, error=error)


@router.post("/schedules/{name}/run")
def run_schedule(request: Request, name: str, csrf: str = Form("")):
    session = signed_in(request)
    check_csrf(request, session, csrf)
    require(session.user, "editor")
    from ..jobs.schedule import fire, load_schedules

    schedule = next((s for s in load_schedules(request.app.state.config.schedules) if s.name == name), None)
    if schedule is None:
        raise HTTPException(404, f"no schedule named {name}")
    queued = fire(str(schedule.path), str(request.app.state.home.root))
    return RedirectResponse(f"/schedules?queued={queued}", status_code=303)


def _recent(request: Request, user) -> list:
    """The newest JOBS_SHOWN jobs this user may see, oldest first (a store holds every job ever run)."""
    store = request.app.state.store
    return [job for job in store.jobs(newest=JOBS_SHOWN) if may_see(user, store.clip(job.id))]


def _may_review(request: Request, session: Session, clip: dict | None, job_id: int) -> bool:
    try:
        check_may_review(session.user, clip, job_id, request.app.state.config.one_person_team)
    except HTTPException:
        return False
    return True


def _row(request: Request, job) -> dict:
    """A job as the Jobs page shows it: where it has got to, and its review."""
    store = request.app.state.store
    clip = store.clip(job.id)
    done_stages = {s["stage"] for s in store.stages(job.id) if s["attempt"] == job.attempts}
    progress = 1.0 if job.state == "done" else sum(stage in done_stages for stage in STAGES) / len(STAGES)
    current = next((stage for stage in STAGES if stage not in done_stages), None) if job.state == "running" else None
    reviews = store.reviews(job.id) if clip else []
    preparing = job.options.get("kind") == PREPARE_AVATAR
    title = (clip or {}).get("title") or (f"prepare avatar {job.options.get('name')}" if preparing else None) \
        or Path(job.script or job.output).stem
    if preparing:
        progress = 1.0 if job.state == "done" else 0.0
    return {"id": job.id, "state": job.state, "title": title,
            "by": (clip or {}).get("submitted_by") or "batch", "stage": current, "progress": round(progress, 2),
            "error": job.error, "review": (review_state(job, reviews) if clip else None) or "",
            "reviewable": clip is not None}


def _presenters(request: Request) -> list[dict]:
    """The home's presenters, each with a picture to show where its avatar is a photo."""
    from ..presenters import read_presenter

    found = []
    for path in sorted(request.app.state.home.presenters_dir.glob("*.yaml")):
        try:
            presenter = read_presenter(path)
        except InputError as error:
            found.append({"key": path.stem, "name": path.stem, "title": error.one_line(), "avatar": None, "picture": None})
            continue
        avatar = presenter.avatar_path()
        still = avatar.with_suffix(".jpg") if avatar is not None and avatar.suffix.lower() in (".mp4", ".webm") else avatar
        picture = still if still is not None and still.suffix.lower() in (".jpg", ".jpeg", ".png") and still.is_file() else None
        found.append({"key": path.stem, "name": presenter.name, "title": presenter.title,
                      "avatar": str(avatar) if avatar else None, "picture": picture})
    return found


def _choices(request: Request) -> dict:
    """What the new-clip form offers: the home's presenters and templates by name, and the catalogued voices."""
    home = request.app.state.home
    presenters = sorted(p.stem for p in home.presenters_dir.glob("*.yaml"))
    templates = sorted(p.stem for p in (home.root / "templates").glob("*.yaml"))
    voices = list(offered_voices())
    more = [SETTINGS[key] for key in FORM_SETTINGS if key not in LAID_OUT]
    return {"presenters": presenters, "templates": templates, "voices": voices, "layouts": LAYOUTS, "settings": more}


LAID_OUT = ("title", "presenter", "voice", "language", "layout", "template", "headline")
"""The settings the new-clip form lays out itself, with choices from the home; the rest of FORM_SETTINGS are listed
under More settings, each as its kind asks."""
FORM_SETTINGS = tuple(key for key in OPTION_KEYS if key != "avatar")
"""What the form sets: every setting a studio client may (a prepared avatar is chosen on the Presenters page)."""


def install(app) -> None:
    """The pages, and the redirect to sign in that they answer with when no one is."""
    app.include_router(router)

    @app.exception_handler(SignIn)
    async def to_sign_in(request: Request, _: SignIn):
        return RedirectResponse("/login", status_code=303)


__all__ = ["install", "router"]
