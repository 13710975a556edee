"""The kinds of hostile answer, each a function of the operation under attack.

A kind builds the :data:`~hostile_server.Answer` that replaces the server's honest one and
says what the client must do with it: raise one of the library's own errors (``ERROR``)
or return the correct result (``OK``). Generic kinds apply to every operation; shape kinds
only to the operations of one paging or body dialect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hostile_server import Answer, Seen, Wire, answer_with, response

ERROR, OK, EITHER = "error", "ok", "either"


@dataclass(frozen=True)
class Scene:
    """What a kind may use: the operation's honest answer and where 'elsewhere' is."""

    honest: Callable[[Seen], tuple[int, Any]]
    write: bool
    dialect: str
    here: str
    evil: str


@dataclass(frozen=True)
class Kind:
    """One hostile answer: its name, how to build it, what the client must do."""

    name: str
    build: Callable[[Scene], Answer]
    expect: Callable[[Scene], str] = lambda scene: ERROR
    dialects: frozenset[str] | None = None


def _echo(status: int, **headers: str) -> Callable[[Scene], Answer]:
    """An error whose body echoes the whole request: headers, form body, query."""
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            echoed = seen.echo()
            body = {"message": echoed, "title": echoed, "errors": {"echo": [echoed]},
                    "Message": echoed, "error_description": echoed}
            wire.write(response(status, body, reason=echoed[:60].replace("\r", " ")
                                .replace("\n", " "), headers={"X-Request-Id": echoed[:80],
                                                               **headers}))
        return answer
    return build


def _fixed(status: int, body: Any = b"", **options: Any) -> Callable[[Scene], Answer]:
    return lambda scene: answer_with(status, body, **options)


def _raw(data: bytes) -> Callable[[Scene], Answer]:
    return lambda scene: lambda seen, wire: wire.write(data)


def _honest_then(change: Callable[[Any], Any]) -> Callable[[Scene], Answer]:
    """The honest answer with its JSON changed by ``change``."""
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            status, body = scene.honest(seen)
            wire.write(response(status, change(body)))
        return answer
    return build


def _honest_status(status: int) -> Callable[[Scene], Answer]:
    """The honest body under another status."""
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            wire.write(response(status, scene.honest(seen)[1] or b""))
        return answer
    return build


def _honest_bytes(encode: Callable[[bytes], bytes], **headers: str) -> Callable[[Scene], Answer]:
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            status, body = scene.honest(seen)
            data = b"" if body is None else json.dumps(body).encode()
            wire.write(response(status, encode(data), headers=headers))
        return answer
    return build


def _redirect(status: int, where: Callable[[Scene], str | None]) -> Callable[[Scene], Answer]:
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            target = where(scene)
            headers = {} if target is None else {"Location": target.replace(
                "{path}", seen.path)}
            wire.write(response(status, b"", headers=headers))
        return answer
    return build


def _same_origin_once(scene: Scene) -> Answer:
    """Redirect a request once to the same path with ``moved=1``; then answer honestly."""
    def answer(seen: Seen, wire: Wire) -> None:
        if "moved=1" in seen.path:
            status, body = scene.honest(seen)
            wire.write(response(status, b"" if body is None else body))
            return
        joiner = "&" if "?" in seen.path else "?"
        wire.write(response(307, b"", headers={"Location": f"{seen.path}{joiner}moved=1"}))
    return answer


def _drip(head: bool) -> Callable[[Scene], Answer]:
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            data = response(200, {"data": [], "items": []} if not head else {},
                            headers={"Content-Length": "100000"})
            if head:
                wire.drip(data)
            else:
                head_end = data.index(b"\r\n\r\n") + 4
                wire.write(data[:head_end])
                wire.drip(b" " * 100000)
        return answer
    return build


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _write_ok_get_error(scene: Scene) -> str:
    return ERROR if scene.write else OK


def _ok_for_bodyless(scene: Scene) -> str:
    # A DELETE reads no body: any 2xx is its success, whatever the body holds.
    return OK if scene.dialect == "cards-delete" else ERROR


