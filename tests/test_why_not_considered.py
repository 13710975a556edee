"""An employee asked for by id and not imported: deactivated, or not in Lucca, said which."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lucca_cards import SyncOutcome, UserImporter, ValidationError
from lucca_cards.cli import main
from lucca_cards.cli._sandbox_config import toml_text
from lucca_cards.sandbox import Sandbox
from lucca_cards.sync._base import MAX_EXPLAINED, NOT_CONSIDERED
from sync_support import clients, sandbox


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as started:
        yield started


def deactivated(box: Sandbox) -> str:
    with clients(box) as (lucca, _):
        return next(iter(lucca.employees.list(status=["deactivated"]))).id


def test_a_deactivated_employee_is_said_to_be_and_an_unknown_one_not_found(box: Sandbox) -> None:
    gone = deactivated(box)
    with clients(box) as both:
        report = UserImporter(*both).run([gone, "999999"], dry_run=True)
    reasons = {item.employee_id: item.reason for item in report.items}
    assert {item.outcome for item in report.items} == {SyncOutcome.SKIPPED}
    assert reasons == {gone: "is deactivated in Lucca: this import considers active and "
                             "upcoming employees", "999999": "not found in Lucca"}


def test_the_preview_says_it_too(box: Sandbox, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    gone = deactivated(box)
    path = tmp_path / "lucca-cards.toml"
    path.write_text(toml_text(box.setting_values()), encoding="utf-8")
    assert main(["users", "preview", "--config", str(path), "--employee", gone, "999999"]) == 0
    out = capsys.readouterr().out
    assert f"employee {gone}: is deactivated in Lucca" in out
    assert "employee 999999: not found in Lucca" in out
    assert main(["users", "preview", "--config", str(path), "--json", "--employee", gone]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["not_found"] == [gone]
    assert data["why_not_found"][gone].startswith("is deactivated in Lucca")


def test_only_so_many_are_read_one_by_one(box: Sandbox) -> None:
    asked = [str(900_000 + n) for n in range(MAX_EXPLAINED + 5)]
    with clients(box) as both:
        box.lucca.log.clear()
        reasons = UserImporter(*both).why_not_considered(asked)
    reads = [e for e in box.lucca.log.entries() if e["path"].startswith("/lucca-api/employees/")]
    assert len(reads) == MAX_EXPLAINED
    assert list(reasons.values()).count("not found in Lucca") == MAX_EXPLAINED
    assert list(reasons.values())[-5:] == [NOT_CONSIDERED] * 5


def test_ids_are_read_as_run_reads_them(box: Sandbox) -> None:
    gone = deactivated(box)
    with clients(box) as both:
        importer = UserImporter(*both)
        reasons = importer.why_not_considered([f" {gone} ", gone, 999999])
        assert list(reasons) == [gone, "999999"]  # trimmed, once each, whole numbers as text
        assert reasons[gone].startswith("is deactivated in Lucca")
        with pytest.raises(ValidationError,
                           match=r"UserImporter\.why_not_considered: employee_ids holds"):
            importer.why_not_considered(["  "])
        with pytest.raises(ValidationError, match="collection of ids"):
            importer.why_not_considered("412")
