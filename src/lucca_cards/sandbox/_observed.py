"""A version number of the sandbox's records, moved by every change, however it is made.

The fakes keep the filtered, ordered lists they page through (:mod:`._list_cache`) for as
long as :func:`data_version` stays the same. Changes come through the APIs, the HR
administrator's methods, the generator, and also straight from tests and notebooks
(``sandbox.company.lucca.employees[7].email = …``, ``user.group_ids.append(…)``): so the
records themselves report them. An :class:`Observed` record moves the version on every
attribute it sets, and holds its dictionaries and lists as :class:`ObservedDict` and
:class:`ObservedList`, which move it on every change of their own.

Only the first level is watched: a change deep inside a stored value (an item of an
extended-data occurrence) moves nothing, so lists filtered on such values are never kept.
The version is one per process: a change to one company forgets the lists of every
sandbox, which costs one rescan and keeps this cheap and safe across threads.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

# next() on a count is atomic: two changes never take the same number.
_numbers = itertools.count(1)
_version = 0
_SET = object.__setattr__


def data_version() -> int:
    """Return the current version; it differs after any change to an observed record."""
    return _version


def changed() -> None:
    """Move the version (after a change: a list built before it is then rebuilt)."""
    global _version
    _version = next(_numbers)


def observed(value: Any) -> Any:
    """Return ``value``, a plain ``dict`` or ``list`` copied into an observed one."""
    if type(value) is dict:
        return ObservedDict(value)
    if type(value) is list:
        return ObservedList(value)
    return value


class Observed:
    """A record that moves the version on every attribute it sets, ``__init__``'s too.

    It holds its ``dict`` and ``list`` values as observed ones (copies of those given).
    """

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        # Inlined (no observed(), no changed()): generating a company sets millions.
        global _version
        kind = type(value)
        if kind is dict:
            value = ObservedDict(value)
        elif kind is list:
            value = ObservedList(value)
        _SET(self, name, value)
        _version = next(_numbers)


class ObservedDict(dict[K, V]):
    """A ``dict`` that moves the version on every change (its changing methods: below)."""


class ObservedList(list[T]):
    """A ``list`` that moves the version on every change (its changing methods: below)."""


def _changing(method: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``method`` moving the version once it has run (even if it raised)."""

    @functools.wraps(method)
    def change(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            changed()

    return change


# Set on the classes afterwards: the same override for each, and the types stay dict's
# and list's own.
for _name in ("__setitem__", "__delitem__", "__ior__", "pop", "popitem", "setdefault",
              "update", "clear"):
    setattr(ObservedDict, _name, _changing(getattr(dict, _name)))
for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
              "insert", "pop", "remove", "clear", "sort", "reverse"):
    setattr(ObservedList, _name, _changing(getattr(list, _name)))
