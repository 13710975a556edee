"""Receive Cards webhooks: verify the signature over the raw body, then parse the event.

Run it with your webhook secret and point Cards' "API & Webhooks" URL at it (behind HTTPS):

    CARDS_WEBHOOK_SECRET=… python examples/webhook_receiver.py --port 8000

Each verified ``chapter-complete`` / ``quiz-complete`` event is printed; the training
ledger of the statistics issue will record them instead. A request whose signature does
not match gets 401 and is not parsed; a malformed body gets 400.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from lucca_cards import TrainingActivityEvent, ValidationError, WebhookEvent
from lucca_cards.cards.webhooks import Webhooks

Handler = Callable[[WebhookEvent], None]


def make_app(webhooks: Webhooks, handle: Handler) -> Callable[..., Iterable[bytes]]:
    """Build the WSGI app: 204 for a handled event, 401 bad signature, 400 bad body."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()  # the exact bytes Cards signed
        if request.method != "POST":
            response = Response("POST only\n", status=405)
        elif not webhooks.verify_request(request.headers, body):
            response = Response("bad signature\n", status=401)
        else:
            try:
                event = webhooks.parse(body)
            except ValidationError as error:
                response = Response(f"{error}\n", status=400)
            else:
                handle(event)
                response = Response(status=204)
        return response(environ, start_response)

    return app


def print_event(event: WebhookEvent) -> None:
    """Print one line per event."""
    if isinstance(event, TrainingActivityEvent):
        data = event.data
        email = data.user.email if data.user else None
        title = data.training.title if data.training else None
        progress = data.score.progress if data.score else None
        print(f"{event.type}: {email} {title} progress={progress}")
    else:
        print(f"{event.type}: (not a training event) id={event.id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    secret = os.environ.get("CARDS_WEBHOOK_SECRET")
    if not secret:
        parser.error("set CARDS_WEBHOOK_SECRET to the secret shown in Cards")
    webhooks = Webhooks(secret=secret)
    run_simple(args.host, args.port, make_app(webhooks, print_event))


if __name__ == "__main__":
    main()
