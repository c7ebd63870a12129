"""The Ray engine: the same jobs, spread over a Ray cluster.

Each clip is two Ray tasks: the CPU stages (script, voice, face tracking) with `num_cpus`, on the
CPU (a GPU share only for Coqui TTS or the FAN landmarker), then generation, cleanup and encoding
with `num_gpus` when the cluster has GPUs. The second task finds
the first one's artifacts in the work dir, which every node must see (a shared filesystem at the
same path: `--home` / ANNOUNCER_HOME); the job store stays with the driver on the head node.
A Ray worker process keeps its Runtime between tasks, so models load once per process.
"""
from __future__ import annotations

import atexit
import json
import logging
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

from ..config import RenderConfig
from ..home import Home
from .store import Job

if TYPE_CHECKING:
    from ..api import Pipeline
    from ..runtime import Runtime
    from .runner import JobOutcome

log = logging.getLogger(__name__)
GPU_SHARE_PER_CLIP = 0.5
"""Two clips share a GPU: the warp and the generator leave room, and CPU-bound encoding overlaps."""


class RayEngine:
    name = "ray"

    def __init__(self, config: RenderConfig, address: str | None = None, num_cpus: int | None = None):
        import ray

        self._ray = ray
        self._owns_runtime = not ray.is_initialized()
        if self._owns_runtime:
            ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        resources = ray.cluster_resources()
        self.slots = max(1, int(resources.get("CPU", 1)))
        has_gpus = resources.get("GPU", 0) > 0
        self.gpu_share = GPU_SHARE_PER_CLIP if has_gpus else 0.0
        # Every node must resolve the same home: pass it as an absolute path, not each node's default.
        self.config = replace(config, home=Home.resolve(config.home).root, progress=False)
        # Ray shows every GPU to a task that asked for none, so the CPU stages are pinned to the CPU, unless
        # they run a torch model that wants a GPU (Coqui's TTS, the FAN landmarker): then they ask for a share.
        stages_want_gpu = has_gpus and (config.voice.engine == "coqui" or config.face.backend == "fan")
        self.prepare_gpu_share = self.gpu_share if stages_want_gpu else 0.0
        self.prepare_config = self.config if stages_want_gpu else replace(self.config, device="cpu")
        self._prepare = ray.remote(num_cpus=1)(_prepare_stages)
        self._render = ray.remote(num_cpus=1)(_render_clip)
        self._tasks: dict[object, tuple] = {}
        """Each in-flight future's two Ray tasks, for `cancel`."""
        log.info("ray engine: %s CPUs, %s GPUs", resources.get("CPU", 0), resources.get("GPU", 0))

    def submit(self, job: Job):
        prepared = self._prepare.options(num_gpus=self.prepare_gpu_share).remote(self.prepare_config, job)
        rendered = self._render.options(num_gpus=self.gpu_share).remote(self.config, job, prepared)
        future = rendered.future()
        self._tasks[future] = (prepared, rendered)
        future.add_done_callback(lambda done: self._tasks.pop(done, None))
        return future

    def cancel(self, future) -> None:
        """Stop a cancelled job's tasks: a running one is interrupted (its staged outputs are discarded)."""
        for task in self._tasks.pop(future, ()):
            self._ray.cancel(task)

    def close(self) -> None:
        if self._owns_runtime:
            self._ray.shutdown()


_RUNTIMES: dict[str, "Runtime"] = {}
"""One Runtime per worker process and config: a worker renders many clips and loads each model once. Closed when
the worker process ends (MediaPipe's graphs must be closed before the interpreter shuts down)."""


def _close_runtimes() -> None:
    while _RUNTIMES:
        _RUNTIMES.popitem()[1].close()


def _pipeline(config: RenderConfig) -> "Pipeline":
    from ..api import Pipeline
    from ..runtime import Runtime

    key = json.dumps(asdict(config), default=str, sort_keys=True)
    if key not in _RUNTIMES:
        if not _RUNTIMES:
            atexit.register(_close_runtimes)
        _RUNTIMES[key] = Runtime(config)
    return Pipeline(runtime=_RUNTIMES[key])


def _prepare_stages(config: RenderConfig, job: Job) -> "JobOutcome":
    """CPU task: the stages before generation, cached on shared storage. Failures travel as data."""
    from .runner import PREPARE_AVATAR, JobOutcome, failure, job_request

    if job.options.get("kind") == PREPARE_AVATAR:
        return JobOutcome()  # training runs whole on the GPU task
    try:
        return JobOutcome(stage_seconds=_pipeline(config).prepare(job_request(job)))
    except Exception as error:
        return failure(error)


def _render_clip(config: RenderConfig, job: Job, prepared: "JobOutcome") -> "JobOutcome":
    """GPU task: generation, cleanup and encoding (earlier stages come from the cache)."""
    from .runner import render_job

    if prepared.failed:
        return prepared
    outcome = render_job(_pipeline(config), job)
    outcome.stage_seconds = {**{f"cpu_task_{k}": v for k, v in prepared.stage_seconds.items()}, **outcome.stage_seconds}
    return outcome


__all__ = ["RayEngine"]
