"""The three paging dialects, behind one lazy, auto-paging iterator.

* Lucca API: an opaque cursor; follow ``links.next.href`` until it is ``null`` (a short
  page is *not* the end). Needs ``include=links``.
* Legacy API: ``paging=offset,limit``; the end is a page shorter than the limit.
* Cards API: ``page`` and ``paginate``; the end is ``meta.last_page``. The server's links
  drop the other parameters, so the client builds every request itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs

from ._http import Params, Transport
from .errors import ApiError

T = TypeVar("T")


@attrs.frozen
class RawPage:
    """One page as the server sent it: its items, and the whole body for context."""

    items: list[Mapping[str, Any]]
    body: Mapping[str, Any]


PageFetcher = Callable[[], Iterator[RawPage]]


class Pager(Generic[T]):
    """A lazy iterator over every item of a paged collection; pages load as you go.

    Nothing is requested until you iterate. Iterate it once for items, or call
    :meth:`pages` for one list per page.

    >>> for employee in lucca.employees.list(status=["active"]):  # doctest: +SKIP
    ...     print(employee.email)
    """

    def __init__(self, fetch: PageFetcher, parse: Callable[[Mapping[str, Any], RawPage], T]):
        self._fetch = fetch
        self._parse = parse

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[list[T]]:
        """Yield the items one page at a time (one request per page)."""
        for raw in self._fetch():
            yield [self._parse(item, raw) for item in raw.items]

    def first(self) -> T | None:
        """Return the first item, or ``None``; requests only the first page."""
        return next(iter(self), None)


def lucca_cursor_pages(transport: Transport, path: str, params: Params) -> Iterator[RawPage]:
    """Follow the Lucca API's ``links.next.href`` until it is ``null``."""
    url: str = path
    query: Params | None = params
    while True:
        body = _as_object(transport.request_json("GET", url, params=query), transport, url)
        yield RawPage(_items(body, body.get("items"), transport, url), body)
        following = (body.get("links") or {}).get("next")
        if not following:
            return
        # The href carries every parameter (cursor, limit, include, filters): use it as is.
        url, query = str(following["href"]), None


def legacy_offset_pages(
    transport: Transport, path: str, params: Params, *, limit: int = 1000
) -> Iterator[RawPage]:
    """Page with ``paging=offset,limit`` until a page comes back shorter than ``limit``."""
    offset = 0
    while True:
        query = {**params, "paging": f"{offset},{limit}"}
        body = _as_object(transport.request_json("GET", path, params=query), transport, path)
        data = body.get("data")
        items = _items(body, data.get("items") if isinstance(data, dict) else None, transport, path)
        yield RawPage(items, body)
        if len(items) < limit:
            return
        offset += limit


def cards_numbered_pages(
    transport: Transport, path: str, params: Params, *, per_page: int = 500
) -> Iterator[RawPage]:
    """Request ``page`` 1, 2, … with ``paginate=per_page`` until ``meta.last_page``."""
    page = 1
    while True:
        query = {**params, "page": page, "paginate": per_page}
        body = _as_object(transport.request_json("GET", path, params=query), transport, path)
        yield RawPage(_items(body, body.get("data"), transport, path), body)
        meta = body.get("meta") or {}
        last = meta.get("last_page")
        if not isinstance(last, int) or page >= last:
            return
        page += 1


def _as_object(body: Any, transport: Transport, url: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise _unexpected(transport, url, "a JSON object")
    return body


def _items(body: Mapping[str, Any], items: Any, transport: Transport, url: str) -> list[Any]:
    if not isinstance(items, list):
        raise _unexpected(transport, url, "a list of items")
    return items


def _unexpected(transport: Transport, url: str, wanted: str) -> ApiError:
    return ApiError(
        f"{transport.service}: GET {url} did not answer with {wanted}. What to do: check "
        "the base URL and the API version.",
        method="GET",
        url=transport.url_for(url),
    )
