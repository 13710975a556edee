"""The receiver as a WSGI application (werkzeug): Cards and Lucca events, by path.

Cards events at ``/`` and ``/cards``, Lucca events at ``/lucca``. Serve it with any WSGI
server (gunicorn, uWSGI, waitress, ``lucca-cards webhooks serve``); it reads no more of a
body than the limit allows and hands the raw bytes to the framework-neutral
:class:`~lucca_cards.receiver.CardsWebhookHandler` or
:class:`~lucca_cards.receiver.LuccaWebhookHandler`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .._secret import Secret
from ..cards.webhooks import DEFAULT_SIGNATURE_HEADER, MAX_BODY_BYTES
from ..config import Settings
from ..errors import ConfigurationError
from ._cards import CardsWebhookHandler, EventLedger, Reply, checked_options, json_reply, logger
from ._lucca import EventInbox, LuccaWebhookHandler, challenge_reply, checked_lucca_secret

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: The paths Cards events are received at (a trailing slash allowed).
CARDS_PATHS = ("/", "/cards")
#: The path Lucca events (and its activation challenge) are received at.
LUCCA_PATH = "/lucca"
# Read a body in pieces this big: a Cards event is a few hundred bytes.
_CHUNK = 64 * 1024
_NO_SECRET = (
    "is not set, nor is lucca_webhook_secret: set at least one. For Cards events, "
    "CARDS_WEBHOOK_SECRET or webhook_secret under [cards] in the TOML file (the secret "
    "shown in Cards, Apps & Integrations → API & Webhooks); for Lucca events, "
    "LUCCA_WEBHOOK_SECRET or webhook_secret under [lucca] (the secret lucca-cards "
    "lucca-webhooks register printed)"
)


class _Closable(Protocol):
    def close(self) -> None: ...


class _BodyHandler(Protocol):
    """What reading a body needs of a handler: its limit and its 413."""

    max_body_bytes: int

    def too_large(self, size: int | None = None) -> Reply: ...


class ReceiverApp:
    """The WSGI application :func:`make_app` returns.

    Args:
        handler: the Cards handler (``None``: Cards events are not received).
        lucca_handler: the Lucca handler (``None``: Lucca events are not received).
        owns_ledger: :meth:`close` closes the Cards handler's ledger.
        owned: more to close in :meth:`close`, in this order (stores, then the database
            they share).

    Attributes:
        handler: the :class:`~lucca_cards.receiver.CardsWebhookHandler` it calls, or
            ``None``.
        ledger: where the Cards handler stores events, or ``None``.
        lucca_handler: the :class:`~lucca_cards.receiver.LuccaWebhookHandler` it calls,
            or ``None``.
        inbox: where the Lucca handler stores events, or ``None``.
        paths: the paths it receives events at.
    """

    def __init__(self, handler: CardsWebhookHandler | None = None, *,
                 lucca_handler: LuccaWebhookHandler | None = None,
                 owns_ledger: bool = False, owned: Sequence[_Closable] = ()) -> None:
        if handler is None and lucca_handler is None:
            raise ValueError("a ReceiverApp needs a Cards handler, a Lucca handler, or both")
        self.handler = handler
        self.ledger: EventLedger | None = None if handler is None else handler.ledger
        self.lucca_handler = lucca_handler
        self.inbox: EventInbox | None = None if lucca_handler is None else lucca_handler.inbox
        closing: list[Any] = [self.ledger] if owns_ledger else []
        self._owned = [*closing, *owned]
        self.paths = ((CARDS_PATHS if handler is not None else ())
                      + ((LUCCA_PATH,) if lucca_handler is not None else ()))

    def __repr__(self) -> str:
        handlers = ", ".join(repr(h) for h in (self.handler, self.lucca_handler)
                             if h is not None)
        return f"ReceiverApp(paths={list(self.paths)}, {handlers})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        """Answer one request (the WSGI interface)."""
        request = Request(environ)
        try:
            reply = self._route(request)
        except Exception as error:  # a bug: one JSON line, never a page quoting the body
            logger.error("receiver error (500): %s while answering a request",
                         type(error).__name__)
            reply = json_reply(500, {"error": "internal error; deliver it again later"})
        response = Response(reply.body, status=reply.status, headers=list(reply.headers),
                            content_type=reply.content_type)
        return response(environ, start_response)

    def _route(self, request: Request) -> Reply:
        # "/cards/" too: a trailing slash typed in a settings page must not lose events.
        path = request.path if request.path == "/" else request.path.removesuffix("/")
        if self.handler is not None and path in CARDS_PATHS:
            return self._cards(request, self.handler)
        if self.lucca_handler is not None and path == LUCCA_PATH:
            return self._lucca(request, self.lucca_handler)
        if path == LUCCA_PATH:
            return _lucca_unconfigured(request)
        # Scanners knock on every path: kept out of the INFO log.
        logger.debug("not found (404): a request outside %s", ", ".join(self.paths))
        return json_reply(404, {"error": f"not found: {self._where()}"})

    def _where(self) -> str:
        cards = "Cards events go to / or /cards" if self.handler is not None else ""
        if self.lucca_handler is None:
            return cards
        return f"{cards}, Lucca events to /lucca" if cards else "Lucca events go to /lucca"

    def _cards(self, request: Request, handler: CardsWebhookHandler) -> Reply:
        early = handler.before_body(request.method, request.content_length)
        if early is not None:
            return early
        body = _body(request, handler, "cards")
        if isinstance(body, Reply):
            return body
        return handler.handle(request.method, body, request.headers)

    def _lucca(self, request: Request, handler: LuccaWebhookHandler) -> Reply:
        early = handler.before_body(request.method, request.content_length)
        if early is not None:
            return early
        if request.method == "GET":  # the activation challenge: no body to read
            return handler.handle("GET", b"", request.headers, request.args)
        body = _body(request, handler, "lucca")
        if isinstance(body, Reply):
            return body
        return handler.handle(request.method, body, request.headers, request.args)

    def close(self) -> None:
        """Close the stores (and their database) :func:`make_app` opened, not those given."""
        for item in self._owned:
            close = getattr(item, "close", None)
            if callable(close):
                close()


def _body(request: Request, handler: _BodyHandler, kind: str) -> bytes | Reply:
    """Read the body within the handler's limit; or the refusal (413, or 400 when cut)."""
    # One byte over the limit: werkzeug then refuses a chunked body that runs past it
    # (RequestEntityTooLarge), while one of exactly the limit reads whole.
    request.max_content_length = handler.max_body_bytes + 1
    try:
        body = _read(request, handler.max_body_bytes)
    except RequestEntityTooLarge:  # a chunked body that ran over the limit
        return handler.too_large()
    except ClientDisconnected:
        logger.info("%s webhook refused (400): the body ended before its Content-Length",
                    kind)
        return Reply(400, b'{"error":"the body is shorter than its Content-Length"}')
    return handler.too_large() if body is None else body


