"""What both importers hold: the two clients, the link store, the statuses considered."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from .._paths import id_list, refused
from ..cards.client import CardsClient
from ..config import check_setting
from ..errors import LuccaCardsError, NotFoundError, without_advice
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Employee, EmployeeStatus
from ..state.links import Link
from ._memberships import Memberships
from ._parallel import Stopped, until
from ._plan import CardsDirectory
from .links import LinkStore

#: The employees an import considers by default: deactivated ones are left out.
DEFAULT_STATUSES = ("active", "upcoming")
#: The employee ids asked for by hand whose absence :meth:`BaseImporter.why_not_considered`
#: explains, one read each; beyond, the general reason.
MAX_EXPLAINED = 20
NOT_CONSIDERED = "not found among the employees this import considers"
#: What an import reads of each employee (the other attributes stay ``None``): a sweep of
#: 50 000 employees then fits in a few tens of MiB.
PLANNED = ("given_name", "family_name", "email", "department_id")


class BaseImporter:
    """The clients, links and statuses of an import; reads the employees it considers.

    ``memberships_max_age`` (seconds, 300 by default; the ``cards_memberships_max_age``
    setting) bounds how old the groups of an account may be when a join writes them: see
    :mod:`lucca_cards.sync._memberships` and "Performance and limits" in the docs.
    """

    def __init__(
        self,
        lucca: LuccaOAuthClient,
        cards: CardsClient,
        *,
        links: LinkStore | None = None,
        statuses: Iterable[str] = DEFAULT_STATUSES,
        memberships_max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lucca, self.cards = lucca, cards
        self.links = links if links is not None else LinkStore()
        self.statuses = _statuses(statuses)
        self.memberships_max_age: float = check_setting(
            "cards_memberships_max_age", memberships_max_age)
        self._clock = clock

    def employees(self) -> list[Employee]:
        """Read the employees an import considers (one paged sweep, 100 a page)."""
        return self._employees(lambda: False, fields=None)

    def _employees(self, stopped: Stopped,
                   fields: Sequence[str] | None = PLANNED) -> list[Employee]:
        """Read the employees considered, keeping only ``fields`` of each (see PLANNED).

        ``stopped`` is asked between pages: the sweep ends early once it says so.
        """
        pager = self.lucca.employees.list(status=list(self.statuses), fields=fields)
        return list(until(pager, stopped))

    def _accounts(self, stopped: Stopped, fields: Sequence[str] | None = ("email", "groups")
                  ) -> tuple[CardsDirectory, Memberships]:
        """Sweep the Cards accounts (500 a page), remembering when each page was read.

        Only ``fields`` of each account are kept (``None``: all of them).
        """
        memberships = Memberships(self.cards, max_age=self.memberships_max_age,
                                  clock=self._clock)
        pager = self.cards.users.list(fields=fields)
        return CardsDirectory(memberships.sweep(pager, until=stopped)), memberships


    def why_not_considered(self, employee_ids: Iterable[str | int]) -> dict[str, str]:
        """Say why each of ``employee_ids`` is not among the employees an import considers.

        One read of each (at most :data:`MAX_EXPLAINED`; the others get the general
        reason): another status ("is deactivated in Lucca: …"), or not found in Lucca.
        For ids asked for by hand that a sweep did not hold.

        The ids are read as :meth:`run` reads them (``" 412 "`` is ``"412"``).

        >>> importer.why_not_considered(["412"])                    # doctest: +SKIP
        {'412': 'is deactivated in Lucca: this import considers active and upcoming employees'}

        Raises:
            ValidationError: ``employee_ids`` is not a collection of ids.
        """
        reasons = {}
        wanted = id_list(employee_ids, name="employee_ids",
                         where=f"{type(self).__name__}.why_not_considered")
        for number, employee_id in enumerate(wanted):
            reasons[employee_id] = (self._why_not(employee_id) if number < MAX_EXPLAINED
                                    else NOT_CONSIDERED)
        return reasons

    def _why_not(self, employee_id: str) -> str:
        considered = " and ".join(self.statuses)
        try:
            status = self.lucca.employees.get(employee_id).status
        except NotFoundError:
            return "not found in Lucca"
        except LuccaCardsError as error:
            return f"{NOT_CONSIDERED} (reading it failed: {without_advice(str(error))})"
        if status is None:
            return f"has no status in Lucca: this import considers {considered} employees"
        if status in self.statuses:  # hired (or back) since the sweep: the next run has it
            return f"is {status} in Lucca now, but was not when the employees were read"
        return f"is {status} in Lucca: this import considers {considered} employees"

    def _accounts_and_links(self, stopped: Stopped,
                            fields: Sequence[str] | None = ("email", "groups")
                            ) -> tuple[CardsDirectory, Memberships, dict[str, Link]]:
        """:meth:`_accounts`, then every link: read while Lucca is still being swept.

        The Cards sweep is the shorter one; reading the links after it, rather than once
        both are done, takes them off the run's critical path.
        """
        directory, memberships = self._accounts(stopped, fields)
        return directory, memberships, self.links.links()


def _statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    """Check the statuses an import considers (a bare string is one mistake away from letters)."""
    if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
        raise refused("statuses", f"must be a collection such as ['active'], not "
                      f"{type(statuses).__name__}", "importer")
    chosen = tuple(dict.fromkeys(str(getattr(s, 'value', s)) for s in statuses))
    known = {status.value for status in EmployeeStatus}
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        raise refused("statuses", f"must be among {', '.join(sorted(known))}; got "
                      f"{list(chosen)!r:.80}", "importer")
    return chosen
