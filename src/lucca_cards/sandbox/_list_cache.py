"""The filtered, ordered lists a fake pages through, kept while the records do not change.

Serving page *k* of a list used to filter and sort the whole company; a client sweeping
50 000 employees 100 at a time then paid that 500 times. A :class:`ListCache` keeps the
result of each recent query (its key: the resource and everything that filters or orders
it, never the page), and forgets them all as soon as :func:`~._observed.data_version`
moves. A page then costs its slice and the rendering of its own items.

>>> cache, built = ListCache(), []
>>> cache.get("k", lambda: built.append(1) or [3, 1]) == cache.get("k", lambda: [])
True
>>> len(built)
1
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ._observed import data_version

#: How many queries a fake remembers (a sweep uses one; lookups by email, a few more).
DEFAULT_SIZE = 32


class ListCache:
    """The lists of the last ``size`` queries, valid for one data version."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._lists: OrderedDict[Hashable, Sequence[Any]] = OrderedDict()
        self._version = -1
        #: How many lists were built (a miss each): what tests count.
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], Sequence[Any]]) -> Sequence[Any]:
        """Return the list of ``key``, built by ``build`` unless kept from this version.

        The version is read before building, so a change made while building (it moves
        the version after changing a record) makes the next request build again.
        """
        version = data_version()
        with self._lock:
            if version != self._version:
                self._lists.clear()
                self._version = version
            kept = self._lists.get(key)
            if kept is not None:
                self._lists.move_to_end(key)
                return kept
        made = build()
        with self._lock:
            self.builds += 1
            if self._version == version:
                self._lists[key] = made
                while len(self._lists) > self.size:
                    self._lists.popitem(last=False)
        return made
