"""Webhooks: a CMS hears when a studio clip is delivered or has failed.

Each POST carries JSON and `Announcer-Signature: t=UNIX,v1=HEX`, where HEX is HMAC-SHA256 of `UNIX.BODY` under the
webhook's secret (shown once when the webhook is added). A receiver recomputes it, compares in constant time and
refuses a timestamp older than a few minutes (a replayed request). A delivery that fails (no answer, or not 2xx) is
tried again after 2, 4, 8 ... seconds, up to eight times; every attempt is recorded in the job store, so several
servers share the work and a restart loses nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request

from .store import StudioStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Announcer-Signature"
BACKOFF_S = 2.0
TIMEOUT_S = 5.0
POLL_S = 1.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance_s: float = 300) -> bool:
    """What a receiver does: the signature matches and is recent."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    """A thread that queues a delivery per webhook for each finished clip and sends those due."""

    def __init__(self, store: StudioStore, payload_for, poll_s: float = POLL_S, backoff_s: float = BACKOFF_S):
        """`payload_for(job_id, event)`: the JSON-able body for a clip's event."""
        self.store, self.payload_for = store, payload_for
        self.poll_s, self.backoff_s = poll_s, backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_S + 1)

    def send_due(self) -> int:
        """One round: queue what has finished, send what is due; how many were delivered."""
        self.store.queue_deliveries()
        delivered = 0
        for due in self.store.due_deliveries():
            error = self._send(due)
            self.store.record_delivery(due["webhook_id"], due["job_id"], due["event"], error, self.backoff_s)
            delivered += error is None
        return delivered

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except Exception:  # a broken round must not end the thread: the next one tries again
                log.exception("webhook round failed")
            self._stop.wait(self.poll_s)

    def _send(self, due: dict) -> str | None:
        body = json.dumps(self.payload_for(due["job_id"], due["event"]), separators=(",", ":")).encode()
        request = urllib.request.Request(due["url"], data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "announcer-webhooks",
            "Announcer-Event": due["event"], "Announcer-Delivery": f'{due["webhook_id"]}-{due["job_id"]}-{due["event"]}',
            SIGNATURE_HEADER: signature(due["secret"], int(time.time()), body)})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 (an admin's URL)
                if 200 <= answer.status < 300:
                    return None
                return f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}"
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            return str(getattr(error, "reason", error))[:200]


__all__ = ["SIGNATURE_HEADER", "WebhookSender", "signature", "verify"]
