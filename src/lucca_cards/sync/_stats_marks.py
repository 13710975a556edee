"""Tell, while the files are read, which of them are still as the last publish left them.

Planning a file (its occurrences parsed, the learner's states formatted, both compared)
is most of a publish's CPU, and most files have not changed since the last night. The
publisher keeps a mark per file (:class:`~lucca_cards.state._published.PublishedFiles`):
the digests of everything its verdict "up to date" depended on. A file whose digests
are the same again is reported unchanged without being planned:

* the **context**: the Cards trainings (id, title, link), the field codes and the
  formats, and :data:`RULES` (moved when the planning rules change what a file holds);
* the file's **digest**: the learner's key, how many Cards events the ledger holds for
  them (every change of their states comes with a new event), and the training field's
  value as Lucca answered (its JSON, keys sorted).

Anything else (a custom :class:`~lucca_cards.StatsFormat` subclass, an item of an
unexpected shape, a value orjson cannot write) goes the full way: a mark is a shortcut,
never a verdict of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from hashlib import blake2b
from typing import Any

import attrs
import orjson

from ..cards.models import Training
from ..lucca.legacy_models import LegacyUser, TrainingRecordsWrite
from ..lucca.training_records import StatsFieldCodes
from ..state._published import FileMark, PublishedFiles
from ._rules import match_key
from ._stats_plan import FilePlan, count_records
from .report import SyncItem, SyncOutcome
from .stats_format import StatsFormat

_log = logging.getLogger("lucca_cards.stats")
#: Moved whenever :func:`~lucca_cards.sync._stats_plan.plan_file` or
#: :meth:`StatsFormat.record` change what a file should hold: every mark is then stale.
RULES = "1"
#: The keys of a legacy user as the publisher asks for them; an item with others (or
#: other spellings) is read the full way.
_KEYS = frozenset({"id", "name", "mail", "extendedData"})


def context_digest(trainings: Mapping[str, Training], style: StatsFormat,
                   codes: StatsFieldCodes) -> str | None:
    """Return the digest of what every file's plan depends on (``None``: no marks).

    A subclass of :class:`StatsFormat` may format in its own way, which no digest sees:
    its runs plan every file.
    """
    if type(style) is not StatsFormat:
        return None
    catalogue = sorted((t.id, t.title, t.public_url) for t in trainings.values())
    parts = (RULES, attrs.astuple(style), attrs.astuple(codes), catalogue)
    return blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def file_digest(key: str, events: int, value: Any) -> str | None:
    """Return the digest of one learner's file (``None`` when its value cannot be written)."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, say: planned every time
        return None
    digest = blake2b(f"{len(key)}:{key}:{events}:".encode(), digest_size=16)
    digest.update(raw)
    return digest.hexdigest()


@attrs.frozen
class UpToDate:
    """A learner's file its mark shows up to date: reported unchanged, not planned.

    ``line`` is its report item, made while the sweep reads the next pages rather than
    after it (a rerun's report is one such line per learner).
    """

    key: str
    holding: bool
    line: SyncItem


@attrs.frozen
class Pending:
    """A learner's file whose digest matches its mark, read before the run's context.

    :meth:`Survey.settle` makes it :class:`UpToDate` if the mark's context is the run's,
    else :class:`ToPlan` (the item is kept for that).
    """

    known: UpToDate
    context: str
    item: Mapping[str, Any]
    digest: str

    @property
    def key(self) -> str:
        """The learner's key."""
        return self.known.key


@attrs.frozen
class Unsorted:
    """A user read before the ledger was: sorted once it is (:meth:`Survey.sort_later`)."""

    item: Mapping[str, Any]


@attrs.frozen
class ToPlan:
    """A learner's file to plan: the user read, and its digest (``None``: no mark)."""

    user: LegacyUser
    key: str
    digest: str | None


