"""The HTTP API under /api/v1, for a scheduler or a CMS (its OpenAPI page is /api/docs).

    POST /api/v1/clips                    a script (JSON text, or a file upload) and options -> the job
    GET  /api/v1/jobs/{id}                state, stages, error, files, review
    GET  /api/v1/clips/{id}/files/{name}  video, srt, vtt, thumbnail, manifest, closeups, tone (?download=1: approved only)
    POST /api/v1/clips/{id}/review        approve or reject, with a comment (reviewers)
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, create_model

from ..config import ROLES, TONES
from ..errors import InputError
from ..settings import SETTINGS, Setting
from .access import JobId, check_may_manage, check_may_review, check_may_see, may_see
from .auth import caller, require
from .clips import MAX_COMMENT, ClipDesk, NotReviewable
from .store import AlreadyExists, User
from .uploads import UploadRefused, text_upload
from .webhooks import refuse_private_address

router = APIRouter(prefix="/api/v1")
Caller = Annotated[User, Depends(caller)]


def _option_type(setting: Setting):
    """A setting's type in the API's schema (the settings' own reader checks the value)."""
    if setting.kind == "choice":
        return Literal[setting.choices]
    return {"number": float, "integer": int, "switch": bool, "aspects": str | list[str]}.get(setting.kind, str)


ClipOptions = create_model("ClipOptions", __doc__="A clip's settings (announcer.settings); a name where a presenter, "
                           "template, voice or prepared avatar is chosen, never a path.",
                           **{key: (_option_type(setting) | None, Field(None, description=setting.help))
                              for key, setting in SETTINGS.items() if setting.studio})


class ClipRequest(ClipOptions):
    script: str = Field(..., description="Markdown (front matter allowed) or SRT")


class ToneRequest(BaseModel):
    script: str = Field(..., description="Markdown (front matter allowed) or SRT")
    tone: Literal[tuple(TONES)] | None = Field(None, description="the clip's own tone, as the form would set it")


class WebhookRequest(BaseModel):
    url: str


class UserRequest(BaseModel):
    name: str
    role: Literal[tuple(ROLES)]


class ReviewRequest(BaseModel):
    decision: Literal["approved", "rejected"]
    comment: str = Field("", max_length=MAX_COMMENT)


def desk(request: Request) -> ClipDesk:
    return request.app.state.desk


@router.post("/clips", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ClipRequest"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, **{k: {"type": "string"} for k in ClipOptions.model_fields}}}}}}})
async def submit_clip(request: Request, user: Caller) -> dict:
    """Queue a clip; `announcer worker` renders it. 422 (with the script's line) for a script that would not render."""
    require(user, "editor")
    text, options, label = await _submission(request)
    try:
        job = desk(request).submit(user.name, text, options, label)
    except InputError as error:
        raise HTTPException(422, {"error": error.one_line(), "line": error.line, "fix": error.fix}) from None
    return _described(request, job.id, user)


@router.post("/tones")
def sentence_tones(body: ToneRequest, request: Request, user: Caller) -> list[dict]:
    """Each sentence with the tone the presenter would read it in, and where it comes from (tag, setting, analysis,
    story), before anything renders. 422 (with the line) for a script that would not read."""
    require(user, "editor")
    try:
        return desk(request).tones(body.script, body.tone)
    except InputError as error:
        raise HTTPException(422, {"error": error.one_line(), "line": error.line, "fix": error.fix}) from None


@router.get("/clips")
def list_clips(request: Request, user: Caller) -> list[dict]:
    """The clips the caller may see: an editor's own; every clip for reviewers and admins."""
    store = request.app.state.store
    return [_described(request, job_id, user) for job_id in store.clip_ids() if may_see(user, store.clip(job_id))]


@router.get("/jobs/{job_id}")
def job_status(job_id: JobId, request: Request, user: Caller) -> dict:
    return _described(request, job_id, user)


@router.get("/clips/{job_id}/files/{name}")
def clip_file(job_id: JobId, name: str, request: Request, user: Caller, download: bool = False):
    job = _job(request, job_id, user)
    path = desk(request).file(job, name)
    if path is None:
        raise HTTPException(404, f"clip {job_id} has no {name} (yet)")
    if download:
        reviews = request.app.state.store.reviews(job_id)
        if not reviews or reviews[-1].decision != "approved":
            raise HTTPException(409, f"clip {job_id} is not approved: only approved clips are delivered")
        return FileResponse(path, filename=f"clip-{job_id}{path.suffix}")
    return FileResponse(path)


@router.post("/clips/{job_id}/review", status_code=201)
def review_clip(job_id: JobId, review: ReviewRequest, request: Request, user: Caller) -> dict:
    _job(request, job_id, user)
    check_may_review(user, request.app.state.store.clip(job_id), job_id, request.app.state.config.one_person_team)
    try:
        desk(request).review(job_id, review.decision, review.comment, user.name)
    except NotReviewable as error:
        raise HTTPException(409, error.one_line()) from None
    return _described(request, job_id, user)


@router.post("/jobs/{job_id}/retry")
def retry_job(job_id: JobId, request: Request, user: Caller) -> dict:
    """A failed or cancelled clip goes back in the queue."""
    return _act(request, job_id, user, "retry")


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: JobId, request: Request, user: Caller) -> dict:
    """A queued clip never starts; a running one stops at its next stage, and nothing is delivered."""
    return _act(request, job_id, user, "cancel")


def _act(request: Request, job_id: int, user: User, action: str) -> dict:
    _job(request, job_id, user)
    check_may_manage(user, request.app.state.store.clip(job_id), job_id)
    try:
        getattr(request.app.state.store, action)(job_id)
    except InputError as error:
        raise HTTPException(409, error.one_line()) from None
    return _described(request, job_id, user)


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookRequest, request: Request, user: Caller) -> dict:
    """Subscribe a URL to clip.delivered and clip.failed (admins); the signing secret is in this answer only."""
    require(user, "admin")
    try:
        refuse_private_address(body.url[:2000], request.app.state.config.allow_private_webhooks)
    except InputError as error:
        raise HTTPException(422, error.one_line()) from None
    try:
        hook = request.app.state.store.add_webhook(body.url)
    except AlreadyExists as error:
        raise HTTPException(409, error.one_line()) from None
    return {"id": hook.id, "url": hook.url, "secret": hook.secret}


