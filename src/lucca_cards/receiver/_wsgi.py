"""The receiver as a WSGI application (werkzeug): Cards events at ``/`` and ``/cards``.

Serve it with any WSGI server (gunicorn, uWSGI, waitress, ``lucca-cards webhooks
serve``); it reads no more of a body than the limit allows and hands the raw bytes to the
framework-neutral :class:`~lucca_cards.receiver.CardsWebhookHandler`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .._secret import Secret
from ..cards.webhooks import DEFAULT_SIGNATURE_HEADER, MAX_BODY_BYTES
from ..config import Settings
from ._cards import CardsWebhookHandler, EventLedger, Reply, checked_options, logger

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: The paths Cards events are received at (a trailing slash allowed); ``/lucca`` is kept
#: for Lucca's events.
CARDS_PATHS = ("/", "/cards")
# Read a body in pieces this big: a Cards event is a few hundred bytes.
_CHUNK = 64 * 1024


class ReceiverApp:
    """The WSGI application :func:`make_app` returns.

    Attributes:
        handler: the :class:`~lucca_cards.receiver.CardsWebhookHandler` it calls.
        ledger: where the handler stores events.
    """

    def __init__(self, handler: CardsWebhookHandler, *, owns_ledger: bool = False) -> None:
        self.handler = handler
        self.ledger = handler.ledger
        self._owns_ledger = owns_ledger

    def __repr__(self) -> str:
        return f"ReceiverApp(paths={list(CARDS_PATHS)}, {self.handler!r})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        """Answer one request (the WSGI interface)."""
        request = Request(environ)
        # One byte over the limit: werkzeug then refuses a chunked body that runs past it
        # (RequestEntityTooLarge), while one of exactly the limit reads whole.
        request.max_content_length = self.handler.max_body_bytes + 1
        # "/cards/" too: a trailing slash typed in Cards' settings must not lose events.
        path = request.path if request.path == "/" else request.path.removesuffix("/")
        if path in CARDS_PATHS:
            reply = self._cards(request)
        else:
            # Scanners knock on every path: kept out of the INFO log.
            logger.debug("not found (404): a request outside %s", ", ".join(CARDS_PATHS))
            reply = Reply(404, b'{"error":"not found: Cards events go to / or /cards"}')
        response = Response(reply.body, status=reply.status, headers=list(reply.headers),
                            content_type=reply.content_type)
        return response(environ, start_response)

    def _cards(self, request: Request) -> Reply:
        handler = self.handler
        early = handler.before_body(request.method, request.content_length)
        if early is not None:
            return early
        try:
            body = _read(request, handler.max_body_bytes)
        except RequestEntityTooLarge:  # a chunked body that ran over the limit
            return handler.too_large()
        except ClientDisconnected:
            logger.info("cards webhook refused (400): the body ended before its "
                        "Content-Length")
            return Reply(400, b'{"error":"the body is shorter than its Content-Length"}')
        if body is None:
            return handler.too_large()
        return handler.handle(request.method, body, request.headers)

    def close(self) -> None:
        """Close the ledger if :func:`make_app` opened it (not one it was given)."""
        close = getattr(self.ledger, "close", None)
        if self._owns_ledger and callable(close):
            close()


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
) -> ReceiverApp:
    """Return the receiver's WSGI application: Cards events at ``/`` and ``/cards``.

    ``POST`` each event to it; any other path answers 404 (``/lucca`` is kept for Lucca's
    events). What is not given comes from ``settings``; without ``settings``, a missing
    secret or ledger comes from the environment (:meth:`Settings.from_env
    <lucca_cards.Settings.from_env>`)::

        app = make_app(settings=Settings.load("lucca-cards.toml"))  # for any WSGI server

    Args:
        ledger: where events go; by default a
            :class:`~lucca_cards.state.TrainingLedger` on the ``state_database`` setting,
            which :meth:`ReceiverApp.close` closes.
        secret: the webhook secret; by default ``settings.cards_webhook_secret``.
        settings: the configuration the missing values come from.
        signature_header: the signature header; by default the settings'
            ``cards_signature_header``, or ``Signature``.
        max_body_bytes: the largest body accepted (1 MiB); larger ones get 413 unread.

    Raises:
        ConfigurationError: no webhook secret (``cards_webhook_secret``, set by
            ``CARDS_WEBHOOK_SECRET`` or ``[cards] webhook_secret``), or another setting
            that cannot work: raised here, never at the first request.
    """
    if settings is None and (secret is None or ledger is None):
        # Read only when something is missing: given a ledger and a secret, the app
        # depends on no environment variable.
        settings = Settings.from_env()
    if secret is None and settings is not None:
        secret = settings.cards_webhook_secret
    if signature_header is None:
        signature_header = (DEFAULT_SIGNATURE_HEADER if settings is None
                            else settings.cards_signature_header)
    # Checked before the ledger is opened: a configuration error creates no database.
    checked_options(secret, signature_header, max_body_bytes)
    opened = ledger is None
    if ledger is None:
        ledger = _open_ledger(None if settings is None else settings.state_database)
    handler = CardsWebhookHandler(ledger, secret, signature_header=signature_header,
                                  max_body_bytes=max_body_bytes)
    return ReceiverApp(handler, owns_ledger=opened)


def _open_ledger(where: str | os.PathLike[str] | None) -> EventLedger:
    # Imported here: SQLAlchemy and the migrations load only when a ledger is opened.
    from ..state import TrainingLedger

    return TrainingLedger(where) if where is not None else TrainingLedger()
