"""Receive Cards webhooks into the training ledger with the framework-neutral handler.

Run it with your webhook secret and point Cards' "API & Webhooks" URL at it (behind HTTPS):

    CARDS_WEBHOOK_SECRET=… python examples/webhook_receiver.py --port 8000

``lucca-cards webhooks serve`` does the same with ``lucca_cards.receiver.make_app``. This
program shows the three calls that put the receiver into any web framework:

1. ``handler.before_body(method, content_length)``: 405 for a method other than POST,
   413 for a declared body over 1 MiB, answered before reading anything;
2. read the raw body, no more than ``handler.max_body_bytes``;
3. ``handler.handle(method, body, headers)``: 401 unless the signature matches the raw
   bytes, 400 for a malformed event, 503 if the ledger fails (Cards retries), else 200
   once the event is in the ledger.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from lucca_cards.receiver import CardsWebhookHandler
from lucca_cards.state import TrainingLedger


def make_app(handler: CardsWebhookHandler) -> Callable[..., Iterable[bytes]]:
    """Build a WSGI app that answers every request with the handler's reply."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        # werkzeug reads no further than this: one byte over the limit, so that a chunked
        # body (no Content-Length) that is too large reaches handle() too large, gets 413.
        request.max_content_length = handler.max_body_bytes + 1
        reply = handler.before_body(request.method, request.content_length)
        if reply is None:
            body = request.get_data(cache=False)  # the exact bytes Cards signed
            reply = handler.handle(request.method, body, request.headers)
        response = Response(reply.body, status=reply.status, headers=list(reply.headers),
                            content_type=reply.content_type)
        return response(environ, start_response)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ledger", default="lucca-cards.sqlite",
                        help="the state database (a file path or a database URL)")
    args = parser.parse_args()
    secret = os.environ.get("CARDS_WEBHOOK_SECRET")
    if not secret:
        parser.error("set CARDS_WEBHOOK_SECRET to the secret shown in Cards")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with TrainingLedger(args.ledger) as ledger:
        handler = CardsWebhookHandler(ledger, secret)
        run_simple(args.host, args.port, make_app(handler), threaded=True)


if __name__ == "__main__":
    main()
