"""Deliver Lucca events to webhook endpoints, signed (reference ``lucca-api.md`` §B14).

Each event goes to every endpoint whose topics match, as ``POST {webhookUrl}`` with
``Content-Type: application/json``, the event as the body, and two headers:
``Lucca-Timestamp`` (the send time, UTC, ``2025-01-01T08:34:23Z``) and ``Lucca-Signature``
(base64 of the HMAC-SHA256, keyed with the endpoint's secret, of ``timestamp + "." +
body``). An endpoint that is not active yet is first sent its activation challenge.

:class:`Deliveries` sends from one background thread, in the order events occurred, so
that the change that emitted them answers at once. A 2xx answer is a delivery; anything
else (or no answer within 3 s) is retried, up to five attempts, after 0.2 s, 0.4 s, … (the
injected ``sleep``); then the event is kept as undelivered until :meth:`redeliver`. A 404
or 410 suspends the endpoint at once, as Lucca does. For tests, ``duplicate_rate`` sends
some events twice, ``shuffle`` sends each batch taken from the queue in a random order,
:meth:`pause` lets a batch build up, and :meth:`resend` sends one event again.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from lucca_cards.sandbox._lucca_events import Event
from lucca_cards.sandbox._lucca_webhooks import EndpointRegistry, WebhookEndpoint

TIMESTAMP_HEADER = "Lucca-Timestamp"
SIGNATURE_HEADER = "Lucca-Signature"


def lucca_timestamp(moment: dt.datetime) -> str:
    """Format the send time as ``Lucca-Timestamp`` does (UTC, to the second, ``Z``)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lucca_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return ``Lucca-Signature``: base64 HMAC-SHA256 of ``timestamp + "." + body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_event(event: Event) -> bytes:
    """Return an event's body: compact UTF-8 JSON (accents as they are, not escaped)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclasses.dataclass
class _Job:
    event: Event
    endpoint: WebhookEndpoint


class Deliveries:
    """The delivery queue and its thread (started on the first event, stopped by :meth:`stop`).

    Args:
        endpoints: where to look endpoints up (a deleted endpoint is sent nothing more).
        sleep: waits between attempts (inject one that records, in tests).
        now: aware wall-clock time, for ``Lucca-Timestamp``.
        attempts, backoff, timeout: five attempts, 0.2 s doubling, 3 s per request.
    """

    def __init__(
        self,
        endpoints: EndpointRegistry,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], dt.datetime],
        attempts: int = 5,
        backoff: float = 0.2,
        timeout: float = 3.0,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.endpoints, self._sleep, self._now = endpoints, sleep, now
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.duplicate_rate, self.shuffle = 0.0, False
        self._rng = random.Random(0)  # noqa: S311 - test knobs, not cryptography
        self._cond = threading.Condition()
        self._queue: collections.deque[_Job] = collections.deque()
        self._undelivered: list[_Job] = []
        self._busy, self._paused, self._stopping = 0, False, False
        self._thread: threading.Thread | None = None
        self.counts = collections.Counter[str]()
        self.log: list[dict[str, Any]] = []
        self._session = _session()

    def __repr__(self) -> str:
        return f"Deliveries({self.as_json()['counts']})"

    # -- what the fake calls -------------------------------------------------------------

    def send(self, events: Iterable[Event]) -> int:
        """Queue ``events`` for every endpoint they are for; return how many deliveries."""
        jobs = [_Job(event, endpoint) for event in events
                for endpoint in self.endpoints.matching(event)]
        self._put(jobs)
        return len(jobs)

    def resend(self, event: Event, endpoint: WebhookEndpoint | None = None) -> int:
        """Queue ``event`` again (same id, signed afresh) for ``endpoint`` or all it is for."""
        targets = [endpoint] if endpoint is not None else self.endpoints.matching(event)
        self._put([_Job(event, target) for target in targets])
        return len(targets)

    def redeliver(self) -> int:
        """Queue the undelivered events again, oldest first; return how many.

        A suspended endpoint becomes inactive: the challenge is tried before sending.
        """
        with self._cond:
            jobs, self._undelivered = self._undelivered, []
        for job in jobs:
            if job.endpoint.status == "suspended":
                self.endpoints.set_status(job.endpoint, "inactive", self._now())
        jobs.sort(key=lambda job: str(job.event["occurredAt"]))
        self._put(jobs)
        return len(jobs)

    def configure(self, *, duplicate_rate: float | None = None, shuffle: bool | None = None,
                  seed: int | None = None) -> None:
        """Set the test knobs: the share of events sent twice, shuffled batches, the seed."""
        if duplicate_rate is not None and not 0.0 <= duplicate_rate <= 1.0:
            raise ValueError("duplicate_rate must be from 0 to 1")
        with self._cond:
            if duplicate_rate is not None:
                self.duplicate_rate = duplicate_rate
            if shuffle is not None:
                self.shuffle = shuffle
            if seed is not None:
                self._rng.seed(seed)

    def pause(self) -> None:
        """Hold deliveries (events queue up) until :meth:`resume`."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Deliver again, starting with what queued up meanwhile (one batch)."""
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent; ``False`` when ``timeout`` passed."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def undelivered(self) -> list[Event]:
        """Return the events kept after their last attempt failed, oldest first."""
        with self._cond:
            return [job.event for job in self._undelivered]

    def as_json(self) -> dict[str, Any]:
        """Return ``{"counts": {delivered, failed, undelivered, pending, …}, "options": …}``."""
        with self._cond:
            counts = {key: self.counts[key] for key in
                      ("delivered", "failed", "duplicates", "challenges", "suspended")}
            counts["undelivered"] = len(self._undelivered)
            counts["pending"] = len(self._queue) + self._busy
            options = {"duplicate_rate": self.duplicate_rate, "shuffle": self.shuffle,
                       "paused": self._paused, "attempts": self.attempts,
                       "backoff": self.backoff}
        return {"counts": counts, "options": options}

    def start(self) -> None:
        """Start the delivery thread (done by the first event too)."""
        with self._cond:
            self._stopping = False
            if self._thread is None or not self._thread.is_alive():
                self._session = _session()
                self._thread = threading.Thread(target=self._run, name="lucca-deliveries",
                                                daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after the attempt in progress; what is queued stays queued."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._session.close()

    # -- the thread ----------------------------------------------------------------------

    def _put(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        with self._cond:
            self._queue.extend(jobs)
            self._cond.notify_all()
        self.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or (self._queue and not self._paused))
                if self._stopping:
                    return
                batch = list(self._queue)
                self._queue.clear()
                if self.shuffle:
                    self._rng.shuffle(batch)
                self._busy = len(batch)
            for index, job in enumerate(batch):
                if self._stopping:
                    with self._cond:  # left for a restarted thread, in their order
                        self._queue.extendleft(reversed(batch[index:]))
                        self._busy = 0
                        self._cond.notify_all()
                    return
                self._deliver(job)
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, job: _Job) -> None:
        """Try ``job`` up to ``attempts`` times; keep it as undelivered if all fail."""
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            if self._stopping:
                break  # closing: kept for a redelivery, not lost
            if not self.endpoints.exists(job.endpoint):
                return  # deleted meanwhile: nothing more is sent there
            outcome = self._attempt(job)
            if outcome == "delivered":
                if self.duplicate_rate and self._rng.random() < self.duplicate_rate:
                    self._count("duplicates")
                    self._attempt(job)
                return
            if outcome == "suspended":
                break
        with self._cond:
            self._undelivered.append(job)

    def _attempt(self, job: _Job) -> str:
        """Make one attempt (the challenge if needed, then the POST); return its outcome."""
        endpoint = job.endpoint
        if endpoint.status == "suspended":
            return "suspended"
        if endpoint.status != "active" and not self.challenge(endpoint):
            return self._record(job, None, "failed")
        body = encode_event(job.event)
        stamp = lucca_timestamp(self._now())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: lucca_signature(endpoint.secret, stamp, body)}
        try:
            response = self._session.post(endpoint.webhook_url, data=body, headers=headers,
                                          timeout=self.timeout)
        except requests.RequestException:
            return self._record(job, None, "failed")
        response.close()
        status = response.status_code
        if 200 <= status < 300:
            return self._record(job, status, "delivered")
        if status in (404, 410):
            self.endpoints.set_status(endpoint, "suspended", self._now())
            self._count("suspended")
            return self._record(job, status, "suspended")
        return self._record(job, status, "failed")

    def challenge(self, endpoint: WebhookEndpoint) -> bool:
        """Send the activation challenge; the endpoint is ``active`` once it echoes it."""
        value = secrets.token_urlsafe(16)
        self._count("challenges")
        # Its own session: the fake's request threads challenge too, and sessions are
        # not thread-safe.
        with _session() as session:
            try:
                response = session.get(endpoint.webhook_url, timeout=self.timeout,
                                       params={endpoint.challenge_parameter: value})
            except requests.RequestException:
                return False
            response.close()
        if response.status_code != 200 or response.text.strip() != value:
            return False
        self.endpoints.set_status(endpoint, "active", self._now())
        return True

    def _count(self, key: str) -> None:
        with self._cond:
            self.counts[key] += 1

    def _record(self, job: _Job, status: int | None, outcome: str) -> str:
        with self._cond:
            self.counts["delivered" if outcome == "delivered" else "failed"] += 1
            self.log.append({"event": job.event["id"], "topic": job.event["topic"],
                             "endpoint": str(job.endpoint.id), "status": status,
                             "outcome": outcome})
        return outcome


def _session() -> requests.Session:
    session = requests.Session()
    # The sandbox posts where it is told to, loopback included: no proxy from the env.
    session.trust_env = False
    return session