GENERIC: list[Kind] = [
    *(Kind(f"status {s} echoing the request", _echo(s))
      for s in (400, 401, 403, 404, 405, 409, 410, 418, 422, 500, 502, 503, 504, 599)),
    Kind("429 with Retry-After garbage", _echo(429, **{"Retry-After": "soon-ish"})),
    Kind("429 with Retry-After of a year", _echo(429, **{"Retry-After": "31536000"})),
    Kind("429 with a negative Retry-After", _echo(429, **{"Retry-After": "-5"})),
    Kind("429 with Retry-After NaN", _echo(429, **{"Retry-After": "nan"})),
    Kind("429 with an HTTP date in -0000", _echo(429, **{
        "Retry-After": "Wed, 25 Nov 2026 10:00:30 -0000", "Date": "garbage"})),
    Kind("429 with a naive date and a broken Date", _echo(429, **{
        "Retry-After": "25 Nov 2026 10:00:30", "Date": "Wed, 99 Nov 2026 99:00:00 GMT"})),
    Kind("status 600", _fixed(600, {"ok": True})),
    Kind("status 999", _fixed(999, {"ok": True})),
    Kind("status 102 as the final answer", _fixed(102, {"ok": True})),
    Kind("status 299 with the honest body", _honest_status(299), expect=lambda scene: OK),
    Kind("301 to another host", _redirect(301, lambda s: s.evil + "{path}")),
    Kind("302 to another host", _redirect(302, lambda s: s.evil + "{path}")),
    Kind("307 to another host", _redirect(307, lambda s: s.evil + "{path}")),
    Kind("308 to another host", _redirect(308, lambda s: s.evil + "{path}")),
    Kind("307 to another scheme", _redirect(307, lambda s: s.here.replace(
        "http://", "https://") + "{path}")),
    Kind("302 with credentials in the target", _redirect(302, lambda s: s.here.replace(
        "http://", "http://user:pass@") + "{path}")),
    Kind("302 scheme-relative to another host", _redirect(302, lambda s: s.evil.replace(
        "http:", "") + "{path}")),
    Kind("303 without a Location", _redirect(303, lambda s: None)),
    Kind("304 Not Modified", _fixed(304)),
    Kind("302 to itself for ever", _redirect(302, lambda s: "{path}")),
    Kind("307 once on the same origin", _same_origin_once, expect=_write_ok_get_error),
    Kind("an HTML page", _fixed(200, "<html><body>Sign in</body></html>",
                               headers={"Content-Type": "text/html"}), expect=_ok_for_bodyless),
    Kind("invalid UTF-8", _fixed(200, b'{"items": ["\xff\xfe\xfa"]}'), expect=_ok_for_bodyless),
    Kind("JSON nested 100 000 deep", _fixed(200, _deep(100_000)), expect=_ok_for_bodyless),
    Kind("JSON nested 990 deep", _fixed(200, _deep(990)), expect=_ok_for_bodyless),
    Kind("a NaN literal", _fixed(200, b'{"data": NaN, "items": NaN}'), expect=_ok_for_bodyless),
    Kind("truncated JSON", _fixed(200, b'{"data": [{"id": "1"'), expect=_ok_for_bodyless),
    Kind("an empty 200", _fixed(200, b""), expect=_ok_for_bodyless),
    Kind("a JSON list", _fixed(200, [1, 2, 3]), expect=_ok_for_bodyless),
    Kind("a JSON string", _fixed(200, "\"hello\""), expect=_ok_for_bodyless),
    Kind("JSON null", _fixed(200, b"null"), expect=_ok_for_bodyless),
    Kind("a 10 TB Content-Length", _raw(response(200, b"{}", headers={
        "Content-Length": str(10 ** 13)}))),
    Kind("a 2 MiB body", _fixed(200, b" " * (2 * 1024 * 1024) + b"{}")),
    Kind("a 2 MiB body without a length", _raw(response(200, b" " * (2 * 1024 * 1024),
                                                        length=False))),
    Kind("gzip that is not gzip", _raw(response(200, b"not gzip at all", headers={
        "Content-Encoding": "gzip"}))),
    Kind("the honest body behind a BOM", _honest_bytes(lambda data: b"\xef\xbb\xbf" + data),
         expect=lambda scene: OK),
    Kind("a garbage status line", _raw(b"HELLO THERE\r\n\r\n{}")),
    Kind("a status line without a code", _raw(b"HTTP/1.1 OK\r\n\r\n")),
    Kind("a reset before answering", lambda scene: lambda seen, wire: wire.reset()),
    Kind("a close without answering", lambda scene: lambda seen, wire: None),
    Kind("a close in the middle of the body", _raw(response(200, b"{}", headers={
        "Content-Length": "5000"}))),
    Kind("broken chunked encoding", _raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                                         b"\r\n\r\nzz\r\nnot a chunk\r\n")),
    Kind("150 headers", _raw(b"HTTP/1.1 200 OK\r\n" + b"".join(
        f"X-H{i}: {i}\r\n".encode() for i in range(150)) + b"Content-Length: 2\r\n\r\n{}")),
    Kind("a 70 000-byte header line", _raw(b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000
                                           + b"\r\nContent-Length: 2\r\n\r\n{}")),
    Kind("two different Content-Lengths", _raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                               b"Content-Length: 9\r\n\r\n{}"),
         expect=lambda scene: EITHER),
    Kind("a body dripped a byte at a time", _drip(head=False)),
    Kind("headers dripped a byte at a time", _drip(head=True)),
]


