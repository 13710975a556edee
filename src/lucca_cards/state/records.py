"""``LearnerTraining``: what the training ledger knows of one learner in one training."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class LearnerTraining:
    """One learner's latest state in one training, folded from Cards webhook events.

    Attributes:
        email: the learner's email, trimmed and lower-cased (the matching key).
        training_id: the Cards training's id.
        title: the training's title, as the latest event gave it.
        chapters_count: the training's number of chapters, as the latest event gave it.
        progress: the fraction of the training done, from 0 to 1.
        points, max_points: the learner's points in the training, and the most obtainable.
        last_action_at: when the learner made the action this state comes from (naive,
            as Cards sends its dates: most likely Europe/Paris wall-clock time).
        last_completed_at: the latest action time at which the learner's progress reached
            1, over every event recorded (whatever order they came in); ``None`` if never.
        updated_at: when the ledger last changed this state (aware, UTC, ledger's clock).
        cards_user_id: the learner's Cards user id, when an event gave it.
    """

    email: str
    training_id: str
    title: str | None
    chapters_count: int | None
    # Shown to four significant digits: a sixth done is 0.1667, not 0.16666666666666666.
    progress: float = attrs.field(repr=lambda value: f"{value:.4g}")
    points: int | None
    max_points: int | None
    last_action_at: datetime
    last_completed_at: datetime | None
    updated_at: datetime
    cards_user_id: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Return the state as a plain row: texts, numbers, ``None`` and ISO 8601 dates.

        >>> from datetime import datetime, timezone
        >>> state = LearnerTraining(email="a@b.fr", training_id="7", title=None,
        ...     chapters_count=None, progress=1.0, points=None, max_points=None,
        ...     last_action_at=datetime(2024, 1, 20, 9, 10), last_completed_at=None,
        ...     updated_at=datetime(2024, 1, 20, 8, 10, tzinfo=timezone.utc))
        >>> state.to_row()["last_action_at"], state.to_row()["updated_at"]
        ('2024-01-20T09:10:00', '2024-01-20T08:10:00+00:00')
        """
        row = attrs.asdict(self)
        for name in ("last_action_at", "last_completed_at", "updated_at"):
            value = row[name]
            row[name] = None if value is None else value.isoformat()
        return row