@router.get("/users")
def list_users(request: Request, user: Caller) -> list[dict]:
    require(user, "admin")
    return [{"name": account.name, "role": account.role} for account in request.app.state.store.users()]


@router.post("/users", status_code=201)
def add_user(body: UserRequest, request: Request, user: Caller) -> dict:
    """A new account (admins); its token is in this answer only (kept as a hash)."""
    require(user, "admin")
    try:
        token = request.app.state.store.add_user(body.name, body.role)
    except AlreadyExists as error:
        raise HTTPException(409, error.one_line()) from None
    except InputError as error:
        raise HTTPException(422, error.one_line()) from None
    return {"name": body.name, "role": body.role, "token": token}


@router.delete("/users/{name}", status_code=204)
def remove_user(name: str, request: Request, user: Caller) -> None:
    require(user, "admin")
    if name == user.name:
        raise HTTPException(409, "an admin cannot remove their own account")
    try:
        request.app.state.store.remove_user(name)
    except InputError as error:
        raise HTTPException(404, error.one_line()) from None


async def _submission(request: Request) -> tuple[str, dict, str]:
    """(script text, options, label) from a JSON body or a multipart upload (checked by content, never by name)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "send the script as the 'file' field")
        try:
            text = text_upload(await upload.read(), "the script")
        except UploadRefused as refused:
            raise HTTPException(refused.status, str(refused)) from None
        options = {k: v for k, v in form.items() if k in ClipOptions.model_fields and isinstance(v, str) and v}
        return text, options, upload.filename or "script"
    try:
        body = ClipRequest.model_validate(await request.json())
    except ValueError as error:
        raise HTTPException(422, f"send JSON with a 'script' field ({str(error).splitlines()[0]})") from None
    return body.script, body.model_dump(exclude={"script"}, exclude_none=True), "script"


def _job(request: Request, job_id: int, user: User):
    """The clip's job, when there is such a clip and the caller may see it; 404 otherwise (alike)."""
    store = request.app.state.store
    clip = store.clip(job_id)
    if clip is None:
        raise HTTPException(404, f"no clip {job_id}")
    check_may_see(user, clip, job_id)
    return store.get(job_id)


def _described(request: Request, job_id: int, user: User) -> dict:
    job = _job(request, job_id, user)
    return desk(request).describe(job)


__all__ = ["router"]
