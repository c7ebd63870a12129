"""The studio's records, kept in the job store's own SQLite file beside the jobs they are about: accounts and their
hashed tokens, browser sessions, reviews with their history, webhook subscriptions and every delivery attempt.

Tokens and session ids are 256-bit random strings, so a plain SHA-256 of each is what is kept (a slow password hash
buys nothing against a guess at 2^256); the token itself is shown once, when it is made.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config import ROLES
from ..errors import InputError
from ..jobs.store import JobStore, store_errors
from .names import checked_user_name

"""editor: submits clips; reviewer: also approves or rejects them; admin: also manages users and presenters."""
DECISIONS = ("approved", "rejected")
SESSION_SECONDS = 12 * 3600
MAX_DELIVERY_ATTEMPTS = 8
"""A webhook delivery is tried this many times (2 s, 4 s, ... apart: about eight minutes in all)."""
STUDIO_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    token_sha256 TEXT UNIQUE NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users (name),
    csrf TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
    job_id INTEGER PRIMARY KEY REFERENCES jobs (id),
    submitted_by TEXT NOT NULL,
    title TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    decision TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT UNIQUE NOT NULL,
    secret TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id),
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    event TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    delivered REAL,
    last_error TEXT,
    PRIMARY KEY (webhook_id, job_id, event)
);
CREATE INDEX IF NOT EXISTS reviews_by_job ON reviews (job_id, id);
"""


