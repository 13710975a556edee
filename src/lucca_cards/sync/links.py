"""``LinkStore`` moved to :mod:`lucca_cards.state.links`; this name stays for old imports."""

from __future__ import annotations

from ..state.links import LinkStore

__all__ = ["LinkStore"]
