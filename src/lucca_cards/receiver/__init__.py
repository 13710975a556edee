"""The webhook receiver: Cards events into the training ledger, Lucca events into the inbox.

Two ways to receive them:

* :func:`make_app` returns a WSGI application (Cards events at ``/`` and ``/cards``,
  Lucca events at ``/lucca``) for any WSGI server, or ``lucca-cards webhooks serve``;
* :class:`CardsWebhookHandler` and :class:`LuccaWebhookHandler` are the same checks
  without a framework, for a route in an existing Flask, Django or FastAPI application:
  give them the method, the **raw** body bytes and the headers, send back their
  :class:`Reply`.

Lucca events are only stored on receipt (Lucca waits 3 s at most); an
:class:`InboxWorker` thread applies them in the background (``lucca-cards webhooks
serve`` runs one), or ``lucca-cards events process`` from cron.

Each request gets one line on the ``lucca_cards.receiver`` logger (INFO): the event's type
(or topic) and id and what became of it, or why it was refused. The line never holds
personal data (a Lucca event shows its employee id, no name or email), the secret or the
signature.
"""

from __future__ import annotations

from ._cards import CardsWebhookHandler, EventLedger, Reply
from ._lucca import EventInbox, LuccaWebhookHandler
from ._worker import InboxWorker
from ._wsgi import CARDS_PATHS, LUCCA_PATH, ReceiverApp, make_app

__all__ = ["CARDS_PATHS", "LUCCA_PATH", "CardsWebhookHandler", "EventInbox", "EventLedger",
           "InboxWorker", "LuccaWebhookHandler", "ReceiverApp", "Reply", "make_app"]
