"""``lucca-cards doctor`` against hostile answers: a failed line each, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import HostileServer, answer_with

from lucca_cards.cli import main
from lucca_cards.cli._sandbox_config import toml_text
from lucca_cards.sandbox import Sandbox


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as served:
        yield served


@pytest.mark.parametrize(("status", "body", "said"), [
    (200, "<html>maintenance</html>", "not JSON"),
    (200, [1, 2], "a JSON object"),
    (404, {"message": "Not Found"}, "404"),
])
def test_a_cards_answer_that_makes_no_sense_is_one_failed_check(
        hostile: HostileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        status: int, body: object, said: str) -> None:
    hostile.answer = answer_with(status, body)
    with Sandbox(employees=10, departments=2, lucca_rate_limit=0, cards_rate_limit=0) as box:
        path = tmp_path / "lucca-cards.toml"
        path.write_text(toml_text({**box.setting_values(), "stats_enabled": True,
                                   "cards_url": f"{hostile.url}/v1"}), encoding="utf-8")
        exit_status = main(["doctor", "--config", str(path), "--json"])
    captured = capsys.readouterr()
    checks = {c["name"]: c for c in json.loads(captured.out)["checks"]}
    assert exit_status == 1
    cards = checks.pop("Cards API key and tenant")
    assert cards["status"] == "failed" and said in cards["detail"]
    assert cards["fix"]
    assert {c["status"] for c in checks.values()} == {"passed"}  # the others stand
    assert "Traceback" not in captured.err


def test_a_token_endpoint_answering_garbage_fails_the_token_and_skips_its_reads(
        hostile: HostileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile.token_answer = answer_with(200, "not a token")
    with Sandbox(employees=10, departments=2, lucca_rate_limit=0, cards_rate_limit=0) as box:
        path = tmp_path / "lucca-cards.toml"
        path.write_text(toml_text({**box.setting_values(),
                                   "lucca_token_url": f"{hostile.url}/connect/token"}),
                        encoding="utf-8")
        assert main(["doctor", "--config", str(path), "--json"]) == 1
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["Lucca token"]["status"] == "failed"
    assert checks["Lucca employees"]["status"] == "skipped"
    assert checks["Lucca API key"]["status"] == "passed"  # another credential: checked
