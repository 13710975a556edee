"""``lucca-cards users|departments preview|import``, in process, against a sandbox.

The sandbox reaches the CLI the way a user's tenant would: through ``LUCCA_*`` and
``CARDS_*`` environment variables or a ``--config`` TOML file. What the commands did is
read back from the sandbox (its live records, request log and outbox), not from their
own output.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_MARK
from lucca_cards.cli import main
from lucca_cards.sandbox import Sandbox, SandboxCredentials
from lucca_cards.sandbox._model import employee_status

TODAY = dt.date(2026, 3, 2)
CREDENTIALS = SandboxCredentials(
    client_secret=f"{SECRET_MARK}-client", api_key=f"{SECRET_MARK}-legacy",
    cards_tenant="acme", cards_api_key=f"{SECRET_MARK}-cards", webhook_secret=f"{SECRET_MARK}-hook",
)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def company(employees: int) -> Iterator[Sandbox]:
    """Serve the CLI tests' company (unlimited, the test credentials) while iterated."""
    with Sandbox(seed=5, employees=employees, departments=6, today=TODAY, lucca_rate_limit=0,
                 cards_rate_limit=0, credentials=CREDENTIALS) as box:
        yield box


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from company(40)


def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                 variables: dict[str, str]) -> None:
    """Run in ``tmp_path`` with only ``variables`` among the ``LUCCA_*``/``CARDS_*`` ones."""
    for name in list(os.environ):
        if name.startswith(("LUCCA_", "CARDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def settings_env(box: Sandbox) -> dict[str, str]:
    info = box.connection_info()
    return {
        "LUCCA_URL": info["lucca_url"], "LUCCA_TOKEN_URL": info["token_url"],
        "LUCCA_CLIENT_ID": info["client_id"], "LUCCA_CLIENT_SECRET": info["client_secret"],
        "LUCCA_REQUESTS_PER_MINUTE": "0", "CARDS_URL": info["cards_url"],
        "CARDS_TENANT": info["cards_tenant"], "CARDS_API_KEY": info["cards_api_key"],
        "CARDS_REQUESTS_PER_MINUTE": "0",
    }


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No LUCCA_*/CARDS_* variable from the outside; the current directory is tmp_path."""
    for name in list(os.environ):
        if name.startswith(("LUCCA_", "CARDS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def env(sandbox: Sandbox, clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in settings_env(sandbox).items():
        clean_env.setenv(name, value)
    return clean_env


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET_MARK not in out + err
    assert "Traceback" not in err
    return status, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    status, out, _ = cli(capsys, *argv, "--json")
    return status, json.loads(out)


def current_employees(box: Sandbox) -> dict[str, Any]:
    lucca = box.company.lucca
    return {str(e.id): e for e in lucca.employees.values()
            if employee_status(lucca.employments[e.employment_id], TODAY) != "deactivated"}


def cards_writes(box: Sandbox) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in box.cards.log.entries()
            if e["method"] in WRITES]


def cards_user(box: Sandbox, email: str) -> Any:
    return next(u for u in box.company.cards.users.values()
                if (u.email or "").lower() == email.lower())


def ids_in(rows: list[dict[str, Any]], state: str) -> list[str]:
    return [row["employee_id"] for row in rows if row["state"] == state]


# -- users preview ------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_users_preview_lists_every_current_employee_with_its_state(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = cli(capsys, "users", "preview")
    assert status == 0
    current = current_employees(sandbox)
    lines = out.splitlines()
    assert lines[0].startswith(f"users preview: {len(current)} employees: ")
    rows = [line for line in lines if line.split(" ", 1)[0] in current]
    assert len(rows) == len(current)
    nameless = next(e for e in current.values() if not e.email)
    row = next(line for line in rows if line.startswith(f"{nameless.id} "))
    assert "(no email)" in row
    assert row.endswith("cannot be imported no professional email in Lucca")
    assert "will be created" in out
    assert "will be linked" in out
    assert cards_writes(sandbox) == []


@pytest.mark.usefixtures("env")
def test_users_preview_json_has_states_as_strings(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    status, data = cli_json(capsys, "users", "preview")
    assert status == 0
    assert data["operation"] == "users"
    assert {row["employee_id"] for row in data["rows"]} == set(current_employees(sandbox))
    states = {row["state"] for row in data["rows"]}
    assert {"will_be_created", "will_be_linked", "cannot_be_imported"} <= states
    assert sum(data["counts"].values()) == len(data["rows"])
    assert data["counts"]["already_linked"] == 0
    linked = next(row for row in data["rows"] if row["state"] == "will_be_linked")
    assert linked["cards_user_id"] == cards_user(sandbox, linked["email"].strip()).id
    assert all(row["reason"] for row in data["rows"] if row["state"] == "cannot_be_imported")


@pytest.mark.usefixtures("env")
def test_preview_of_chosen_ids_says_which_are_unknown(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    first = sorted(current_employees(sandbox), key=int)[0]
    status, data = cli_json(capsys, "users", "preview", "--employee", first, "999999")
    assert status == 0
    assert [row["employee_id"] for row in data["rows"]] == [first]
    assert data["not_found"] == ["999999"]


# -- users import -------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_import_all_creates_and_links_then_a_rerun_writes_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    status, out, err = cli(capsys, "users", "import", "--all")
    assert status == 0
    to_create = ids_in(plan["rows"], "will_be_created")
    assert out.splitlines()[0].startswith(f"users import: {len(to_create)} created, ")
    assert cards_writes(sandbox) == ["POST /v1/users"] * len(to_create)
    current = current_employees(sandbox)
    for employee_id in to_create:
        assert cards_user(sandbox, current[employee_id].email.strip())
    assert "importing users" not in err  # standard error is no terminal here: no bar
    assert "unchanged" not in out.split("\n", 1)[1]  # counted, never listed
    sandbox.cards.log.clear()
    status, report = cli_json(capsys, "users", "import", "--all")
    assert status == 0
    assert report["counts"]["created"] == report["counts"]["linked"] == 0
    assert cards_writes(sandbox) == []


@pytest.mark.usefixtures("env")
def test_import_of_chosen_employees_touches_only_them(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    first, second, third = ids_in(plan["rows"], "will_be_created")[:3]
    status, report = cli_json(capsys, "users", "import", "--employee", first,
                              "--employee", second, third, "999999")
    assert status == 0
    outcomes = {item["employee_id"]: item["outcome"] for item in report["items"]}
    assert outcomes == {first: "created", second: "created", third: "created",
                        "999999": "skipped"}
    unknown = next(item for item in report["items"] if item["employee_id"] == "999999")
    assert "not found" in unknown["reason"]
    assert len(cards_writes(sandbox)) == 3


@pytest.mark.usefixtures("env")
def test_a_dry_run_prints_the_plan_and_writes_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    status, out, _ = cli(capsys, "users", "import", "--all", "--dry-run")
    assert status == 0
    assert "dry run" in out.splitlines()[0]
    assert "nothing was written" in out
    status, report = cli_json(capsys, "users", "import", "--all", "--dry-run")
    assert report["dry_run"] is True
    assert report["counts"]["created"] == len(ids_in(plan["rows"], "will_be_created"))
    assert report["counts"]["linked"] == len(ids_in(plan["rows"], "will_be_linked"))
    assert cards_writes(sandbox) == []
    assert not (tmp_path / "lucca-cards.sqlite").exists()  # nothing to remember


@pytest.mark.usefixtures("env")
def test_notify_and_sso_reach_cards(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    invited, quiet = ids_in(plan["rows"], "will_be_created")[:2]
    cli(capsys, "users", "import", "--employee", invited, "--notify",
        "--connection-mode", "sso")
    cli(capsys, "users", "import", "--employee", quiet)
    current = current_employees(sandbox)
    invited_email, quiet_email = (current[i].email.strip().lower() for i in (invited, quiet))
    assert [mail["email"] for mail in sandbox.cards.outbox] == [invited_email]
    assert cards_user(sandbox, invited_email).source == "sso"
    assert cards_user(sandbox, quiet_email).source == "app"


def test_notify_and_connection_mode_default_to_the_settings(
    sandbox: Sandbox, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    env.setenv("CARDS_IMPORT_NOTIFY", "true")
    env.setenv("CARDS_IMPORT_CONNECTION_MODE", "sso")
    _, plan = cli_json(capsys, "users", "preview")
    default, refused = ids_in(plan["rows"], "will_be_created")[:2]
    cli(capsys, "users", "import", "--employee", default)
    cli(capsys, "users", "import", "--employee", refused, "--no-notify",
        "--connection-mode", "password")
    current = current_employees(sandbox)
    default_email, refused_email = (current[i].email.strip().lower() for i in (default, refused))
    assert [mail["email"] for mail in sandbox.cards.outbox] == [default_email]
    assert cards_user(sandbox, default_email).source == "sso"
    assert cards_user(sandbox, refused_email).source == "app"


@pytest.mark.usefixtures("env")
def test_a_failed_item_is_listed_the_others_go_on_and_the_status_is_1(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    doomed, *others = ids_in(plan["rows"], "will_be_created")
    # The SDK's email rule lets this through (its top-level label has a digit); Cards
    # answers 422, so the create fails after the plan was made.
    sandbox.company.lucca.employees[int(doomed)].email = "doomed@acme.c0m"
    status, out, _ = cli(capsys, "users", "import", "--all")
    assert status == 1
    failed = [line for line in out.splitlines() if line.lstrip().startswith("failed")]
    assert len(failed) == 1
    assert "doomed@acme.c0m" in failed[0]
    assert "email" in failed[0].split(":", 1)[1]  # Cards' own validation message
    assert "run the same command again" in out
    assert cards_writes(sandbox).count("POST /v1/users") == len(others) + 1
    status, report = cli_json(capsys, "users", "import", "--all")
    assert status == 1
    assert [item["employee_id"] for item in report["items"]
            if item["outcome"] == "failed"] == [doomed]


# -- configuration and errors -------------------------------------------------------------


@pytest.mark.usefixtures("clean_env")
def test_missing_configuration_exits_2_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = cli(capsys, "users", "preview")
    assert status == 2
    assert out == ""
    assert "lucca_url" in err
    assert "LUCCA_URL" in err  # and how to set it


def test_missing_cards_configuration_is_named_too(
    sandbox: Sandbox, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in settings_env(sandbox).items():
        if name.startswith("LUCCA_"):
            clean_env.setenv(name, value)
    status, _, err = cli(capsys, "departments", "import", "--all")
    assert status == 2
    assert "cards_tenant" in err
    assert "CARDS_TENANT" in err


def test_an_api_error_exits_1_with_its_message(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    env.setenv("LUCCA_CLIENT_SECRET", f"{SECRET_MARK}-wrong")
    status, out, err = cli(capsys, "users", "preview")
    assert status == 1
    assert out == ""
    assert err.startswith("lucca-cards: ")
    assert "client" in err  # what to check: the client id and secret


def test_an_unusable_state_file_exits_2(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = cli(capsys, "users", "import", "--all", "--state", str(tmp_path))
    assert status == 2
    assert "--state" in err


def test_import_needs_all_or_ids(capsys: pytest.CaptureFixture[str]) -> None:
    for command, option in (("users", "--employee"), ("departments", "--department")):
        with pytest.raises(SystemExit) as caught:
            main([command, "import"])
        assert caught.value.code == 2
        assert f"one of the arguments --all {option} is required" in capsys.readouterr().err
        with pytest.raises(SystemExit) as caught:
            main([command, "import", "--all", option, "1"])
        assert caught.value.code == 2
        assert "not allowed with" in capsys.readouterr().err


def test_a_group_alone_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["departments"])
    assert caught.value.code == 0
    assert "preview" in capsys.readouterr().out


def test_the_help_says_what_the_state_file_is_for(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["users", "import", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "which Cards account each employee was linked to" in help_text
    assert "the training ledger" in help_text
    assert "lucca-cards.sqlite" in help_text


def test_a_config_file_works_and_the_environment_wins_over_it(
    sandbox: Sandbox, clean_env: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    info = sandbox.connection_info()
    config = tmp_path / "lucca-cards.toml"
    config.write_text(
        f'[lucca]\nurl = "{info["lucca_url"]}"\ntoken_url = "{info["token_url"]}"\n'
        f'client_id = "{info["client_id"]}"\nclient_secret = "{info["client_secret"]}"\n'
        "requests_per_minute = 0\n"
        f'[cards]\nurl = "{info["cards_url"]}"\ntenant = "{info["cards_tenant"]}"\n'
        f'api_key = "{SECRET_MARK}-not-the-key"\nrequests_per_minute = 0\n'
        '[import]\nnotify = true\nconnection_mode = "sso"\n', encoding="utf-8")
    clean_env.setenv("CARDS_API_KEY", info["cards_api_key"])  # wins over the file's
    _, plan = cli_json(capsys, "users", "preview", "--config", str(config))
    chosen = ids_in(plan["rows"], "will_be_created")[0]
    status, _, _ = cli(capsys, "users", "import", "--employee", chosen, "--config", str(config))
    assert status == 0
    email = current_employees(sandbox)[chosen].email.strip().lower()
    assert cards_user(sandbox, email).source == "sso"  # the file's [import] defaults
    assert [mail["email"] for mail in sandbox.cards.outbox] == [email]


# -- the state file -----------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_the_state_file_makes_the_next_preview_say_already_linked(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    _, plan = cli_json(capsys, "users", "preview")
    created = ids_in(plan["rows"], "will_be_created")[0]
    linked = ids_in(plan["rows"], "will_be_linked")[0]
    state = str(tmp_path / "links.sqlite")
    cli(capsys, "users", "import", "--employee", created, linked, "--state", state)
    _, again = cli_json(capsys, "users", "preview", "--state", state)
    assert sorted(ids_in(again["rows"], "already_linked")) == sorted([created, linked])
    _, elsewhere = cli_json(capsys, "users", "preview", "--state", str(tmp_path / "other"))
    assert ids_in(elsewhere["rows"], "already_linked") == []
    assert linked in ids_in(elsewhere["rows"], "will_be_linked")


@pytest.mark.usefixtures("env")
def test_the_default_state_file_is_in_the_current_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    cli(capsys, "users", "import", "--all")
    assert (tmp_path / "lucca-cards.sqlite").is_file()
    _, again = cli_json(capsys, "users", "preview")
    assert again["counts"]["will_be_created"] == again["counts"]["will_be_linked"] == 0
    assert again["counts"]["already_linked"] > 0


# -- departments --------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_departments_preview_shows_members_groups_and_shared_names(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = cli(capsys, "departments", "preview")
    assert status == 0
    departments = sandbox.company.lucca.departments
    assert out.splitlines()[0].startswith(f"departments preview: {len(departments)} departments")
    assert "SHARES A NAME WITH" in out
    _, data = cli_json(capsys, "departments", "preview")
    assert {row["department_id"] for row in data["rows"]} == {str(i) for i in departments}
    twins = [row for row in data["rows"] if row["same_name"]]
    assert twins
    for row in twins:
        assert all(departments[int(i)].name == row["name"] for i in row["same_name"])
    # Same-named departments are told apart by their path, in the JSON and in the table.
    for row in twins:
        parent = departments[int(row["department_id"])].parent_id
        if parent is not None:
            assert row["path"] == f"{departments[parent].name.strip()} › {row['name']}"
    assert len({row["path"] for row in twins}) == len(twins)
    shown = next(line for line in out.splitlines()
                 if line.startswith(f"{twins[0]['department_id']} "))
    assert twins[0]["path"][-43:] in shown  # cut from the left: the own name stays
    members = sum(row["members"] for row in data["rows"])
    assert data["counts"]["members"] == members
    assert cards_writes(sandbox) == []


@pytest.mark.usefixtures("env")
def test_departments_import_puts_members_in_the_group(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str],
) -> None:
    _, data = cli_json(capsys, "departments", "preview")
    chosen = max(data["rows"], key=lambda row: row["missing"])
    status, report = cli_json(capsys, "departments", "import", "--department",
                              chosen["department_id"], "999999")
    assert status == 0
    assert {item["group"] for item in report["items"]} == {chosen["name"]}
    assert any("999999" in note for note in report["notes"])
    groups = {g.id: g.name for g in sandbox.company.cards.groups.values()}
    done = [item for item in report["items"]
            if item["outcome"] in {"created", "added_to_group"}]
    assert len(done) == chosen["missing"]
    for item in done:
        user = sandbox.company.cards.users[item["cards_user_id"]]
        assert chosen["name"] in {groups[i] for i in user.group_ids}
    status, out, _ = cli(capsys, "departments", "import", "--all")
    assert status == 0
    assert out.startswith("departments import: ")
    sandbox.cards.log.clear()
    status, rerun = cli_json(capsys, "departments", "import", "--all")
    assert status == 0
    assert rerun["counts"]["created"] == rerun["counts"]["added_to_group"] == 0
    assert cards_writes(sandbox) == []
