"""The webhook receiver: Cards events, checked and stored in the training ledger.

Two ways to receive them:

* :func:`make_app` returns a WSGI application (Cards events at ``/`` and ``/cards``) for
  any WSGI server, or ``lucca-cards webhooks serve``;
* :class:`CardsWebhookHandler` is the same checks without a framework, for a route in an
  existing Flask, Django or FastAPI application: give it the method, the **raw** body
  bytes and the headers, send back its :class:`Reply`.

Each request gets one line on the ``lucca_cards.receiver`` logger (INFO): the event's type
and id and whether it changed a learner's state, or why it was refused. The line never
holds the learner's personal data, the secret or the signature.
"""

from __future__ import annotations

from ._cards import CardsWebhookHandler, EventLedger, Reply
from ._wsgi import CARDS_PATHS, ReceiverApp, make_app

__all__ = ["CARDS_PATHS", "CardsWebhookHandler", "EventLedger", "ReceiverApp", "Reply",
           "make_app"]
