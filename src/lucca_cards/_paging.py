"""The three paging dialects, behind one lazy, auto-paging iterator.

* Lucca API: an opaque cursor; follow ``links.next.href`` until it is ``null`` (a short
  page is *not* the end). Needs ``include=links``.
* Legacy API: ``paging=offset,limit``; the end is a page shorter than the limit.
* Cards API: ``page`` and ``paginate``; the end is ``meta.last_page``. The server's links
  drop the other parameters, so the client builds every request itself.

Every dialect ends: paging that does not advance (a ``next`` link seen before, a page of
users already listed, a ``current_page`` that is not the one asked for, an absurd
``last_page``) stops with :class:`~lucca_cards.errors.UnexpectedResponseError`, and no
listing reads more than :data:`MAX_PAGES` pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Generic, TypeGuard, TypeVar
from urllib.parse import parse_qsl, urlsplit

import attrs

from ._http import Params, Transport
from ._models import json_kind
from ._read_ahead import read_ahead
from .errors import UnexpectedResponseError

T = TypeVar("T")
U = TypeVar("U")

#: The most pages one listing reads (a million Lucca employees at 100 a page).
MAX_PAGES = 10_000
#: Empty Lucca pages in a row that still point to a next one before the listing stops.
MAX_EMPTY_PAGES = 10


@attrs.frozen
class RawPage:
    """One page as the server sent it: its items, and the whole body for context.

    ``transport`` and ``url`` say where it came from, so that an item the models refuse
    is reported with its endpoint.
    """

    items: list[Mapping[str, Any]]
    body: Mapping[str, Any]
    transport: Transport | None = attrs.field(default=None, eq=False, repr=False)
    url: str = ""

    def parse(self, parse: Callable[[Mapping[str, Any], RawPage], T]) -> list[T]:
        """Build every item with ``parse``; a refused item names the endpoint."""
        if self.transport is None:
            return [parse(item, self) for item in self.items]
        return self.transport.parse("GET", self.url, lambda: [parse(i, self) for i in self.items])


PageFetcher = Callable[[], Iterator[RawPage]]


class Pager(Generic[T]):
    """A lazy iterator over every item of a paged collection; pages load as you go.

    Nothing is requested until you iterate. Iterate it once for items, or call
    :meth:`pages` for one list per page.

    >>> for employee in lucca.employees.list(status=["active"]):  # doctest: +SKIP
    ...     print(employee.email)
    """

    def __init__(self, fetch: PageFetcher, parse: Callable[[Mapping[str, Any], RawPage], T],
                 *, ahead: bool = False):
        self._fetch = fetch
        self._parse = parse
        self._ahead = ahead

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[list[T]]:
        """Yield the items one page at a time (one request per page)."""
        fetched = read_ahead(self._fetch()) if self._ahead else self._fetch()
        for raw in fetched:
            yield raw.parse(self._parse)

    def ahead(self) -> Pager[T]:
        """Return the same listing, each page read while the items of the last are built.

        For a sweep whose pages are big (see :mod:`lucca_cards._read_ahead`): a worker
        thread reads one page ahead, never more, and a whole sweep makes the same calls.
        Not for a listing you mean to stop early, such as :meth:`first`: the page read
        ahead would be one call too many (as it is when a sweep stops on a failure).
        """
        return Pager(self._fetch, self._parse, ahead=True)

    def first(self) -> T | None:
        """Return the first item, or ``None``; requests only the first page."""
        return next(iter(self), None)

    def parsed_by(self, parse: Callable[[Mapping[str, Any], RawPage], U]) -> Pager[U]:
        """Return the same listing, its items built by ``parse`` instead."""
        return Pager(self._fetch, parse, ahead=self._ahead)


def lucca_cursor_pages(transport: Transport, path: str, params: Params) -> Iterator[RawPage]:
    """Follow the Lucca API's ``links.next.href`` until it is ``null``."""
    reader = _Reader(transport, path, None)
    url: str = path
    query: Params | None = params
    seen = {_request_key(transport.url_for(path), params)}
    empty = 0
    for _ in range(MAX_PAGES):
        body = reader.get(url, query)
        items = reader.items(body.get("items"), "items")
        if body.get("embedded") is not None and not isinstance(body["embedded"], Mapping):
            raise reader.wrong("embedded", "an object", body["embedded"])
        yield RawPage(items, body, transport, url)
        href = reader.next_href(body)
        if href is None:
            return
        key = _request_key(transport.url_for(href), None)
        empty = empty + 1 if not items else 0
        if key in seen or empty >= MAX_EMPTY_PAGES:
            why = "points back to a page already read" if key in seen else (
                f"has given {empty} empty pages in a row")
            raise reader.stuck(f"the next link {why}; the listing stopped there")
        # The href carries every parameter (cursor, limit, include, filters): use it as is.
        seen.add(key)
        url, query = href, None
    raise reader.stuck(f"gave more than {MAX_PAGES} pages; the listing stopped there")


