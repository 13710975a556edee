"""``Store``: what the link store and the ledger share: a database, opened or borrowed."""

from __future__ import annotations

import os
from types import TracebackType
from typing import TypeVar

from .database import Database

_S = TypeVar("_S", bound="Store")


class Store:
    """A store on the state database: it opens its own, or uses one it was given.

    Args:
        database: an open :class:`Database` (shared: :meth:`close` leaves it open), or a
            path or URL to open one (owned: :meth:`close` closes it).
    """

    def __init__(self, database: Database | str | os.PathLike[str]) -> None:
        if isinstance(database, Database):
            self._database, self._owned = database, False
        else:
            self._database, self._owned = Database(database), True

    @property
    def database(self) -> Database:
        """The database this store reads and writes (another store may share it)."""
        return self._database

    def close(self) -> None:
        """Close the database, if this store opened it."""
        if self._owned:
            self._database.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