class Survey:
    """Sort the legacy users of a sweep as their page arrives (a :class:`Pager` parser).

    Returns :class:`UpToDate` for a learner whose mark matches, :class:`ToPlan` for
    another learner, ``None`` for a user who is no learner. The other side of the sweep
    gives it the ledger's event counts and the marks (:meth:`start`), then the
    :attr:`context` once the Cards trainings are read. A user read before :meth:`start`
    is :class:`Unsorted` (see :meth:`sort_later`), and a file whose mark matches before
    the context is known is :class:`Pending` until :meth:`settle`: the sweep never waits.
    """

    #: How often a sweep waiting for :meth:`start` asks whether the other side failed.
    POLL = 0.05

    def __init__(self, codes: StatsFieldCodes, events: Mapping[str, int] | None = None,
                 marks: Mapping[int, FileMark] | None = None) -> None:
        self.codes = codes
        self.events: Mapping[str, int] = {}
        self.marks: Mapping[int, FileMark] = {}
        self.context: str | None = None
        self._started = threading.Event()
        if events is not None:
            self.start(events, marks or {})

    def start(self, events: Mapping[str, int], marks: Mapping[int, FileMark]) -> None:
        """Give the event count of every learner with a state, and the files' marks."""
        self.events, self.marks = events, marks
        self._started.set()

    def wait(self, stopped: Callable[[], bool]) -> bool:
        """Wait for :meth:`start`; ``False`` if ``stopped()`` says the other side failed."""
        while not self._started.wait(self.POLL):
            if stopped():
                return False
        return True

    def settle(self, entry: UpToDate | ToPlan | Pending) -> UpToDate | ToPlan:
        """Return what a :class:`Pending` entry is, now that the context is known."""
        if not isinstance(entry, Pending):
            return entry
        if entry.context == self.context:
            return entry.known
        return ToPlan(user=LegacyUser.from_api(entry.item), key=entry.key, digest=entry.digest)

    def sort_later(self, early: list[Unsorted], stopped: Callable[[], bool]
                   ) -> list[UpToDate | ToPlan | Pending] | None:
        """Sort the users read before :meth:`start` (``None``: the other side failed)."""
        if not early:
            return []
        if not self.wait(stopped):
            return None
        sorted_ = (self(unsorted.item, None) for unsorted in early)
        return [entry for entry in sorted_ if entry is not None and
                not isinstance(entry, Unsorted)]

    def __call__(self, item: Mapping[str, Any], _page: object
                 ) -> UpToDate | ToPlan | Pending | Unsorted | None:
        """Sort one raw item of a page (see the class)."""
        user_id, mail, name, extended = (item.get("id"), item.get("mail"), item.get("name"),
                                         item.get("extendedData"))
        if not (type(user_id) is int and user_id > 0 and _text(mail) and _text(name)
                and (extended is None or type(extended) is dict) and item.keys() <= _KEYS):
            user = LegacyUser.from_api(item)  # refused as ever (the endpoint named), or read
            return self._typed(user) if self._started.is_set() else Unsorted(item)
        if not self._started.is_set():  # the ledger is still being read: sorted later
            return Unsorted(item)
        key = match_key(mail)
        if key is None or key not in self.events:
            return None
        value = extended.get(self.codes.field) if extended else None
        digest = file_digest(key, self.events[key], value)
        mark = self.marks.get(user_id)
        context = self.context  # read once: the other side of the sweep sets it meanwhile
        if digest is None or mark is None or mark.digest != digest or (
                context is not None and mark.context != context):
            return ToPlan(user=LegacyUser.from_api(item), key=key, digest=digest)
        line = SyncItem(employee_id=str(user_id), name=name or "", email=mail or "",
                        outcome=SyncOutcome.UNCHANGED)
        known = UpToDate(key=key, holding=mark.holding, line=line)
        if context is None:  # the trainings are still being read: kept to settle
            return Pending(known=known, context=mark.context, item=item, digest=digest)
        return known

    def _typed(self, user: LegacyUser) -> ToPlan | None:
        key = match_key(user.mail)
        if key is None or key not in self.events:
            return None
        return ToPlan(user=user, key=key, digest=None)


@attrs.frozen(kw_only=True)
class Marking:
    """What a run needs to mark the files it found up to date or wrote.

    Attributes:
        context: the run's context digest (``None``: this run marks nothing).
        events: the ledger's event count per learner key, read before anything else.
        digests: each planned file's digest, by Lucca user id (``None``: no mark).
    """

    context: str | None
    events: Mapping[str, int]
    digests: Mapping[int, str | None]

    def mark(self, user_id: int, holding: bool) -> FileMark | None:
        """Return the mark of a planned file found up to date (``None``: not markable)."""
        digest = self.digests.get(user_id)
        if self.context is None or digest is None:
            return None
        return FileMark(self.context, digest, holding)

    def written(self, file: FilePlan, done: TrainingRecordsWrite) -> FileMark | None:
        """Return the mark of a file just written, from the field as Lucca answered it.

        Only when the answer holds the field, with exactly the occurrences planned: an
        answer without it, or holding something else (another publisher wrote meanwhile,
        or Lucca did not store what it was sent), leaves the file to be planned again.
        """
        key = match_key(file.email)
        if self.context is None or key is None or key not in self.events or (
                done.field_value is None or count_records(item.record for item in done.records)
                != count_records(file.desired)):
            return None
        digest = file_digest(key, self.events[key], done.field_value)
        return None if digest is None else FileMark(self.context, digest, bool(file.desired))

    def found(self, unchanged: list[FilePlan]) -> dict[int, FileMark]:
        """Return the marks of the planned files found up to date (those that have one)."""
        marks = {file.user_id: self.mark(file.user_id, bool(file.current))
                 for file in unchanged}
        return {user: mark for user, mark in marks.items() if mark is not None}


def remember(store: PublishedFiles, marks: dict[int, FileMark]) -> None:
    """Keep the marks; a failure to keep them is logged, never the run's (only a shortcut)."""
    try:
        store.remember(marks)
    except Exception as error:  # whatever the database says, the report stands
        _log.warning("the marks of %d file(s) could not be kept (%s): the next publish plans "
                     "them again", len(marks), type(error).__name__)


def _text(value: Any) -> bool:
    return value is None or type(value) is str
