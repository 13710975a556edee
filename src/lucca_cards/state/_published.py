"""``PublishedFiles``: what the statistics publisher last found, or put, on each file.

A nightly publish reads every employee file and, on most nights, finds most of them up
to date. Planning a file (parsing its occurrences, formatting the learner's states,
comparing) is the run's main cost in CPU. For each file found up to date, or written,
the publisher keeps here what that verdict depended on, as two digests:

* ``context``: the Cards trainings (titles, links) and the publish settings (codes,
  formats): the same for every file of a run;
* ``digest``: the learner's key and how many Cards events the ledger recorded for them
  (every change of a learner's state comes with a new event), and the field's value as
  Lucca answered.

The next publish that finds both digests equal knows the file is still up to date. A
row is only ever a shortcut: a digest that differs (or a row lost) costs a full plan of
that file, never a wrong verdict. It rests on the ledger never removing an event: code
that ever removes some must empty this table in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import select

from ._schema import published_files
from ._sql import upsert_many
from ._store import Store

#: Rows written per transaction.
_BATCH = 500


class FileMark(NamedTuple):
    """One file's row: the digests its last verdict depended on, and if it held any."""

    context: str
    digest: str
    holding: bool


class PublishedFiles(Store):
    """The ``published_files`` table of the state database (see the module).

    >>> marks = PublishedFiles(":memory:")
    >>> marks.remember({416: FileMark("c1", "d1", True)})
    >>> marks.load()
    {416: FileMark(context='c1', digest='d1', holding=True)}
    """

    def load(self) -> dict[int, FileMark]:
        """Return every file's mark, by Lucca user id."""
        columns = published_files.c
        query = select(columns.user_id, columns.context, columns.digest, columns.holding)
        with self._database.reading() as connection:
            return {int(user): FileMark(str(context), str(digest), bool(holding))
                    for user, context, digest, holding in connection.execute(query)}

    def remember(self, marks: Mapping[int, FileMark]) -> None:
        """Record the marks (replacing a file's older one), :data:`_BATCH` per transaction."""
        rows = [{"user_id": user, "context": mark.context, "digest": mark.digest,
                 "holding": mark.holding}
                for user, mark in marks.items()]
        for start in range(0, len(rows), _BATCH):
            with self._database.writing() as connection:
                upsert_many(connection, published_files, rows[start:start + _BATCH],
                            ("user_id",))
