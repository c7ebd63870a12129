"""Batch jobs and workers: many clips, resumable, one failure never stopping the rest.

>>> result = run_batch("scripts/", "anchor.jpg", Path("out"), RenderConfig())  # doctest: +SKIP
>>> result.failed  # doctest: +SKIP
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RenderConfig
from ..home import Home
from .batch import batch_jobs, find_scripts
from .index import write_index
from .runner import LocalEngine, RunnerConfig, work
from .store import Job, JobSpec, JobStore, worker_name

ENGINES = ("local", "ray")


@dataclass
class BatchResult:
    jobs: list[Job]
    index: Path
    skipped: list[int] = field(default_factory=list)
    """Jobs already done by an earlier run (their outputs are all there), not rendered again."""
    interrupted: bool = False

    @property
    def failed(self) -> list[Job]:
        """Jobs that ended without a clip (failed, or cancelled)."""
        return [job for job in self.jobs if job.state in ("failed", "cancelled")]

    @property
    def unfinished(self) -> list[Job]:
        """Jobs not rendered yet (still queued, or taken by another worker): an interrupted batch leaves these."""
        return [job for job in self.jobs if job.state in ("queued", "running")]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unfinished and not self.interrupted


def open_store(config: RenderConfig) -> JobStore:
    return JobStore(Home.resolve(config.home).job_store)


def enqueue_batch(store: JobStore, specs: list[JobSpec]) -> tuple[list[Job], list[int]]:
    """Record the batch's jobs. Done jobs with every output in place are kept; the rest are (re)queued."""
    jobs, skipped = [], []
    for spec in specs:
        job = store.enqueue(spec)
        if job.state == "done" and _outputs_present(job):
            skipped.append(job.id)
        elif job.state in ("done", "failed"):
            store.requeue(job.id)  # running the command again is asking again
        jobs.append(job)
    return jobs, skipped


def _outputs_present(job: Job) -> bool:
    return bool(job.outputs) and all(Path(path).is_file() for path in job.outputs.values())


def make_engine(name: str, config: RenderConfig, address: str | None = None, store: JobStore | None = None):
    """`store`, when given, hears of each stage as it finishes (the local engine; Ray reports stages at the end)."""
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(config, address)
    return LocalEngine(_LazyPipeline(config), store)


class _LazyPipeline:
    """Models load on the first clip that needs rendering: a batch with nothing left to do loads none."""

    def __init__(self, config: RenderConfig):
        self.config = config
        self._pipeline = None

    def render(self, request, on_stage=None):
        if self._pipeline is None:
            from ..api import Pipeline

            self._pipeline = Pipeline(self.config)
        return self._pipeline.render(request, on_stage=on_stage)

    @property
    def runtime(self):
        """The loaded models' owner (a prepare job trains with it)."""
        if self._pipeline is None:
            from ..api import Pipeline

            self._pipeline = Pipeline(self.config)
        return self._pipeline.runtime

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()


def run_batch(source: str | Path, avatar: str | None, out_dir: Path, config: RenderConfig, *, engine: str = "local",
              address: str | None = None, stop: threading.Event | None = None,
              runner: RunnerConfig | None = None, presenter: str | None = None) -> BatchResult:
    """Queue a job for every script in `source` and render them. `avatar` and `presenter`: the clip's where its
    script names none (a script's own front matter wins over a batch's defaults)."""
    store = open_store(config)
    specs = batch_jobs(find_scripts(source, Home.resolve(config.home).work_dir / "tables"), avatar, out_dir,
                       {"presenter": presenter} if presenter else None)
    jobs, skipped = enqueue_batch(store, specs)
    batch = specs[0].batch
    keys = {spec.key for spec in specs}
    runner_engine = make_engine(engine, config, address, store)
    try:
        summary = work(store, runner_engine, worker_name(), batch=batch, stop=stop, config=runner)
    finally:
        close_engine(runner_engine)
    finished = [job for job in store.jobs(batch=batch) if job.key in keys]
    index = write_index(Path(batch), finished)
    return BatchResult(finished, index, skipped, summary.interrupted)


def close_engine(engine) -> None:
    engine.close()
    pipeline = getattr(engine, "pipeline", None)
    if pipeline is not None:
        pipeline.close()


__all__ = ["run_batch", "BatchResult", "JobStore", "JobSpec", "Job", "open_store", "enqueue_batch", "make_engine",
           "close_engine", "work", "worker_name", "RunnerConfig", "ENGINES", "find_scripts", "batch_jobs", "write_index"]
