"""What both importers hold: the two clients, the link store, the statuses considered."""

from __future__ import annotations

from collections.abc import Iterable

from .._paths import refused
from ..cards.client import CardsClient
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Employee, EmployeeStatus
from .links import LinkStore

#: The employees an import considers by default: deactivated ones are left out.
DEFAULT_STATUSES = ("active", "upcoming")


class BaseImporter:
    """The clients, links and statuses of an import; reads the employees it considers."""

    def __init__(
        self,
        lucca: LuccaOAuthClient,
        cards: CardsClient,
        *,
        links: LinkStore | None = None,
        statuses: Iterable[str] = DEFAULT_STATUSES,
    ) -> None:
        self.lucca, self.cards = lucca, cards
        self.links = links if links is not None else LinkStore()
        self.statuses = _statuses(statuses)

    def employees(self) -> list[Employee]:
        """Read the employees an import considers (one paged sweep, 100 a page)."""
        return list(self.lucca.employees.list(status=list(self.statuses)))


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
