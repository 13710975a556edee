"""The command-line reference page is the parser's: every command, with its options."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

import cli_reference  # the docs' extension folder: on sys.path above

from lucca_cards.cli import build_parser


def test_every_command_and_subcommand_has_its_section() -> None:
    names = [name for name, _ in cli_reference.commands(build_parser())]
    for expected in ("lucca-cards", "lucca-cards users preview", "lucca-cards users import",
                     "lucca-cards departments import", "lucca-cards stats publish",
                     "lucca-cards sync", "lucca-cards sandbox serve", "lucca-cards doctor",
                     "lucca-cards lucca-webhooks register", "lucca-cards events list"):
        assert expected in names
    text = cli_reference.reference()
    for name in names:
        assert f"``{name}``\n" in text


def test_the_options_are_the_parsers() -> None:
    text = cli_reference.reference()
    serve = text.split("``lucca-cards sandbox serve``", 1)[1].split("``lucca-cards", 1)[0]
    assert "--write-config FILE" in serve and "--print-env" in serve
    doctor = text.split("``lucca-cards doctor``", 1)[1]
    assert "--config PATH" in doctor and "--json" in doctor
