"""Guessing tokens is slow: a client whose sign-ins or bearer tokens keep failing is told to wait (HTTP 429)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from fastapi import HTTPException

FAILURES = 10
WINDOW_S = 60.0
MAX_CLIENTS = 10_000
"""Clients remembered at once; the longest quiet are forgotten first, so the memory it takes is bounded."""


class FailureLimiter:
    def __init__(self, failures: int = FAILURES, window_s: float = WINDOW_S, max_clients: int = MAX_CLIENTS):
        self.failures, self.window_s, self.max_clients = failures, window_s, max_clients
        self._seen: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """429, with Retry-After, while `client` has failed `failures` times within the window."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) >= self.failures:
                wait = max(1, int(recent[0] + self.window_s - time.monotonic()) + 1)
                raise HTTPException(429, f"too many failed sign-ins from this address; try again in {wait} s",
                                    headers={"Retry-After": str(wait)})

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(time.monotonic())
            self._seen.move_to_end(client)
            while len(self._seen) > self.max_clients:
                self._seen.popitem(last=False)

    def _recent(self, client: str) -> deque:
        recent = self._seen.setdefault(client, deque(maxlen=self.failures))
        while recent and recent[0] < time.monotonic() - self.window_s:
            recent.popleft()
        return recent


def client_of(request) -> str:
    return request.client.host if request.client else "unknown"


__all__ = ["FailureLimiter", "client_of"]
