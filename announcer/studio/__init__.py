"""The studio: a web app and HTTP API for media teams, on the job store. The server queues; `announcer worker`
renders (on this machine, on others sharing the store, or on a Ray cluster whose head holds it).

>>> app = create_app(StudioConfig(RenderConfig()))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""
from __future__ import annotations

import asyncio
import json
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from ..config import RenderConfig
from ..home import Home
from .api import router as api_router
from .auth import caller
from .clips import ClipDesk
from .limits import FailureLimiter
from .pages import install as install_pages
from .server import BODY_SECONDS
from .store import StudioStore
from .voices import VoicePreviews
from .webhooks import WebhookSender


CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""Scripts only from the studio itself or carrying the answer's nonce; inline style attributes are allowed (the
progress bars' widths), and nothing is ever loaded from another site."""


@dataclass
class StudioConfig:
    render: RenderConfig = field(default_factory=RenderConfig)
    """Where the home (and so the job store) is; the workers' own config renders the clips."""
    max_upload_mb: float = 200.0
    """Any request body larger than this is refused with 413 before it is read."""
    schedules: Path = Path("workflows")
    """The folder of schedule files the Schedules page shows."""
    secure_cookies: bool = False
    """Mark the session cookie Secure: set it when the studio is served over HTTPS (behind a reverse proxy)."""
    one_person_team: bool = False
    """Let a reviewer approve a clip they submitted themselves (a newsroom of one); off, another reviewer must."""
    allow_private_webhooks: bool = False
    """Let webhooks point at loopback or private addresses (a CMS inside the newsroom's own network)."""
    body_timeout_s: float = BODY_SECONDS
    """A request whose body stops arriving for this long is answered 408 (headers: studio.server.HEADER_SECONDS)."""
    webhook_poll_s: float = 1.0
    send_webhooks: bool = True


def create_app(config: StudioConfig) -> FastAPI:
    home = Home.resolve(config.render.home)
    store = StudioStore(home.job_store)
    desk = ClipDesk(store, home)
    sender = WebhookSender(store, lambda job_id, event: webhook_payload(desk, job_id, event), config.webhook_poll_s,
                           allow_private=config.allow_private_webhooks)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if config.send_webhooks:
            sender.start()
        try:
            yield
        finally:
            sender.stop()
            app.state.voice_previews.close()

    app = FastAPI(title="announcer studio", docs_url=None, openapi_url=None, redoc_url=None, lifespan=lifespan)
    app.state.store, app.state.desk, app.state.home, app.state.config = store, desk, home, config
    app.state.webhooks = sender
    app.state.sign_in_limiter = FailureLimiter()
    app.state.voice_previews = VoicePreviews(home.models_dir)  # a child process, started on the first preview
    app.add_middleware(BodyLimit, max_bytes=int(config.max_upload_mb * 1_000_000), body_seconds=config.body_timeout_s)
    app.include_router(api_router)
    install_pages(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.mount("/api/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    _install_hardening(app)
    _install_docs(app)
    return app


def _install_hardening(app: FastAPI) -> None:
    @app.middleware("http")
    async def hardened(request: Request, call_next):
        """No sniffing a subtitle file into a script, no framing the review page into another site, no script but
        the page's own (a per-answer nonce), and nothing a caller was shown (a token, a secret, an unapproved clip)
        kept in a cache on the way."""
        request.state.csp_nonce = secrets.token_urlsafe(16)
        answer = await call_next(request)
        answer.headers.setdefault("X-Content-Type-Options", "nosniff")
        answer.headers.setdefault("X-Frame-Options", "DENY")
        answer.headers.setdefault("Referrer-Policy", "same-origin")
        answer.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(nonce=request.state.csp_nonce))
        if not request.url.path.startswith(("/static/", "/api/docs-assets/")):
            answer.headers["Cache-Control"] = "no-store"
        return answer


def _install_docs(app: FastAPI) -> None:
    """/health for anyone; the API's description and Swagger UI for those signed in."""
    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        return {"ok": True}

    @app.get("/api/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        """The API's description, for those signed in or holding a token (nothing but /health is anonymous)."""
        await caller(request)
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs(request: Request):
        """Swagger UI from the swagger-ui-bundle package (nothing is fetched from elsewhere)."""
        await caller(request)
        page = get_swagger_ui_html(openapi_url="/api/openapi.json", title="announcer studio API",
                                   swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")
        html = page.body.decode().replace("<script>", f'<script nonce="{request.state.csp_nonce}">')
        return HTMLResponse(html)


def webhook_payload(desk: ClipDesk, job_id: int, event: str) -> dict:
    job = desk.store.get(job_id)
    return {"event": event, "clip": desk.describe(job)}


class BodyLimit:
    """ASGI middleware: a request whose body is (or turns out to be) larger than `max_bytes` gets 413, unread; one
    whose body stops arriving for `body_seconds` gets 408."""

    def __init__(self, app, max_bytes: int, body_seconds: float = BODY_SECONDS):
        self.app, self.max_bytes, self.body_seconds = app, max_bytes, body_seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _too_large(send, self.max_bytes)
        seen = 0

        async def counted():
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), self.body_seconds)
            except TimeoutError:
                raise _TooSlow() from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.max_bytes)
        except _TooSlow:
            await _refuse(send, 408, f"the request's body stopped arriving for {self.body_seconds:g} s")


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def _too_large(send, max_bytes: int) -> None:
    await _refuse(send, 413, f"request larger than {max_bytes // 1_000_000} MB")


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["StudioConfig", "create_app"]