def legacy_offset_pages(
    transport: Transport, path: str, params: Params, *, limit: int = 1000
) -> Iterator[RawPage]:
    """Page with ``paging=offset,limit`` until a page comes back shorter than ``limit``."""
    reader = _Reader(transport, path, None)
    seen: set[Hashable] = set()
    for number in range(MAX_PAGES):
        offset = number * limit
        body = reader.get(path, {**params, "paging": f"{offset},{limit}"})
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise reader.wrong("data", "an object holding the items", data)
        items = reader.items(data.get("items"), "data.items")
        if len(items) > limit:
            raise reader.stuck(f"answered {len(items)} users for a page of {limit}")
        ids = {_hashable(item.get("id")) for item in items if isinstance(item, Mapping)}
        if ids and ids <= seen:
            raise reader.stuck(f"answered, at offset {offset}, only users it had already "
                               "listed: offset paging does not advance")
        seen |= ids
        yield RawPage(items, body, transport, path)
        if len(items) < limit:
            return
    raise reader.stuck(f"gave more than {MAX_PAGES} full pages; the listing stopped there")


def cards_numbered_pages(
    transport: Transport,
    path: str,
    params: Params,
    *,
    per_page: int = 500,
    hints: Mapping[int, str] | None = None,
    start: int = 1,
) -> Iterator[RawPage]:
    """Request ``page`` ``start``, ``start + 1``, … (``paginate=per_page``) to ``meta.last_page``.

    ``hints`` replace the advice of a top-level collection (a 404 there means a wrong base
    URL), e.g. for the badges of one user, where a 404 means an unknown user. A later
    ``start`` reads again the pages of an earlier sweep (the memberships of the accounts
    a department import is about to write).
    """
    reader = _Reader(transport, path, hints)
    page = start
    while True:
        body = reader.get(path, {**params, "page": page, "paginate": per_page})
        items = reader.items(body.get("data"), "data")
        last = _last_page(reader, body.get("meta"), page, per_page)
        yield RawPage(items, body, transport, path)
        if last is None or page >= last:
            return
        if not items:
            raise reader.stuck(f"answered an empty page {page} although meta.last_page is "
                               f"{last}")
        page += 1


def _last_page(reader: _Reader, meta: Any, page: int, per_page: int) -> int | None:
    """Read ``meta`` and check it is coherent; ``None`` when there is no meta (one page)."""
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        raise reader.wrong("meta", "an object", meta)
    last, current = meta.get("last_page"), meta.get("current_page")
    if not isinstance(last, int) or isinstance(last, bool) or not 1 <= last <= MAX_PAGES:
        raise reader.wrong("meta.last_page", f"a whole number from 1 to {MAX_PAGES}", last)
    if current is not None and current != page:
        raise reader.stuck(f"answered page {current!r} when asked for page {page}")
    total, size = meta.get("total"), meta.get("per_page", per_page)
    if _whole(total) and _whole(size) and size > 0:
        expected = max(math.ceil(total / size), 1)
        if last != expected:
            raise reader.stuck(f"says meta.last_page is {last} for {total} items at {size} a "
                               f"page (expected {expected})")
    return last


class _Reader:
    """Reads one listing's pages and words what is wrong with them."""

    def __init__(self, transport: Transport, path: str, hints: Mapping[int, str] | None) -> None:
        self.transport, self.path = transport, path
        self._hints = transport.collection_hints(path) if hints is None else hints

    def get(self, url: str, query: Params | None) -> Mapping[str, Any]:
        body = self.transport.request_json("GET", url, params=query, hints=self._hints)
        if not isinstance(body, Mapping):
            raise self.wrong("the answer", "a JSON object", body)
        return body

    def items(self, items: Any, where: str) -> list[Mapping[str, Any]]:
        if not isinstance(items, list):
            raise self.wrong(where, "a list of items", items)
        return items

    def next_href(self, body: Mapping[str, Any]) -> str | None:
        links = body.get("links")
        if links is None:
            return None
        if not isinstance(links, Mapping):
            raise self.wrong("links", "an object", links)
        following = links.get("next")
        if following is None:
            return None
        if not isinstance(following, Mapping) or not isinstance(following.get("href"), str):
            raise self.wrong("links.next", "null or an object with an href string", following)
        return str(following["href"])

    def wrong(self, where: str, wanted: str, got: Any) -> UnexpectedResponseError:
        return self.transport.unexpected(
            "GET", self.path, f"answered with {where} as {json_kind(got)}, not {wanted}")

    def stuck(self, problem: str) -> UnexpectedResponseError:
        return self.transport.unexpected(
            "GET", self.path, problem, hint="retry later; if it persists, report it to the "
            "API's support with the request id")


def _request_key(url: str, params: Params | None) -> Hashable:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in (params or {}).items() if v is not None]
    return parts.path, tuple(sorted(query))


def _hashable(value: Any) -> Hashable:
    return value if isinstance(value, (str, int, float, type(None))) else repr(value)


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

