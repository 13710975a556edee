"""``sandbox serve --write-config FILE`` and ``--print-env``: one step to the sandbox."""

from __future__ import annotations

import re
import shlex
import stat
import subprocess
from pathlib import Path

from lucca_cards import Settings
from lucca_cards._config_sources import tomllib
from lucca_cards.cli._sandbox_config import MARK, env_lines, toml_text
from served_sandbox import SMALL, command, serve_command, serve_sandbox

#: Every variable --print-env exports: the sandbox's settings, statistics on, its state.
EXPORTED = {"LUCCA_URL", "LUCCA_TOKEN_URL", "LUCCA_CLIENT_ID", "LUCCA_CLIENT_SECRET",
            "LUCCA_API_KEY", "LUCCA_SCOPES", "LUCCA_REQUESTS_PER_MINUTE", "LUCCA_WEBHOOK_SECRET",
            "CARDS_URL", "CARDS_TENANT", "CARDS_API_KEY", "CARDS_WEBHOOK_SECRET",
            "CARDS_REQUESTS_PER_MINUTE", "LUCCA_STATS_ENABLED", "LUCCA_CARDS_DATABASE"}
#: What a value may hold that TOML and the shell must carry as it is.
AWKWARD = 'a "quoted" \\ back\'slash, é, $HOME and `ls`'


def test_the_config_written_points_a_command_at_the_sandbox(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    with serve_sandbox(*SMALL, "--write-config", str(path)) as served:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the credentials
        assert path.read_text(encoding="utf-8").startswith(MARK)
        settings = Settings.load(path)
        assert settings.lucca_url == served.info["lucca_url"]
        assert settings.lucca_token_url == served.info["token_url"]  # never the real Lucca
        assert settings.cards_url == served.info["cards_url"]
        assert settings.cards_requests_per_minute == 0  # as the sandbox: unlimited
        assert settings.state_database == str(tmp_path / "sandbox-state.sqlite")
        preview = command("users", "preview", "--config", str(path))
    assert preview.returncode == 0, preview.stderr
    assert re.match(r"users preview: \d+ employees: ", preview.stdout)


def test_the_env_printed_points_a_command_at_the_sandbox() -> None:
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own CLI
        serve_command(*SMALL, "--print-env"), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(len(EXPORTED))]
        env = {}
        for line in lines:
            word, assignment = shlex.split(line)
            assert word == "export"
            name, _, value = assignment.partition("=")
            env[name] = value
        assert set(env) == EXPORTED
        assert env["CARDS_REQUESTS_PER_MINUTE"] == "0"
        assert env["LUCCA_STATS_ENABLED"] == "true"
        assert env["LUCCA_CARDS_DATABASE"] == "lucca-cards-sandbox.sqlite"  # never the real
        preview = command("departments", "preview", env=env)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert preview.returncode == 0, preview.stderr
    assert "departments preview" in preview.stdout


def test_its_own_file_is_replaced_by_the_next_serve(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(f"{MARK}: an earlier one\n[lucca]\nurl = \"http://127.0.0.1:1\"\n",
                    encoding="utf-8")
    path.chmod(0o644)
    with serve_sandbox(*SMALL, "--write-config", str(path)) as served:
        assert Settings.load(path).lucca_url == served.info["lucca_url"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*partial"))


def test_values_reach_toml_and_the_shell_as_they_are() -> None:
    values = {"lucca_client_secret": AWKWARD, "cards_requests_per_minute": 37.5,
              "lucca_requests_per_minute": 40.0}
    assert tomllib.loads(toml_text(values)) == {
        "lucca": {"client_secret": AWKWARD, "requests_per_minute": 40},
        "cards": {"requests_per_minute": 37.5}}
    script = env_lines(values) + 'printf %s "$LUCCA_CLIENT_SECRET"'
    shell = subprocess.run(["/bin/sh", "-c", script],  # noqa: S603 - our own text
                           capture_output=True, text=True, check=True, timeout=10)
    assert shell.stdout == AWKWARD
    assert "export LUCCA_REQUESTS_PER_MINUTE=40\n" in env_lines(values)  # 40, not 40.0
