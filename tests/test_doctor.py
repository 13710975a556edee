"""``lucca-cards doctor``: every check against the sandbox, and each failing precisely."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_MARK
from lucca_cards.cli import main
from lucca_cards.cli._doctor import lines
from lucca_cards.cli._sandbox_config import toml_text
from lucca_cards.sandbox import Sandbox

NAMES = ["Lucca token", "Lucca employees", "Lucca departments", "Lucca API key",
         "Training field e_formation", "Cards API key and tenant", "Cards webhook secret",
         "Lucca webhook secret"]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(employees=20, departments=3, seed=2, lucca_rate_limit=0,
                 cards_rate_limit=0) as started:
        yield started


def doctor(box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           **changes: Any) -> tuple[int, dict[str, dict[str, Any]], str]:
    """Run ``doctor --json`` on the sandbox's settings with ``changes``: status, checks, all."""
    path = tmp_path / "lucca-cards.toml"
    values = {**box.setting_values(), "stats_enabled": True, **changes}
    path.write_text(toml_text({k: v for k, v in values.items() if v is not None}),
                    encoding="utf-8")
    status = main(["doctor", "--config", str(path), "--json"])
    captured = capsys.readouterr()
    checks = json.loads(captured.out)["checks"]
    return status, {check["name"]: check for check in checks}, captured.out + captured.err


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


def test_every_check_passes_against_the_sandbox(box: Sandbox, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(box, tmp_path, capsys)
    assert status == 0
    assert list(checks) == NAMES
    assert set(statuses(checks).values()) == {"passed"}
    assert "e_title, e_link, e_progress, e_score, e_last_completion_date" in \
        checks["Training field e_formation"]["detail"]


def test_a_tenant_without_the_training_field_fails_that_check_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(employees=20, departments=3, lucca_rate_limit=0, cards_rate_limit=0,
                 stats_field=False) as box:
        status, checks, _ = doctor(box, tmp_path, capsys)
    assert status == 1
    failed = checks["Training field e_formation"]
    assert failed["status"] == "failed"
    assert "has no field e_formation" in failed["detail"]
    assert "create a compound field 'e_formation' with multiple occurrences" in failed["fix"]
    assert {name for name, s in statuses(checks).items() if s != "passed"} == {
        "Training field e_formation"}


def test_a_wrong_cards_key_fails_that_check_alone_and_never_shows(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, printed = doctor(box, tmp_path, capsys,
                                     cards_api_key=f"{SECRET_MARK}-wrong")
    assert status == 1
    cards = checks["Cards API key and tenant"]
    assert cards["status"] == "failed" and "401" in cards["detail"]
    assert "[cards] api_key and tenant (CARDS_API_KEY, CARDS_TENANT)" in cards["fix"]
    assert {n for n, s in statuses(checks).items() if s != "passed"} == {
        "Cards API key and tenant"}
    assert SECRET_MARK not in printed


def test_a_wrong_client_secret_fails_the_token_and_skips_its_reads(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, printed = doctor(box, tmp_path, capsys,
                                     lucca_client_secret=f"{SECRET_MARK}-wrong")
    assert status == 1
    assert statuses(checks) == {**dict.fromkeys(NAMES, "passed"), "Lucca token": "failed",
                                "Lucca employees": "skipped", "Lucca departments": "skipped"}
    assert checks["Lucca employees"]["detail"] == "needs the Lucca token"
    assert "invalid_client" in checks["Lucca token"]["detail"]
    assert SECRET_MARK not in printed


def test_a_wrong_api_key_fails_it_and_skips_the_training_field(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, printed = doctor(box, tmp_path, capsys, lucca_api_key=f"{SECRET_MARK}-k")
    assert status == 1
    assert checks["Lucca API key"]["status"] == "failed"
    assert "read users with their extended data" in checks["Lucca API key"]["fix"]
    assert checks["Training field e_formation"]["status"] == "skipped"
    assert SECRET_MARK not in printed


def test_missing_settings_are_named_with_their_variable(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(box, tmp_path, capsys, cards_tenant=None,
                               cards_webhook_secret=None, lucca_webhook_secret=None)
    assert status == 1
    cards = checks["Cards API key and tenant"]
    assert cards["detail"] == "cards_tenant: is not set"
    assert "set CARDS_TENANT" in cards["fix"]
    # Statistics on: without the Cards secret, no webhook can be trusted: a failure. The
    # Lucca one serves real-time provisioning only: skipped, not failed.
    assert checks["Cards webhook secret"]["status"] == "failed"
    assert checks["Lucca webhook secret"]["status"] == "skipped"


def test_without_statistics_the_api_key_is_not_needed(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(box, tmp_path, capsys, stats_enabled=False, lucca_api_key=None)
    assert status == 0
    assert checks["Lucca API key"]["status"] == "skipped"
    assert checks["Lucca API key"]["detail"] == "not set: needed only for the training statistics"


def test_statistics_switched_off_skip_their_checks(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(box, tmp_path, capsys, stats_enabled=False,
                               cards_webhook_secret=None)
    assert status == 0
    assert checks["Training field e_formation"]["status"] == "skipped"
    assert checks["Cards webhook secret"]["status"] == "skipped"


def test_the_text_has_a_line_per_check_and_the_fix_of_each_failure(
        box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lucca-cards.toml"
    path.write_text(toml_text({**box.setting_values(), "cards_api_key": "wrong"}),
                    encoding="utf-8")
    assert main(["doctor", "--config", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "lucca-cards doctor: 8 checks: 6 passed, 1 failed, 1 skipped"
    assert out[1].startswith("  ✓ Lucca token: obtained from http://127.0.0.1:")
    cards = out.index(next(line for line in out if "Cards API key and tenant" in line))
    assert out[cards].startswith("  ✗ Cards API key and tenant: Cards API: GET /v1/trainings")
    assert out[cards + 1].startswith("      fix: check [cards] api_key and tenant")
    assert "  - Training field e_formation: skipped: statistics are switched off" in out


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from lucca_cards._doctor import Check, CheckStatus
    from lucca_cards.cli._output import colours as _colours

    check = Check(name="Lucca token", status=CheckStatus.FAILED, detail="refused", fix="x")
    assert "\033[31m✗\033[0m Lucca token" in lines([check], coloured=True)[1]
    assert "\033[" not in "".join(lines([check]))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _colours(Terminal()) and not _colours(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _colours(Terminal())


def test_a_configuration_that_cannot_be_read_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[lucca\nurl = 1\n", encoding="utf-8")
    assert main(["doctor", "--config", str(path)]) == 2
    assert "configuration error" in capsys.readouterr().err
