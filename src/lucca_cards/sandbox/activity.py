"""Learner activity on the fake Cards: progress, webhook events, signatures, delivery.

:func:`simulate` makes learners progress through trainings, updates their
:class:`~lucca_cards.sandbox._model.Progress` records (the ground truth) and returns the
``chapter-complete`` / ``quiz-complete`` events of reference ``cards-api.md`` §10.
:class:`WebhookSender` encodes them as PHP's ``json_encode`` would, signs the exact bytes
(§10.3: lowercase hex HMAC-SHA256) and POSTs them, retrying and queueing failures.

Points, settled here because the reference is silent: a chapter without a quiz earns its
``points`` on ``chapter-complete``; a chapter with a quiz earns nothing on
``chapter-complete`` and between half and all of its ``points`` on the ``quiz-complete``
that follows. ``score.max_points`` grows by a chapter's ``points`` once it is done, so
``score`` compares what was earned with what could have been earned so far.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests

from lucca_cards.sandbox._model import CardsData, CardsUser, Chapter, Progress, Training

#: Training statuses that learners can follow.
PUBLISHED = frozenset({"publish", "published"})
#: The ``YYYY-MM-DD HH:MM:SS`` dates of the events (naive, §10.2).
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

Event = dict[str, Any]


@dataclass(frozen=True)
class ActivityReport:
    """How many webhook deliveries succeeded and how many were queued as failed."""

    delivered: int
    failed: int

    def as_json(self) -> dict[str, int]:
        """Return ``{"delivered": n, "failed": m}``."""
        return {"delivered": self.delivered, "failed": self.failed}


def php_json(value: Any) -> bytes:
    r"""Encode ``value`` as PHP's ``json_encode`` does by default: compact, ``\/``, ``\u00e9``.

    >>> php_json({"url": "https://x/é"})
    b'{"url":"https:\\/\\/x\\/\\u00e9"}'
    """
    # A "/" can only occur inside a JSON string, so escaping every one is exact.
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def stamp(moment: dt.datetime) -> str:
    """Format ``moment`` as the events write dates (``YYYY-MM-DD HH:MM:SS``)."""
    return moment.strftime(DATE_FORMAT)


def simulate(
    data: CardsData,
    *,
    learners: int,
    seed: int,
    now: dt.datetime,
    new_id: Callable[[], str],
) -> list[Event]:
    """Make up to ``learners`` users progress; return the events, oldest action first.

    Learners are users with an email, drawn with ``random.Random(seed)``. Each follows
    one to three unfinished published trainings (shared with one of their groups or
    public; any published one when none is), one to three chapters each, from where
    their progress stands. Actions happen within the hour before ``now``, but never
    before the learner's last recorded activity: one learner's events stay in time order
    across calls (with a frozen ``now``, repeated calls may then pass it).
    """
    rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
    published = [t for t in data.trainings.values() if t.status in PUBLISHED and t.chapters]
    candidates = [user for user in data.users.values() if user.email]
    actions: list[tuple[dt.datetime, Event]] = []
    for user in rng.sample(candidates, min(max(learners, 0), len(candidates))):
        moment = now - dt.timedelta(hours=1) + dt.timedelta(seconds=rng.randint(0, 1200))
        moment = _later(moment, _last_activity(data, user, published))
        for training in _pick_trainings(rng, data, user, published):
            key = (user.id, training.id)
            progress = data.progress.setdefault(key, Progress(user.id, training.id))
            for chapter in _next_chapters(training, progress)[: rng.randint(1, 3)]:
                moment += dt.timedelta(seconds=rng.randint(30, 240))
                actions.extend(_complete(rng, user, training, chapter, progress, moment))
    actions.sort(key=lambda action: action[0])
    sent = stamp(now)
    return [_envelope(new_id(), sent, event) for _, event in actions]


def _last_activity(data: CardsData, user: CardsUser, trainings: list[Training]) -> dt.datetime:
    """Return the learner's latest activity, plus a pause (``datetime.min`` when none)."""
    latest = dt.datetime.min
    for training in trainings:
        progress = data.progress.get((user.id, training.id))
        if progress is not None and progress.last_activity is not None:
            latest = _later(latest, progress.last_activity + dt.timedelta(seconds=30))
    return latest


def _later(first: dt.datetime, second: dt.datetime) -> dt.datetime:
    """Return the later of two dates; ``first`` when they cannot be compared (naive/aware)."""
    if (first.tzinfo is None) != (second.tzinfo is None):
        return first
    return max(first, second)


def _pick_trainings(
    rng: random.Random, data: CardsData, user: CardsUser, published: list[Training]
) -> list[Training]:
    groups = set(user.group_ids)
    shared = [t for t in published if t.is_public or not groups.isdisjoint(t.group_ids)]
    unfinished = [
        training
        for training in shared or published
        if _next_chapters(training, data.progress.get((user.id, training.id)))
    ]
    return rng.sample(unfinished, min(rng.randint(1, 3), len(unfinished)))


