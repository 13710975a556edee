"""Recorded cassettes must hold no credential: the scrubbing in conftest must have worked."""

from __future__ import annotations

from pathlib import Path

from conftest import SECRET_MARK


def test_no_cassette_holds_a_secret() -> None:
    cassettes = list((Path(__file__).parent / "cassettes").rglob("*.yaml"))
    assert cassettes, "the client tests record cassettes; none found"
    leaks = [str(p) for p in cassettes if SECRET_MARK in p.read_text()]
    assert leaks == []
    for path in cassettes:
        text = path.read_text()
        assert "lucca application=" not in text.lower() or "<scrubbed>" in text
        assert "Bearer " not in text
        assert "client_secret=" not in text or "client_secret=%3Cscrubbed%3E" in text \
            or "client_secret=<scrubbed>" in text
