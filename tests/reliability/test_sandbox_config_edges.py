"""``sandbox serve --write-config``: a file that is not the sandbox's, a path it cannot write."""

from __future__ import annotations

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
