"""The fake Lucca token endpoint (OAuth 2.0 client credentials) and its token store.

``POST /connect/token`` takes a form-encoded body (``client_id``, ``client_secret``,
``grant_type=client_credentials``, ``scope`` space-separated, omitted = every scope the
client holds) and answers ``{"access_token", "token_type": "Bearer", "expires_in"}``.
Refusals use the OAuth JSON error shape of RFC 6749 §5.2. Tokens are random strings that
expire on the fake's clock; they never leave this module except in the token answer.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._service import Clock, json_response

FORM = "application/x-www-form-urlencoded"
GRANT = "client_credentials"
#: Either access level of a scope family lets a token read it (the spec lists both).
ACCESS_LEVELS = (".readonly", ".readwrite")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(status: int, error: str, description: str) -> Response:
    """Build an OAuth error answer (``{"error", "error_description"}``)."""
    body = {"error": error, "error_description": description}
    return json_response(body, status, headers=dict(_NO_STORE))


class OAuthError(Exception):
    """A token request refused with an OAuth error code."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class AccessError(Exception):
    """An API request whose bearer token is missing or expired (401) or lacks a scope (403)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class _Grant:
    scopes: frozenset[str]
    expires_at: float


class TokenStore:
    """Issue bearer tokens to one OAuth client and check them on API requests.

    >>> store = TokenStore(client_id="c", client_secret="s", scopes=["employees.readonly"],
    ...                    lifetime=60, clock=lambda: 0.0)
    >>> store.issue({"client_id": "c", "client_secret": "s",
    ...              "grant_type": "client_credentials"})["expires_in"]
    60
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        scopes: Iterable[str],
        lifetime: int,
        clock: Clock,
    ) -> None:
        if lifetime <= 0:
            raise ValueError("the token lifetime must be a positive number of seconds")
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = frozenset(scopes)
        self.lifetime = lifetime
        self._clock = clock
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def token_response(self, request: Request) -> Response:
        """Answer a request to the token endpoint."""
        try:
            if request.method != "POST":
                raise OAuthError("invalid_request", "The token endpoint only accepts POST.", 405)
            body = self.issue(_form(request))
        except OAuthError as exc:
            response = oauth_error(exc.status, exc.error, exc.description)
            if exc.status == 405:
                response.headers["Allow"] = "POST"
            return response
        return json_response(body, headers=dict(_NO_STORE))

    def issue(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Return a new token for a valid client-credentials request; raise :class:`OAuthError`."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not (
            hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(secret.encode(), self._secret.encode())
        ):
            raise OAuthError("invalid_client", "Unknown client or wrong client secret.")
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "The grant_type parameter is required.")
        if grant_type != GRANT:
            raise OAuthError("unsupported_grant_type", f"Only the {GRANT} grant is supported.")
        requested = frozenset(form.get("scope", "").split()) or self.scopes
        refused = sorted(requested - self.scopes)
        if refused:
            raise OAuthError("invalid_scope", f"Scopes not granted to this client: {refused}.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
            self._grants[token] = _Grant(requested, now + self.lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def authorize(self, authorization: str | None, family: str, *, write: bool = False) -> None:
        """Check a request's ``Authorization`` header for a live token holding ``family``.

        Raises :class:`AccessError` (401 for a missing, unknown or expired token, 403 when
        the token holds neither ``{family}.readonly`` nor ``{family}.readwrite``, or, for a
        ``write``, not ``{family}.readwrite``).
        """
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessError(401, "A bearer access token is required.")
        with self._lock:
            grant = self._grants.get(token.strip())
            now = self._clock()
        if grant is None or grant.expires_at <= now:
            raise AccessError(401, "The access token is unknown or has expired.")
        if write and family + ".readwrite" not in grant.scopes:
            raise AccessError(403, f"The access token lacks the {family}.readwrite scope.")
        if not any(family + level in grant.scopes for level in ACCESS_LEVELS):
            raise AccessError(
                403, f"The access token lacks the {family}.readonly or {family}.readwrite scope."
            )


def _form(request: Request) -> dict[str, str]:
    """Return the token request's form fields; raise ``invalid_request`` on a bad body."""
    if request.mimetype != FORM:
        raise OAuthError("invalid_request", f"The body must be {FORM}.")
    form = request.form
    repeated = sorted(key for key in form if len(form.getlist(key)) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameters given more than once: {repeated}.")
    return dict(form.items())