def _read(request: Request, limit: int) -> bytes | None:
    """Return the body, or ``None`` once it passes ``limit`` bytes (the rest is not read).

    ``request.stream`` stops at ``Content-Length`` and, for a chunked body, raises
    :class:`RequestEntityTooLarge` past ``max_content_length``.
    """
    stream, size = request.stream, 0
    pieces: list[bytes] = []
    while size <= limit:
        piece = stream.read(min(_CHUNK, limit + 1 - size))
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)
        size += len(piece)
    return None


def make_app(
    ledger: EventLedger | None = None,
    *,
    secret: str | Secret | None = None,
    settings: Settings | None = None,
    signature_header: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    inbox: EventInbox | None = None,
    lucca_secret: str | Secret | None = None,
    on_lucca_event: Callable[[], None] | None = None,
) -> ReceiverApp:
    """Return the receiver's WSGI application: Cards events, Lucca events, or both.

    Cards events are received at ``/`` and ``/cards`` when a Cards secret is configured;
    Lucca events (and Lucca's activation challenge) at ``/lucca`` when a Lucca secret is;
    any other path answers 404. What is not given comes from ``settings``; without
    ``settings``, a missing secret or store comes from the environment
    (:meth:`Settings.from_env <lucca_cards.Settings.from_env>`)::

        app = make_app(settings=Settings.load("lucca-cards.toml"))  # for any WSGI server

    Args:
        ledger: where Cards events go; by default a
            :class:`~lucca_cards.state.TrainingLedger` on the ``state_database`` setting,
            which :meth:`ReceiverApp.close` closes.
        secret: the Cards webhook secret; by default ``settings.cards_webhook_secret``.
        settings: the configuration the missing values come from.
        signature_header: the Cards signature header; by default the settings'
            ``cards_signature_header``, or ``Signature``.
        max_body_bytes: the largest body accepted (1 MiB); larger ones get 413 unread.
        inbox: where Lucca events go; by default a :class:`~lucca_cards.state.LuccaInbox`
            on the ``state_database`` setting, which :meth:`ReceiverApp.close` closes
            (one database for both stores when both are opened here).
        lucca_secret: the Lucca endpoint's secret; by default
            ``settings.lucca_webhook_secret``.
        on_lucca_event: called after each new Lucca event is stored (to wake an
            :class:`~lucca_cards.receiver.InboxWorker`).

    Raises:
        ConfigurationError: neither webhook secret (``cards_webhook_secret``, the error
            names both), or another setting that cannot work: raised here, never at the
            first request, and before any database is opened.
    """
    needs_settings = ((secret is None and lucca_secret is None)
                      or (secret is not None and ledger is None)
                      or (lucca_secret is not None and inbox is None))
    if settings is None and needs_settings:
        # Read only when something is missing: given each store with its secret, the app
        # depends on no environment variable.
        settings = Settings.from_env()
    if settings is not None:
        secret = settings.cards_webhook_secret if secret is None else secret
        lucca_secret = settings.lucca_webhook_secret if lucca_secret is None else lucca_secret
    if secret is None and lucca_secret is None:
        raise ConfigurationError("cards_webhook_secret", _NO_SECRET)
    if signature_header is None:
        signature_header = (DEFAULT_SIGNATURE_HEADER if settings is None
                            else settings.cards_signature_header)
    # Checked before any store is opened: a configuration error creates no database.
    if secret is not None:
        checked_options(secret, signature_header, max_body_bytes)
    if lucca_secret is not None:
        checked_lucca_secret(lucca_secret)
    where = None if settings is None else settings.state_database
    ledger, inbox, owned = _open_stores(where, ledger, inbox, cards=secret is not None,
                                        lucca=lucca_secret is not None)
    cards = None if ledger is None or secret is None else CardsWebhookHandler(
        ledger, secret, signature_header=signature_header, max_body_bytes=max_body_bytes)
    lucca = None if inbox is None or lucca_secret is None else LuccaWebhookHandler(
        inbox, lucca_secret, max_body_bytes=max_body_bytes, on_stored=on_lucca_event)
    return ReceiverApp(cards, lucca_handler=lucca, owned=owned)


