"""``lucca-cards stats`` and ``lucca-cards sync`` at their edges: bad arguments, a bad state
database, hostile text in the ledger. Each ends in one line and the documented status.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lucca_cards import TrainingLedger
from lucca_cards.cards import webhooks
from lucca_cards.cli import main

HOSTILE_TITLE = "Sécurité\x1b[2J\u202eevil"


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith(("LUCCA_", "CARDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["stats", "publish", "--max-writes", "-1"],
    ["stats", "publish", "--max-writes", "ten"],
    ["stats", "publish", "--max-minutes", "1.5"],
    ["sync", "--only", "payroll"],
    ["sync", "--only", ","],
    ["stats", "show"],
])
def test_bad_arguments_exit_2_with_usage(argv: list[str], no_settings: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_an_unusable_state_names_the_option(no_settings: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (no_settings / "notes.sqlite").write_text("not a database\n" * 100)
    status = main(["stats", "show", "a@b.fr", "--state", "notes.sqlite"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("lucca-cards: configuration error: --state: ")
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("state", [None, "other.sqlite", "sqlite:///other.sqlite"])
def test_show_without_a_database_creates_none(state: str | None, no_settings: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "show", "a@b.fr", *(["--state", state] if state else [])]) == 0
    assert "no training activity" in capsys.readouterr().out
    assert sorted(no_settings.iterdir()) == []


def test_publish_without_settings_is_a_configuration_error(
        no_settings: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LUCCA_STATS_ENABLED", "1")
    status = main(["stats", "publish"])
    err = capsys.readouterr().err
    assert status == 2 and "configuration error" in err and "lucca_url" in err


def test_hostile_titles_show_escaped(no_settings: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    event = {"id": "e1", "type": "chapter-complete", "created_at": "2026-03-02 10:00:00",
             "data": {"created_at": "2026-03-02 10:00:00", "points": 1,
                      "user": {"id": "u1", "email": "ana@acme.fr"},
                      "training": {"id": "t1", "title": HOSTILE_TITLE, "chapters_count": 2},
                      "score": {"points": 1, "max_points": 2, "progress": 0.5}}}
    with TrainingLedger(no_settings / "lucca-cards.sqlite") as ledger:
        ledger.record(webhooks.parse(json.dumps(event).encode()))
    assert main(["stats", "show", "ana@acme.fr"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b" in out and "50 %" in out
    assert main(["stats", "show", "ana@acme.fr", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["records"][0]["title"] == HOSTILE_TITLE
