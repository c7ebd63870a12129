"""The worker loop: take jobs from the store, run them on an engine, record what happened.

Engines run a job somewhere (this process, or a Ray cluster) and hand back a future. The loop
keeps each job's lease alive while it runs, records success or failure, retries transient
failures with backoff, and stops taking new jobs when asked to (SIGTERM), finishing the ones in
hand first.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled
from .store import Job, JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerConfig:
    lease_seconds: float = 60.0
    """A job whose worker stops renewing its lease for this long is taken by another worker."""
    poll_seconds: float = 0.5
    backoff_seconds: float = 2.0
    """First retry delay after a transient failure; doubles with each attempt."""


@dataclass
class WorkSummary:
    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    interrupted: bool = False


@dataclass
class JobOutcome:
    """What became of one attempt at a job: its files, or why it failed and whether another try may help."""
    outputs: dict[str, str] | None = None
    """Each delivered file by its role (video, manifest, thumbnail, srt, vtt; per layout where there are several)."""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    """One line: why the attempt failed (None when it delivered)."""
    transient: bool = False
    """Another try may pass (a tool's failure, I/O, memory, a lost worker); bad input and bugs are final."""
    detail: str | None = None
    """A bug's traceback, kept with the job."""
    recovered: bool = False
    """The clip was already delivered by an attempt that died before recording it: recorded now, not rendered."""

    @property
    def failed(self) -> bool:
        return self.error is not None


def job_request(job: Job):
    """The job's clip: its own settings (options `settings`: the studio's form), and a batch's avatar and presenter
    as defaults, which a script's own front matter wins over."""
    from ..api import RenderRequest

    from ..settings import Source
    from .table import table_row_of

    defaults = {"avatar": job.avatar, "presenter": job.options.get("presenter")}
    row = table_row_of(Path(job.script)) if job.script else None
    settings_source = Source("column {key}", path=row[0], lines={key: row[1] for key in job.options.get("settings", {})}) \
        if row else None
    return RenderRequest(avatar=None, output=job.output, script=job.script, settings=dict(job.options.get("settings", {})),
                         defaults={key: value for key, value in defaults.items() if value is not None},
                         closeups=bool(job.options.get("closeups")), job=job.key, settings_source=settings_source)


PREPARE_AVATAR = "prepare-avatar"
"""A job kind besides rendering: train a presenter's own generator from a video (options: video, name, quick)."""


def render_job(pipeline, job: Job, on_stage=None) -> JobOutcome:
    """Render one job; failures come back as data (one-line reason, and whether trying again may help)."""
    if job.options.get("kind") == PREPARE_AVATAR:
        return prepare_job(pipeline, job)
    delivered = delivered_before(job)
    if delivered is not None:  # a worker died between delivering this clip and recording it: record, never render again
        log.info("job %s: its clip was delivered by an earlier attempt that stopped before recording it", job.id)
        return JobOutcome(outputs=_outputs_entry(*delivered), recovered=True)
    try:
        result = pipeline.render(job_request(job), on_stage=on_stage)
    except Exception as error:  # a crash in one clip fails that job, never the batch
        log.debug("job %s failed", job.id, exc_info=True)
        return failure(_at_its_source(error, job))
    return JobOutcome(outputs=_outputs_entry(result.outputs, result.other_layouts),
                      stage_seconds={k: round(v, 3) for k, v in result.timings.items()})


def _outputs_entry(first, others) -> dict:
    outputs = {"video": str(first.video), "manifest": str(first.manifest), "thumbnail": str(first.thumbnail),
               "srt": str(first.subtitles_srt), "vtt": str(first.subtitles_vtt)}
    for other in others:  # a script asking for several layouts: each layout's clip and manifest
        outputs[f"video {other.video.stem.rsplit('.', 1)[-1]}"] = str(other.video)
        outputs[f"manifest {other.video.stem.rsplit('.', 1)[-1]}"] = str(other.manifest)
    return outputs


def _at_its_source(error: Exception, job: Job) -> Exception:
    """An error in a script made from a spreadsheet's row names that row of the spreadsheet, not the made script."""
    from ..errors import AnnouncerError
    from .table import at_its_row

    if not isinstance(error, AnnouncerError) or error.path is None or job.script is None:
        return error
    return at_its_row(error, Path(job.script)) if error.path.resolve() == Path(job.script).resolve() else error


def delivered_before(job: Job):
    """(first OutputSet, the other layouts' OutputSets) when every file of this job's clip is in place and each
    manifest names this job (a manifest is renamed into place last, so its presence means its set is whole);
    else None."""
    from ..config import ASPECTS
    from ..deliver import OutputSet

    video = Path(job.output)
    candidates = [video, *(OutputSet.layout_video(video, aspect) for aspect in ASPECTS)]
    for candidate in candidates:
        manifest = _manifest_of(OutputSet(candidate), job.key)
        if manifest is None:
            continue
        others = [OutputSet(video.with_name(name)) for name in manifest.get("other_layouts", [])]
        sets = sorted([OutputSet(candidate), *others], key=lambda outputs: outputs.video.name)
        if all(_manifest_of(outputs, job.key) is not None for outputs in sets):
            return sets[0], sets[1:]
        return None
    return None


def _manifest_of(outputs, key: str) -> dict | None:
    """The manifest of a whole delivered set made for the job with this key, or None."""
    try:
        manifest = json.loads(outputs.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not key or manifest.get("job") != key:
        return None
    return manifest if all(path.is_file() for path in outputs.all()) else None


def prepare_job(pipeline, job: Job) -> JobOutcome:
    """`announcer avatar prepare` as a job: the bundle's record is its output."""
    from ..avatar import PrepareConfig, evaluate_bundle, prepare_avatar

    options = job.options
    try:
        runtime = pipeline.runtime
        config = PrepareConfig.quick() if options.get("quick") else PrepareConfig()
        started = time.perf_counter()
        bundle = prepare_avatar(options["video"], options["name"], runtime, config)
        evaluate_bundle(bundle, runtime)
    except Exception as error:
        log.debug("job %s failed", job.id, exc_info=True)
        return failure(error)
    return JobOutcome(outputs={"bundle": str(bundle.meta_path)},
                      stage_seconds={"prepare": round(time.perf_counter() - started, 3)})


def failure(error: Exception) -> JobOutcome:
    """An exception as a job outcome. Bad input is final; a tool's failure, I/O, memory and a lost Ray worker may
    pass on another try; anything else is a bug, final at once, with its traceback kept for whoever fixes it."""
    from ..errors import AnnouncerError, InputError

    if isinstance(error, AnnouncerError):
        return JobOutcome(error=error.one_line(), transient=not isinstance(error, (InputError, Cancelled)))
    if _may_pass_on_retry(error):
        return JobOutcome(error=f"{type(error).__name__}: {error}", transient=True)
    return JobOutcome(error=f"{type(error).__name__}: {error}", detail="".join(traceback.format_exception(error))[-20_000:])


def _may_pass_on_retry(error: BaseException) -> bool:
    """I/O (a disk, the network, a file another process holds), memory, an interrupted call, or Ray losing a worker
    or an object; a Ray task's own exception is judged by what it wraps."""
    if isinstance(error, (OSError, MemoryError)):  # OSError includes InterruptedError, ConnectionError, TimeoutError
        return True
    if type(error).__module__.split(".")[0] == "ray":
        cause = getattr(error, "cause", None)
        return True if cause is None else _may_pass_on_retry(cause)
    return False


class LocalEngine:
    """Jobs run one at a time in this process, on a pipeline whose models stay loaded between clips."""

    name = "local"
    slots = 1

    def __init__(self, pipeline, store: JobStore | None = None):
        self.pipeline = pipeline
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")

    def submit(self, job: Job) -> Future:
        def record(stage: str, seconds: float) -> None:
            if self.store is None:
                return
            self.store.record_stage(job.id, job.attempts, stage, round(seconds, 3))
            if self.store.get(job.id).state == "cancelled":
                raise Cancelled(f"job {job.id} was cancelled; stopped after the {stage} stage, nothing delivered")

        return self._executor.submit(render_job, self.pipeline, job, record)

    def cancel(self, future: Future) -> None:
        """A job not started yet never starts; a running one stops at its next stage (`submit`'s callback)."""
        future.cancel()

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def work(store: JobStore, engine, owner: str, *, batch: str | None = None, until_empty: bool = True,
         stop: threading.Event | None = None, config: RunnerConfig | None = None,
         on_recorded: Callable[[Job], None] | None = None) -> WorkSummary:
    """Run jobs until none are left (`until_empty`) or until `stop` is set; jobs in hand are finished either way.

    `on_recorded` is called with each job after its outcome is stored (the worker rewrites that batch's index).
    """
    stop = stop or threading.Event()
    config = config or RunnerConfig()
    summary = WorkSummary()
    in_flight: dict[Future, Job] = {}
    last_renewal = time.monotonic()
    while True:
        while len(in_flight) < engine.slots and not stop.is_set():
            job = store.claim(owner, config.lease_seconds, batch)
            if job is None:
                break
            log.info("job %s: rendering %s (attempt %s)", job.id, job.script or job.output, job.attempts)
            in_flight[engine.submit(job)] = job
        if not in_flight:
            if stop.is_set() or (until_empty and not _pending(store, batch)):
                break
            stop.wait(config.poll_seconds)
            continue
        finished, _ = wait(list(in_flight), timeout=min(config.poll_seconds * 4, config.lease_seconds / 3),
                           return_when=FIRST_COMPLETED)
        _cancel_cancelled(store, engine, in_flight, finished)
        for future in finished:
            job = in_flight.pop(future)
            _record(store, job, future, owner, config, summary)
            if on_recorded is not None:
                on_recorded(job)
        if time.monotonic() - last_renewal > config.lease_seconds / 3:
            for job in in_flight.values():
                store.renew(job.id, owner, config.lease_seconds)
            last_renewal = time.monotonic()
    summary.interrupted = stop.is_set()
    return summary


def _cancel_cancelled(store: JobStore, engine, in_flight: dict[Future, Job], finished) -> None:
    """Tell the engine to stop jobs cancelled (`announcer jobs cancel`) while they run."""
    for future, job in in_flight.items():
        if future not in finished and store.get(job.id).state == "cancelled":
            engine.cancel(future)


def _pending(store: JobStore, batch: str | None) -> bool:
    return any(job.state in ("queued", "running") for job in store.jobs(batch=batch))


def _record(store: JobStore, job: Job, future: Future, owner: str, config: RunnerConfig, summary: WorkSummary) -> None:
    try:
        outcome = future.result()
    except Exception as error:  # the engine itself failed (a Ray worker died)
        outcome = failure(error)
    if not outcome.failed:
        if store.finish(job.id, owner, outcome.outputs, outcome.stage_seconds, outcome.recovered):
            summary.done.append(job.id)
            log.info("job %s: done, %s", job.id, next(iter(outcome.outputs.values()), ""))
        return
    state = store.fail(job.id, owner, outcome.error, outcome.transient, config.backoff_seconds, outcome.detail)
    if state == "lost":  # cancelled while it ran, or its lease ran out and another worker has it
        log.info("job %s: no longer this worker's (%s)", job.id, outcome.error)
        return
    (summary.retried if state == "queued" else summary.failed).append(job.id)
    log.warning("job %s: %s%s", job.id, outcome.error, " (will retry)" if state == "queued" else "")


__all__ = ["JobOutcome", "work", "LocalEngine", "RunnerConfig", "WorkSummary", "render_job"]
