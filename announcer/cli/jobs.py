"""`announcer` batch, jobs, schedule and worker: many clips through the job store."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import InputError
from ..jobs import ENGINES
from ..jobs.store import STATES
from .common import config_from, log, stop_on_signals


def add_commands(commands, common: argparse.ArgumentParser) -> None:
    batch = commands.add_parser("batch", parents=[common], help="render every script in a folder or glob")
    batch.add_argument("scripts", help="a folder of scripts, a glob such as 'news/*.md' (quote it), or a .csv "
                                       "spreadsheet with a row per clip (columns: text, title, presenter, layout, ...)")
    batch.add_argument("--avatar", help="presenter photo, video or prepared avatar name for every script that names none "
                                        "(avatar: in a script's front matter, or its presenter's, wins)")
    batch.add_argument("--presenter", help="the presenter (presenters/NAME.yaml) of every script that names none "
                                           "(presenter: in a script's front matter wins)")
    batch.add_argument("--out", type=Path, required=True, help="folder for the clips and index.json / index.html")
    batch.add_argument("--engine", choices=ENGINES, default="local", help="where clips render (default: this process)")
    batch.add_argument("--address", help="Ray cluster address (with --engine ray; default: start a local Ray)")
    batch.add_argument("--queue-only", action="store_true", help="only queue the jobs; `announcer worker` renders them")
    batch.set_defaults(handler=_batch)

    jobs = commands.add_parser("jobs", help="the job store: list, show, retry, cancel")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_list = jobs_commands.add_parser("list", parents=[common], help="every job, newest last")
    jobs_list.add_argument("--state", choices=STATES)
    jobs_list.set_defaults(handler=_jobs_list)
    for verb, helptext in (("show", "one job in full"), ("retry", "queue a failed or cancelled job again"),
                           ("cancel", "cancel a queued, running or failed job")):
        command = jobs_commands.add_parser(verb, parents=[common], help=helptext)
        command.add_argument("id", type=int)
        command.set_defaults(handler=_jobs_verb, verb=verb)

    schedule = commands.add_parser("schedule", help="schedules in workflows/: list, run-now")
    schedule_commands = schedule.add_subparsers(dest="schedule_command", required=True)
    schedule_list = schedule_commands.add_parser("list", parents=[common], help="schedules and their next runs")
    schedule_list.add_argument("--dir", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    schedule_list.set_defaults(handler=_schedule_list)
    run_now = schedule_commands.add_parser("run-now", parents=[common], help="queue and render one schedule's scripts now")
    run_now.add_argument("name")
    run_now.add_argument("--dir", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    run_now.set_defaults(handler=_schedule_run_now)

    worker = commands.add_parser("worker", parents=[common], help="run schedules and queued jobs until stopped (SIGTERM)")
    worker.add_argument("--schedules", type=Path, default=Path("workflows"), help="folder of schedule YAML files")
    worker.add_argument("--engine", choices=ENGINES, default="local")
    worker.add_argument("--address", help="Ray cluster address (with --engine ray)")
    worker.add_argument("--until-empty", action="store_true", help="exit when no job is queued or running")
    worker.add_argument("--nice", type=int, default=10,
                        help="run at this lower CPU priority (default 10), so a studio or shell on the same machine "
                             "stays quick while clips render; 0 keeps the normal priority")
    worker.set_defaults(handler=_worker)


def _batch(args) -> int:
    from ..home import Home
    from ..jobs import enqueue_batch, open_store, run_batch
    from ..jobs.batch import batch_jobs, find_scripts

    config = config_from(args)
    if args.queue_only:
        options = {"presenter": args.presenter} if args.presenter else None
        scripts = find_scripts(args.scripts, Home.resolve(args.home).work_dir / "tables")
        jobs, skipped = enqueue_batch(open_store(config), batch_jobs(scripts, args.avatar, args.out, options))
        print(f"queued {len(jobs) - len(skipped)} job(s), {len(skipped)} already done; run `announcer worker` to render")
        return 0
    with stop_on_signals() as stop:
        result = run_batch(args.scripts, args.avatar, args.out, config, engine=args.engine, address=args.address, stop=stop,
                           presenter=args.presenter)
    for job in result.failed:
        print(json.dumps({"job": job.id, "script": job.script, "state": job.state, "error": job.error}) if args.json
              else f"job {job.id} {job.state}: {job.error or 'not finished'}", file=sys.stderr)
    done, waiting = len(result.jobs) - len(result.failed) - len(result.unfinished), len(result.unfinished)
    summary = {"done": done, "failed": len(result.failed), "not_rendered_yet": waiting,
               "skipped_already_done": len(result.skipped), "index": str(result.index), "interrupted": result.interrupted}
    print(json.dumps(summary) if args.json else
          f"{done} of {len(result.jobs)} clip(s) done ({len(result.skipped)} from an earlier run), {len(result.failed)} failed"
          + (f", {waiting} not rendered yet" if waiting else "") + f"; {result.index}"
          + ("; stopped early: run the same command again to finish" if result.interrupted else ""))
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


def _jobs_list(args) -> int:
    from ..jobs import open_store

    for job in open_store(config_from(args)).jobs(state=args.state):
        entry = {"id": job.id, "state": job.state, "attempts": job.attempts, "script": job.script, "output": job.output,
                 "error": job.error}
        print(json.dumps(entry) if args.json else
              f"{job.id:5} {job.state:9} {job.attempts}x  {Path(job.script or '').name:30} {job.error or job.output}")
    return 0


def _jobs_verb(args) -> int:
    from ..jobs import open_store

    store = open_store(config_from(args))
    job = {"show": store.get, "retry": store.retry, "cancel": store.cancel}[args.verb](args.id)
    print(json.dumps({**job.as_dict(), "stages": store.stages(job.id)}, indent=None if args.json else 2))
    return 0


def _schedule_list(args) -> int:
    from ..jobs.schedule import load_schedules, next_runs

    for schedule in load_schedules(args.dir):
        entry = {"name": schedule.name, "file": str(schedule.path), "scripts": schedule.scripts, "out": str(schedule.out),
                 "cron": schedule.cron, "every_seconds": schedule.every_seconds, "watch": schedule.watch,
                 "timezone": schedule.timezone, "next": next_runs(schedule)}
        print(json.dumps(entry) if args.json else
              f"{schedule.name:20} next {', '.join(entry['next'])}  {schedule.scripts} -> {schedule.out}")
    return 0


def _schedule_run_now(args) -> int:
    from ..jobs import open_store, write_index
    from ..jobs.schedule import fire, load_schedules

    config = config_from(args)
    schedule = next((s for s in load_schedules(args.dir) if s.name == args.name), None)
    if schedule is None:
        raise InputError(f"no schedule named '{args.name}'", path=args.dir, fix="see `announcer schedule list`")
    fire(str(schedule.path), str(config.home) if config.home else None)
    with stop_on_signals() as stop:
        summary = _work(config, "local", None, stop, until_empty=True, batch=str(schedule.out))
    jobs = open_store(config).jobs(batch=str(schedule.out))
    write_index(schedule.out, jobs)
    print(f"{len(summary.done)} done, {len(summary.failed)} failed; {schedule.out / 'index.json'}")
    return 0 if not summary.failed else 1


def _worker(args) -> int:
    from ..jobs.schedule import ScheduleRunner, load_schedules

    config = config_from(args)
    if args.nice > 0:
        os.nice(args.nice)  # rendering is batch work: an interactive server on the same cores answers first
    schedules = load_schedules(args.schedules)
    runner = ScheduleRunner(schedules, config) if schedules else None
    with stop_on_signals() as stop:
        if runner is not None:
            runner.start()
            log.info("worker: %d schedule(s) from %s", len(schedules), args.schedules)
        try:
            summary = _work(config, args.engine, args.address, stop, until_empty=args.until_empty)
        finally:
            if runner is not None:
                runner.shutdown()
    log.info("worker stopped: %d done, %d failed", len(summary.done), len(summary.failed))
    return 0


def _work(config, engine_name: str, address: str | None, stop, until_empty: bool, batch: str | None = None):
    """The job loop with an engine, rewriting each batch's index as its jobs finish."""
    from ..jobs import (
        close_engine,
        make_engine,
        open_store,
        work,
        worker_name,
        write_index,
    )

    store = open_store(config)
    engine = make_engine(engine_name, config, address, store)

    def refresh_index(job) -> None:
        write_index(Path(job.batch), store.jobs(batch=job.batch))

    try:
        return work(store, engine, worker_name(), batch=batch, until_empty=until_empty, stop=stop, on_recorded=refresh_index)
    finally:
        close_engine(engine)
