"""Schedules: YAML files in `workflows/` that queue batches on a clock or when scripts arrive.

    name: morning-bulletin
    scripts: inbox/              # a folder or glob, relative to this file
    avatar: anchor               # a photo, a video or a prepared avatar name
    out: out/morning/            # relative to this file
    timezone: Europe/London
    cron: "0 6 * * *"            # standard 5-field crontab, in that timezone
    watch: true                  # also queue new or changed scripts as they are dropped in (every watch_seconds)
    watch_seconds: 15
    every_seconds: 3600          # or a plain interval

Firing a schedule only queues jobs (keyed by script content, so unchanged scripts are not
queued twice); `announcer worker` renders them. APScheduler runs the triggers in memory; each
firing is recorded in the job store, so a restarted worker queues a run it missed (once, if it
is less than CATCH_UP_S late). Nothing is pickled: APScheduler's own SQL job store would pickle
its jobs, so it is not used.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from ..config import RenderConfig
from ..errors import InputError
from ..plain_yaml import load_plain_yaml

log = logging.getLogger(__name__)
CATCH_UP_S = 3600
"""A run missed while no worker was up is made up at start if it is at most this late (an hour-late
morning bulletin is still news; yesterday's is not)."""


@dataclass
class Schedule:
    name: str
    path: Path
    scripts: str
    out: Path
    avatar: str | None = None
    timezone: str = "UTC"
    cron: str | None = None
    every_seconds: float | None = None
    watch: bool = False
    watch_seconds: float = 15.0

    def triggers(self) -> list:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        found = []
        if self.cron:
            try:
                found.append(CronTrigger.from_crontab(self.cron, timezone=self.timezone))
            except ValueError as error:
                raise InputError(f"bad cron expression '{self.cron}': {error}", path=self.path,
                                 fix="use 5 fields: minute hour day month weekday, e.g. \"0 6 * * *\"") from None
        if self.every_seconds:
            found.append(IntervalTrigger(seconds=self.every_seconds, timezone=self.timezone))
        if self.watch:
            found.append(IntervalTrigger(seconds=self.watch_seconds, timezone=self.timezone))
        return found


def load_schedule(path: Path) -> Schedule:
    path = Path(path).resolve()
    try:
        raw = load_plain_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(error, 'problem', error)}", path=path,
                         line=mark.line + 1 if mark else None, fix="fix the YAML syntax") from None
    if not isinstance(raw, dict) or "scripts" not in raw or "out" not in raw:
        raise InputError("a schedule needs at least `scripts:` and `out:`", path=path, fix="see workflows/README.md")
    known = set(Schedule.__dataclass_fields__) - {"path"}
    unknown = set(raw) - known
    if unknown:
        raise InputError(f"unknown schedule field(s): {', '.join(sorted(unknown))}", path=path,
                         fix=f"use {', '.join(sorted(known))}")
    base = path.parent
    avatar = raw.get("avatar")
    if avatar and (base / str(avatar)).exists():
        avatar = str((base / str(avatar)).resolve())
    schedule = Schedule(**{**raw, "name": str(raw.get("name") or path.stem), "path": path,
                           "scripts": os.path.normpath(base / str(raw["scripts"])), "out": (base / str(raw["out"])).resolve(),
                           "avatar": avatar})
    _check_timezone(schedule)
    if not schedule.triggers():
        raise InputError("the schedule never fires", path=path, fix="add cron:, every_seconds: or watch: true")
    return schedule


def _check_timezone(schedule: Schedule) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown timezone '{schedule.timezone}'", path=schedule.path,
                         fix="use an IANA name such as Europe/London or Asia/Seoul") from None


def load_schedules(folder: Path) -> list[Schedule]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [load_schedule(p) for p in sorted(folder.iterdir()) if p.suffix in (".yaml", ".yml")]


def fire(schedule_path: str, home: str | None) -> int:
    """Queue the schedule's scripts that are new or changed; the number queued."""
    from ..home import Home

    return _queue(load_schedule(Path(schedule_path)), _job_store(home), Home.resolve(home).work_dir / "tables")


def _queue(schedule: Schedule, store, tables_dir: Path) -> int:
    """`tables_dir`: where a spreadsheet's rows are written as scripts (the home's work dir)."""
    from . import batch_jobs, find_scripts

    try:
        scripts = find_scripts(schedule.scripts, tables_dir)
    except InputError:
        return 0  # an empty inbox is normal
    queued = 0
    for spec in batch_jobs(scripts, schedule.avatar, schedule.out, {"schedule": schedule.name}):
        job = store.enqueue(spec)
        queued += job.state == "queued" and job.attempts == 0
    if queued:
        log.info("schedule %s: queued %d script(s)", schedule.name, queued)
    return queued


def _job_store(home: str | Path | None):
    from . import JobStore
    from ..home import Home

    return JobStore(Home.resolve(home).job_store)


class ScheduleRunner:
    """APScheduler in a background thread; each trigger's last firing kept in the job store."""

    def __init__(self, schedules: list[Schedule], config: RenderConfig):
        from apscheduler.schedulers.background import BackgroundScheduler

        from ..home import Home

        self.schedules = schedules
        self.store = _job_store(config.home)
        self.tables_dir = Home.resolve(config.home).work_dir / "tables"
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600})

    def start(self) -> None:
        now = datetime.now(timezone.utc)
        for schedule in self.schedules:
            for number, trigger in enumerate(schedule.triggers()):
                trigger_id = f"{schedule.name}:{number}"
                self.scheduler.add_job(self._fire, trigger, args=[str(schedule.path), trigger_id], id=trigger_id,
                                       name=schedule.name, next_run_time=self._first_run(trigger, trigger_id, now))
        self.scheduler.start()

    def _first_run(self, trigger, trigger_id: str, now: datetime) -> datetime | None:
        """Now, if the trigger was due while no worker ran and not too long ago; else its next time from now."""
        fired = self.store.last_fired(trigger_id)
        if fired is not None:
            last = datetime.fromtimestamp(fired, timezone.utc)
            due = trigger.get_next_fire_time(last, last + timedelta(microseconds=1))
            if due is not None and due <= now and (now - due).total_seconds() <= CATCH_UP_S:
                log.info("schedule %s: making up the run due at %s", trigger_id, due.isoformat(timespec="seconds"))
                return now
        return trigger.get_next_fire_time(None, now)

    def _fire(self, schedule_path: str, trigger_id: str) -> None:
        self.store.record_fired(trigger_id, time.time())
        _queue(load_schedule(Path(schedule_path)), self.store, self.tables_dir)  # the YAML is read again: edits apply at the next firing

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)


def next_runs(schedule: Schedule) -> list[str]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(schedule.timezone))
    times = [trigger.get_next_fire_time(None, now) for trigger in schedule.triggers()]
    return [t.isoformat(timespec="seconds") for t in times if t is not None]


__all__ = ["Schedule", "load_schedule", "load_schedules", "fire", "ScheduleRunner", "next_runs"]
