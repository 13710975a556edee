"""``StatsFormat``: how one learner's state in one training reads on the employee file.

The one place where a ledger state (:class:`~lucca_cards.state.LearnerTraining`) and a
Cards training become the five sub-values of an occurrence: the title and link from Cards
(current title, ``public_url``), the progress and score as texts, the last completion date
as a date. Change the texts by giving other templates, or subclass and override
:meth:`StatsFormat.record`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..errors import ConfigurationError
from ..lucca.training_records import TrainingRecord

if TYPE_CHECKING:
    from ..cards.models import Training
    from ..state import LearnerTraining


def _template(*names: str) -> attrs._ValidatorType[str]:
    """Check that a template formats with ``names`` alone (a typo fails at once, not at 2 a.m.)."""

    def validate(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        try:
            value.format(**dict.fromkeys(names, 1))
        except (AttributeError, KeyError, IndexError, ValueError) as error:
            raise ConfigurationError(
                f"StatsFormat.{attribute.name}",
                f"{value!r} is not a template of {', '.join(names)} ({error!r}); e.g. "
                f"{getattr(StatsFormat(), attribute.name)!r}",
            ) from None

    return validate


@attrs.frozen(kw_only=True)
class StatsFormat:
    """The texts written for one training: ``80 %``, ``8/10``, and the completion date.

    Attributes:
        progress: a :meth:`str.format` template of ``percent`` (0 to 100, a float) and
            ``fraction`` (0 to 1): ``"{percent:.0f} %"`` writes ``80 %``.
        score: a template of ``points`` and ``max_points``: ``"{points}/{max_points}"``
            writes ``8/10``. No score is written while Cards has sent no maximum (a
            training without quizzes, or ``max_points`` 0).
        empty_score: what to write instead then (``None``: leave the sub-field empty).

    >>> StatsFormat(progress="{percent:.1f}%").progress.format(percent=80.0, fraction=0.8)
    '80.0%'
    """

    progress: str = attrs.field(default="{percent:.0f} %", validator=_template("percent",
                                                                             "fraction"))
    score: str = attrs.field(default="{points}/{max_points}",
                             validator=_template("points", "max_points"))
    empty_score: str | None = None

    def record(self, state: LearnerTraining, training: Training | None = None) -> TrainingRecord:
        """Return the occurrence of ``state``: title and link from ``training`` when known.

        The title is Cards' current title (the ledger's, from the last event, when the
        training is not given); the last completion date is the day of the last action at
        which the learner reached 100 %, or empty.
        """
        current = training.title if training is not None else None
        title = (current or "").strip() or (state.title or "").strip() or state.training_id
        completed = state.last_completed_at
        return TrainingRecord(
            title=title,
            link=training.public_url if training is not None else None,
            progress=self.progress.format(percent=state.progress * 100,
                                          fraction=state.progress),
            score=self._score(state.points, state.max_points),
            last_completion_date=completed.date() if completed is not None else None,
        )

    def _score(self, points: int | None, max_points: int | None) -> str | None:
        if not max_points or points is None:
            return self.empty_score
        return self.score.format(points=points, max_points=max_points)
