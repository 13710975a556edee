"""The framework-neutral Lucca webhook handler: raw body and headers in, a :class:`Reply` out.

Lucca delivers each event it has for an endpoint with a ``POST`` (developers.lucca.fr,
"Webhooks > Catching events"; reference ``lucca-api.md`` §B14). The checks run in the
order that costs an attacker the most and the receiver the least:

1. the method (``405`` unless ``GET`` or ``POST``), then the size (``413`` over the
   limit), both answerable before the body is read
   (:meth:`LuccaWebhookHandler.before_body`);
2. ``GET`` is the activation challenge: ``?echo=…`` or ``?challenge=…`` (the two copies of
   Lucca's page disagree on the name) is answered ``200 text/plain`` with the value;
3. the ``Lucca-Signature`` over the ``Lucca-Timestamp`` and the **raw** bytes, and a
   timestamp within 5 minutes (``401``), before anything in the body is looked at;
4. the event itself (``400``);
5. the inbox (``202`` once stored, a duplicate included; ``503`` when it fails, so that
   Lucca delivers the event again later).

Storing is the only work done before answering: Lucca waits 3 s at most and may suspend
an endpoint that is slow. Applying the event (Cards calls) is the inbox worker's job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from .._secret import Secret
from ..config import check_setting
from ..errors import ConfigurationError, ValidationError
from ..lucca.webhooks import MAX_BODY_BYTES, LuccaEvent, check_delivery, parse
from ._cards import (
    Reply,
    checked_limit,
    declared_length,
    json_reply,
    shown,
    too_large_reply,
)

logger = logging.getLogger("lucca_cards.receiver")


class _StoreTimeoutError(Exception):
    """The inbox did not store the event within ``store_seconds``."""

#: How to give the Lucca webhook secret, for the error raised when there is none.
LUCCA_SECRET_HINT = (
    "is not set; pass secret=…, set LUCCA_WEBHOOK_SECRET, or set webhook_secret under "
    "[lucca] in the TOML file (the secret lucca-cards lucca-webhooks register printed, or "
    "the one Lucca showed when the endpoint was declared)"
)
#: How long storing an event may take before the answer is a 503 (Lucca waits 3 s).
STORE_SECONDS = 2.0
#: Stalled stores left running at most (past that, an event gets 503 at once).
MAX_STORES = 16
#: The query parameters of the activation challenge, in the order they are looked for.
CHALLENGE_PARAMETERS = ("echo", "challenge")
# A challenge is a token: anything longer is not Lucca's, and is not echoed back.
_MAX_CHALLENGE = 1024
_ALLOW = (("Allow", "GET, POST"),)


class EventInbox(Protocol):
    """What the handler stores events in: a :class:`~lucca_cards.state.LuccaInbox`.

    ``store`` returns ``False`` for an event already stored (same ``source`` and id),
    changing nothing.
    """

    def store(self, *, source: str, event_id: str, topic: str, occurred_at: datetime,
              employee_id: str | None, payload: str) -> bool:
        """Store one event as pending; return ``False`` for a duplicate."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def checked_lucca_secret(secret: str | Secret | None) -> Secret:
    """Return the Lucca webhook secret checked as :class:`~lucca_cards.Settings` checks it.

    Raises:
        ConfigurationError: (``lucca_webhook_secret``) no secret, or a blank one.
    """
    if secret is None:
        raise ConfigurationError("lucca_webhook_secret", LUCCA_SECRET_HINT)
    key: Secret = check_setting("lucca_webhook_secret", secret)
    return key


