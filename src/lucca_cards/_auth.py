"""How a client authenticates: the headers it sends, and the secrets errors must mask.

The transport asks its :class:`Auth` for headers on every attempt (a token may have been
renewed meanwhile) and, when it builds an error, for every secret value the credentials
put on the wire, so that an echo of them by the server is masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import attrs


class Auth(Protocol):
    """How a client authenticates; the transport asks it for headers on every attempt."""

    def headers(self) -> Mapping[str, str]:
        """Return the authentication headers for the next request."""

    def refresh(self) -> bool:
        """Renew the credentials after a 401; ``True`` if a retry may now succeed."""

    def secrets(self) -> Iterable[str]:
        """Return every secret value these credentials put on the wire, to be masked."""


@attrs.frozen(repr=False)
class HeaderAuth:
    """Fixed credentials sent as headers (an API key); a 401 cannot be cured by retrying.

    ``secrets`` are the values masked in errors (by default, the header values).
    """

    _headers: Mapping[str, str] = attrs.field(alias="headers")
    _secrets: tuple[str, ...] | None = attrs.field(default=None, alias="secrets")

    def headers(self) -> Mapping[str, str]:
        """Return the fixed headers."""
        return self._headers

    def refresh(self) -> bool:
        """Refuse: an API key cannot be renewed, so a 401 is never retried."""
        return False

    def secrets(self) -> Iterable[str]:
        """Return the values to mask."""
        return self._secrets if self._secrets is not None else tuple(self._headers.values())

    def __repr__(self) -> str:
        return f"HeaderAuth(headers=[{', '.join(self._headers)}])"
