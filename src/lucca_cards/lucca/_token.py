"""The OAuth 2.0 client-credentials token of the Lucca API: fetched once, cached, renewed.

:class:`ClientCredentialsAuth` is the :class:`~lucca_cards._http.Auth` of the Lucca API
transport. It asks Lucca's token endpoint for an access token the first time a request
needs one, reuses it until 60 seconds before it expires, and fetches a new one when the
transport reports a 401. Threads share one token: concurrent callers wait for the one
fetch in flight instead of each posting their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from .._client import ClientOptions
from .._http import HeaderAuth, Transport
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
        self.transport: Transport = options.transport(
            base, service=SERVICE, auth=HeaderAuth(headers={})
        )
        self._lock = threading.Lock()
        self._token: _Token | None = None
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
            if error.status in (400, 401, 403):
                raise self._refused(error) from None
            raise
        value, lifetime = self._read(body)
        log.debug("Lucca access token obtained, valid %.0f s", lifetime)
        margin = EXPIRY_MARGIN if lifetime > 2 * EXPIRY_MARGIN else lifetime / 2
        return _Token(Secret(value), started + lifetime - margin)

    def _read(self, body: Any) -> tuple[str, float]:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiError(
                f"{SERVICE}: the answer of POST {self.token_url} holds no access_token. "
                "What to do: check token_url points at Lucca's token endpoint "
                f"({DEFAULT_TOKEN_URL}).",
                status=200,
                method="POST",
                url=self.token_url,
            )
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        return token, lifetime

    def _refused(self, error: ApiError) -> AuthenticationError:
        payload = _json_object(error)
        code = str(payload.get("error") or "")
        advice = _WHAT_TO_DO.get(code, _WHAT_TO_DO["invalid_client"]).format(scopes=self.scopes)
        said = " - ".join(
            str(payload[key]) for key in ("error", "error_description") if payload.get(key)
        )
        # A server could echo the secret back; it must not reach the error.
        said = (said or error.message or "").replace(self._secret.reveal(), str(self._secret))
        message = (
            f"{SERVICE}: the token request for client {self.client_id!r} was refused with "
            f"{error.status}{': ' + said if said else ''}. What to do: {advice}."
        )
        return AuthenticationError(
            message,
            status=error.status,
            method="POST",
            url=error.url,
            request_id=error.request_id,
            server_message=said or None,
        )  # no response: its request holds the secret, and errors get logged whole


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
