"""How one Cards event becomes a stored row, and how it folds into a learner's state.

The rules (each tested in ``tests/test_state_ledger.py``):

* the learner's action time is ``data.created_at``; without it, the envelope's
  ``created_at`` (when Cards sent the event); without that, the ledger's clock (UTC);
* a state moves to an event's values when the event is later than the state; at the same
  time, when its progress is higher, or its points at the same progress (whatever the
  order of arrival; a full tie keeps the state); an older event leaves it as it is;
* ``last_completed_at`` is the latest action time of every event recorded whose progress
  reached 1, whatever order the events came in: an older completion still counts;
* an event without a title, a number of chapters or points keeps the ones the state has.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import attrs

from ..cards.webhooks import TrainingActivityEvent, WebhookEvent
from ._keys import email_key
from .records import LearnerTraining


@attrs.frozen(kw_only=True)
class Activity:
    """What a complete activity event says about one learner in one training."""

    email: str
    training_id: str
    title: str | None
    chapters_count: int | None
    progress: float
    points: int | None
    max_points: int | None
    action_at: datetime
    cards_user_id: str | None


@attrs.frozen
class Fold:
    """The outcome of folding an activity: the new state (``None``: unchanged)."""

    state: LearnerTraining | None
    stale: bool  # older than the state (or as old, less far): only a completion counts


def naive_utc(moment: datetime) -> datetime:
    """Return ``moment`` as a naive UTC time (a naive one is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def event_row(event: WebhookEvent, received_at: datetime) -> tuple[dict[str, Any],
                                                                   Activity | None]:
    """Return the ``cards_events`` row of ``event`` and, if it is complete, its activity.

    ``received_at`` is the ledger clock's naive UTC time (also the last fallback for the
    action time). An event of a type not modelled is kept with its raw ``data``.
    """
    row: dict[str, Any] = {"event_id": event.id, "type": event.type,
                           "received_at": received_at, "email": None, "training_id": None}
    if not isinstance(event, TrainingActivityEvent):
        created = event.created_at
        row["action_at"] = None if created is None else naive_utc(created)
        row["payload"] = json.dumps(event.data, ensure_ascii=False, default=str)
        return row, None
    data = event.data
    user, training, score = data.user, data.training, data.score
    # Cards' dates are naive (wall-clock); an aware one (built in code) is taken to UTC.
    action_at = naive_utc(data.created_at or event.created_at or received_at)
    fields: dict[str, Any] = {
        "cards_user_id": user.id if user else None,
        "title": training.title if training else None,
        "chapters_count": training.chapters_count if training else None,
        "progress": None if score is None or score.progress is None else float(score.progress),
        "points": score.points if score else None,
        "max_points": score.max_points if score else None,
        "earned": data.points,
    }
    email = email_key(user.email if user else None)
    training_id = training.id if training else None
    row.update(email=email, training_id=training_id, action_at=action_at,
               payload=json.dumps(fields, ensure_ascii=False))
    if email is None or training_id is None or fields["progress"] is None:
        return row, None
    fields.pop("earned")
    return row, Activity(email=email, training_id=training_id, action_at=action_at, **fields)


def fold(current: LearnerTraining | None, activity: Activity, now: datetime) -> Fold:
    """Fold ``activity`` into the ``current`` state; ``now`` stamps a changed state."""
    completed = activity.action_at if activity.progress >= 1 else None
    if current is None:
        return Fold(_moved(activity, None, completed, now), stale=False)
    last_completed = _latest(current.last_completed_at, completed)
    # Later; or as late and further, or as far with more points. Cards' times are to the
    # second, so a chapter and its quiz may share one: the order they arrive in must not
    # decide. A full tie keeps the state.
    newer = _rank(activity.action_at, activity.progress, activity.points) > _rank(
        current.last_action_at, current.progress, current.points)
    if newer:
        candidate = _moved(activity, current, last_completed, current.updated_at)
    else:
        candidate = attrs.evolve(current, last_completed_at=last_completed)
    if candidate == current:
        return Fold(None, stale=not newer)
    return Fold(attrs.evolve(candidate, updated_at=now), stale=not newer)


def _moved(activity: Activity, previous: LearnerTraining | None,
           last_completed: datetime | None, updated_at: datetime) -> LearnerTraining:
    def kept(value: Any, name: str) -> Any:
        return getattr(previous, name) if value is None and previous is not None else value

    return LearnerTraining(
        email=activity.email, training_id=activity.training_id,
        title=kept(activity.title, "title"),
        chapters_count=kept(activity.chapters_count, "chapters_count"),
        progress=activity.progress, points=kept(activity.points, "points"),
        max_points=kept(activity.max_points, "max_points"),
        last_action_at=activity.action_at, last_completed_at=last_completed,
        updated_at=updated_at, cards_user_id=kept(activity.cards_user_id, "cards_user_id"),
    )


def _rank(action_at: datetime, progress: float, points: int | None
          ) -> tuple[datetime, float, int]:
    return action_at, progress, -1 if points is None else points


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)
