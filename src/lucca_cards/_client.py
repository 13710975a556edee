"""What every client shares: building its transport from the common options, closing it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict, TypeVar

import attrs
import requests

from ._auth import Auth
from ._http import DEFAULT_MAX_RESPONSE_BYTES, Transport
from ._ratelimit import Clock, RateLimiter, Sleep, shared_limiter
from ._retry import RetryPolicy
from ._wire import Timeout
from .errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

_C = TypeVar("_C", bound="BaseClient")


def _byte_count(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            attribute.name, f"{value!r} is not a number of bytes; give a positive whole number"
        )


class TransportOptions(TypedDict, total=False):
    """The keyword options every client accepts beside ``requests_per_minute``.

    See :class:`ClientOptions` for their meaning.
    """

    retry: RetryPolicy | None
    timeout: Timeout | None
    rate_limiter: RateLimiter | None
    clock: Clock
    sleep: Sleep
    session: requests.Session | None
    max_response_bytes: int


def client_options(
    requests_per_minute: float, **options: Unpack[TransportOptions]
) -> ClientOptions:
    """Collect a client constructor's options (one place for all three clients)."""
    return ClientOptions(requests_per_minute=requests_per_minute, **options)


@attrs.frozen(kw_only=True)
class ClientOptions:
    """The options every client takes, beside its URL and credentials.

    Attributes:
        requests_per_minute: client-side throttle for the API's host (0 = off).
        retry: the retry policy (default :class:`~lucca_cards._retry.RetryPolicy`).
        timeout: connect and read timeouts (default 5 s and 30 s).
        rate_limiter: an explicit limiter; by default the host's process-wide one.
        clock, sleep: injectable time, so tests never wait.
        session: a :class:`requests.Session` to reuse (the client will not close it).
        max_response_bytes: the largest answer read (64 MiB by default); past it reading
            stops and :class:`~lucca_cards.errors.UnexpectedResponseError` is raised.
    """

    requests_per_minute: float
    retry: RetryPolicy | None = None
    timeout: Timeout | None = None
    rate_limiter: RateLimiter | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    session: requests.Session | None = None
    max_response_bytes: int = attrs.field(
        default=DEFAULT_MAX_RESPONSE_BYTES, validator=_byte_count
    )

    def transport(
        self,
        base_url: str,
        *,
        service: str,
        auth: Auth,
        headers: Mapping[str, str] | None = None,
        hints: Mapping[int, str] | None = None,
        url_setting: str = "",
    ) -> Transport:
        """Build the transport of one API with these options.

        ``url_setting`` names the setting holding ``base_url`` in messages (``LUCCA_URL``).
        """
        limiter = self.rate_limiter or self._default_limiter(base_url)
        return Transport(
            base_url,
            service=service,
            auth=auth,
            limiter=limiter,
            headers=headers,
            hints=hints,
            retry=self.retry,
            timeout=self.timeout,
            clock=self.clock,
            sleep=self.sleep,
            session=self.session,
            url_setting=url_setting,
            max_response_bytes=self.max_response_bytes,
        )

    def _default_limiter(self, base_url: str) -> RateLimiter:
        # The process-wide limiter runs on real time; a client given its own clock (a test,
        # a simulation) gets a limiter of its own on that clock instead.
        if self.clock is time.monotonic and self.sleep is time.sleep:
            return shared_limiter(base_url, self.requests_per_minute)
        return RateLimiter(self.requests_per_minute, clock=self.clock, sleep=self.sleep)


class BaseClient:
    """Closes the client's transports; usable as a context manager."""

    _transports: tuple[Transport, ...] = ()

    def close(self) -> None:
        """Close the client's pooled connections."""
        for transport in self._transports:
            transport.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
