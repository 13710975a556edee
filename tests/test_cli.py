from __future__ import annotations

import subprocess
import sys

import pytest

from lucca_cards import __version__
from lucca_cards.cli import main


def test_help_lists_the_program(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "lucca-cards" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_sandbox_without_a_subcommand_shows_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sandbox"])
    assert caught.value.code == 0
    assert "serve" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    done = subprocess.run([sys.executable, "-m", "lucca_cards", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert __version__ in done.stdout
