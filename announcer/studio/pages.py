"""The studio's pages, rendered on the server (Jinja2 and plain forms; a little script only for live progress)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from .auth import SESSION_COOKIE, browser_session
from .store import SESSION_SECONDS

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, failed: bool = False):
    return TEMPLATES.TemplateResponse(request, "login.html", {"failed": failed})


@router.post("/login")
def login(request: Request, token: str = Form(...)):
    """A token (from `announcer users add`) opens a browser session; the cookie holds only the session's id."""
    user = request.app.state.store.user_by_token(token.strip())
    if user is None:
        return RedirectResponse("/login?failed=1", status_code=303)
    session_id, _ = request.app.state.store.open_session(user)
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(SESSION_COOKIE, session_id, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                      secure=request.app.state.config.secure_cookies)
    return answer


@router.post("/logout")
async def logout(request: Request):
    session = browser_session(request)
    if session is not None:
        form = await request.form()
        if form.get("csrf") != session.csrf:
            raise HTTPException(403, "the form's CSRF token is missing or wrong")
        request.app.state.store.close_session(request.cookies[SESSION_COOKIE])
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


__all__ = ["router"]
