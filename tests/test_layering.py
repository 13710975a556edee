"""The arrows of DESIGN.md's architecture: settings sit below the clients, never above.

Data flows cli → sync → state and clients → transport, and the clients import
``Settings``; so ``config`` (and the value types and checks it is built from) must import
nothing from the client packages, the sync services, the sandbox or the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lucca_cards
from lucca_cards import _values
from lucca_cards.cards import models as cards_models
from lucca_cards.lucca import training_records

PACKAGE = Path(lucca_cards.__file__).parent
ABOVE = ("cards", "lucca", "sync", "sandbox", "cli", "receiver", "state")


def imported_modules(path: Path) -> set[str]:
    """The ``lucca_cards`` modules ``path`` imports, as dotted names below the package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:  # from . import _config_sources
                found |= {alias.name for alias in node.names}
            elif node.level == 1:  # a sibling of a top-level module: .cards.models
                found.add(node.module)
            elif node.level == 0 and (node.module or "").startswith("lucca_cards"):
                found.add((node.module or "").removeprefix("lucca_cards").lstrip("."))
            elif node.level > 1:
                found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("lucca_cards").lstrip(".")
                      for a in node.names if a.name.startswith("lucca_cards")}
    return found


@pytest.mark.parametrize("module", ["config.py", "_values.py", "_checks.py",
                                    "_check_values.py", "_setting_checks.py"])
def test_settings_import_nothing_from_above(module: str) -> None:
    imports = imported_modules(PACKAGE / module)
    reaching_up = sorted(m for m in imports if m.split(".")[0] in ABOVE or m.startswith(".."))
    assert reaching_up == []


@pytest.mark.parametrize("module", ["config.py", "_setting_checks.py"])
def test_config_is_built_only_from_the_shared_bottom_modules(module: str) -> None:
    assert imported_modules(PACKAGE / module) <= {
        "_values", "_secret", "_checks", "_check_values", "_config_sources", "_setting_checks",
        "errors"}


def test_the_helper_sees_an_upward_import(tmp_path: Path) -> None:
    # the tests above are only worth something if they would catch the old arrows
    probe = tmp_path / "probe.py"
    probe.write_text("from .cards.models import ConnectionMode\n"
                     "from ..lucca import training_records\n"
                     "import lucca_cards.sync.users\n", encoding="utf-8")
    assert imported_modules(probe) == {"cards.models", "..lucca", "sync.users"}


def test_the_moved_types_are_still_importable_from_their_old_modules() -> None:
    assert cards_models.ConnectionMode is _values.ConnectionMode is lucca_cards.ConnectionMode
    assert training_records.StatsFieldCodes is _values.StatsFieldCodes
    assert lucca_cards.StatsFieldCodes is _values.StatsFieldCodes
