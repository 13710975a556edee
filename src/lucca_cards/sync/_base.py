"""What both importers hold: the two clients, the link store, the statuses considered."""

from __future__ import annotations

from collections.abc import Iterable

from ..cards.client import CardsClient
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Employee
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
        self.statuses = tuple(statuses)

    def employees(self) -> list[Employee]:
        """Read the employees an import considers (one paged sweep, 100 a page)."""
        return list(self.lucca.employees.list(status=list(self.statuses)))
