"""What the life-cycle rules read from Lucca, in the fewest calls the latency allows.

A hire's run needs the employee as Lucca holds them now, whether another employee at
work has the same email, and the department's name (its group's). Read naively that is
three calls, 1.5 s apart at the default rate: the event's own email (``employee.*``
events carry the resource) lets one call answer the first two, and the departments are
kept (30 minutes, read ahead by the idle worker), as are the Cards groups that exist, so
that a hire costs one Lucca call.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

from ..errors import LuccaCardsError
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Department, Employee
from ._rules import match_key

_log = logging.getLogger("lucca_cards.lifecycle")
T = TypeVar("T")

#: The statuses of people at work (a hire may be upcoming: their account is ready on day one).
AT_WORK = ("active", "upcoming")
#: What the rules read of each employee when everyone is read (the others stay ``None``):
#: a sweep of the whole company then holds and builds a fraction of each model.
RULE_FIELDS = ("given_name", "family_name", "email", "status", "department_id")
#: How long what a hire needs besides the hire (departments, groups) is kept.
KEPT_SECONDS = 1800.0
#: How long before they expire the idle worker reads them again.
REFRESH_MARGIN = 120.0


@attrs.frozen(kw_only=True)
class Reading:
    """The employees a run looks at, and what an email query found alongside them.

    Attributes:
        employees: the employees, by id (one missing was not found).
        by_email: every employee the email query returned (``None``: the whole company
            was read, or no email was asked).
        emails: the emails asked, exactly as sent.
    """

    employees: dict[str, Employee]
    by_email: tuple[Employee, ...] | None = None
    emails: frozenset[str] = frozenset()


class LuccaReader:
    """Reads employees and departments for the rules; keeps the departments a while.

    Args:
        lucca: the client.
        clock: monotonic seconds, for the departments' age.
    """

    def __init__(self, lucca: LuccaOAuthClient, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.lucca = lucca
        self._departments = Kept(
            lambda: {d.id: d for d in lucca.departments.list()}, clock, "the departments")

    def employees(self, wanted: Sequence[str] | None,
                  emails: Mapping[str, str] | None = None) -> Reading:
        """Read ``wanted`` (``None``: everyone); by the ``emails`` known for some first.

        An employee whose email changed since the event is not in the email query's
        answer: read by id, with those without an email.
        """
        if wanted is None:
            everyone = self.lucca.employees.list(fields=RULE_FIELDS)
            return Reading(employees={e.id: e for e in everyone})
        hinted = frozenset(e for i, e in (emails or {}).items()
                           if i in wanted and askable(e))
        found: dict[str, Employee] = {}
        answer: tuple[Employee, ...] | None = None
        if hinted:
            try:
                answer = tuple(self.lucca.employees.list(email=sorted(hinted)))
            except LuccaCardsError as error:  # an optimisation only: read them by id
                _log.warning("the employees could not be read by email (%s); read by id",
                             type(error).__name__)
                hinted = frozenset()
            else:
                found = {e.id: e for e in answer if e.id in wanted}
        remaining = [i for i in wanted if i not in found]
        if remaining:
            found.update((e.id, e) for e in self.lucca.employees.list(ids=remaining))
        return Reading(employees=found, by_email=answer, emails=hinted)

    def at_work(self, reading: Reading, emails: Iterable[str | None], *,
                complete: bool) -> dict[str, list[str]]:
        """Return the employees at work by matching key, for ``emails`` (and more).

        Who else has a hire's email (the user import refuses an email two employees
        share; so must a hire), and whether someone at work has a leaver's account's email
        (a record created again: the account is theirs now). The whole company read, or
        the email query already made, says it; else one call per 100 emails asks.
        """
        wanted = {email for email in emails if email and askable(email)}
        # The exact filter misses a case variant: the lower-cased form is asked too.
        wanted |= {email.lower() for email in wanted}
        if not wanted:
            return {}
        if complete:
            seen: Iterable[Employee] = reading.employees.values()
        else:
            asked = sorted(wanted - reading.emails)
            # ASSUMPTION (lucca-api.md B6): the email filter matches exactly. An email
            # that differs only in case is not found; the nightly sync, which reads
            # everyone, sees it.
            seen = [*(reading.by_email or ()), *(
                self.lucca.employees.list(email=asked, status=list(AT_WORK)) if asked
                else ())]
        by_key: dict[str, set[str]] = defaultdict(set)
        for employee in seen:
            key = match_key(employee.email)
            if key is not None and employee.status in AT_WORK:
                by_key[key].add(employee.id)
        return {key: sorted(ids) for key, ids in by_key.items()}

    def departments(self) -> dict[str, Department]:
        """Return the departments by id (kept :data:`KEPT_SECONDS`)."""
        return self._departments.get()

    def refresh(self) -> None:
        """Read the departments ahead if they are about to expire (see :class:`Kept`)."""
        self._departments.refresh()


def askable(email: str | None) -> bool:
    """Whether Lucca's ``email`` filter can take it: its list is comma separated."""
    return bool(email) and "," not in (email or "") and email == (email or "").strip()


class Kept(Generic[T]):
    """A value read again once :data:`KEPT_SECONDS` old; the idle worker reads it ahead.

    What a hire needs besides the hire itself (the departments' names, the groups that
    exist) changes rarely: read on each hire, it would cost a call at the rate limit's
    pace, and more than the 2 seconds a hire may take.
    """

    def __init__(self, read: Callable[[], T], clock: Callable[[], float] = time.monotonic,
                 what: str = "it") -> None:
        self._read, self._clock, self._what = read, clock, what
        self._kept: tuple[float, T] | None = None

    def get(self) -> T:
        """Return the value, read again if it is :data:`KEPT_SECONDS` old."""
        now = self._clock()
        if self._kept is None or now - self._kept[0] > KEPT_SECONDS:
            self._kept = (now, self._read())
        return self._kept[1]

    def refresh(self) -> None:
        """Read it again if it expires within :data:`REFRESH_MARGIN` seconds.

        A failure is logged, and left to the next hire's read.
        """
        now = self._clock()
        if self._kept is not None and now - self._kept[0] < KEPT_SECONDS - REFRESH_MARGIN:
            return
        try:
            self._kept = (now, self._read())
        except LuccaCardsError as error:
            _log.warning("%s could not be read ahead (%s); the next hire reads them",
                         self._what, type(error).__name__)
