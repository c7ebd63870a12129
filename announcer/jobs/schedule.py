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
queued twice); `announcer worker` renders them. APScheduler keeps the triggers in its SQLite
job store in the work dir, so a restarted worker knows which runs it missed.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import RenderConfig
from ..errors import InputError

log = logging.getLogger(__name__)


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
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
    """Queue the schedule's scripts that are new or changed; the number queued. Runs inside APScheduler."""
    from . import JobStore, batch_jobs, find_scripts
    from ..home import Home

    schedule = load_schedule(Path(schedule_path))
    store = JobStore(Home.resolve(home).work_dir / "jobs.sqlite")
    try:
        scripts = find_scripts(schedule.scripts)
    except InputError:
        return 0  # an empty inbox is normal
    queued = 0
    for spec in batch_jobs(scripts, schedule.avatar, schedule.out, {"schedule": schedule.name}):
        job = store.enqueue(spec)
        queued += job.state == "queued" and job.attempts == 0
    if queued:
        log.info("schedule %s: queued %d script(s)", schedule.name, queued)
    return queued


class ScheduleRunner:
    """APScheduler in a background thread, its triggers kept in SQLite beside the job store."""

    def __init__(self, schedules: list[Schedule], config: RenderConfig):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        from ..home import Home

        home = Home.resolve(config.home)
        home.work_dir.mkdir(parents=True, exist_ok=True)
        self.schedules = schedules
        self.home = home
        self.scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{home.work_dir / 'schedules.sqlite'}")},
                                             job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600})

    def start(self) -> None:
        self.scheduler.start()
        wanted = set()
        for schedule in self.schedules:
            for number, trigger in enumerate(schedule.triggers()):
                job_id = f"{schedule.name}:{number}"
                wanted.add(job_id)
                self.scheduler.add_job("announcer.jobs.schedule:fire", trigger, args=[str(schedule.path), str(self.home.root)],
                                       id=job_id, name=schedule.name, replace_existing=True)
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()  # its YAML file was deleted or changed

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)


def next_runs(schedule: Schedule) -> list[str]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(schedule.timezone))
    times = [trigger.get_next_fire_time(None, now) for trigger in schedule.triggers()]
    return [t.isoformat(timespec="seconds") for t in times if t is not None]


__all__ = ["Schedule", "load_schedule", "load_schedules", "fire", "ScheduleRunner", "next_runs"]
