"""The studio served by uvicorn, with a limit on how long a request may take to arrive.

uvicorn times out a connection left idle between requests, but not one that sends half a request's headers and
then nothing: a few hundred of those would hold every connection the server has. Here a request's headers must be
whole within HEADER_SECONDS of its first byte (or of the connection opening), and each part of its body must
arrive within BODY_SECONDS of the last (the BodyLimit middleware answers 408 then).
"""
from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive in time."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """A timer runs while the connection waits for a request's headers, and stops once they are in."""
        receiving = self.cycle is None or self.cycle.response_complete
        if not receiving:
            self._stop_watching()
        elif self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_seconds, self._too_slow)

    def _stop_watching(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def timed_protocol(header_seconds: float) -> type[TimedH11Protocol]:
    return type("TimedH11", (TimedH11Protocol,), {"header_seconds": header_seconds})


def serve(app, host: str, port: int, log_level: str = "info", header_seconds: float = HEADER_SECONDS) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True, timeout_keep_alive=5,
                http=timed_protocol(header_seconds))


__all__ = ["BODY_SECONDS", "HEADER_SECONDS", "TimedH11Protocol", "serve", "timed_protocol"]
