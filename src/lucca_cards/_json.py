r"""Strict JSON decoding of the APIs' answers: orjson's speed, the standard library's verdict.

The standard library decides what is JSON: ``NaN`` and ``Infinity`` are refused, a UTF-8
BOM is tolerated, integers of any size are read exactly, ``"\ud800"`` is a string,
duplicate keys keep the last value, and nesting is refused past the interpreter's
recursion limit. orjson is 2 to 3 times faster on a page of employees, and agrees on
everything it accepts, except integers beyond 64 bits (it returns floats) and nesting
deep enough for the standard library's own limit (which depends on the stack). So
orjson reads only bodies without a run of 19 digits, nested at most :data:`SHALLOW`
deep (padding brackets make it refuse deeper ones), and whatever orjson refuses the
standard library reads again: its result, or its error, is the answer.
"""

from __future__ import annotations

import codecs
import gc
import json
import sys
from typing import Any

import orjson

#: Deepest nesting orjson reads here; deeper bodies are left to the standard library.
SHALLOW = 512
#: orjson refuses nesting deeper than this (fixed in orjson).
_ORJSON_DEPTH = 1024
_PAD = _ORJSON_DEPTH - SHALLOW
_OPEN, _CLOSE = b"[" * _PAD, b"]" * _PAD
#: Digits become "9", every other byte a space: a run of 19 is then one ``in`` away.
_DIGITS = bytes(0x39 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"9" * 19  # 2**63 has 19 digits: shorter integers fit orjson's 64 bits
#: Frames the standard library's decoder may need besides the body's nesting.
_MARGIN = 100


def loads(content: bytes) -> Any:
    """Decode strict JSON from UTF-8 bytes (no ``NaN``/``Infinity``, a BOM tolerated).

    Raises:
        UnicodeDecodeError: the body is not UTF-8.
        ValueError: the body is not JSON (``json.JSONDecodeError`` among others).
        RecursionError: the body is nested too deeply for the standard library.
    """
    if _LONG_NUMBER not in content.translate(_DIGITS) and _stack_allows():
        body = content[3:] if content.startswith(codecs.BOM_UTF8) else content
        try:
            value = _decoded(_OPEN + body + _CLOSE)
        except orjson.JSONDecodeError:
            pass  # not JSON for orjson: the standard library judges it below
        else:
            for _ in range(_PAD):
                # One item per padding level, or the body closed a bracket it did not
                # open (``1],[2``): not one JSON value, so left to the standard library.
                if value.__class__ is not list or len(value) != 1:
                    break
                value = value[0]
            else:
                return value
    return json.loads(content.decode("utf-8-sig"), parse_constant=_no_constant)


def _decoded(body: bytes) -> Any:
    """``orjson.loads`` with the garbage collector held back until it returns.

    A page of 1 000 users is some 16 000 new containers. Collected while they are being
    built, they would be traversed again and again and, promoted, trigger full
    collections of the whole process (tens of milliseconds each); held back, they are
    traversed once, and freed by their reference counts when the page has been read.
    msgpack gives the same advice for its big unpackings. orjson holds the GIL
    throughout: no other thread runs while the collector is held back.
    """
    if not gc.isenabled():
        return orjson.loads(body)
    gc.disable()
    try:
        return orjson.loads(body)
    finally:
        gc.enable()


def _stack_allows() -> bool:
    """Whether the standard library would read :data:`SHALLOW` levels from here.

    Before Python 3.12 its decoder counts against the recursion limit, with the frames
    already on the stack.
    """
    if sys.version_info >= (3, 12):
        return True  # its own C limit (1500 and up) is past orjson's 1024
    depth, frame = 0, sys._getframe()
    while frame is not None and depth < sys.getrecursionlimit():
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    return depth + SHALLOW + _MARGIN < sys.getrecursionlimit()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
