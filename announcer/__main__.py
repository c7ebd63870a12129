"""`python -m announcer` and the `announcer` command. The CLI is imported inside `run`, so Ctrl-C during the
imports (a second or more: torch) ends like Ctrl-C anywhere else: one line and exit 130."""
import os
import signal
import sys


INTERRUPTED = 130


def run() -> int:
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.stderr.write("announcer: error: interrupted; nothing was written\n")
        _leave_now()
    code = main()
    if code == INTERRUPTED:
        _leave_now()
    return code


def _leave_now() -> None:
    """After Ctrl-C, exit at once: the render has cleaned up, and letting the libraries' own exit handlers run (torch's,
    MediaPipe's) can end the process by SIGINT instead of with exit code 130."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(INTERRUPTED)


if __name__ == "__main__":
    sys.exit(run())
