"""Lucca events (reference ``lucca-api.md`` §B13-B14): the tenant's log of changes.

An event is ``{id, type: "event", url, topic, occurredAt, source, apiVersion, data,
[previousAttributes], businessEstablishment}``: ``data`` is the resource just after the
change, rendered as the Lucca API renders it (so it validates against the same schemas);
``previousAttributes`` (on ``*.updated`` only) maps each changed attribute, in the API's
naming, to its value before; ``source`` is the tenant's root URL. Events are kept in the
order they occurred, and ``occurredAt`` strictly increases along the log, so ordering by
it is the order of the changes even for the several events of one change.

Where the reference is silent, this fake settles: event ids are random UUIDs (unique
across restarts, as ``source`` + ``id`` must be); ``previousAttributes`` is absent from
other events; the log is kept for the fake's lifetime (Lucca keeps two months).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lucca_cards.sandbox._lucca_render import Renderer, utc

API_VERSION = "2024-11-01"
#: The resources events are emitted for, and what happened to them.
TOPIC_RESOURCES = ("employee", "employment", "job-position", "employee-extension")
ACTIONS = ("created", "updated", "deleted")
#: The smallest step between two events' ``occurredAt`` (they are written in milliseconds).
_TICK = dt.timedelta(milliseconds=1)

Event = dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One change of the tenant, as an event reports it (before it is numbered and dated).

    ``data`` is the rendered resource after the change; ``previous`` the attributes before
    (``*.updated`` only); ``establishment_id`` the business establishment concerned.
    """

    topic: str
    data: dict[str, Any]
    previous: dict[str, Any] | None = None
    establishment_id: int | None = None


def topic_of(event: Event) -> tuple[str, str]:
    """Return ``(resource, action)`` of an event (``("employee", "created")``)."""
    resource, _, action = str(event["topic"]).partition(".")
    return resource, action


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether an endpoint's ``pattern`` (exact, or ``resource.*``) selects ``topic``.

    >>> topic_matches("employee.*", "employee.updated")
    True
    >>> topic_matches("employee.*", "employment.created")
    False
    """
    if pattern.endswith(".*"):
        return topic.partition(".")[0] == pattern[:-2]
    return pattern == topic


class EventLog:
    """Every event of the tenant, oldest first; thread-safe.

    ``now`` gives the aware wall-clock time events occur at.
    """

    def __init__(self, *, now: Callable[[], dt.datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._by_id: dict[str, Event] = {}
        self._last: dt.datetime | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def __repr__(self) -> str:
        return f"EventLog(events={len(self)})"

    def record(self, changes: Iterable[Change], renderer: Renderer) -> list[Event]:
        """Turn ``changes`` into events, append them to the log and return them, in order."""
        made = []
        with self._lock:
            for change in changes:
                event = self._event(change, renderer)
                self._events.append(event)
                self._by_id[event["id"]] = event
                made.append(event)
        return made

    def _event(self, change: Change, renderer: Renderer) -> Event:
        moment = self._now().astimezone(dt.timezone.utc)
        if self._last is not None and moment < self._last + _TICK:
            moment = self._last + _TICK  # strictly after the previous event, even at once
        self._last = moment
        ident = str(uuid.uuid4())
        event: Event = {
            "id": ident,
            "type": "event",
            "url": f"{renderer.api}/events/{ident}",
            "topic": change.topic,
            "occurredAt": utc(moment),
            "source": renderer.root,
            "apiVersion": API_VERSION,
            "data": change.data,
        }
        if change.topic.endswith(".updated"):
            event["previousAttributes"] = dict(change.previous or {})
        event["businessEstablishment"] = renderer.ref(
            "business-establishment", change.establishment_id
        )
        return event

    def events(self) -> list[Event]:
        """Return every event, oldest first (the objects themselves: do not change them)."""
        with self._lock:
            return list(self._events)

    def get(self, event_id: str) -> Event | None:
        """Return the event of id ``event_id``, or ``None``."""
        with self._lock:
            return self._by_id.get(event_id)

    def topics(self) -> list[str]:
        """Return the topic of every event, oldest first (handy in tests)."""
        return [event["topic"] for event in self.events()]
