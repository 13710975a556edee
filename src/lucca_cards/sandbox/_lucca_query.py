"""The Lucca API's query parameters: lists, ``limit``, ``page`` cursors, ``include``.

Parameters are read one by one; every invalid one is recorded, and
:meth:`Query.raise_errors` refuses the request with a 400 problem listing them all
(``errors`` keyed by parameter name, as in the spec's 400 example).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from werkzeug.datastructures import MultiDict

INCLUDES = ("embedded", "links", "totalCount")
DEFAULT_LIMIT, MAX_LIMIT, MAX_VALUES = 25, 100, 100


class ProblemError(Exception):
    """A request the Lucca API refuses; rendered as ``application/problem+json``."""

    def __init__(self, status: int, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


class Query:
    """A request's query string, read parameter by parameter; errors are collected."""

    def __init__(self, args: MultiDict[str, str]) -> None:
        self.args = args
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        """Record one invalid parameter."""
        self.errors.setdefault(name, []).append(message)

    def raise_errors(self) -> None:
        """Raise a 400 problem listing every invalid parameter, if any."""
        if self.errors:
            raise ProblemError(400, "Invalid query parameters.", self.errors)

    def values(self, name: str) -> list[str] | None:
        """Return a list parameter (comma-separated and/or repeated); ``None`` when absent."""
        raw = self.args.getlist(name)
        if not raw:
            return None
        items = [item for value in raw for item in value.split(",")]
        if any(not item for item in items):
            self.fail(name, "Empty value in the list.")
        if len(items) > MAX_VALUES:
            self.fail(name, f"At most {MAX_VALUES} values.")
        return [item for item in items if item]

    def choices(self, name: str, allowed: Iterable[str]) -> list[str] | None:
        """Return a list parameter whose values must all be in ``allowed``."""
        items, allowed = self.values(name), tuple(allowed)
        bad = [item for item in items or () if item not in allowed]
        if bad:
            self.fail(name, f"Unexpected values {bad}; expected some of {list(allowed)}.")
        return items

    def single(self, name: str) -> str | None:
        """Return a parameter that may appear at most once."""
        raw = self.args.getlist(name)
        if len(raw) > 1 or (raw and "," in raw[0]):
            self.fail(name, "A single value is expected.")
        return raw[0] if raw else None

    def limit(self) -> int:
        """Return ``limit`` (default 25, 0 to 100)."""
        raw = self.single("limit")
        if raw is None:
            return DEFAULT_LIMIT
        if not re.fullmatch(r"\d+", raw) or int(raw) > MAX_LIMIT:
            self.fail("limit", f"An integer from 0 to {MAX_LIMIT} is expected.")
            return DEFAULT_LIMIT
        return int(raw)

    def offset(self, limit: int) -> int:
        """Return the offset of ``page``: a cursor minted here, or a 1-based page number."""
        raw = self.single("page")
        if raw is None:
            return 0
        if re.fullmatch(r"[1-9]\d*", raw):
            return (int(raw) - 1) * limit
        offset = _read_cursor(raw)
        if offset is None:
            self.fail("page", "Unknown page cursor.")
            return 0
        return offset

    def includes(self) -> set[str]:
        """Return the ``include`` values."""
        return set(self.choices("include", INCLUDES) or ())


def cursor(offset: int) -> str:
    """Mint the opaque ``page`` cursor of ``offset``."""
    return "!" + base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _read_cursor(text: str) -> int | None:
    if not text.startswith("!"):
        return None
    code = text[1:]
    try:
        decoded = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if re.fullmatch(r"\d+", decoded) else None
