"""``lucca-cards stats publish|show`` and ``lucca-cards sync``, in process, against a sandbox.

Settings come from the environment, as on a user's server; the ledger is a real file fed
with the sandbox's signed webhooks. Results are read back from the sandbox.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from lucca_cards import TrainingLedger
from lucca_cards.sandbox import Sandbox
from stats_support import expected, feed, files, legacy_writes
from test_cli_sync import cli, cli_json, company, isolated_env, settings_env

STATE = "lucca-cards.sqlite"


@pytest.fixture
def box() -> Iterator[Sandbox]:
    yield from company(60)


@pytest.fixture
def env(box: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The sandbox's settings in the environment, statistics on; a fed ledger in the cwd."""
    isolated_env(monkeypatch, tmp_path, {
        **settings_env(box), "LUCCA_API_KEY": box.connection_info()["api_key"],
        "LUCCA_STATS_ENABLED": "true"})
    with TrainingLedger(tmp_path / STATE) as ledger:
        feed(box, ledger)
    return tmp_path / STATE


def test_publish_writes_the_files_then_a_rerun_writes_nothing(
        box: Sandbox, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "stats", "publish")
    with TrainingLedger(env) as ledger:
        want = expected(box, ledger)
    assert status == 0 and f"statistics publish: {len(want)} updated" in out
    assert {user: files(box)[user] for user in want} == want
    box.lucca.log.clear()
    status, report = cli_json(capsys, "stats", "publish")
    assert status == 0 and legacy_writes(box) == []
    assert report["counts"]["unchanged"] == len(want)


def test_publish_dry_run_and_budget(box: Sandbox, env: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, "stats", "publish", "--dry-run")
    assert status == 0 and report["dry_run"] and legacy_writes(box) == []
    status, report = cli_json(capsys, "stats", "publish", "--max-writes", "1")
    assert status == 0 and len(legacy_writes(box)) == 1
    assert report["counts"]["updated"] == 1 and report["counts"]["deferred"] > 0


def test_the_dry_run_bar_says_dry_run(box: Sandbox, env: Path) -> None:
    from lucca_cards.cli import build_parser
    from lucca_cards.cli._stats import publish_command
    from test_cli_wording import Terminal

    # the dry run first: after the publish, nothing is left to write (and no bar drawn)
    for flags, said, not_said in ((["--dry-run"], "dry run of statistics:", "publishing"),
                                  ([], "publishing statistics:", "dry run")):
        terminal = Terminal()
        args = build_parser().parse_args(["stats", "publish", *flags])
        assert publish_command(args, out=io.StringIO(), err=terminal) == 0
        assert said in terminal.getvalue() and not_said not in terminal.getvalue()


def test_publish_with_statistics_off_says_so(box: Sandbox, env: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LUCCA_STATS_ENABLED", "false")
    box.lucca.log.clear()
    status, out, _ = cli(capsys, "stats", "publish")
    assert status == 0 and "switched off" in out and box.lucca.log.entries() == []


def test_publish_without_the_field_on_the_tenant_is_a_configuration_error(
        box: Sandbox, env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LUCCA_STATS_FIELD", "e_trainings")
    status, _, err = cli(capsys, "stats", "publish")
    assert status == 2 and "e_trainings" in err and "Data management" in err
    assert legacy_writes(box) == []


def test_show_prints_a_learner_as_the_file_shows_it(box: Sandbox, env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with TrainingLedger(env) as ledger:
        email = ledger.learners()[0]
        states = ledger.records_for(email)
    status, out, _ = cli(capsys, "stats", "show", email.upper())
    assert status == 0 and f"{len(states)} training(s)" in out
    trainings = box.company.cards.trainings
    assert all(trainings[s.training_id].title[:30] in out for s in states)
    assert " %" in out
    status, data = cli_json(capsys, "stats", "show", email)
    assert [r["title"] for r in data["records"]] == sorted(
        (trainings[s.training_id].title for s in states), key=str.casefold)
    status, out, _ = cli(capsys, "stats", "show", "nobody@acme.fr")
    assert status == 0 and "no training activity" in out


def test_sync_runs_every_part_with_one_report(box: Sandbox, env: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, "sync")
    assert [part["operation"] for part in report["parts"]] == [
        "lifecycle", "departments", "users", "statistics"]
    assert status == (0 if report["ok"] else 1)
    assert report["parts"][3]["counts"]["updated"] > 0
    box.cards.log.clear()
    box.lucca.log.clear()
    status, again = cli_json(capsys, "sync")
    assert status == 0 and again["ok"]
    assert legacy_writes(box) == []
    assert [e for e in box.cards.log.entries() if e["method"] != "GET"] == []


def test_sync_only_some_parts_and_a_part_failing_alone(
        box: Sandbox, env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, "sync", "--only", "stats", "--dry-run")
    assert status == 0 and [p["operation"] for p in report["parts"]] == ["statistics"]
    monkeypatch.setenv("LUCCA_STATS_FIELD", "e_missing")
    status, report = cli_json(capsys, "sync", "--only", "users,stats")
    assert status == 1 and not report["ok"]
    users, stats = report["parts"]
    assert users["stopped"] is None and "e_missing" in stats["stopped"]
    with pytest.raises(SystemExit):
        cli(capsys, "sync", "--only", "payroll")


def test_sync_text_output_lists_each_part(box: Sandbox, env: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "sync", "--dry-run")
    assert status == 0
    assert out.startswith("dry run of the nightly sync: ")
    for part in ("departments import", "users import", "statistics publish"):
        assert f"dry run of {part}" in out


def test_sync_bounds_the_statistics_writes(box: Sandbox, env: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, report = cli_json(capsys, "sync", "--only", "stats", "--max-writes", "2")
    stats = report["parts"][0]
    assert status == 0 and stats["counts"]["updated"] == 2 and len(legacy_writes(box)) == 2
    assert stats["counts"]["deferred"] > 0


@pytest.mark.parametrize("command", [("sync", "--dry-run"), ("stats", "publish", "--dry-run"),
                                     ("events", "process", "--dry-run")])
def test_a_dry_run_creates_no_state_database(
        box: Sandbox, env: Path, tmp_path: Path, command: tuple[str, ...],
        capsys: pytest.CaptureFixture[str]) -> None:
    fresh = tmp_path / "not-yet.sqlite"
    status, _, _ = cli(capsys, *command, "--state", str(fresh))
    assert status == 0
    assert not fresh.exists()  # read if it exists; a dry run leaves no file behind
    status, _, _ = cli(capsys, *command[:-1], "--state", str(fresh))
    assert status == 0 and fresh.exists()  # the real run does make it
