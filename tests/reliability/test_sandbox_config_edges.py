"""``sandbox serve --write-config``: a file that is not the sandbox's, a path it cannot write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from served_sandbox import SMALL, command


def test_a_file_it_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "lucca-cards.toml"
    path.write_text('[lucca]\nurl = "https://acme.ilucca.net"\n', encoding="utf-8")
    refused = command("sandbox", "serve", *SMALL, "--write-config", str(path))
    assert refused.returncode == 2
    assert refused.stdout == ""  # refused before serving: no line
    assert f"--write-config {path}: a file is there that sandbox serve did not write" \
        in refused.stderr
    assert "choose another path" in refused.stderr
    assert path.read_text(encoding="utf-8") == '[lucca]\nurl = "https://acme.ilucca.net"\n'


@pytest.mark.parametrize("where", ["missing/sandbox.toml", "."])
def test_a_config_that_cannot_be_written_exits_2_and_stops_serving(
        tmp_path: Path, where: str) -> None:
    path = tmp_path / where
    failed = command("sandbox", "serve", *SMALL, "--write-config", str(path))
    assert failed.returncode == 2
    assert failed.stdout == ""  # no line: nothing is pointed at a sandbox that stopped
    assert f"--write-config {path}:" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_settings_in_the_environment_that_would_win_over_the_file_are_named(
        tmp_path: Path) -> None:
    import subprocess

    from served_sandbox import serve_command

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUCCA_", "CARDS_"))}
    env["CARDS_API_KEY"] = "a-real-key"
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own CLI
        serve_command(*SMALL, "--write-config", str(tmp_path / "s.toml")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None and process.stdout.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "warning: CARDS_API_KEY set in this environment win over a --config file" in err
    assert "a-real-key" not in err


def test_a_path_that_is_no_file_is_refused_before_serving(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    refused = command("sandbox", "serve", *SMALL, "--write-config", str(fifo))
    assert refused.returncode == 2
    assert f"--write-config {fifo}: that is not a file" in refused.stderr