def _next_chapters(training: Training, progress: Progress | None) -> list[Chapter]:
    done = set(progress.chapters_done) if progress else set()
    chapters = sorted(training.chapters, key=lambda chapter: chapter.position)
    return [chapter for chapter in chapters if chapter.position not in done]


def _complete(
    rng: random.Random,
    user: CardsUser,
    training: Training,
    chapter: Chapter,
    progress: Progress,
    moment: dt.datetime,
) -> list[tuple[dt.datetime, Event]]:
    """Complete ``chapter`` at ``moment``: update ``progress``, return the events."""

    def event(kind: str, at: dt.datetime, points: int) -> tuple[dt.datetime, Event]:
        return at, _data(kind, at, points, user, training, chapter, progress)

    chapters = len(training.chapters)
    progress.chapters_done.append(chapter.position)
    _touch(progress, moment, chapters)
    if not chapter.has_quiz:
        progress.points += chapter.points
        progress.max_points += chapter.points
        return [event("chapter-complete", moment, chapter.points)]
    events = [event("chapter-complete", moment, 0)]
    moment += dt.timedelta(seconds=15)
    earned = rng.randint(chapter.points // 2, chapter.points)
    progress.points += earned
    progress.max_points += chapter.points
    _touch(progress, moment, chapters)
    events.append(event("quiz-complete", moment, earned))
    return events


def _touch(progress: Progress, moment: dt.datetime, chapters: int) -> None:
    """Record activity at ``moment``; completion once all ``chapters`` are done."""
    last = progress.last_activity
    progress.last_activity = moment if last is None else _later(moment, last)
    if progress.completed_at is None and len(set(progress.chapters_done)) >= chapters:
        progress.completed_at = moment


def _data(
    kind: str,
    moment: dt.datetime,
    points: int,
    user: CardsUser,
    training: Training,
    chapter: Chapter,
    progress: Progress,
) -> Event:
    count = len(training.chapters)
    fraction = len(set(progress.chapters_done)) / count
    return {
        "type": kind,
        "data": {
            "created_at": stamp(moment),
            "points": points,
            "user": {
                "id": user.id,
                "firstname": user.firstname,
                "lastname": user.lastname,
                "email": user.email,
                "company": user.company,
                "lang": user.lang,
            },
            "training": {
                "id": training.id,
                "title": training.title,
                "description": training.description,
                "image": training.image,
                "chapters_count": count,
                "chapter": {"id": chapter.id, "title": chapter.title, "position": chapter.position},
            },
            "score": {
                "points": progress.points,
                "max_points": progress.max_points,
                # PHP writes a whole float without its fraction: 1.0 becomes 1.
                "progress": int(fraction) if fraction.is_integer() else fraction,
            },
        },
    }


def _envelope(event_id: str, sent: str, event: Event) -> Event:
    return {"id": event_id, "type": event["type"], "created_at": sent, "data": event["data"]}


class WebhookSender:
    """Sign and POST webhook bodies; keep those that could not be delivered.

    A body is tried ``attempts`` times (a connection error or a non-2xx answer is a
    failure), sleeping ``backoff``, then twice as long, between tries. Deliveries are
    serialised, so the queue and its order stay consistent across threads.
    """

    def __init__(
        self,
        *,
        secret: str,
        header: str = "Signature",
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 3.0,
        backoff: float = 0.5,
    ) -> None:
        if attempts < 1:
            raise ValueError("delivery_attempts must be at least 1")
        self._secret = secret
        self.header, self.attempts, self.timeout, self.backoff = header, attempts, timeout, backoff
        self._sleep = sleep
        self.undelivered: list[bytes] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        # The sandbox posts where it is told to, loopback included: no proxy from the env.
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"WebhookSender(header={self.header!r}, undelivered={len(self.undelivered)})"

    def send(self, url: str | None, events: Iterable[Event]) -> ActivityReport:
        """Encode, sign and POST ``events`` to ``url`` (``None``: queue them all)."""
        bodies = [php_json(event) for event in events]
        with self._lock:
            return self._deliver(url, bodies)

    def redeliver(self, url: str | None) -> ActivityReport:
        """Try the queued bodies again, unchanged; those failing again stay queued."""
        with self._lock:
            queue, self.undelivered = self.undelivered, []
            return self._deliver(url, queue)

    def _deliver(self, url: str | None, bodies: list[bytes]) -> ActivityReport:
        delivered = 0
        for body in bodies:
            if url is not None and self._post(url, body):
                delivered += 1
            else:
                self.undelivered.append(body)
        return ActivityReport(delivered, len(bodies) - delivered)

    def _post(self, url: str, body: bytes) -> bool:
        headers = {"Content-Type": "application/json", self.header: sign(body, self._secret)}
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session.post(url, data=body, headers=headers, timeout=self.timeout)
            except requests.RequestException:
                continue
            response.close()
            if 200 <= response.status_code < 300:
                return True
        return False

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()
