"""A string that refuses to show itself: credentials travel wrapped in :class:`Secret`."""

from __future__ import annotations

import re
from typing import Any

import attrs


def _is_text(instance: Any, attribute: attrs.Attribute[str], value: Any) -> None:
    # A TypeError, like any value type given the wrong type: Secret does not know which
    # setting it holds; Settings and the clients check first and name the setting.
    if not isinstance(value, str):
        raise TypeError(f"Secret holds a str, not {type(value).__name__}")


@attrs.frozen(repr=False)
class Secret:
    """A credential (client secret, API key, token) that never appears in a repr or a log.

    ``str()``, ``repr()`` and f-strings all print ``'********'``; only :meth:`reveal`
    hands out the value, and only the transport calls it, to build a header.

    The value must be a ``str``: anything else (``bytes``, a number, ``None``) raises
    :class:`TypeError`, whose message gives the type, never the value.

    >>> key = Secret("s3cr3t")
    >>> print(key, repr(key))
    ******** Secret('********')
    >>> key.reveal()
    's3cr3t'
    """

    _value: str = attrs.field(alias="value", validator=_is_text)

    def reveal(self) -> str:
        """Return the secret value itself; call it only to put it on the wire."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return "********"

    def __repr__(self) -> str:
        return "Secret('********')"


def as_secret(value: str | Secret) -> Secret:
    """Wrap a plain string in a :class:`Secret`; leave a :class:`Secret` as it is."""
    return value if isinstance(value, Secret) else Secret(value)


#: A URL's user and password, before the host.
_CREDENTIALS = re.compile(r"([^:/]*):[^@]*@")
#: A password in a URL's query: the value, up to the next parameter.
_QUERY_PASSWORD = re.compile(r"((?:^|[&;])(?:ssl)?password=)[^&;#]*", re.IGNORECASE)


def without_password(url: str) -> str:
    """Mask the passwords of a URL: in its credentials, and in its query.

    A query's ``password=`` and ``sslpassword=`` are masked too: libpq and SQLAlchemy
    take them there.

    >>> without_password("postgresql+psycopg://sync:s3cret@db.internal/lucca")
    'postgresql+psycopg://sync:***@db.internal/lucca'
    >>> without_password("postgresql+psycopg://sync@db/lucca?sslmode=require&password=s3cret")
    'postgresql+psycopg://sync@db/lucca?sslmode=require&password=***'
    >>> without_password("postgresql://sync:pa?ss@db/lucca")
    'postgresql://sync:***@db/lucca'
    >>> without_password("postgresql://sync@server:s3cret@server.example.com/lucca")
    'postgresql://sync@server:***@server.example.com/lucca'
    """
    scheme, found, rest = url.partition("://")
    if not found:
        return url
    # As SQLAlchemy reads it: the user runs to the first ":" (an Azure user holds an
    # "@"), the password to the next "@" (it may hold a "?").
    credentials = _CREDENTIALS.match(rest)
    if credentials is not None:
        rest = f"{credentials[1]}:***@{rest[credentials.end():]}"
    rest, question, query = rest.partition("?")
    if question:
        query = _QUERY_PASSWORD.sub(r"\1***", query)
    return f"{scheme}://{rest}{question}{query}"
