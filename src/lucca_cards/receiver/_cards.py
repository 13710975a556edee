"""The framework-neutral Cards webhook handler: raw body and headers in, a :class:`Reply` out.

The checks run in the order that costs an attacker the most and the receiver the least:

1. the method (``405`` unless ``POST``), then the size (``413`` over the limit), both
   answerable before the body is read (:meth:`CardsWebhookHandler.before_body`);
2. the signature over the **raw** bytes (``401``), before anything in the body is looked
   at: an unsigned body is never parsed, never logged, never stored;
3. the event itself (``400`` for malformed JSON or an invalid event);
4. the ledger (``200`` once stored, a redelivery included; ``503`` when it fails, so
   that Cards delivers the event again later).

Storing is the only work done before answering: Cards waits a few seconds at most for
the answer (the assumed delivery timeout is 3 s, cards-api.md §10.3), and anything slower
belongs to the nightly sync, which reads the ledger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs

from .._secret import Secret
from .._untrusted import printable
from ..cards.webhooks import (
    DEFAULT_SIGNATURE_HEADER,
    MAX_BODY_BYTES,
    Body,
    WebhookEvent,
    parse,
    verify_request,
)
from ..config import check_setting
from ..errors import ConfigurationError, ValidationError

#: The receiver's logger: one INFO line per request that reaches the handler.
logger = logging.getLogger("lucca_cards.receiver")

#: How to give the webhook secret, for the error raised when there is none.
SECRET_HINT = (
    "is not set; pass secret=…, set CARDS_WEBHOOK_SECRET, or set webhook_secret under "
    "[cards] in the TOML file (the secret shown in Cards, Apps & Integrations → API & "
    "Webhooks)"
)

# Texts from a signed body still come from outside: shown escaped and cut in the log.
_SHOWN = 80


class EventLedger(Protocol):
    """What the handler stores events in: a :class:`~lucca_cards.state.TrainingLedger`.

    ``record`` returns whether a learner's state changed; it must store an event id once,
    so that a redelivered event changes nothing and returns ``False``.
    """

    def record(self, event: WebhookEvent) -> bool:
        """Store ``event``; return whether a learner's state changed."""


@attrs.frozen
class Reply:
    """What to answer: a status, a small JSON body, its content type and extra headers.

    Any framework can send it::

        Response(reply.body, status=reply.status, content_type=reply.content_type,
                 headers=dict(reply.headers))

    Attributes:
        status: the HTTP status (200, 202, 400, 401, 405, 413 or 503).
        body: ``{"status": "recorded", "changed": true}`` or ``{"error": "…"}`` as JSON;
            it never quotes the request's body. The answer to Lucca's activation
            challenge is the challenge's value, as text.
        content_type: ``application/json``; ``text/plain; charset=utf-8`` for the
            challenge.
        headers: extra headers as ``(name, value)`` pairs (``Allow: POST`` on a 405).
    """

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def json(self) -> Any:
        """Return the decoded body."""
        return json.loads(self.body)


def checked_options(
    secret: str | Secret | None, signature_header: str, max_body_bytes: int
) -> tuple[Secret, str, int]:
    """Return the handler's options checked and normalised (the secret as a ``Secret``).

    Raises:
        ConfigurationError: no secret, a blank one, or a header name that is not one.
        ValueError: ``max_body_bytes`` is not a positive whole number.
    """
    if secret is None:
        raise ConfigurationError("cards_webhook_secret", SECRET_HINT)
    # The checks of Settings: the same refusals, and the same blanks stripped from a
    # pasted secret (the HMAC key must be the secret Cards shows, nothing more).
    key: Secret = check_setting("cards_webhook_secret", secret)
    header: str = check_setting("cards_signature_header", signature_header)
    return key, header, checked_limit(max_body_bytes)


