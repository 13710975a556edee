"""Bounded staleness: a membership ``PUT`` is built on groups read at most ``max_age`` ago.

``PUT /v1/users/{id}`` replaces every group of the account, and Cards has no conditional
write, so the union an import sends must start from groups recent enough that no one
changed them meanwhile. Reading the account before each ``PUT`` makes that window a
fraction of a second, at the price of one call per write (twice the calls of a join).
Here the accounts are read in bulk instead: the sweep the import makes anyway, then the
same pages of 500 again whenever the account about to be written was read more than
``max_age`` seconds ago. The writes go in the sweep's order, so one page read serves the
next several hundred writes, and a join costs about one call. ``max_age=0`` reads each
account again before its write, as before.

The trade-off: a group a human gives an account in Cards (or takes away) less than
``max_age`` before the import writes that account is undone. The default (5 minutes)
makes that unlikely for a nightly job; 0 makes it impossible at twice the calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import attrs

from .._paging import Pager
from ..cards.client import CardsClient
from ..cards.models import CardsUser

#: Where an account stood in the sweep: ``page << 16 | index on the page`` (one small int
#: per account: a sweep may hold tens of thousands); unknown ones come last.
Position = int
_LAST: Position = 1 << 62


@attrs.define
class _Read:
    """An account's groups as last read (or written), and when (monotonic seconds)."""

    user: CardsUser
    at: float


class Memberships:
    """The Cards accounts' groups as last read, re-read in bulk once older than ``max_age``.

    Args:
        cards: reads the pages (and single accounts) again.
        max_age: seconds a read stays good for a write (0: read before each write).
        clock: monotonic seconds.

    >>> memberships = Memberships(cards, max_age=300)         # doctest: +SKIP
    >>> directory = CardsDirectory(memberships.sweep())       # doctest: +SKIP
    >>> user = memberships.current(user)  # groups read at most 5 minutes ago  # doctest: +SKIP
    """

    def __init__(self, cards: CardsClient, *, max_age: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cards, self.max_age, self._clock = cards, max_age, clock
        self._read: dict[str, _Read] = {}  # read again, or written, since the sweep
        self._position: dict[str, Position] = {}
        self._page_at: dict[int, float] = {}

    def sweep(self, pager: Pager[CardsUser] | None = None, *,
              until: Callable[[], bool] = lambda: False) -> Iterator[CardsUser]:
        """Yield every account of a sweep (``users.list()`` by default), remembering each.

        ``until`` is asked between pages: once it says so, the sweep stops (the other
        API's read failed, and this one is no longer needed).
        """
        pages = (pager if pager is not None else self._cards.users.list()).pages()
        for number, users in enumerate(pages, start=1):
            self._page_at[number] = self._clock()
            for index, user in enumerate(users):
                self._position[user.id] = number << 16 | index
            yield from users
            if until():
                return

    def position(self, user_id: str) -> Position:
        """Return where the account stood in the sweep (writes go in this order)."""
        return self._position.get(user_id, _LAST)

    def current(self, user: CardsUser) -> CardsUser:
        """Return ``user`` with groups read at most ``max_age`` seconds ago.

        Reads the account's sweep page again when its groups are older (one call for
        500 accounts), or the account alone when it is not on that page any more.
        """
        if self.max_age <= 0:
            return self._got(self._cards.users.get(user.id))
        position = self._position.get(user.id, _LAST)
        known = self._read.get(user.id)
        if known is None and position != _LAST:  # as the sweep gave it
            known = _Read(user, self._page_at[position >> 16])
        if known is not None and self._clock() - known.at <= self.max_age:
            return known.user
        if position != _LAST:
            asked = self._clock()
            self._remember(position >> 16, self._cards.users.page(position >> 16))
            known = self._read.get(user.id)
            if known is not None and known.at >= asked:
                return known.user
        return self._got(self._cards.users.get(user.id))

    def wrote(self, user: CardsUser) -> None:
        """Remember the account as an answer to a write gave it (the freshest read)."""
        self._got(user)

    def _got(self, user: CardsUser) -> CardsUser:
        self._read[user.id] = _Read(user, self._clock())
        return user

    def _remember(self, page: int, users: Iterable[CardsUser]) -> None:
        at = self._clock()
        for index, user in enumerate(users):
            self._read[user.id] = _Read(user, at)
            self._position[user.id] = page << 16 | index