def _set(path: str, value: Any) -> Callable[[Any], Any]:
    """Replace the value at ``path`` ("a.b.0.c") of the honest body."""
    def change(body: Any) -> Any:
        body = json.loads(json.dumps(body))
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return body
    return change


def _drop(path: str) -> Callable[[Any], Any]:
    """Remove the key at ``path`` ("a.b.0.c") of the honest body."""
    def change(body: Any) -> Any:
        body = json.loads(json.dumps(body))
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]
        return body
    return change


def _shape(name: str, dialects: set[str], path: str, value: Any) -> Kind:
    return Kind(name, _honest_then(_set(path, value)), dialects=frozenset(dialects))


def _missing(name: str, dialects: set[str], path: str) -> Kind:
    return Kind(name, _honest_then(_drop(path)), dialects=frozenset(dialects))


def _loop(scene: Scene) -> Answer:
    """A next link that points to the page just served."""
    def answer(seen: Seen, wire: Wire) -> None:
        status, body = scene.honest(seen)
        body["links"] = {"next": {"href": scene.here + seen.path}}
        wire.write(response(status, body))
    return answer


def _endless(scene: Scene) -> Answer:
    """Empty pages, each pointing to a new cursor."""
    def answer(seen: Seen, wire: Wire) -> None:
        cursor = len(seen.path)
        body = {"items": [], "links": {"next": {"href": f"{scene.here}/lucca-api/employees"
                                                        f"?page=c{cursor}x"}}}
        wire.write(response(200, body))
    return answer


def _same_page(item: Callable[[int], dict[str, Any]]) -> Callable[[Scene], Answer]:
    """A legacy API that answers the same full page (of ``item(n)``) whatever the offset."""
    def build(scene: Scene) -> Answer:
        def answer(seen: Seen, wire: Wire) -> None:
            limit = int(seen.path.split("paging=")[1].split("%2C")[1].split("&")[0])
            items = [item(n) for n in range(limit)]
            wire.write(response(200, {"header": {}, "data": {"items": items}}))
        return answer
    return build


LUCCA_LIST = {"lucca-list"}
EMPLOYEES = {"employees"}
EMPLOYEE = {"employee"}
CARDS_USERS = {"cards-users"}
CARDS_USER = {"cards-user"}
LUCCA_ONE = {"lucca-one"}
LEGACY_LIST = {"legacy-list"}
LEGACY_ONE = {"legacy-one"}
CARDS_LIST = {"cards-list"}
DEFINITIONS = {"legacy-definitions"}
DEFINITION = {"legacy-definition"}
CARDS_ONE = {"cards-one"}

