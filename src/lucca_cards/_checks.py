"""The checks shared by :class:`~lucca_cards.Settings` and the clients' constructors.

Texts, secrets, scopes, header names and URLs are here; numbers, flags and choices in
:mod:`lucca_cards._check_values`. One rule, one message, wherever a value comes in:
``Settings(lucca_url=…)``, ``LUCCA_URL``, ``[lucca] url`` in a TOML file and
``LuccaOAuthClient(base_url=…)`` are all refused by :func:`check_url`, with the same
words. Each check takes the setting's name (``lucca_url``, ``cards_api_key``, …) and the
value, and returns the value normalised, or raises
:class:`~lucca_cards.ConfigurationError` whose message says what to do.

Normalising is deliberately small: surrounding blanks are removed from texts and secrets
(a copy-paste, ``echo`` or a secret file leaves them; no identifier or key begins or ends
with one), and a ``str`` secret is wrapped in :class:`~lucca_cards.Secret`. Anything else
that cannot work is refused rather than repaired. A message never shows a secret's value:
only its type or its length.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ._secret import Secret
from .errors import ConfigurationError

#: What ``str.splitlines`` breaks on: any of them makes a value span several lines.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
#: An HTTP header name (RFC 9110 ``token``).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _kind(value: Any) -> str:
    """Name a value's type for a message, without showing the value."""
    if value is None:
        return "not set (None)"
    if isinstance(value, (bytes, bytearray)):
        return "bytes, not text: decode them first (value.decode())"
    return f"{type(value).__name__}, not text"


def _bad_character(text: str) -> tuple[int, str] | None:
    """Return the position and a description of the first line break or control character."""
    for index, char in enumerate(text):
        if char in _LINE_BREAKS:
            return index, "a line break"
        if unicodedata.category(char) in {"Cc", "Cf"}:
            return index, f"a control character (U+{ord(char):04X})"
    return None


def _not_header_safe(text: str) -> int | None:
    """Return the position of the first character an HTTP header cannot carry (ASCII only)."""
    return next((i for i, char in enumerate(text) if not " " <= char <= "~"), None)


def check_text(setting: str, value: Any, *, what: str = "a value", header: bool = False) -> str:
    """Return ``value`` without surrounding blanks: a non-blank, one-line ``str``.

    Args:
        setting: the setting's name, for the error.
        value: what was given.
        what: what to give instead, for the message ("the Cards workspace identifier").
        header: the text travels in an HTTP header, so it must be printable ASCII.

    Raises:
        ConfigurationError: not a ``str``; blank; a line break or control character in it;
            a character a header cannot carry (``header=True``).

    >>> check_text("cards_tenant", "  acme ")
    'acme'
    """
    if not isinstance(value, str):
        raise ConfigurationError(
            setting, f"is {_kind(value)}; give {what} as text (quoted, in a TOML file)"
        )
    text = value.strip()
    if not text:
        raise ConfigurationError(setting, f"is blank; give {what}")
    bad = _bad_character(text)
    if bad is not None:
        # Not shown: the lines after the first may be the rest of a pasted file, secrets
        # included.
        raise ConfigurationError(
            setting,
            f"contains {bad[1]} at position {bad[0] + 1}; give {what} on one line, "
            "without the rest of what was pasted",
        )
    position = _not_header_safe(text) if header else None
    if position is not None:
        raise ConfigurationError(
            setting,
            f"{text!r} contains {text[position]!r}, which an HTTP header cannot carry (ASCII "
            f"only); retype {what} (a copy from a document may hold typographic characters)",
        )
    return text


def check_secret(
    setting: str, value: Any, *, what: str = "the secret", header: bool = False
) -> Secret:
    """Return ``value`` as a :class:`~lucca_cards.Secret`, without surrounding blanks.

    A secret is a ``str`` or a :class:`~lucca_cards.Secret`: one line, not blank. The
    message of a refusal gives the value's type or length, never the value.

    Args:
        setting: the setting's name, for the error.
        value: what was given.
        what: what to give instead, for the message ("the legacy API key").
        header: the secret travels in an HTTP header, so it must be printable ASCII.

    Raises:
        ConfigurationError: not a ``str`` or a ``Secret``; blank; a line break or control
            character in it; a character a header cannot carry (``header=True``).

    >>> check_secret("cards_api_key", "  s3cr3t  ")
    Secret('********')
    """
    if not isinstance(value, (str, Secret)):
        raise ConfigurationError(setting, f"is {_kind(value)}; give {what} as a str or a Secret")
    raw = value.reveal() if isinstance(value, Secret) else value
    text = raw.strip()
    if not text:
        blank = "is empty" if not raw else f"holds only blanks ({len(raw)} characters)"
        raise ConfigurationError(setting, f"{blank}; give {what}")
    bad = _bad_character(text)
    if bad is not None:
        raise ConfigurationError(
            setting,
            f"contains {bad[1]} ({len(text)} characters in all): a secret is one line; "
            f"copy {what} again, alone",
        )
    if header and _not_header_safe(text) is not None:
        raise ConfigurationError(
            setting,
            f"contains a character an HTTP header cannot carry (ASCII only), such as a "
            f"typographic quote or '…' from a document; copy {what} again",
        )
    if isinstance(value, Secret) and text == raw:
        return value
    return Secret(text)


