"""The OAuth 2.0 client-credentials token of the Lucca API: fetched once, cached, renewed.

:class:`ClientCredentialsAuth` is the :class:`~lucca_cards._http.Auth` of the Lucca API
transport. It asks Lucca's token endpoint for an access token the first time a request
needs one, reuses it until 60 seconds before it expires, and fetches a new one when the
transport reports a 401. Threads share one token: concurrent callers wait for the one
fetch in flight instead of each posting their own.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from .._auth import HeaderAuth
from .._client import ClientOptions
from .._http import Transport
from .._secret import Secret, as_secret
from ..config import DEFAULT_SCOPES, DEFAULT_TOKEN_URL
from ..errors import ApiError, AuthenticationError

log = logging.getLogger("lucca_cards.lucca")

SERVICE = "Lucca token endpoint"
#: A token is renewed this many seconds before Lucca says it expires, so that a request
#: never leaves with a token about to lapse in flight.
EXPIRY_MARGIN = 60.0
#: Assumption (gap 7): a token answer without ``expires_in`` lives 30 minutes, the
#: lifetime Lucca documents.
DEFAULT_LIFETIME = 1800.0
#: A longer ``expires_in`` is not believed: the token is renewed after a day at most.
MAX_LIFETIME = 86400.0

_WHAT_TO_DO = {
    "invalid_client": "check the client id and client secret of the API client in Lucca's "
    "integration keys (https://<tenant>/identity/admin/integration-keys); a secret is "
    "shown only once, so create a new one if it was lost",
    "unauthorized_client": "the API client may not use the client-credentials grant; check "
    "it in Lucca's integration keys",
    "invalid_scope": "the API client does not hold every scope requested ({scopes!r}): "
    "grant them to it in Lucca's integration keys, or request fewer with scopes=",
}


@attrs.frozen
class _Token:
    value: Secret
    expires_at: float


class ClientCredentialsAuth:
    """Fetches, caches and renews the Lucca API access token (client-credentials grant).

    The token request is ``POST token_url`` with a form body ``client_id``,
    ``client_secret``, ``grant_type=client_credentials`` and ``scope``. It goes through
    its own :class:`~lucca_cards._http.Transport` (retried on 5xx and connection errors,
    throttled like every request).

    Args:
        client_id: the API client's id (Lucca's integration keys).
        client_secret: its secret, a ``str`` or a :class:`~lucca_cards.Secret`.
        options: the client's options (throttle, retries, timeouts, clock, session).
        token_url: the token endpoint; one global endpoint serves every tenant.
        scopes: the scopes to request, space separated or a sequence.

    >>> auth = ClientCredentialsAuth(client_id="id", client_secret="…",
    ...                              options=ClientOptions(requests_per_minute=0))
    >>> auth.scopes
    'departments.readonly employees.readwrite'
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | Secret,
        options: ClientOptions,
        token_url: str = DEFAULT_TOKEN_URL,
        scopes: str | Sequence[str] = DEFAULT_SCOPES,
    ) -> None:
        self.client_id = client_id
        self._secret = as_secret(client_secret)
        self.token_url = token_url
        self.scopes = " ".join(scopes.split() if isinstance(scopes, str) else scopes)
        self._clock = options.clock
        base, self._path = _split_url(token_url)
        # The token request carries the secret in its form: its errors must mask it.
        self.transport: Transport = options.transport(
            base,
            service=SERVICE,
            auth=HeaderAuth(headers={}, secrets=(self._secret.reveal(),)),
            url_setting="LUCCA_TOKEN_URL (lucca_token_url)",
        )
        self._lock = threading.Lock()
        self._token: _Token | None = None
        # The last tokens handed out: a server may still echo one that was just renewed.
        self._recent: collections.deque[Secret] = collections.deque(maxlen=3)
        # The token each thread last sent: a 401 renews the token only if it is still
        # the current one, so threads hit by the same 401 trigger one fetch, not one each.
        self._sent = threading.local()

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsAuth(client_id={self.client_id!r}, token_url={self.token_url!r}, "
            f"scopes={self.scopes!r})"
        )

    def headers(self) -> Mapping[str, str]:
        """Return ``Authorization: Bearer <token>``, fetching the token if it is due.

        Raises:
            AuthenticationError: the token endpoint refused the credentials or the scopes.
        """
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.expires_at:
                token = self._token = self._fetch()
        self._sent.token = token
        return {"Authorization": f"Bearer {token.value.reveal()}"}

    def secrets(self) -> tuple[str, ...]:
        """Return the values to mask in errors: the client secret and the recent tokens."""
        return (self._secret.reveal(), *(token.reveal() for token in tuple(self._recent)))

    def refresh(self) -> bool:
        """Fetch a new token (the API answered 401); return ``True``: a retry may work.

        If another thread renewed the token since this thread last sent it, that new
        token is used and no request is made.

        Raises:
            AuthenticationError: the token endpoint refused the credentials or the scopes.
        """
        sent = getattr(self._sent, "token", None)
        with self._lock:
            if sent is None or self._token is None or self._token is sent:
                self._token = self._fetch()
        return True

    def _fetch(self) -> _Token:
        form = {
            "client_id": self.client_id,
            "client_secret": self._secret.reveal(),
            "grant_type": "client_credentials",
            "scope": self.scopes,
        }
        started = self._clock()
        try:
            # Asking twice for a token is harmless: the POST may be retried like a GET.
            body = self.transport.request_json("POST", self._path, form=form, idempotent=True)
        except ApiError as error:
            if error.status not in (400, 401, 403):
                raise
            refusal = self._refused(error)
        else:
            value, lifetime = self._read(body)
            log.debug("Lucca access token obtained, valid %.0f s", lifetime)
            margin = EXPIRY_MARGIN if lifetime > 2 * EXPIRY_MARGIN else lifetime / 2
            self._recent.append(Secret(value))
            return _Token(Secret(value), started + lifetime - margin)
        raise refusal

    def _read(self, body: Any) -> tuple[str, float]:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token.strip() or any(
                ch in token for ch in "\r\n\0"):
            raise self.transport.unexpected(
                "POST", self._path, "answered without a usable access_token",
                hint=f"check LUCCA_TOKEN_URL (lucca_token_url) points at Lucca's token "
                f"endpoint ({DEFAULT_TOKEN_URL})",
            )
        lifetime = body.get("expires_in")
        if isinstance(lifetime, str):
            try:
                lifetime = float(lifetime)
            except ValueError:
                lifetime = None
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or not (
                0 < lifetime < math.inf):
            lifetime = DEFAULT_LIFETIME
        return token, min(float(lifetime), MAX_LIFETIME)

    def _refused(self, error: ApiError) -> AuthenticationError:
        payload = _json_object(error)
        error_code = payload.get("error")
        code = error_code if isinstance(error_code, str) else ""
        advice = _WHAT_TO_DO.get(code, _WHAT_TO_DO["invalid_client"]).format(scopes=self.scopes)
        said = " - ".join(
            payload[key][:300] for key in ("error", "error_description")
            if isinstance(payload.get(key), str) and payload[key]
        ) or (error.message or "")
        message = (
            f"{SERVICE}: the token request for client {self.client_id!r} was refused with "
            f"{error.status}{': ' + said if said else ''}. What to do: {advice}."
        )
        # Every part comes from the redacted error: a secret the server echoed is masked.
        return AuthenticationError(
            message,
            status=error.status,
            method="POST",
            url=error.url,
            request_id=error.request_id,
            server_message=said or None,
            body=error.body,
            response=error.response,
        )


def _json_object(error: ApiError) -> Mapping[str, Any]:
    try:
        payload = error.response.json() if error.response is not None else None
    except ValueError:
        payload = None
    return payload if isinstance(payload, dict) else {}


def _split_url(url: str) -> tuple[str, str]:
    """Split ``https://host/connect/token`` into the base ``https://host/`` and the path."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    path = urlunsplit(("", "", parts.path, parts.query, ""))
    return base, path
