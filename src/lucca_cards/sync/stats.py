"""``StatsPublisher``: the training ledger, published onto the Lucca employee files.

One run reads everything it needs in the fewest calls: the field definitions (one
``GET /api/v3/extensionuserdefinitions``, to check the codes before anything else), the
Lucca users with their occurrences (``GET /api/v3/users?fields=id,name,mail,extendedData``,
1 000 a page), the Cards trainings (one paged sweep, for their current titles and links),
and the ledger locally. It then writes only the files whose occurrences differ, one ``PUT``
each, files never written first, within a write budget; the next run resumes by diffing
again. See :mod:`lucca_cards.sync._stats_plan` for what may change on a file. A file found
up to date, or written, is marked in the state database: the next run reports it
unchanged without planning it again while nothing it depends on has moved (see
:mod:`lucca_cards.sync._stats_marks`).

>>> ledger = TrainingLedger("lucca-cards.sqlite")  # doctest: +SKIP
>>> print(StatsPublisher(legacy, cards, ledger).run(max_writes=500))  # doctest: +SKIP
statistics publish: 480 updated, 9120 unchanged, 20 deferred
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from ..cards.client import CardsClient
from ..cards.models import Training
from ..config import Settings
from ..errors import LuccaCardsError
from ..lucca.legacy import LuccaLegacyApiClient
from ..lucca.legacy_models import LegacyUser
from ..lucca.training_records import StatsFieldCodes
from ..state import LearnerTraining, TrainingLedger
from ..state._published import FileMark, PublishedFiles
from ._parallel import Stopped, side_by_side, until
from ._stats_marks import (
    Marking,
    Pending,
    Survey,
    ToPlan,
    Unsorted,
    UpToDate,
    context_digest,
    remember,
)
from ._stats_plan import FilePlan, plan_file, title_key, write_order
from .report import SyncItem, SyncOutcome, SyncReport
from .stats_format import StatsFormat

#: What one run reads of each legacy user.
USER_FIELDS = ("id", "name", "mail", "extendedData")
#: The share of employee files a run may remove occurrences from before it stops.
DEFAULT_MAX_REMOVAL_SHARE = 0.1

Progress = Callable[[int, int], None]
Deadline = dt.datetime | dt.timedelta


@attrs.frozen(kw_only=True)
class StatsPlan:
    """What a publish would do: every learner's file planned, and remarks on the rest.

    Attributes:
        files: one :class:`~lucca_cards.sync._stats_plan.FilePlan` per Lucca user who has
            activity in the ledger (but those in ``up_to_date``).
        skipped: items not planned, with their reason (an email two users share).
        notes: remarks on the whole run (learners not found in Lucca …).
        employees: how many Lucca users were read.
        up_to_date: the learners' files a run found as the last publish left them (by
            their marks in the state database), reported unchanged without a plan;
            always empty from :meth:`StatsPublisher.plan`, which plans every file.
    """

    files: tuple[FilePlan, ...]
    skipped: tuple[SyncItem, ...]
    notes: tuple[str, ...]
    employees: int
    up_to_date: tuple[UpToDate, ...] = ()

    @property
    def removing(self) -> tuple[FilePlan, ...]:
        """The files from which the run would remove occurrences."""
        return tuple(plan for plan in self.files if plan.removed and plan.changed)

    @property
    def holding(self) -> int:
        """How many of the learners' files hold occurrences: the safety stop's base."""
        return (sum(1 for plan in self.files if plan.current)
                + sum(1 for known in self.up_to_date if known.holding))


class StatsPublisher:
    """Publish each learner's training statistics onto their Lucca employee file.

    Args:
        legacy: the legacy API client (reads users, writes the compound field).
        cards: the Cards client (current training titles and links).
        ledger: the training ledger fed by the Cards webhooks.
        codes: the field codes on the tenant (checked before anything is written).
        style: how a state reads on the file (:class:`~lucca_cards.StatsFormat`).
        enabled: ``False`` (statistics switched off in the settings): a run says so and
            makes no request.
        max_removal_share: a run that would remove occurrences from more than this share
            of the employee files stops before writing, unless forced.
        clock: returns the time (aware); for ``deadline`` (tests inject one).
    """

    def __init__(
        self,
        legacy: LuccaLegacyApiClient,
        cards: CardsClient,
        ledger: TrainingLedger,
        codes: StatsFieldCodes | None = None,
        *,
        style: StatsFormat | None = None,
        enabled: bool = True,
        max_removal_share: float = DEFAULT_MAX_REMOVAL_SHARE,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.legacy, self.cards, self.ledger = legacy, cards, ledger
        self.codes = codes or StatsFieldCodes()
        self.style = style or StatsFormat()
        self.enabled = enabled
        self.max_removal_share = max_removal_share
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    @classmethod
    def from_settings(cls, settings: Settings, legacy: LuccaLegacyApiClient,
                      cards: CardsClient, ledger: TrainingLedger, **options: Any
                      ) -> StatsPublisher:
        """Build a publisher with the settings' codes, switch and removal share."""
        options.setdefault("enabled", settings.stats_enabled)
        options.setdefault("max_removal_share", settings.stats_max_removal_share)
        return cls(legacy, cards, ledger, settings.stats_codes, **options)

    def __repr__(self) -> str:
        return f"StatsPublisher({self.legacy!r}, {self.cards!r}, {self.ledger!r})"

    @staticmethod
    def disabled_report(dry_run: bool = False) -> SyncReport:
        """Return the report of a run with statistics switched off: nothing done, and why."""
        return _report(dry_run, [], notes=[
            "statistics are switched off ([stats] enabled = true or LUCCA_STATS_ENABLED=1 "
            "turns them on): nothing was read or written"])

    def plan(self) -> StatsPlan:
        """Read the tenant, Cards and the ledger; plan every learner's file. Write nothing.

        Raises:
            ConfigurationError: a field code is missing on the tenant (no file is read;
                the Cards trainings, read meanwhile, stop at their first page), naming the
                code and the Lucca setup step that creates it.
        """
        return self._plan(dict)[0]

    def _plan(self, marks: Callable[[], Mapping[int, FileMark]]
              ) -> tuple[StatsPlan, Marking]:
        """Plan the files; those whose mark (from ``marks()``) matches are only counted."""
        survey = Survey(self.codes)
        (employees, learners), trainings = side_by_side(
            lambda stopped: self._learners(survey, stopped),
            lambda stopped: self._trainings(survey, marks, stopped))
        alone = [survey.settle(entries[0]) for entries in learners.values()
                 if len(entries) == 1]
        to_plan = [entry for entry in alone if isinstance(entry, ToPlan)]
        # Read after the event counts: a state changed meanwhile is planned now, and its
        # file's mark (made with the older count) is stale on the next run.
        states = self.ledger.states_of(entry.key for entry in to_plan)
        files = [self._plan_one(entry.user, states.get(entry.key, []), trainings)
                 for entry in to_plan]
        skipped = tuple(_item(entry, SyncOutcome.SKIPPED, "shares its email with another "
                              "employee: whose statistics these are cannot be told")
                        for entries in learners.values() if len(entries) > 1
                        for entry in entries)
        plan = StatsPlan(files=tuple(files), skipped=skipped, employees=employees,
                         up_to_date=tuple(e for e in alone if isinstance(e, UpToDate)),
                         notes=_notes(survey.events, learners, files))
        marking = Marking(context=survey.context, events=survey.events,
                           digests={entry.user.id: entry.digest for entry in to_plan})
        return plan, marking

    def _learners(self, survey: Survey, stopped: Stopped
                  ) -> tuple[int, dict[str, list[ToPlan | UpToDate | Pending]]]:
        """Check the field codes, then sweep the files: how many, and the learners'."""
        self.legacy.field_definitions.check_stats_codes(self.codes)
        learners: dict[str, list[ToPlan | UpToDate | Pending]] = defaultdict(list)
        employees, early = 0, []
        # Big pages: the next is read while the survey sorts this one.
        users = self.legacy.users.list(fields=USER_FIELDS).parsed_by(survey).ahead()
        for entry in until(users, stopped):
            employees += 1
            if isinstance(entry, Unsorted):  # read before the ledger (the other side)
                early.append(entry)
            elif entry is not None:
                learners[entry.key].append(entry)
        for entry in survey.sort_later(early, stopped) or ():
            learners[entry.key].append(entry)
        return employees, learners

    def _trainings(self, survey: Survey, marks: Callable[[], Mapping[int, FileMark]],
                   stopped: Stopped) -> dict[str, Training]:
        """Read the ledger's event counts and the marks, then sweep the Cards trainings.

        The state database is read here, while the other side reads the first pages
        from Lucca; the survey gets its context as soon as the trainings are read.
        """
        survey.start(self.ledger.event_counts(), marks())
        trainings = {t.id: t for t in until(self.cards.trainings.list(), stopped)}
        survey.context = context_digest(trainings, self.style, self.codes)
        return trainings

    def _plan_one(self, user: LegacyUser, states: list[LearnerTraining],
                  trainings: dict[str, Training]) -> FilePlan:
        return plan_file(user_id=user.id, name=user.name or "", email=user.mail or "",
                         current=user.training_records(self.codes), states=states,
                         trainings=trainings, style=self.style)

    def run(
        self,
        dry_run: bool = False,
        progress: Progress | None = None,
        max_writes: int | None = None,
        deadline: Deadline | None = None,
        *,
        force: bool = False,
    ) -> SyncReport:
        """Publish: write every file whose occurrences differ, within the write budget.

        Args:
            dry_run: plan and report, write nothing.
            progress: called as ``progress(done, total)`` after each file to write.
            max_writes: stop after this many ``PUT`` requests; the rest is ``deferred``.
            deadline: stop writing at this time (an aware ``datetime``) or after this long
                (a ``timedelta`` from the start of the run); the rest is ``deferred``.
            force: write even when the run would remove occurrences from more than
                ``max_removal_share`` of the files (after a training was deleted in Cards).

        Returns:
            A :class:`~lucca_cards.SyncReport` (operation ``"statistics"``): ``updated``,
            ``unchanged``, ``skipped`` with reason, ``deferred``, ``failed``.
        """
        if max_writes is not None and (isinstance(max_writes, bool) or max_writes < 0):
            raise ValueError(f"max_writes must be a whole number >= 0, got {max_writes!r}")
        if not self.enabled:
            return self.disabled_report(dry_run)
        end = self._deadline(deadline)
        store = PublishedFiles(self.ledger.database)
        plan, marking = self._plan(store.load)
        unchanged = [file for file in plan.files if not file.changed]
        items = list(plan.skipped)
        items += [_item(known, SyncOutcome.UNCHANGED) for known in plan.up_to_date]
        items += [_item(file, SyncOutcome.SKIPPED, file.problem) for file in plan.files
                  if file.problem is not None and file.changed]
        items += [_item(file, SyncOutcome.UNCHANGED) for file in unchanged]
        # A dry run leaves the state database as it found it: it marks nothing.
        marks = None if dry_run else marking.found(unchanged)
        try:
            order = write_order(plan.files)
            stop = self._safety_stop(plan, force)
            if stop is not None:
                items += [_item(file, SyncOutcome.DEFERRED, "not written: safety stop")
                          for file in order]
                return _report(dry_run, items, notes=plan.notes, stopped=stop)
            items += self._write(order, progress, max_writes, end, marking, marks)
        finally:
            if marks:  # what was written before a failure or a Ctrl-C is marked too
                remember(store, marks)
        return _report(dry_run, items, notes=plan.notes)

    def _write(self, order: list[FilePlan], progress: Progress | None,
               max_writes: int | None, end: dt.datetime | None, marking: Marking,
               marks: dict[int, FileMark] | None) -> Iterator[SyncItem]:
        """Write the files in ``order`` (``marks`` ``None``: a dry run); mark each written."""
        sent = 0
        for done, file in enumerate(order, start=1):
            if (max_writes is not None and sent >= max_writes) or (
                    end is not None and self._clock() >= end):
                yield _item(file, SyncOutcome.DEFERRED, "write budget spent: the next run "
                            "writes it")
            else:
                sent += 1  # a dry run spends the budget too: it shows the exact plan
                yield self._write_one(file, marking, marks)
            if progress is not None:
                progress(done, len(order))

    def _write_one(self, file: FilePlan, marking: Marking,
                   marks: dict[int, FileMark] | None) -> SyncItem:
        reason = (f"removed {', '.join(file.removed)} (no longer in Cards)"
                  if file.removed else None)
        if marks is None:
            return _item(file, SyncOutcome.UPDATED, reason)
        try:
            done = self.legacy.users.write_training_records(
                file.user_id, file.desired, self.codes, current=file.current)
        except LuccaCardsError as error:
            return _item(file, SyncOutcome.FAILED, str(error))
        mark = marking.written(file, done)
        if mark is not None:
            marks[file.user_id] = mark
        return _item(file, SyncOutcome.UPDATED, reason)

    def _safety_stop(self, plan: StatsPlan, force: bool) -> str | None:
        # The base is the files that hold occurrences, not every employee: learners are
        # often a small share of the staff, and a Cards answer listing no training must
        # not empty all their files under the default 10 %.
        removing = len(plan.removing)
        if force or removing <= self.max_removal_share * plan.holding:
            return None
        return (f"the run would remove occurrences from {removing} of the {plan.holding} "
                "learners' files that hold some, more than "
                f"{self.max_removal_share:.0%}: a training deleted "
                "in Cards, or Cards answering with too few trainings? Nothing was written. "
                "Check the trainings in Cards, then run again with force=True "
                "(lucca-cards stats publish --force) if the removal is wanted.")

    def _deadline(self, deadline: Deadline | None) -> dt.datetime | None:
        if deadline is None or isinstance(deadline, dt.datetime):
            return deadline.astimezone() if deadline is not None else None
        if isinstance(deadline, dt.timedelta):
            return self._clock() + deadline
        raise TypeError(f"deadline must be a datetime or a timedelta, not "
                        f"{type(deadline).__name__}")


