"""Hostile JSON bodies: the fast decoder (orjson) and the standard library agree on each.

``lucca_cards._json.loads`` reads answers with orjson when it can and leaves the rest to
the standard library, whose verdict stands: what it refuses stays refused, with the
same exception (so the transport words the same error), and what it accepts is accepted
with the very same value (an integer stays an integer, however large).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import responses

from conftest import FakeClock
from lucca_cards import RateLimiter
from lucca_cards._auth import HeaderAuth
from lucca_cards._http import Transport
from lucca_cards._json import SHALLOW, loads
from lucca_cards.errors import UnexpectedResponseError

BOM = b"\xef\xbb\xbf"
DEEP = 1010  # past the standard library's limit on Python 3.11, within orjson's 1024

HOSTILE: dict[str, bytes] = {
    "NaN": b'{"a": NaN}',
    "Infinity": b"[Infinity]",
    "minus Infinity": b"-Infinity",
    "1e400 (read as inf)": b"[1e400, -1e400]",
    "integer beyond 64 bits": b'{"id": 123456789012345678901234567890}',
    "2**64": b"18446744073709551616",
    "below -2**63": b"[-9223372036854775809]",
    "integer just within 64 bits": b"[9223372036854775807, -9223372036854775808]",
    "long digits in a string": b'{"iban": "1234567890123456789012"}',
    "big float": b"[12345678901234567890.5, 0.1000000000000000055511151231257827]",
    "minus zero": b"[-0, -0.0]",
    "BOM": BOM + b'{"a": 1}',
    "two BOMs": BOM + BOM + b"{}",
    "BOM only": BOM,
    "lone surrogate": b'["\\ud800"]',
    "reversed surrogates": b'"\\udc00\\ud800"',
    "surrogate pair": b'"\\ud83d\\ude00"',
    "encoded surrogate (invalid UTF-8)": b'"\xed\xa0\x80"',
    "invalid UTF-8": b'{"a": "\xff"}',
    "truncated UTF-8": b'"\xc3"',
    "overlong UTF-8": b'"\xc0\xaf"',
    "duplicate keys": b'{"a": 1, "b": 2, "a": 3}',
    "trailing garbage": b'{"a": 1} x',
    "trailing NUL": b"{}\x00",
    "two values": b"{} {}",
    "trailing comma": b"[1,]",
    "control character": b'"a\x01b"',
    "escaped NUL": b'"\\u0000"',
    "DEL": b'"\x7f"',
    "form feed as space": b"\x0c{}",
    "no-break space": b"\xc2\xa0{}",
    "leading zero": b"01",
    "plus sign": b"+1",
    "hex": b"0x10",
    "single quotes": b"{'a': 1}",
    "whitespace only": b" \r\n\t",
    "closes what it did not open": b"1],[2",
    "closes then reopens": b'{"a": 1}]],[[{"b": 2}',
    "unclosed": b'{"a": [1, 2}',
    "nested 500": b"[" * 500 + b"]" * 500,
    "nested to the fast limit": b"[" * SHALLOW + b"]" * SHALLOW,
    "nested past the fast limit": b"[" * (SHALLOW + 1) + b"]" * (SHALLOW + 1),
    f"nested {DEEP}": b"[" * DEEP + b"]" * DEEP,
    "nested 2000 objects": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "scalar": b"  42  ",
    "string": b'"text"',
}


def stdlib(content: bytes) -> Any:
    """The verdict that stands: the standard library, strict."""
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(content.decode("utf-8-sig"), parse_constant=refuse)


def verdict(decode: Callable[[bytes], Any], content: bytes) -> tuple[str, Any]:
    """``("ok", exact value)`` or ``("refused", exception class)``."""
    try:
        value = decode(content)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        kind = type(exc)
        return "refused", (RecursionError if kind is RecursionError else
                           UnicodeDecodeError if kind is UnicodeDecodeError else ValueError)
    return "ok", exact(value)


def exact(value: Any) -> list[Any]:
    """The value as tokens, every type spelt out (``1 == 1.0`` must not hide a difference).

    Without recursion: the values here may be nested past the recursion limit.
    """
    tokens: list[Any] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            tokens.append(("dict", list(item)))
            pending.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            tokens.append(("list", len(item)))
            pending.extend(reversed(item))
        elif isinstance(item, float) and math.isnan(item):
            tokens.append(("float", "nan"))
        else:
            tokens.append((type(item).__name__, repr(item)))
    return tokens


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_decoder_gives_the_standard_librarys_verdict(content: bytes) -> None:
    expected = verdict(stdlib, content)
    assert verdict(loads, content) == expected


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_orjson_alone_never_accepts_what_the_standard_library_refuses(content: bytes) -> None:
    """The other decoder, on its own, either agrees or refuses (and is then overruled)."""
    if content.startswith(BOM):
        content = content[3:]  # as loads hands it over
    expected, fast = verdict(stdlib, content), verdict(orjson.loads, content)
    ok_here = fast[0] == "refused" or fast == expected
    beyond_64_bits = re.search(rb"[0-9]{19}", content) is not None
    deeper = content.count(b"[") + content.count(b"{") > SHALLOW
    # Where orjson alone would differ, loads does not ask it (see the first test).
    assert ok_here or beyond_64_bits or deeper


def test_nesting_the_standard_library_refuses_stays_refused_even_within_orjsons_limit() -> None:
    content = HOSTILE[f"nested {DEEP}"]
    if sys.version_info >= (3, 12):
        pytest.skip("the standard library reads this deep from 3.12 on")
    with pytest.raises(RecursionError):
        stdlib(content)
    orjson.loads(content)  # what loads must not trust
    with pytest.raises(RecursionError):
        loads(content)


@pytest.mark.parametrize(("content", "problem"), [
    (HOSTILE["NaN"], "is not JSON"),
    (HOSTILE["invalid UTF-8"], "is not UTF-8 text"),
    (HOSTILE[f"nested {DEEP}"] if sys.version_info < (3, 12) else b"[" * 100_000,
     "is JSON nested too deeply to read"),
    (HOSTILE["closes what it did not open"], "is not JSON"),
])
@responses.activate
def test_the_transport_words_a_refusal_as_before(content: bytes, problem: str) -> None:
    clock = FakeClock()
    responses.get("https://api.example/things", body=content)
    transport = Transport("https://api.example", service="Test API",
                          auth=HeaderAuth(headers={}), limiter=RateLimiter(0, clock=clock),
                          clock=clock, sleep=clock.sleep)
    with pytest.raises(UnexpectedResponseError, match=problem):
        transport.request_json("GET", "/things")


@responses.activate
def test_the_transport_reads_an_integer_beyond_64_bits_exactly() -> None:
    clock = FakeClock()
    responses.get("https://api.example/things", body=b'{"id": 123456789012345678901234567890}')
    transport = Transport("https://api.example", service="Test API",
                          auth=HeaderAuth(headers={}), limiter=RateLimiter(0, clock=clock),
                          clock=clock, sleep=clock.sleep)
    assert transport.request_json("GET", "/things") == {"id": 123456789012345678901234567890}


@pytest.mark.parametrize("content", [b'{"items": [1, 2]}', b'{"items": [1, 2'])
def test_decoding_gives_the_collector_back_as_it_found_it(content: bytes) -> None:
    # The collector is held back while orjson builds a page, never left off (an
    # application that switched it off keeps it off).
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with contextlib.suppress(ValueError):
                loads(content)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_page_decoded_leaves_no_collection_behind_it() -> None:
    # 20 000 new containers, built with the collector held back: no collection runs
    # while orjson builds them (one may run afterwards, when Python allocates again).
    body = orjson.dumps({"items": [{"id": n, "value": {"v": [n]}} for n in range(5000)]})
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(seen)
    try:
        value = loads(body)
    finally:
        gc.callbacks.remove(seen)
    assert len(value["items"]) == 5000
    assert collections == []
