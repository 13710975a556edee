"""The statistics publish, planned: what each employee file should hold, and why.

Pure functions over what the publisher read (Lucca users with their occurrences, Cards
trainings, ledger states): no request here, so the rules are tested on plain data.

The rules that keep a file safe:

* only the occurrences the ledger can **claim** are rewritten: an occurrence is claimed by
  a learner's training when its title is the training's (current or last known, compared
  trimmed and case-insensitively) or its link is the training's ``public_url``;
* an occurrence nobody claims is left as it is (written by hand, or by another tool);
* a claimed occurrence is removed only when its training no longer exists in Cards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone

import attrs

from ..cards.models import Training
from ..lucca.training_records import StoredTrainingRecord, TrainingRecord
from ..state import LearnerTraining
from .stats_format import StatsFormat


@attrs.frozen(kw_only=True)
class FilePlan:
    """One employee file: the occurrences it holds, and the ones it should hold.

    Attributes:
        user_id, name, email: the Lucca user (legacy API).
        current: the occurrences on the file now, with their ids.
        desired: the occurrences after the publish, sorted by title.
        removed: titles of occurrences dropped because their training left Cards.
        pending_since: when the oldest change not yet on the file reached the ledger
            (``None`` when the file is up to date): the write order's key.
        problem: why the file cannot be written (it is then skipped), if it cannot.
    """

    user_id: int
    name: str
    email: str
    current: tuple[StoredTrainingRecord, ...]
    desired: tuple[TrainingRecord, ...]
    removed: tuple[str, ...] = ()
    pending_since: datetime | None = None
    problem: str | None = None
    # Worked out once, when built: the publish asks it several times per file.
    _changed: bool = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        changed = count_records(self.desired) != count_records(item.record for item in self.current)
        object.__setattr__(self, "_changed", changed)

    @property
    def changed(self) -> bool:
        """Whether the file differs from the plan (in any order)."""
        return self._changed

    @property
    def never_written(self) -> bool:
        """Whether the file holds no occurrence yet: such files are written first."""
        return not self.current


def title_key(title: str | None) -> str:
    """Return the key titles are compared on: trimmed, case-folded."""
    return (title or "").strip().casefold()


def plan_file(
    *,
    user_id: int,
    name: str,
    email: str,
    current: Sequence[StoredTrainingRecord],
    states: Iterable[LearnerTraining],
    trainings: Mapping[str, Training],
    style: StatsFormat,
) -> FilePlan:
    """Plan one file from its occurrences and the learner's states (see the module rules)."""
    # Trainings still in Cards claim first: one deleted then re-created under the same
    # title must not take the occurrence away from the new one.
    ordered = sorted(states, key=lambda state: state.training_id not in trainings)
    desired: dict[str, tuple[LearnerTraining, TrainingRecord]] = {}
    claimed: set[int] = set()
    removed: list[str] = []
    # Each occurrence's title key and link, computed once for every state that looks.
    occurrences = [(item, title_key(item.record.title), item.record.link) for item in current]
    for state in ordered:
        training = trainings.get(state.training_id)
        titles, url = _claim_keys(state, training)
        mine = [item for item, key, link in occurrences if item.id not in claimed
                and (key in titles or (url is not None and link == url))]
        claimed.update(item.id for item in mine)
        if training is None:
            removed += [item.record.title for item in mine]
            continue
        record = style.record(state, training)
        key = title_key(record.title)
        # Two trainings with one title cannot both live on the file (the title tells the
        # occurrences apart): the one the learner touched last wins.
        if key not in desired or desired[key][0].last_action_at < state.last_action_at:
            desired[key] = (state, record)
    kept = [item.record for item in current
            if item.id not in claimed and title_key(item.record.title) not in desired]
    records = sorted([record for _, record in desired.values()] + kept,
                     key=lambda record: title_key(record.title))
    on_file = {item.record for item in current}
    pending = [state.updated_at for state, record in desired.values() if record not in on_file]
    return FilePlan(user_id=user_id, name=name, email=email, current=tuple(current),
                    desired=tuple(records), removed=tuple(removed),
                    pending_since=min(pending, default=None), problem=_repeated(kept))


def count_records(records: Iterable[TrainingRecord]) -> dict[TrainingRecord, int]:
    """Count the records (a multiset): a plain loop, as ``Counter`` costs a lot per call."""
    counts: dict[TrainingRecord, int] = {}
    for record in records:
        counts[record] = counts.get(record, 0) + 1
    return counts


def _claim_keys(state: LearnerTraining, training: Training | None
                ) -> tuple[frozenset[str], str | None]:
    """Return what makes an occurrence ``state``'s: its title keys, or the training's link.

    An occurrence is the training's when its title is the state's or the training's
    (compared by :func:`title_key`), or when it links to the training's public page.
    """
    titles = {title_key(state.title)}
    if training is not None:
        titles.add(title_key(training.title))
    titles.discard("")
    url = training.public_url if training is not None and training.public_url else None
    return frozenset(titles), url


def _repeated(kept: Iterable[TrainingRecord]) -> str | None:
    """Say why occurrences left alone stop the write: two of them share a title."""
    seen = Counter(title_key(record.title) for record in kept)
    twice = sorted(title for title, count in seen.items() if count > 1)
    if not twice:
        return None
    return (f"the file holds occurrences the integration did not write that repeat the "
            f"titles {twice}: merge or rename them in Lucca (occurrences are told apart by "
            "title, so the file cannot be written without touching them)")


def write_order(plans: Iterable[FilePlan]) -> list[FilePlan]:
    """Return the files to write: those never written first, then the longest waiting.

    A run cut short by its write budget resumes where it stopped: the next run plans
    again from the files themselves. Files that still hold nothing go first; the others
    by how long their oldest unwritten change has waited, so a budget smaller than a
    night's changes never leaves the same files behind night after night.
    """
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return sorted((plan for plan in plans if plan.changed and plan.problem is None),
                  key=lambda plan: (not plan.never_written, plan.pending_since or epoch,
                                    plan.user_id))
