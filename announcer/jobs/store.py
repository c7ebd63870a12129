"""The embedded job store: one SQLite file in the work dir, safe for several processes at once.

Every clip to render is a job with a state (queued, running, done, failed, cancelled), attempts,
timings per stage, the last error and its output paths. A worker takes a job by writing a lease
(its name and an expiry) in one immediate transaction, so two workers never take the same job;
a worker that dies leaves a lease that expires (or, on the same machine, a dead process id) and
the job is taken again.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..scratch import process_alive

STATES = ("queued", "running", "done", "failed", "cancelled")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT UNIQUE NOT NULL,
    batch TEXT NOT NULL,
    script TEXT,
    avatar TEXT,
    output TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    error TEXT,
    detail TEXT,
    outputs TEXT,
    stage_seconds TEXT,
    lease_owner TEXT,
    lease_expires REAL,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS stages (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    attempt INTEGER NOT NULL,
    stage TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (job_id, attempt, stage)
);
CREATE TABLE IF NOT EXISTS schedule_fires (
    trigger TEXT PRIMARY KEY,
    fired REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, not_before);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs (batch);
"""


@dataclass
class JobSpec:
    """What to render: the same fields as a render request, plus the batch it belongs to."""
    batch: str
    output: str
    script: str | None = None
    avatar: str | None = None
    options: dict = field(default_factory=dict)
    key: str = ""
    """Identity of the job: the same script content, avatar and output give the same key."""