def _lucca_unconfigured(request: Request) -> Reply:
    """Answer ``/lucca`` before the endpoint's secret is configured.

    Lucca sends its challenge as the endpoint is declared, before the secret it shows then
    can be configured: it is answered (it needs no secret). An event cannot be checked
    yet: 503, which Lucca retries later, where a 404 would suspend the endpoint at once.
    """
    if request.method == "GET":
        return challenge_reply(request.args)
    logger.info("lucca webhook refused (503): no Lucca webhook secret is configured")
    return json_reply(503, {"error": "Lucca events are not received here yet: set "
                                     "LUCCA_WEBHOOK_SECRET and restart the receiver"},
                      (("Retry-After", "600"),))


def _open_stores(where: str | os.PathLike[str] | None, ledger: EventLedger | None,
                 inbox: EventInbox | None, *, cards: bool, lucca: bool,
                 ) -> tuple[EventLedger | None, EventInbox | None, list[_Closable]]:
    """Open the stores needed and not given; return them and what to close, in order.

    A store whose events are not received (``cards``, ``lucca`` false) comes back ``None``.

    Both opened here share one :class:`~lucca_cards.state.Database` (one engine, one set
    of connections), closed after them.
    """
    # Imported here: SQLAlchemy and the migrations load only when a store is opened.
    from ..state import DEFAULT_DATABASE, Database, LuccaInbox, TrainingLedger

    ledger, inbox = (ledger if cards else None), (inbox if lucca else None)
    opening_ledger, opening_inbox = cards and ledger is None, lucca and inbox is None
    if not (opening_ledger or opening_inbox):
        return ledger, inbox, []
    database = Database(DEFAULT_DATABASE if where is None else where)
    owned: list[_Closable] = []
    if opening_ledger:
        opened_ledger = TrainingLedger(database)
        ledger = opened_ledger
        owned.append(opened_ledger)
    if opening_inbox:
        opened_inbox = LuccaInbox(database)
        inbox = opened_inbox
        owned.append(opened_inbox)
    return ledger, inbox, [*owned, database]
