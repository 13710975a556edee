"""The receiver's configuration: the handler's options and ``make_app``, at construction.

A missing or unusable secret, header name or limit is refused when the handler or the app
is built, never at the first request; ``make_app`` takes what it is not given from the
settings or the environment, and closes only the ledger it opened.
"""

from __future__ import annotations

import doctest
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from werkzeug.test import Client

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, Secret, Settings
from lucca_cards.receiver import CardsWebhookHandler, ReceiverApp, Reply, _cards, make_app
from lucca_cards.state import TrainingLedger

SECRET = f"{SECRET_MARK}-receiver-config"


def event(event_id: str = "evt-1") -> bytes:
    return json.dumps({
        "id": event_id, "type": "chapter-complete", "created_at": "2024-01-20 09:10:00",
        "data": {"user": {"id": "u1", "email": "zoe.martin@example.com"},
                 "training": {"id": "trn-1"}, "score": {"progress": 0.2}},
    }).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes) -> dict[str, str]:
    return {"Signature": sign(body)}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[TrainingLedger]:
    with TrainingLedger(tmp_path / "ledger.sqlite") as opened:
        yield opened


# -- options --------------------------------------------------------------------------------


def test_no_secret_is_a_configuration_error_that_says_how_to_set_it(
    ledger: TrainingLedger,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CardsWebhookHandler(ledger, None)
    assert caught.value.setting == "cards_webhook_secret"
    assert "CARDS_WEBHOOK_SECRET" in str(caught.value)
    assert "[cards]" in str(caught.value)


@pytest.mark.parametrize(("options", "setting"), [
    ({"secret": "   "}, "cards_webhook_secret"),
    ({"secret": Secret("")}, "cards_webhook_secret"),
    ({"secret": 42}, "cards_webhook_secret"),
    ({"secret": SECRET, "signature_header": "Signature: x"}, "cards_signature_header"),
    ({"secret": SECRET, "signature_header": ""}, "cards_signature_header"),
])
def test_unusable_options_are_refused_at_construction(
    ledger: TrainingLedger, options: dict[str, Any], setting: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CardsWebhookHandler(ledger, **options)
    assert caught.value.setting == setting


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "1024"])
def test_the_limit_must_be_a_positive_whole_number(ledger: TrainingLedger, limit: Any) -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        CardsWebhookHandler(ledger, SECRET, max_body_bytes=limit)


def test_a_pasted_secret_loses_its_blanks_as_in_settings(ledger: TrainingLedger) -> None:
    pasted = CardsWebhookHandler(ledger, f"  {SECRET}\n", signature_header=" Signature ")
    body = event()
    assert pasted.handle("POST", body, signed(body)).status == 200


def test_the_handler_repr_hides_the_secret(ledger: TrainingLedger) -> None:
    handler = CardsWebhookHandler(ledger, Secret(SECRET))
    assert SECRET not in repr(handler)
    assert "Signature" in repr(handler)
    assert SECRET not in repr(make_app(ledger, secret=SECRET))


def test_a_reply_is_a_frozen_value() -> None:
    reply = Reply(200, b'{"status":"recorded","changed":true}')
    assert (reply.content_type, reply.headers) == ("application/json", ())
    assert reply.json() == {"status": "recorded", "changed": True}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        reply.status = 500  # type: ignore[misc]


def test_the_docstring_examples_run() -> None:
    result = doctest.testmod(_cards)
    assert (result.failed, result.attempted > 0) == (0, True)


# -- make_app: configured at construction ---------------------------------------------------


def test_make_app_without_a_secret_fails_at_construction_creating_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "never.sqlite"
    with pytest.raises(ConfigurationError) as caught:
        make_app(settings=Settings(state_database=str(path)))
    assert caught.value.setting == "cards_webhook_secret"
    assert "CARDS_WEBHOOK_SECRET" in str(caught.value)
    assert "[cards] in the TOML file" in str(caught.value)
    assert not path.exists()


def test_make_app_takes_everything_from_settings_and_closes_what_it_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "from-settings.sqlite"
    settings = Settings(cards_webhook_secret=SECRET, state_database=str(path),
                        cards_signature_header="X-Cards-Signature")
    app = make_app(settings=settings, max_body_bytes=4096)
    assert isinstance(app, ReceiverApp)
    assert (app.handler.signature_header, app.handler.max_body_bytes) == (
        "X-Cards-Signature", 4096)
    body = event()
    answer = Client(app).post("/cards", data=body, headers={"X-Cards-Signature": sign(body)})
    assert answer.status_code == 200
    app.close()
    with TrainingLedger(path) as reopened:
        assert reopened.event_count() == 1
    late = event("evt-late")  # the ledger app.close() closed is gone for good
    assert Client(app).post("/", data=late, headers={"X-Cards-Signature": sign(late)}
                            ).status_code == 503


def test_make_app_leaves_a_given_ledger_open(ledger: TrainingLedger) -> None:
    app = make_app(ledger, secret=SECRET, signature_header="Signature")
    app.close()
    assert ledger.event_count() == 0  # still usable


def test_make_app_reads_the_environment_when_nothing_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("CARDS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("LUCCA_CARDS_DATABASE", str(path))
    monkeypatch.delenv("CARDS_SIGNATURE_HEADER", raising=False)
    app = make_app()
    try:
        body = event()
        assert Client(app).post("/", data=body, headers=signed(body)).status_code == 200
    finally:
        app.close()
    assert path.exists()


def test_an_explicit_secret_wins_over_the_settings(ledger: TrainingLedger) -> None:
    app = make_app(ledger, secret=SECRET, settings=Settings(cards_webhook_secret="other"))
    body = event()
    assert Client(app).post("/", data=body, headers=signed(body)).status_code == 200


def test_given_a_ledger_and_a_secret_make_app_reads_no_environment(
    ledger: TrainingLedger, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUCCA_URL", "not a URL")  # Settings.from_env() would refuse it
    monkeypatch.setenv("CARDS_SIGNATURE_HEADER", "X-Ignored")
    app = make_app(ledger, secret=SECRET)
    assert app.handler.signature_header == "Signature"
    with pytest.raises(ConfigurationError, match="LUCCA_URL"):
        make_app(secret=SECRET)  # the ledger comes from the environment: read, refused