@dataclass
class Job(JobSpec):
    id: int = 0
    state: str = "queued"
    attempts: int = 0
    max_attempts: int = 3
    error: str | None = None
    detail: str | None = None
    """A failure's traceback, where the failure was a bug rather than bad input or a tool's error."""
    outputs: dict | None = None
    stage_seconds: dict | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    not_before: float = 0.0
    created: float = 0.0
    started: float | None = None
    finished: float | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def worker_name() -> str:
    """host:pid:random, so a lease tells which process holds it and whether it can still be alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str | None) -> bool:
    """True only when the owner ran on this machine and its process is gone."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not process_alive(int(pid))


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        with self._connect() as db:
            db.executescript(SCHEMA)
            if "detail" not in {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}:
                db.execute("ALTER TABLE jobs ADD COLUMN detail TEXT")  # a store made before failures kept tracebacks

    @contextmanager
    def _connect(self):
        with store_errors(self.path):
            db = self._open()
            try:
                yield db
            finally:
                db.close()

    def _open(self) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit), in WAL mode, waiting up to 30 s for a lock."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE: the write lock is taken up front, so read-then-update is atomic across processes."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def last_fired(self, trigger: str) -> float | None:
        """When a schedule's trigger last fired (epoch seconds), on any worker; None if never."""
        with self._connect() as db:
            row = db.execute("SELECT fired FROM schedule_fires WHERE trigger = ?", (trigger,)).fetchone()
        return row["fired"] if row else None

    def record_fired(self, trigger: str, when: float) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO schedule_fires (trigger, fired) VALUES (?, ?) "
                       "ON CONFLICT (trigger) DO UPDATE SET fired = MAX(fired, excluded.fired)", (trigger, when))

    def enqueue(self, spec: JobSpec, max_attempts: int = 3) -> Job:
        """Add a job, or return the one already recorded under the same key."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE key = ?", (spec.key,)).fetchone()
            if row is None:
                db.execute("INSERT INTO jobs (key, batch, script, avatar, output, options, max_attempts, created) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (spec.key, spec.batch, spec.script, spec.avatar, spec.output, json.dumps(spec.options),
                            max_attempts, time.time()))
                row = db.execute("SELECT * FROM jobs WHERE key = ?", (spec.key,)).fetchone()
        return _job(row)

    def claim(self, owner: str, lease_seconds: float, batch: str | None = None) -> Job | None:
        """Take the oldest job that is due: queued, or running under a lease that expired or whose process died."""
        now = time.time()
        with self._transaction() as db:
            query = ("SELECT * FROM jobs WHERE ((state = 'queued' AND not_before <= ?) OR state = 'running')"
                     + (" AND batch = ?" if batch else "") + " ORDER BY id")
            for row in db.execute(query, (now, batch) if batch else (now,)).fetchall():
                if row["state"] == "running" and row["lease_expires"] > now and not _owner_is_dead(row["lease_owner"]):
                    continue
                if row["state"] == "running" and row["attempts"] >= row["max_attempts"]:
                    _fail_abandoned(db, row, now)  # its workers died with it in hand every time: a crash, not bad luck
                    continue
                db.execute("UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, "
                           "started = ?, error = NULL WHERE id = ?", (owner, now + lease_seconds, now, row["id"]))
                return _job(db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())
        return None

    def renew(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend a lease; False when the job is no longer this worker's (cancelled, or taken after expiry)."""
        with self._transaction() as db:
            changed = db.execute("UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                 (time.time() + lease_seconds, job_id, owner)).rowcount
        return changed == 1

    def record_stage(self, job_id: int, attempt: int, stage: str, seconds: float) -> None:
        """One finished stage of one attempt, recorded as it finishes (a killed job shows how far it got)."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO stages (job_id, attempt, stage, seconds, finished) VALUES (?, ?, ?, ?, ?)",
                       (job_id, attempt, stage, seconds, time.time()))

    def stages(self, job_id: int) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT attempt, stage, seconds, finished FROM stages WHERE job_id = ? ORDER BY attempt, finished",
                              (job_id,)).fetchall()
        return [dict(row) for row in rows]

    def finish(self, job_id: int, owner: str, outputs: dict, stage_seconds: dict, recovered: bool = False) -> bool:
        """Record the job done. `recovered`: an earlier attempt delivered the clip and died before recording it, so
        the attempt that found it rendered nothing and is not counted."""
        with self._transaction() as db:
            if recovered:
                db.execute("UPDATE jobs SET attempts = MAX(attempts - 1, 1) WHERE id = ? AND lease_owner = ?", (job_id, owner))
            attempt = db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()["attempts"]
            for stage, seconds in stage_seconds.items():  # engines that report only at the end (Ray) fill the rows here
                db.execute("INSERT OR IGNORE INTO stages (job_id, attempt, stage, seconds, finished) VALUES (?, ?, ?, ?, ?)",
                           (job_id, attempt, stage, seconds, time.time()))
            changed = db.execute("UPDATE jobs SET state = 'done', outputs = ?, stage_seconds = ?, finished = ?, lease_owner = NULL, "
                                 "lease_expires = NULL, error = NULL WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                 (json.dumps(outputs), json.dumps(stage_seconds), time.time(), job_id, owner)).rowcount
        return changed == 1

    def fail(self, job_id: int, owner: str, error: str, transient: bool, backoff_seconds: float = 2.0,
             detail: str | None = None) -> str:
        """Record a failure: a transient one goes back to the queue with exponential backoff while attempts remain.
        `detail`: a bug's traceback, kept with the job."""
        with self._transaction() as db:
            row = db.execute("SELECT attempts, max_attempts FROM jobs WHERE id = ? AND lease_owner = ? AND state = 'running'",
                             (job_id, owner)).fetchone()
            if row is None:
                return "lost"
            again = transient and row["attempts"] < row["max_attempts"]
            state = "queued" if again else "failed"
            not_before = time.time() + backoff_seconds * 2 ** (row["attempts"] - 1) if again else 0
            db.execute("UPDATE jobs SET state = ?, error = ?, detail = ?, not_before = ?, finished = ?, lease_owner = NULL, "
                       "lease_expires = NULL WHERE id = ?",
                       (state, error, detail, not_before, None if again else time.time(), job_id))
        return state

    def get(self, job_id: int) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise InputError(f"no job {job_id}", path=self.path, fix="see `announcer jobs list` for job ids")
        return _job(row)

    def jobs(self, batch: str | None = None, state: str | None = None, newest: int | None = None) -> list[Job]:
        """Jobs in the order they were queued; `newest`: only the last that many."""
        clauses, values = [], []
        for column, value in (("batch", batch), ("state", state)):
            if value:
                clauses.append(f"{column} = ?")
                values.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = f" LIMIT {int(newest)}" if newest is not None else ""
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM jobs{where} ORDER BY id DESC{limit}", values).fetchall()
        return [_job(row) for row in reversed(rows)]

    def retry(self, job_id: int) -> Job:
        job = self.get(job_id)
        if job.state not in ("failed", "cancelled"):
            raise InputError(f"job {job_id} is {job.state}", fix="only failed or cancelled jobs can be retried")
        with self._transaction() as db:
            db.execute("UPDATE jobs SET state = 'queued', attempts = 0, not_before = 0, error = NULL, finished = NULL WHERE id = ?",
                       (job_id,))
        return self.get(job_id)

    def requeue(self, job_id: int) -> None:
        """A finished job whose outputs have gone missing is rendered again."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET state = 'queued', attempts = 0, not_before = 0, outputs = NULL WHERE id = ?", (job_id,))

    def cancel(self, job_id: int) -> Job:
        job = self.get(job_id)
        if job.state in ("done", "cancelled"):
            raise InputError(f"job {job_id} is already {job.state}", fix="nothing to cancel")
        with self._transaction() as db:
            db.execute("UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL, finished = ? WHERE id = ?",
                       (time.time(), job_id))
        return self.get(job_id)


def _fail_abandoned(db: sqlite3.Connection, row: sqlite3.Row, now: float) -> None:
    error = (f"its worker stopped while rendering it {row['attempts']} time(s), the last one "
             f"{row['lease_owner'] or 'unknown'}; it is not taken again (see that worker's log, then "
             f"`announcer jobs retry {row['id']}`)")
    db.execute("UPDATE jobs SET state = 'failed', error = ?, finished = ?, lease_owner = NULL, lease_expires = NULL "
               "WHERE id = ?", (error, now, row["id"]))


@contextmanager
def store_errors(path: Path):
    """SQLite's own failures as bad input that names the store and says what to do."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "readonly" in str(error) or "unable to open" in str(error):
            raise InputError(f"cannot write to the job store ({error})", path=path,
                             fix="make the file and its folder writable, or give another --home") from None
        raise
    except sqlite3.DatabaseError as error:
        raise InputError(f"the job store is damaged ({error})", path=path,
                         fix="move it aside and a new one is made, or restore it from a backup") from None


def _create_private(path: Path) -> None:
    """The store holds webhook secrets and token hashes: a new one is made readable by its owner only."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.is_file() and path.stat().st_mode & 0o077 and path.stat().st_uid == os.geteuid():
            path.chmod(0o600)  # a store made by an older version, readable by everyone
    except OSError as error:
        raise InputError(f"cannot make the job store ({error.strerror})", path=path,
                         fix="make its folder writable, or give another --home") from None


def _job(row: sqlite3.Row) -> Job:
    values = dict(row)
    for column in ("options", "outputs", "stage_seconds"):
        values[column] = json.loads(values[column]) if values[column] else ({} if column == "options" else None)
    return Job(**values)


__all__ = ["JobStore", "JobSpec", "Job", "STATES", "worker_name"]