class LuccaWebhookHandler:
    """Check a Lucca webhook request, store its event in the inbox, say what to answer.

    It knows no web framework: give it the method, the raw body bytes, the headers and
    the query parameters; send back the :class:`Reply`. Safe to call from several threads
    if the inbox is.

    Args:
        inbox: where events go (a :class:`~lucca_cards.state.LuccaInbox`, or any object
            with its ``store``).
        secret: the endpoint's secret (``str`` or :class:`~lucca_cards.Secret`).
        clock: gives the current time (aware), to check the ``Lucca-Timestamp``.
        max_body_bytes: the largest body accepted (1 MiB); larger ones get 413.
        on_stored: called (without arguments) after each new event is stored, once its
            answer is decided: to wake the :class:`~lucca_cards.receiver.InboxWorker`. An
            exception it raises is logged, never answered.
        store_seconds: how long storing may take (2 s) before the answer is a 503, which
            Lucca retries: it waits 3 s for an answer.

    Raises:
        ConfigurationError: (``lucca_webhook_secret``) the secret is missing or blank.
        ValueError: ``max_body_bytes`` is not a positive whole number.

    >>> class Printing:  # a stand-in for LuccaInbox
    ...     def store(self, **event):
    ...         print("storing", event["event_id"])
    ...         return True
    >>> handler = LuccaWebhookHandler(Printing(), secret="k")
    >>> handler.handle("GET", b"", {}, {"echo": "xyz"}).body
    b'xyz'
    >>> handler.handle("POST", b"{}", {"Lucca-Signature": "forged"}).status
    401
    """

    def __init__(
        self,
        inbox: EventInbox,
        secret: str | Secret | None,
        *,
        clock: Callable[[], datetime] | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        on_stored: Callable[[], None] | None = None,
        store_seconds: float = STORE_SECONDS,
    ) -> None:
        self._secret = checked_lucca_secret(secret)
        self.max_body_bytes = checked_limit(max_body_bytes)
        self.inbox = inbox
        self._clock = clock or _utc_now
        self._on_stored = on_stored
        self.store_seconds = store_seconds
        # Stores still under way past their deadline (a stalled database): bounded, so
        # that a flood of deliveries cannot pile up threads behind it.
        self._stalled, self._stalled_lock = 0, threading.Lock()

    def __repr__(self) -> str:
        return f"LuccaWebhookHandler(max_body_bytes={self.max_body_bytes})"

    def before_body(self, method: str, content_length: int | str | None = None
                    ) -> Reply | None:
        """Return the refusal that needs no body, or ``None``: then read it and :meth:`handle`.

        405 for any method but ``GET`` and ``POST`` (with ``Allow: GET, POST``); 413 for a
        ``POST`` whose declared ``Content-Length`` (an ``int``, or the header's text) is
        over the limit. A ``GET`` (the challenge) needs no body: call :meth:`handle` with
        ``b""``. After ``None`` for a ``POST``, read at most ``max_body_bytes + 1`` bytes.
        """
        if method not in ("GET", "POST"):
            logger.info("lucca webhook refused (405): method %s, not GET or POST",
                        shown(method))
            return json_reply(405, {"error": "method not allowed: Lucca events are POSTed, "
                                             "its activation challenge is a GET"}, _ALLOW)
        declared = declared_length(content_length)
        if method == "POST" and declared is not None and declared > self.max_body_bytes:
            return self.too_large(declared)
        return None

    def too_large(self, size: int | None = None) -> Reply:
        """Return the 413 for a body over the limit (``size``: its length, if known)."""
        return too_large_reply("lucca", size, self.max_body_bytes)

    def handle(
        self,
        method: str,
        body: bytes | bytearray | memoryview,
        headers: Mapping[str, Any] | Iterable[tuple[Any, Any]],
        query: Mapping[str, str] | None = None,
    ) -> Reply:
        """Check one request and store its event (or answer the challenge); say what to answer.

        Args:
            method: ``GET`` (the activation challenge) or ``POST`` (an event).
            body: the request body exactly as received (bytes): the signature covers
                these bytes, never a re-encoded object. ``b""`` for a ``GET``.
            headers: any mapping (Flask, Django, Starlette, werkzeug headers, a dict, a
                WSGI environ) or ``(name, value)`` pairs, ``str`` or ``bytes`` (ASGI);
                header names are matched case-insensitively.
            query: the query parameters (``request.args``, ``request.GET``,
                ``request.query_params``), for the challenge.

        Returns:
            ``GET``: 200 ``text/plain`` with the challenge's value, 400 without one.
            ``POST``: 413 (over the limit), 401 (signature or timestamp missing, wrong or
            stale), 400 (invalid event), 503 (the inbox failed, or took more than
            ``store_seconds``: Lucca retries), or 202 (``{"status": "accepted"}``;
            ``{"status": "duplicate"}`` for an event already stored). Nothing is stored
            after a 4xx; after a 503 for time, the store may still end (the redelivery is
            then a duplicate). Any other method: 405.

        Raises:
            TypeError: ``body`` is not bytes (a ``str`` may not be the signed bytes), or
                ``headers`` is neither a mapping nor pairs.
        """
        early = self.before_body(method)
        if early is not None:
            return early
        if method == "GET":
            return self._challenge(query or {})
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError("handle() needs the raw request body as bytes (request.body, "
                            f"get_data(), await request.body()), not {type(body).__name__}")
        raw = bytes(body)
        if len(raw) > self.max_body_bytes:
            return self.too_large(len(raw))
        # The signature first: nothing in an unsigned body is read, logged or stored.
        reason = check_delivery(raw, headers, self._secret, now=self._now())
        if reason is not None:
            logger.info("lucca webhook refused (401): %s", reason)
            return json_reply(401, {"error": reason})
        try:
            event = parse(raw, max_bytes=None)  # the size is checked above
        except ValidationError as error:
            fields = ", ".join(sorted(error.errors or {})) or "body"
            logger.info("lucca webhook refused (400): invalid event (%s)", shown(fields))
            return json_reply(400, {"error": str(error)})
        # parse() read it as UTF-8 (a BOM allowed): the same text, kept to apply it later.
        return self._store(event, raw.decode("utf-8-sig"))

    def _challenge(self, query: Mapping[str, str]) -> Reply:
        return challenge_reply(query)

    def _store(self, event: LuccaEvent, payload: str) -> Reply:
        """Store ``event``; 503 on any failure of the inbox, so that Lucca delivers it again."""
        said = f"{shown(event.topic)} {shown(event.id)}"
        if event.employee_id is not None:
            said += f" (employee {shown(event.employee_id)})"
        try:
            stored = self._store_within(
                source=event.source, event_id=event.id, topic=event.topic,
                occurred_at=event.occurred_at, employee_id=event.employee_id,
                payload=payload)
        except _StoreTimeoutError as late:
            why = (f"within {self.store_seconds:g} s (the state database is busy)"
                   if str(late) == "late" else
                   f"({MAX_STORES} earlier stores are still waiting for the database)")
            logger.error("lucca event %s not stored %s; answered 503 so that Lucca "
                         "retries", said, why)
            return json_reply(503, {"error": "the event could not be stored in time; retry "
                                             "later"})
        except Exception as error:  # any failure below: Lucca must retry, never see it
            # The class name only: a database error's text may quote the row (the body).
            logger.error("lucca event %s not stored (%s); answered 503 so that Lucca "
                         "retries", said, type(error).__name__)
            logger.debug("lucca event %s not stored", shown(event.id), exc_info=True)
            return json_reply(503, {"error": "the event could not be stored; retry later"})
        if not stored:
            logger.info("lucca event %s: already stored (a redelivery)", said)
            # A store that ended after its deadline woke nobody: its redelivery does.
            self._wake()
            return json_reply(202, {"status": "duplicate"})
        logger.info("lucca event %s: stored, to apply", said)
        self._wake()
        return json_reply(202, {"status": "accepted"})

    def _store_within(self, **fields: Any) -> bool:
        """Store, giving up after ``store_seconds``: Lucca waits 3 s for its answer.

        A database held by another writer (SQLite waits up to 30 s for it) or a stalled
        PostgreSQL must cost a 503, which Lucca retries, not a timeout that counts
        towards suspending the endpoint. The store still under way may end later; the
        redelivery is then a duplicate, answered 202. At most :data:`MAX_STORES` such
        stalled stores are left running: past that, a store is not tried (503 at once).
        """
        with self._stalled_lock:
            if self._stalled >= MAX_STORES:
                raise _StoreTimeoutError("stalled")
        result: list[bool] = []
        failure: list[Exception] = []
        counted = threading.Event()  # set once this store is counted as stalled

        def store() -> None:
            try:
                result.append(bool(self.inbox.store(**fields)))
            except Exception as error:  # handed to the request's thread
                failure.append(error)
            finally:
                with self._stalled_lock:
                    if counted.is_set():
                        self._stalled -= 1

        thread = threading.Thread(target=store, name="lucca-inbox-store", daemon=True)
        thread.start()
        thread.join(self.store_seconds)
        with self._stalled_lock:
            if thread.is_alive():
                self._stalled += 1
                counted.set()
                raise _StoreTimeoutError("late")
        if failure:
            raise failure[0]
        return result[0]

    def _wake(self) -> None:
        if self._on_stored is None:
            return
        try:
            self._on_stored()
        except Exception as error:  # the event is stored: the worker's next round finds it
            logger.warning("lucca event stored, but waking the worker failed (%s)",
                           type(error).__name__)

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now


def challenge_reply(query: Mapping[str, str]) -> Reply:
    """Answer Lucca's activation challenge: its value, as plain text.

    It needs no secret: the receiver answers it even before the endpoint's secret is
    configured, since Lucca sends it as the endpoint is declared, and the secret is only
    shown then.
    """
    for name in CHALLENGE_PARAMETERS:
        value = query.get(name)
        if isinstance(value, str) and value:
            if len(value) > _MAX_CHALLENGE:
                break
            logger.info("lucca endpoint challenge answered (?%s=…)", name)
            # nosniff: the value comes from the query; no browser may take it for HTML.
            return Reply(200, value.encode("utf-8", "backslashreplace"),
                         content_type="text/plain; charset=utf-8",
                         headers=(("X-Content-Type-Options", "nosniff"),))
    logger.info("lucca webhook refused (400): a GET without ?echo= or ?challenge=")
    return json_reply(400, {"error": "a GET is Lucca's activation challenge: ?echo=… or "
                                     f"?challenge=… (up to {_MAX_CHALLENGE} characters) "
                                     "expected"})
