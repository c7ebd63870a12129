"""Webhooks: a CMS hears when a studio clip is delivered or has failed.

Each POST carries JSON and `Announcer-Signature: t=UNIX,v1=HEX`, where HEX is HMAC-SHA256 of `UNIX.BODY` under the
webhook's secret (shown once when the webhook is added). A receiver recomputes it, compares in constant time and
refuses a timestamp older than a few minutes (a replayed request). A delivery that fails (no answer, or not 2xx) is
tried again after 2, 4, 8 ... seconds, up to eight times; every attempt is recorded in the job store, so several
servers share the work and a restart loses nothing.

A webhook may not point into the studio's own network (loopback, private, link-local or other non-public addresses,
checked when it is added and again before each delivery) unless the studio is started with
--allow-private-webhooks. Deliveries run side by side, at most PER_WEBHOOK at a time to one receiver, so a slow
receiver delays only its own.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ..errors import InputError
from .store import StudioStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Announcer-Signature"
BACKOFF_S = 2.0
TIMEOUT_S = 5.0
POLL_S = 1.0
SENDERS = 8
"""Deliveries in flight at once, over all webhooks."""
PER_WEBHOOK = 2
"""Deliveries in flight at once to one receiver."""


def refuse_private_address(url: str, allowed: bool = False) -> None:
    """InputError when the URL's host is, or resolves to, an address that is not public (unless `allowed`). A name
    that does not resolve now is let through: it is checked again before each delivery."""
    if allowed:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("a webhook URL starts with http:// or https:// and names a host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise InputError(f"webhook host {parts.hostname} is at {address}, an address inside this network",
                             fix="give a public URL, or start the studio with --allow-private-webhooks")


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

    def __init__(self, store: StudioStore, payload_for, poll_s: float = POLL_S, backoff_s: float = BACKOFF_S,
                 allow_private: bool = False):
        """`payload_for(job_id, event)`: the JSON-able body for a clip's event."""
        self.store, self.payload_for = store, payload_for
        self.poll_s, self.backoff_s, self.allow_private = poll_s, backoff_s, allow_private
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._in_flight: set[tuple] = set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_S + 1)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def send_due(self, wait: bool = True) -> int:
        """One round: queue what has finished, start sending what is due and not already on its way; with `wait`,
        how many were delivered once this round's sends are done."""
        self.store.queue_deliveries()
        started = []
        for due in self.store.due_deliveries(limit=100):
            key = (due["webhook_id"], due["job_id"], due["event"])
            with self._lock:
                to_this_hook = sum(flying[0] == due["webhook_id"] for flying in self._in_flight)
                if key in self._in_flight or to_this_hook >= PER_WEBHOOK:
                    continue
                self._in_flight.add(key)
            started.append(self._pool.submit(self._deliver, due, key))
        return sum(future.result() for future in started) if wait else 0

    def _deliver(self, due: dict, key: tuple) -> bool:
        try:
            error = self._send(due)
            self.store.record_delivery(due["webhook_id"], due["job_id"], due["event"], error, self.backoff_s)
            return error is None
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due(wait=False)
            except Exception:  # a broken round must not end the thread: the next one tries again
                log.exception("webhook round failed")
            self._stop.wait(self.poll_s)

    def _send(self, due: dict) -> str | None:
        try:
            refuse_private_address(due["url"], self.allow_private)  # again: a name may resolve elsewhere by now
        except InputError as error:
            return error.what[:200]
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


__all__ = ["SIGNATURE_HEADER", "WebhookSender", "refuse_private_address", "signature", "verify"]
