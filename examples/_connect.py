"""Connect the examples to a tenant (``--config``) or, by default, to a fresh sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from lucca_cards import CardsClient, LuccaOAuthClient, Sandbox, Settings


@contextlib.contextmanager
def connect(config: str | None) -> Iterator[tuple[Settings, LuccaOAuthClient, CardsClient]]:
    """Yield the settings and clients of the tenant in ``config``, or of a fresh sandbox."""
    with contextlib.ExitStack() as stack:
        if config is None:
            # The sandbox keeps Lucca's real pace (50 a minute) but lifts Cards' 60 a
            # minute, at which its ~230 new accounts would take four minutes.
            settings = stack.enter_context(Sandbox(cards_rate_limit=0)).settings()
        else:
            settings = Settings.load(config)
        lucca = stack.enter_context(LuccaOAuthClient.from_settings(settings))
        cards = stack.enter_context(CardsClient.from_settings(settings))
        yield settings, lucca, cards