def checked_limit(max_body_bytes: int) -> int:
    """Return ``max_body_bytes``, a positive whole number of bytes, else raise ValueError."""
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) \
            or max_body_bytes < 1:
        raise ValueError("max_body_bytes must be a positive whole number of bytes, not "
                         f"{max_body_bytes!r}")
    return max_body_bytes


def json_reply(status: int, fields: dict[str, Any],
               headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """Return a :class:`Reply` whose body is ``fields`` as compact ASCII JSON."""
    # ensure_ascii: an error text quoting a field cannot put raw control characters on the wire.
    return Reply(status, json.dumps(fields, separators=(",", ":")).encode("ascii"),
                 headers=headers)


def too_large_reply(kind: str, size: int | None, limit: int) -> Reply:
    """Log and return the 413 of a ``kind`` (``cards``, ``lucca``) body over ``limit``."""
    logger.info("%s webhook refused (413): a body of %s, over the limit of %d bytes", kind,
                "unknown length" if size is None else f"{size} bytes", limit)
    return json_reply(413, {"error": f"body too large: the limit is {limit} bytes"})


def declared_length(value: int | str | None) -> int | None:
    """Return a declared ``Content-Length`` as a number (``None``: absent or unreadable).

    An unreadable one is left to the body's reader, which stops at the limit anyway.
    """
    if isinstance(value, str):
        value = value.strip()
        if not (value.isdigit() and value.isascii()):
            return None
        # Python refuses to read more than 4300 digits; any 19 digits exceed every limit.
        return int(value) if len(value) < 19 else 10**18
    return value


def shown(text: object) -> str:
    """Return ``text`` (from outside) escaped and cut, to be logged."""
    value = printable(str(text))
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"


class CardsWebhookHandler:
    """Check a Cards webhook request, store its event in the ledger, say what to answer.

    It knows no web framework: give it the method, the raw body bytes and the headers,
    send back the :class:`Reply`. Safe to call from several threads if the ledger is.

    Args:
        ledger: where events go (a :class:`~lucca_cards.state.TrainingLedger`, or any
            object with ``record(event) -> bool``).
        secret: the webhook secret shown in Cards (``str`` or :class:`~lucca_cards.Secret`).
        signature_header: the signature header's name (``Signature``, an assumption:
            cards-api.md §10.3).
        max_body_bytes: the largest body accepted (1 MiB); larger ones get 413.

    Raises:
        ConfigurationError: the secret is missing or blank, or the header name is not one
            (``setting`` names it: ``cards_webhook_secret``, ``cards_signature_header``).
        ValueError: ``max_body_bytes`` is not a positive whole number.

    >>> class Printing:  # a stand-in for TrainingLedger
    ...     def record(self, event):
    ...         print("recording", event.id)
    ...         return True
    >>> handler = CardsWebhookHandler(Printing(), secret="k")
    >>> handler.handle("GET", b"", {}).status
    405
    >>> handler.handle("POST", b"{}", {"Signature": "forged"}).status
    401
    """

    def __init__(
        self,
        ledger: EventLedger,
        secret: str | Secret | None,
        *,
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._secret, self.signature_header, self.max_body_bytes = checked_options(
            secret, signature_header, max_body_bytes)
        self.ledger = ledger

    def __repr__(self) -> str:
        return (f"CardsWebhookHandler(signature_header={self.signature_header!r}, "
                f"max_body_bytes={self.max_body_bytes})")

    def before_body(self, method: str, content_length: int | str | None = None
                    ) -> Reply | None:
        """Return the refusal that needs no body, or ``None``: then read it and :meth:`handle`.

        A framework that reads the body on demand calls this first: 405 for any method but
        ``POST`` (with ``Allow: POST``), 413 when the declared ``Content-Length`` (an
        ``int``, or the header's text) is over the limit. After ``None``, read at most
        ``max_body_bytes + 1`` bytes: :meth:`handle` answers 413 for more.
        """
        if method != "POST":
            logger.info("cards webhook refused (405): method %s, not POST", shown(method))
            return json_reply(405, {"error": "method not allowed: Cards webhooks are POSTed"},
                              (("Allow", "POST"),))
        declared = declared_length(content_length)
        if declared is not None and declared > self.max_body_bytes:
            return self.too_large(declared)
        return None

    def too_large(self, size: int | None = None) -> Reply:
        """Return the 413 for a body over the limit (``size``: its length, if known)."""
        return too_large_reply("cards", size, self.max_body_bytes)

    def handle(
        self,
        method: str,
        body: Body,
        headers: Mapping[str, Any] | Iterable[tuple[Any, Any]],
    ) -> Reply:
        """Check one request and store its event; return what to answer.

        Args:
            method: the HTTP method (``POST``; HTTP methods are case-sensitive).
            body: the request body exactly as received (bytes): the signature covers
                these bytes, never a re-encoded object.
            headers: any mapping (Flask, Django, Starlette, werkzeug headers, a dict, a
                WSGI environ) or ``(name, value)`` pairs, ``str`` or ``bytes`` (ASGI);
                the signature header is looked up case-insensitively.

        Returns:
            405 (not POST), 413 (over the limit), 401 (signature missing or wrong), 400
            (malformed JSON or invalid event), 503 (the ledger failed: Cards retries), or
            200 (stored, or already stored). Nothing is stored unless the answer is 200.

        Raises:
            TypeError: ``body`` is not bytes (a ``str`` may not be the signed bytes), or
                ``headers`` is neither a mapping nor pairs.
        """
        early = self.before_body(method)
        if early is not None:
            return early
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError("handle() needs the raw request body as bytes (request.body, "
                            f"get_data(), await request.body()), not {type(body).__name__}")
        if len(body) > self.max_body_bytes:
            return self.too_large(len(body))
        # The signature first: nothing in an unsigned body is read, logged or stored.
        if not verify_request(headers, body, self._secret, header=self.signature_header):
            logger.info("cards webhook refused (401): signature missing or wrong "
                        "(header %s)", self.signature_header)
            return json_reply(401, {"error": "invalid or missing signature"})
        try:
            event = parse(body, max_bytes=None)  # the size is checked above
        except ValidationError as error:
            fields = ", ".join(sorted(error.errors or {})) or "body"
            logger.info("cards webhook refused (400): invalid event (%s)", shown(fields))
            return json_reply(400, {"error": str(error)})
        return self._store(event)

    def _store(self, event: WebhookEvent) -> Reply:
        """Record ``event``; 503 on any failure of the ledger, so Cards delivers it again."""
        kind, event_id = shown(event.type), shown(event.id)
        try:
            changed = bool(self.ledger.record(event))
        except UnicodeError:
            # Valid JSON may escape a lone surrogate ("\ud800"), which no UTF-8 database
            # can store: the same event would fail every retry, so it is refused, not 503.
            logger.info("cards webhook refused (400): event %s %s holds text that is not "
                        "Unicode (a lone surrogate)", kind, event_id)
            return json_reply(400, {"error": "the event holds text that is not valid Unicode (a "
                                             "lone surrogate escape such as \\ud800)"})
        except Exception as error:  # any failure below: Cards must retry, never see it
            # The class name only: a database error's text may quote the row (emails).
            logger.error("cards event %s %s not stored (%s); answered 503 so that Cards "
                         "retries", kind, event_id, type(error).__name__)
            logger.debug("cards event %s not stored", event_id, exc_info=True)
            return json_reply(503, {"error": "the event could not be stored; retry later"})
        # The ledger does not say why nothing changed: a redelivery, an event of a type it
        # only keeps, or one older than the learner's state.
        logger.info("cards event %s %s: recorded, %s", kind, event_id,
                    "changed" if changed else "unchanged (a redelivery, or no new progress)")
        return json_reply(200, {"status": "recorded", "changed": changed})
