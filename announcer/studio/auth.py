"""Who is asking: an API token (`Authorization: Bearer ...`) or a browser session (a cookie), and what they may do.

Forms posted with a session cookie must carry that session's CSRF token (a hidden field, or the `X-CSRF-Token`
header): a page on another site can make a browser send the cookie, but cannot read the token. Requests with a
bearer token carry no cookie, so they need none.
"""
from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from .limits import client_of
from .store import Session, User

SESSION_COOKIE = "announcer_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(HTTPException):
    """No (valid) credentials: 401 for the API; the pages turn it into a redirect to the login page."""

    def __init__(self):
        super().__init__(401, "sign in, or send Authorization: Bearer TOKEN", headers={"WWW-Authenticate": "Bearer"})


async def caller(request: Request) -> User:
    """The user behind a request; 401 without valid credentials, 403 for a form without its CSRF token."""
    store = request.app.state.store
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        limiter = request.app.state.sign_in_limiter
        limiter.check(client_of(request))
        user = store.user_by_token(header[7:].strip()[:200])
        if user is None:
            limiter.failed(client_of(request))
            raise LoginRequired()
        return user
    session = browser_session(request)
    if session is None:
        raise LoginRequired()
    if request.method not in SAFE_METHODS:
        form_token = None
        if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form_token = (await request.form()).get("csrf")
        check_csrf(request, session, form_token if isinstance(form_token, str) else None)
    return session.user


def browser_session(request: Request) -> Session | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    return request.app.state.store.session(session_id) if session_id else None


def check_csrf(request: Request, session: Session, form_token: str | None) -> None:
    sent = request.headers.get("x-csrf-token") or form_token or ""
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")


def require(user: User, role: str) -> None:
    if not user.may(role):
        raise HTTPException(403, f"{user.name} is a {user.role}; this needs a {role}")


__all__ = ["SESSION_COOKIE", "LoginRequired", "browser_session", "caller", "check_csrf", "require"]
