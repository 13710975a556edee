"""Reading a header from whatever a web framework hands over: one lookup for every receiver.

Cards' and Lucca's webhook checks both take the request's headers as any mapping or as
``(name, value)`` pairs; this is where a header is found in them.
"""

from __future__ import annotations

from collections.abc import Iterable


def header_values(headers: object, name: str) -> list[object]:
    """Return every value of header ``name`` in ``headers`` (matched case-insensitively).

    ``headers`` is any mapping (``dict``, werkzeug ``Headers``, requests'
    ``CaseInsensitiveDict``, Django's ``request.headers``; a WSGI environ's
    ``HTTP_SIGNATURE`` key matches too) or an iterable of ``(name, value)`` pairs, as
    ``str`` or as ``bytes`` (ASGI). A value that is a list gives each of its items.

    Raises:
        TypeError: ``headers`` is text, or neither a mapping nor ``(name, value)`` pairs.

    >>> header_values([(b"lucca-timestamp", b"2025-01-01T08:34:23Z")], "Lucca-Timestamp")
    [b'2025-01-01T08:34:23Z']
    """
    if isinstance(headers, (str, bytes, bytearray)):
        raise TypeError("headers must be a mapping or (name, value) pairs, not text")
    items = getattr(headers, "items", None)
    pairs = items() if callable(items) else headers
    if not isinstance(pairs, Iterable):
        raise TypeError("headers must be a mapping or an iterable of (name, value) pairs, "
                        f"not {type(headers).__name__}")
    wanted = {name.strip().lower(), "http_" + name.strip().lower().replace("-", "_")}
    values: list[object] = []
    for pair in pairs:
        key, value = _pair(pair)
        if isinstance(key, (bytes, bytearray)):
            key = bytes(key).decode("latin-1")  # ASGI header names are bytes
        if isinstance(key, str) and key.strip().lower() in wanted:
            values.extend(value if isinstance(value, (list, tuple)) else [value])
    return values


def _pair(pair: object) -> tuple[object, object]:
    if isinstance(pair, (tuple, list)) and len(pair) == 2:
        return pair[0], pair[1]
    raise TypeError("headers must be a mapping or an iterable of (name, value) pairs; "
                    f"one item is a {type(pair).__name__}")