def _item(file: FilePlan | UpToDate | ToPlan | Pending, outcome: SyncOutcome,
          reason: str | None = None) -> SyncItem:
    if isinstance(file, Pending):
        file = file.known
    if isinstance(file, UpToDate):  # its line was made during the sweep: unchanged
        if outcome is SyncOutcome.UNCHANGED and reason is None:
            return file.line
        return attrs.evolve(file.line, outcome=outcome, reason=reason)
    if isinstance(file, ToPlan):
        user = file.user
        return SyncItem(employee_id=str(user.id), name=user.name or "", email=user.mail,
                        outcome=outcome, reason=reason)
    return SyncItem(employee_id=str(file.user_id), name=file.name, email=file.email,
                    outcome=outcome, reason=reason)


def _report(dry_run: bool, items: Any, *, notes: Any = (), stopped: str | None = None
            ) -> SyncReport:
    return SyncReport(operation="statistics", dry_run=dry_run, items=items, notes=notes,
                      stopped=stopped)


def _notes(events: Mapping[str, int], learners: Mapping[str, object],
           files: list[FilePlan]) -> tuple[str, ...]:
    notes = []
    unknown = len(set(events) - set(learners))
    if unknown:
        notes.append(f"{unknown} learner(s) with activity in the ledger are not Lucca "
                     "employees (by email); nothing to publish for them")
    gone = {title_key(title) for file in files if file.changed for title in file.removed}
    if gone:
        notes.append(f"{len(gone)} training(s) no longer exist in Cards: their occurrences "
                     "are removed from the files that held them")
    return tuple(notes)
