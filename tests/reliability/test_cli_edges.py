"""The command line never shows a traceback: a closed pipe, an unexpected error, Ctrl-C, a
wrong base URL each end with one line (or none) and a documented exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_server import HostileServer, response

from conftest import SECRET_MARK
from lucca_cards import cli
from lucca_cards.cli import BROKEN_PIPE, main
from lucca_cards.cli import _imports as _cli_sync
from lucca_cards.sandbox import Sandbox


def environment(box: Sandbox, **overrides: str) -> dict[str, str]:
    info = box.connection_info()
    return {**os.environ, "LUCCA_URL": info["lucca_url"], "LUCCA_TOKEN_URL": info["token_url"],
            "LUCCA_CLIENT_ID": info["client_id"], "LUCCA_CLIENT_SECRET": info["client_secret"],
            "CARDS_URL": info["cards_url"], "CARDS_TENANT": info["cards_tenant"],
            "CARDS_API_KEY": info["cards_api_key"], "LUCCA_REQUESTS_PER_MINUTE": "0",
            "CARDS_REQUESTS_PER_MINUTE": "0", **overrides}


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[Sandbox]:
    # Enough employees that the preview is several times a pipe's 64 KiB buffer.
    with Sandbox(seed=3, employees=2500, departments=12, lucca_rate_limit=0,
                 cards_rate_limit=0) as box:
        yield box


def test_output_into_a_closed_pipe_ends_quietly(big_sandbox: Sandbox, tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "lucca_cards", "users", "preview"], cwd=tmp_path,
        env=environment(big_sandbox), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()  # what `| head -1` does once it has its line
    errors = child.stderr.read().decode()
    status = child.wait(timeout=60)
    assert first.startswith(b"users preview: 2250 employees")
    assert errors == ""
    assert status == BROKEN_PIPE


def test_an_unexpected_error_is_one_line_with_the_debug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: Any) -> int:
        raise RuntimeError("disk on fire\n\x1b[31mred")

    monkeypatch.setattr(_cli_sync, "run", broken)
    assert main(["users", "preview", "--all"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unexpected error (RuntimeError: disk on fire\\n\\x1b[31mred)" in err
    assert "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--debug", "users", "preview", "--all"])


def test_ctrl_c_anywhere_exits_130(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(**kwargs: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("lucca_cards.cli._demo.run_demo", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == "lucca-cards: interrupted.\n"


def test_debug_logs_requests_without_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with Sandbox(seed=3, employees=20, departments=6, lucca_rate_limit=0,
                 cards_rate_limit=0) as box:
        for name, value in environment(box).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        assert main(["--debug", "users", "preview"]) == 0
        secrets = [v for k, v in box.connection_info().items() if k in (
            "client_secret", "cards_api_key", "api_key")]
    err = capsys.readouterr().err
    assert "GET /lucca-api/employees -> 200" in err
    assert all(secret not in err for secret in secrets)


def test_a_wrong_base_url_says_which_setting(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    server = HostileServer()
    server.token_answer = lambda seen, wire: wire.write(response(200, {
        "access_token": f"{SECRET_MARK}-token"}))
    server.answer = lambda seen, wire: wire.write(response(404, "<h1>Not Found</h1>", headers={
        "Content-Type": "text/html"}))
    try:
        with Sandbox(seed=3, employees=20, departments=6) as box:
            env = environment(box, LUCCA_URL=server.url,
                              LUCCA_TOKEN_URL=f"{server.url}/connect/token")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        assert main(["users", "preview"]) == 1
    finally:
        server.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Lucca API: GET /lucca-api/employees" in err
    assert "failed with 404" in err
    assert "check LUCCA_URL (lucca_url)" in err
    assert ".." not in err.replace("…", "")


def test_the_parser_documents_debug() -> None:
    assert "--debug" in cli.build_parser().format_help()


@pytest.mark.parametrize(("argv", "target", "said"), [
    (["users", "import", "--all"], "lucca_cards.sync.users.UserImporter.run",
     "3 of 10 employees were done before the stop. What was written stays written"),
    (["stats", "publish"], "lucca_cards.sync.stats.StatsPublisher.run",
     "3 of 10 files were done before the stop. Files written stay written"),
])
def test_an_interrupted_job_says_how_far_it_went(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        argv: list[str], target: str, said: str) -> None:
    def interrupted(self: Any, *args: Any, progress: Any = None, **kwargs: Any) -> Any:
        for done in range(1, 4):
            progress(done, 10)
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    with Sandbox(employees=10, departments=2, lucca_rate_limit=0, cards_rate_limit=0) as box:
        for name, value in environment(box, LUCCA_API_KEY=box.connection_info()["api_key"],
                                       LUCCA_STATS_ENABLED="1").items():
            monkeypatch.setenv(name, value)
        status = main([*argv, "--state", str(tmp_path / "state.sqlite")])
    assert status == 130
    assert f"lucca-cards: interrupted. {said}" in capsys.readouterr().err
