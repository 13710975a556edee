"""``SyncReport``: what one sync did (or, in a dry run, would do), item by item.

A report is JSON-serialisable (:meth:`SyncReport.to_dict`, :meth:`SyncReport.to_json`)
and printable (``str(report)`` is a short summary; :meth:`SyncReport.lines` lists items).

The data is kept exact: names, emails and reasons come from Lucca and from servers, as
they were. What is meant for display escapes what would act on a terminal (control
characters, bidirectional controls; see :func:`lucca_cards._untrusted.printable`):
:meth:`SyncReport.lines` does; ``str(report)`` holds only counts and needs not;
:meth:`SyncReport.to_dict` and :meth:`SyncReport.to_json` do not, being data, not display.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from .._untrusted import printable


class SyncOutcome(str, enum.Enum):
    """What happened to one item of a sync.

    >>> SyncOutcome.CREATED.value
    'created'
    """

    CREATED = "created"
    """A Cards account was created (with its group, for a department import)."""
    LINKED = "linked"
    """An existing Cards account with the employee's email was linked, not modified."""
    ADDED_TO_GROUP = "added_to_group"
    """An existing account joined the department's group (its other groups kept)."""
    UPDATED = "updated"
    """Something of the item was rewritten: the employee file's training occurrences
    (statistics publish), or the account's email or department groups (life cycle)."""
    UNCHANGED = "unchanged"
    """Nothing to do: already linked (and already in the group), or the file up to date."""
    DEFERRED = "deferred"
    """Left for the next run: the write budget (``max_writes`` or ``deadline``) was spent."""
    OFFBOARDED = "offboarded"
    """A leaver's account was offboarded as configured (``reason``: removed from its
    groups, or deleted)."""
    REPORTED = "reported"
    """Nothing written, left to a human for the ``reason`` given (a leaver under the
    ``report`` rule, a new email that belongs to another account, …)."""
    HELD = "held"
    """Not written: the safety threshold stopped the offboarding; a forced run applies it."""
    SKIPPED = "skipped"
    """Not imported, for the ``reason`` given (no email, shared email, …)."""
    FAILED = "failed"
    """The API refused or failed; ``reason`` holds the error. The others went on."""


#: The outcomes that wrote to Cards.
WRITES = frozenset({SyncOutcome.CREATED, SyncOutcome.ADDED_TO_GROUP, SyncOutcome.UPDATED,
                    SyncOutcome.OFFBOARDED})
#: The verb of each operation's summary line ("import" for the others).
_VERBS = {"statistics": "publish", "lifecycle": "sync"}


@attrs.frozen(kw_only=True)
class SyncItem:
    """One item of a report: an employee (user import, statistics) or a membership.

    Attributes:
        employee_id: the Lucca employee's id.
        name: the employee's display name.
        email: the employee's email as Lucca holds it (``None`` without one).
        outcome: what happened.
        reason: why it was skipped, or the error when it failed.
        cards_user_id: the Cards account, when there is one.
        group: the Cards group concerned (department imports; the department group a
            hire or a mover joins).
    """

    employee_id: str
    name: str
    email: str | None
    outcome: SyncOutcome
    reason: str | None = None
    cards_user_id: str | None = None
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the item as JSON-ready data."""
        data = attrs.asdict(self)
        data["outcome"] = self.outcome.value
        return data


def _tuple_of_items(items: Iterable[SyncItem]) -> tuple[SyncItem, ...]:
    return tuple(items)


def _tuple_of_notes(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(notes)


@attrs.frozen(kw_only=True)
class SyncReport:
    """The result of one sync: every item's outcome, and notes about the whole run.

    Attributes:
        operation: ``"users"``, ``"departments"``, ``"lifecycle"`` or ``"statistics"``.
        dry_run: ``True`` when nothing was written (the outcomes are the plan).
        items: one :class:`SyncItem` per employee (or membership).
        notes: remarks on the whole run (e.g. departments that share a group name).
        stopped: why the run stopped before writing anything (a safety stop), if it did.

    >>> report = SyncReport(operation="users", dry_run=True, items=())
    >>> report.counts()["created"], report.writes, report.ok
    (0, 0, True)
    """

    operation: str
    dry_run: bool
    items: tuple[SyncItem, ...] = attrs.field(converter=_tuple_of_items)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_notes)
    stopped: str | None = None

    def counts(self) -> dict[str, int]:
        """Return how many items had each outcome (every outcome present, 0 included)."""
        seen = Counter(item.outcome for item in self.items)
        return {outcome.value: seen[outcome] for outcome in SyncOutcome}

    @property
    def writes(self) -> int:
        """Return how many items wrote to Cards (or would, in a dry run)."""
        return sum(1 for item in self.items if item.outcome in WRITES)

    @property
    def failed(self) -> tuple[SyncItem, ...]:
        """Return the items that failed (rerun the sync to retry them)."""
        return self.of(SyncOutcome.FAILED)

    @property
    def ok(self) -> bool:
        """Return whether no item failed or was held, and the run was not stopped."""
        return not self.failed and not self.of(SyncOutcome.HELD) and self.stopped is None

    def of(self, *outcomes: SyncOutcome) -> tuple[SyncItem, ...]:
        """Return the items with any of ``outcomes``."""
        return tuple(item for item in self.items if item.outcome in outcomes)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "operation": self.operation,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "notes": list(self.notes),
            "stopped": self.stopped,
            "items": self.export(),
        }

    def export(self) -> list[dict[str, Any]]:
        """Return every item as a plain row (texts and ``None``), for ``pandas.DataFrame``.

        The rows are the ``items`` of :meth:`to_dict`, one per employee (or membership)::

            pandas.DataFrame(report.export()).groupby("outcome").size()
        """
        return [item.to_dict() for item in self.items]

    def to_json(self, **dumps: Any) -> str:
        """Return the report as JSON text (``dumps`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **dumps)

    def __str__(self) -> str:
        counts = {name: count for name, count in self.counts().items() if count}
        shown = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        mode = "dry run of " if self.dry_run else ""
        verb = _VERBS.get(self.operation, "import")
        empty = "stopped" if self.stopped is not None else "nothing to do"
        return f"{mode}{self.operation} {verb}: {shown or empty}"

    def lines(self, outcomes: Iterable[SyncOutcome] | None = None) -> list[str]:
        r"""Return one readable line per item; only ``outcomes`` if given, else notes last.

        Each line is the outcome, the employee's id (two employees may share a name, or an
        email but for its case), the name and email, the group, and the reason.

        The lines are for display: names, emails and reasons are escaped with
        :func:`~lucca_cards._untrusted.printable`, so a name holding ``ESC`` or
        ``U+202E`` shows as ``\x1b`` or ``\u202e`` instead of acting on the terminal.
        """
        wanted = set(outcomes) if outcomes is not None else set(SyncOutcome)
        lines = []
        for item in self.items:
            if item.outcome not in wanted:
                continue
            where = f" -> {item.group}" if item.group else ""
            why = f": {item.reason}" if item.reason else ""
            who = f"{item.name} <{item.email.strip()}>" if item.email else item.name
            lines.append(printable(f"{item.outcome.value:<14} {item.employee_id:<7} "
                                   f"{who}{where}{why}"))
        notes = [printable(f"note: {note}") for note in self.notes] if outcomes is None else []
        return lines + notes