class AlreadyExists(InputError):
    """An account or webhook by that name or URL is there already (HTTP 409)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Roles are ranked: an admin may do what a reviewer may, a reviewer what an editor may."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class Review:
    decision: str
    comment: str
    reviewer: str
    at: float


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    secret: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class StudioStore(JobStore):
    """The job store with the studio's tables; any number of servers and workers may open it at once."""

    def __init__(self, path: Path):
        self._connections = threading.local()
        super().__init__(path)
        with self._connect() as db:
            db.executescript(STUDIO_SCHEMA)

    @contextmanager
    def _connect(self):
        """One connection per thread, kept open: a status request makes several small queries, and opening a
        connection costs more than all of them (the server answers many clients from a pool of threads)."""
        with store_errors(self.path):
            db = getattr(self._connections, "db", None)
            if db is None or self._connections.pid != os.getpid():  # a forked child opens its own
                db = self._open()
                self._connections.db, self._connections.pid = db, os.getpid()
            yield db

    # accounts

    def add_user(self, name: str, role: str) -> str:
        """A new account; its API token, which is not kept and cannot be shown again."""
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", fix=f"use one of {', '.join(ROLES)}")
        token = "ann_" + secrets.token_urlsafe(32)
        with self._transaction() as db:
            name = checked_user_name(name, [row["name"] for row in db.execute("SELECT name FROM users")])
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AlreadyExists(f"user '{name}' exists", fix="choose another name, or `announcer users token NAME`")
            db.execute("INSERT INTO users (name, role, token_sha256, created) VALUES (?, ?, ?, ?)",
                       (name, role, _sha256(token), time.time()))
        return token

    def new_token(self, name: str) -> str:
        """Replace a user's token (the old one stops working); the new one, shown once."""
        token = "ann_" + secrets.token_urlsafe(32)
        with self._transaction() as db:
            if db.execute("UPDATE users SET token_sha256 = ? WHERE name = ?", (_sha256(token), name)).rowcount != 1:
                raise InputError(f"no user '{name}'", fix="see `announcer users list`")
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        return token

    def remove_user(self, name: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
            if db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount != 1:
                raise InputError(f"no user '{name}'", fix="see `announcer users list`")

    def users(self) -> list[User]:
        with self._connect() as db:
            return [User(row["name"], row["role"]) for row in db.execute("SELECT name, role FROM users ORDER BY name")]

    def user_by_token(self, token: str) -> User | None:
        with self._connect() as db:
            row = db.execute("SELECT name, role FROM users WHERE token_sha256 = ?", (_sha256(token),)).fetchone()
        return User(row["name"], row["role"]) if row else None

    # browser sessions

    def open_session(self, user: User) -> tuple[str, Session]:
        """A new session for `user`: its id (for the cookie; only its hash is kept) and the session."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            db.execute("INSERT INTO sessions (id_sha256, user, csrf, expires) VALUES (?, ?, ?, ?)",
                       (_sha256(session_id), user.name, csrf, time.time() + SESSION_SECONDS))
        return session_id, Session(user, csrf)

    def session(self, session_id: str) -> Session | None:
        with self._connect() as db:
            row = db.execute("SELECT users.name, users.role, sessions.csrf FROM sessions JOIN users ON users.name = sessions.user "
                             "WHERE id_sha256 = ? AND expires > ?", (_sha256(session_id), time.time())).fetchone()
        return Session(User(row["name"], row["role"]), row["csrf"]) if row else None

    def close_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_sha256(session_id),))

    # clips and their reviews

    def record_clip(self, job_id: int, submitted_by: str, title: str | None) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO clips (job_id, submitted_by, title, created) VALUES (?, ?, ?, ?)",
                       (job_id, submitted_by, title, time.time()))

    def clip(self, job_id: int) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT submitted_by, title, created FROM clips WHERE job_id = ?", (job_id,)).fetchone()
        return dict(row) if row else None

    def clip_ids(self) -> list[int]:
        with self._connect() as db:
            return [row["job_id"] for row in db.execute("SELECT job_id FROM clips ORDER BY job_id DESC")]

    def add_review(self, job_id: int, decision: str, comment: str, reviewer: str) -> Review:
        if decision not in DECISIONS:
            raise InputError(f"unknown decision '{decision}'", fix=f"use {' or '.join(DECISIONS)}")
        review = Review(decision, comment, reviewer, time.time())
        with self._transaction() as db:
            db.execute("INSERT INTO reviews (job_id, decision, comment, reviewer, at) VALUES (?, ?, ?, ?, ?)",
                       (job_id, decision, comment, reviewer, review.at))
        return review

    def reviews(self, job_id: int) -> list[Review]:
        """A clip's reviews, oldest first; the last is its state."""
        with self._connect() as db:
            rows = db.execute("SELECT decision, comment, reviewer, at FROM reviews WHERE job_id = ? ORDER BY id",
                              (job_id,)).fetchall()
        return [Review(**dict(row)) for row in rows]

    # webhooks

    def add_webhook(self, url: str) -> Webhook:
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM webhooks WHERE url = ?", (url,)).fetchone():
                raise AlreadyExists(f"webhook {url} exists", fix="remove it first to get a new secret")
            db.execute("INSERT INTO webhooks (url, secret, created) VALUES (?, ?, ?)", (url, secret, time.time()))
            row = db.execute("SELECT id FROM webhooks WHERE url = ?", (url,)).fetchone()
        return Webhook(row["id"], url, secret)

    def webhooks(self) -> list[Webhook]:
        with self._connect() as db:
            return [Webhook(row["id"], row["url"], row["secret"]) for row in db.execute("SELECT * FROM webhooks ORDER BY id")]

    def remove_webhook(self, webhook_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
            db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))

    def queue_deliveries(self) -> None:
        """One delivery per webhook for each studio clip that has finished (delivered or failed) since the webhook
        was added, recorded once whoever notices first (several servers may run)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO webhook_deliveries (webhook_id, job_id, event) "
                       "SELECT webhooks.id, jobs.id, CASE jobs.state WHEN 'done' THEN 'clip.delivered' ELSE 'clip.failed' END "
                       "FROM webhooks, jobs JOIN clips ON clips.job_id = jobs.id "
                       "WHERE jobs.state IN ('done', 'failed') AND jobs.finished >= webhooks.created")

    def due_deliveries(self, limit: int = 20) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT webhook_deliveries.*, webhooks.url, webhooks.secret FROM webhook_deliveries "
                              "JOIN webhooks ON webhooks.id = webhook_id WHERE delivered IS NULL AND next_try <= ? "
                              "AND attempts < ? ORDER BY next_try LIMIT ?", (time.time(), MAX_DELIVERY_ATTEMPTS, limit))
            return [dict(row) for row in rows.fetchall()]

    def record_delivery(self, webhook_id: int, job_id: int, event: str, error: str | None, backoff_s: float) -> None:
        """An attempt's outcome: delivered, or failed and tried again after `backoff_s` times two per attempt."""
        with self._transaction() as db:
            if error is None:
                db.execute("UPDATE webhook_deliveries SET attempts = attempts + 1, delivered = ?, last_error = NULL "
                           "WHERE webhook_id = ? AND job_id = ? AND event = ?", (time.time(), webhook_id, job_id, event))
            else:
                db.execute("UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, "
                           "next_try = ? + ? * (1 << attempts) WHERE webhook_id = ? AND job_id = ? AND event = ?",
                           (error, time.time(), backoff_s, webhook_id, job_id, event))

    def deliveries(self, job_id: int) -> list[dict]:
        with self._connect() as db:
            return [dict(row) for row in db.execute("SELECT * FROM webhook_deliveries WHERE job_id = ?", (job_id,))]


__all__ = ["AlreadyExists", "DECISIONS", "ROLES", "Review", "Session", "StudioStore", "User", "Webhook"]