def check_scopes(setting: str, value: Any, *, what: str = "the OAuth scopes") -> str:
    """Return OAuth scopes as one space-separated ``str``.

    ``value`` is a space-separated ``str`` or a sequence of scope names, each one word.

    Raises:
        ConfigurationError: blank, not text, a scope with a blank or a line break in it.

    >>> check_scopes("lucca_scopes", ["departments.readonly", "employees.readwrite"])
    'departments.readonly employees.readwrite'
    """
    if isinstance(value, str):
        return " ".join(check_text(setting, value, what=what).split())
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise ConfigurationError(setting, f"is {_kind(value)}; give {what}, space separated")
    scopes = [check_text(setting, scope, what=f"{what}, one name each") for scope in value]
    for scope in scopes:
        if len(scope.split()) != 1:
            raise ConfigurationError(
                setting, f"{scope!r} holds a blank; give one scope name per item"
            )
    if not scopes:
        raise ConfigurationError(setting, f"is an empty list; give {what}")
    return " ".join(scopes)


def check_header_name(setting: str, value: Any) -> str:
    """Return an HTTP header name (letters, digits and ``!#$%&'*+-.^_`|~``).

    Raises:
        ConfigurationError: not text, blank, or not a header name (a blank, a colon …).

    >>> check_header_name("cards_signature_header", "X-Cards-Signature")
    'X-Cards-Signature'
    """
    name = check_text(setting, value, what="the header's name (e.g. Signature)", header=True)
    if not _HEADER_NAME.fullmatch(name):
        raise ConfigurationError(
            setting,
            f"{name!r} is not an HTTP header name: give the name alone, letters, digits and "
            "dashes, without ':' or a value (e.g. Signature)",
        )
    return name


def check_url(
    setting: str,
    value: Any,
    *,
    root_only: bool = False,
    example: str = "https://acme.ilucca.net",
) -> str:
    """Return ``value`` if it is an http(s) URL the SDK can safely send requests to.

    Refused: anything but ``https://`` (``http://`` only to the local machine, where keys
    do not travel); a user name or password (``user:pass@``: credentials go in their own
    settings, and would show in reprs, logs and errors); a port outside 1 to 65535; any
    blank, tab, line break or control character; a query (``?…``) or a fragment
    (``#…``); with ``root_only``, an API path (``/lucca-api``, ``/api/v3``).

    Raises:
        ConfigurationError: the URL is refused; the message says why and what to give.

    >>> check_url("cards_url", "https://api.cards-microlearning.com/v1")
    'https://api.cards-microlearning.com/v1'
    """
    if not isinstance(value, str):
        raise ConfigurationError(setting, f"is {_kind(value)}; give a URL such as {example}")
    if not value.strip():
        raise ConfigurationError(setting, f"is blank; give a URL such as {example}")
    _check_url_characters(setting, value, example)
    parts = _check_url_address(setting, value, example)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigurationError(
            setting, f"http:// is refused for {host}: keys would travel in clear. Use https://"
        )
    if root_only and parts.path.rstrip("/").endswith(("/lucca-api", "/api/v3", "/api")):
        raise ConfigurationError(
            setting, "give the tenant's root URL (https://acme.ilucca.net), without the API path"
        )
    return value


def _check_url_address(setting: str, url: str, example: str) -> SplitResult:
    """Refuse a scheme other than http(s), a missing host, a bad port; return the parts."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a broken [IPv6] literal
        parts = urlsplit("")
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ConfigurationError(
            setting, f"{url!r} is not an http(s) URL; expected something like {example}"
        )
    if not parts.hostname:
        raise ConfigurationError(setting, f"{url!r} names no host; expected like {example}")
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        given = parts.netloc.rpartition("]")[2].rpartition(":")[2]
        raise ConfigurationError(
            setting,
            f"port {given!r} is not a number from 1 to 65535; give the server's port, or "
            f"none for the scheme's default (like {example})",
        )
    return parts


def _check_url_characters(setting: str, url: str, example: str) -> None:
    """Refuse blanks and control characters, credentials, a query or a fragment.

    These come first, and their messages never show the URL: it may hold a password, or a
    token in its query.
    """
    for index, char in enumerate(url):
        if char.isspace() or unicodedata.category(char) in {"Cc", "Cf"}:
            kind = {" ": "a space", "\t": "a tab"}.get(
                char, "a line break" if char in _LINE_BREAKS else f"U+{ord(char):04X}"
            )
            raise ConfigurationError(
                setting,
                f"contains {kind} at position {index + 1}; a URL holds no blank or control "
                f"character: remove it (inside a path, write a space as %20)",
            )
    address = url.split("?", 1)[0].split("#", 1)[0]
    if "@" in address:
        raise ConfigurationError(
            setting,
            "holds a user name or password (user:pass@host), which would show in reprs, "
            "logs and errors; remove it: credentials go in their own settings",
        )
    if "?" in url or "#" in url:
        part = "a query (?…)" if "?" in url else "a fragment (#…)"
        raise ConfigurationError(
            setting,
            f"has {part}; give the base URL alone (like {example}): the SDK adds the "
            "paths and parameters of each request",
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
