"""What every command shares: the run's config from the common flags, and stopping on a signal."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from ..config import FaceConfig, RenderConfig

log = logging.getLogger("announcer")


def config_from(args) -> RenderConfig:
    return RenderConfig(face=FaceConfig(models_dir=args.models_dir), device=args.device, home=args.home,
                        progress=not (args.quiet or args.json))


@contextmanager
def stop_on_signals():
    """SIGTERM and SIGINT ask the runner to stop taking jobs; the clip in hand is finished and delivered first."""
    import signal
    import threading

    stop = threading.Event()

    def request_stop(signum, frame):
        log.warning("stopping after the clip in hand (signal %s)", signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