SHAPES: list[Kind] = [
    _shape("items as an object", LUCCA_LIST, "items", {"a": 1}),
    _shape("items as a string", LUCCA_LIST, "items", "abc"),
    _shape("an item as a string", LUCCA_LIST, "items.0", "abc"),
    _shape("an id as an object", LUCCA_LIST, "items.0.id", {"x": 1}),
    _shape("an id as a list", LUCCA_LIST, "items.0.id", [1]),
    _shape("an id as a boolean", LUCCA_LIST, "items.0.id", True),
    _shape("links as a list", LUCCA_LIST, "links", [1]),
    _shape("links as a string", LUCCA_LIST, "links", "next"),
    _shape("links.next as a string", LUCCA_LIST, "links.next", "/lucca-api/employees"),
    _shape("links.next.href as a number", LUCCA_LIST, "links.next", {"href": 3}),
    _shape("links.next to another host", LUCCA_LIST, "links.next", {
        "href": "http://127.0.0.2:9/lucca-api/employees?page=2"}),
    _shape("embedded as a list", LUCCA_LIST, "embedded", [1]),
    _shape("embedded job positions as a string", EMPLOYEES, "embedded.job-position", "x"),
    _shape("an embedded job position as a list", EMPLOYEES, "embedded.job-position.7", [1]),
    _shape("a department as a string", EMPLOYEES, "embedded.job-position.7.department", "3"),
    _shape("a job title as a list", EMPLOYEES, "embedded.job-position.7.jobTitle", ["Dev"]),
    _shape("a date that is not one", EMPLOYEES, "items.0.createdAt", "yesterday"),
    _shape("a name as an object", EMPLOYEES, "items.0.givenName", {"first": "A"}),
    Kind("a next link to the same page", _loop, dialects=frozenset(LUCCA_LIST)),
    Kind("empty pages for ever", _endless, dialects=frozenset(LUCCA_LIST)),
    _shape("an id as an object", LUCCA_ONE, "id", {"x": 1}),
    _shape("embedded as a string", LUCCA_ONE, "embedded", "x"),
    _shape("a date that is not one", EMPLOYEE, "createdAt", 12),
    _shape("data as a list", LEGACY_LIST, "data", [1]),
    _shape("data.items as an object", LEGACY_LIST, "data.items", {"a": 1}),
    _shape("a user id as text", LEGACY_LIST, "data.items.0.id", "five"),
    _shape("extendedData as a list", LEGACY_LIST, "data.items.0.extendedData", [1]),
    Kind("the same full page at every offset",
         _same_page(lambda n: {"id": n + 1, "mail": f"u{n}@x.fr"}),
         dialects=frozenset(LEGACY_LIST)),
    _shape("data as a string", LEGACY_ONE, "data", "x"),
    _shape("an id as an object", LEGACY_ONE, "data.id", {"x": 1}),
    _shape("extendedData as a string", LEGACY_ONE, "data.extendedData", "x"),
    _shape("data as a list", DEFINITIONS, "data", [1]),
    _shape("data as null", DEFINITIONS, "data", None),
    _shape("data.items as an object", DEFINITIONS, "data.items", {"a": 1}),
    _missing("no data.items", DEFINITIONS, "data.items"),
    _shape("a definition as a string", DEFINITIONS, "data.items.0", "e_formation"),
    _shape("a definition id as text", DEFINITIONS, "data.items.0.id", "five"),
    _missing("a definition without its id", DEFINITIONS, "data.items.0.id"),
    _missing("a definition without its code", DEFINITIONS, "data.items.0.name"),
    _shape("a code as an object", DEFINITIONS, "data.items.0.name", {"code": "e_formation"}),
    _shape("isMultiple as 'maybe'", DEFINITIONS, "data.items.0.isMultiple", "maybe"),
    _shape("parentName as a list", DEFINITIONS, "data.items.1.parentName", ["e_formation"]),
    _shape("list entries as a string", DEFINITIONS,
           "data.items.0.extensionUserPropertyListEntries", "none"),
    _shape("a list entry without its id", DEFINITIONS,
           "data.items.0.extensionUserPropertyListEntries", [{"name": "Oui"}]),
    _shape("1001 definitions for a page of 1000", DEFINITIONS, "data.items",
           [{"id": n + 1, "name": f"e_f{n}"} for n in range(1001)]),
    Kind("the same full page of definitions at every offset",
         _same_page(lambda n: {"id": n + 1, "name": f"e_f{n}"}),
         dialects=frozenset(DEFINITIONS)),
    _shape("data as a string", DEFINITION, "data", "e_formation"),
    _shape("an id as an object", DEFINITION, "data.id", {"x": 1}),
    _missing("no code", DEFINITION, "data.name"),
    _shape("isMultiple as 2", DEFINITION, "data.isMultiple", 2),
    _shape("formatKey as an object", DEFINITION, "data.formatKey", {"key": "compound"}),
    _shape("list entries as an object", DEFINITION,
           "data.extensionUserPropertyListEntries", {"id": 1}),
    _shape("meta as a list", CARDS_LIST, "meta", [1]),
    _shape("last_page of a trillion", CARDS_LIST, "meta.last_page", 10 ** 12),
    _shape("last_page as text", CARDS_LIST, "meta.last_page", "2"),
    _shape("last_page zero", CARDS_LIST, "meta.last_page", 0),
    _shape("last_page true", CARDS_LIST, "meta.last_page", True),
    _shape("current_page not the one asked", CARDS_LIST, "meta.current_page", 7),
    _shape("last_page against total", CARDS_LIST, "meta.last_page", 40),
    _shape("data as an object", CARDS_LIST, "data", {"a": 1}),
    _shape("an item's groups as a string", CARDS_USERS, "data.0.groups", "RPS"),
    _shape("a flag as 'maybe'", CARDS_USERS, "data.0.enable_ranking", "maybe"),
    _shape("an id as an object", CARDS_ONE, "data.id", {"x": 1}),
    _shape("groups as an object", CARDS_USER, "data.groups", {"id": "g"}),
]
