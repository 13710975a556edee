"""Sphinx configuration of the lucca_cards documentation."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import cli_reference  # noqa: E402
import settings_table  # noqa: E402
import vocabulary  # noqa: E402
from lucca_cards import __version__  # noqa: E402

# Pages generated from the code at each build, so that they cannot drift from it: the
# settings table, the command line's reference (from its parser), and the words of the
# previews and reports (from the enums' docstrings). Each is :orphan: and included from
# line 2 on, as the performance table is.
GENERATED = Path(__file__).resolve().parent / "_generated"
GENERATED.mkdir(exist_ok=True)
for name, text in (("settings-table.rst", settings_table.table()),
                   ("cli-reference.rst", cli_reference.reference()),
                   ("vocabulary.rst", vocabulary.page())):
    (GENERATED / name).write_text(":orphan:\n\n" + text, encoding="utf-8")

project = "lucca_cards"
author = "lucca_cards developers"
copyright = "2026, lucca_cards developers"  # noqa: A001
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_title = f"lucca_cards {release}"
exclude_patterns = ["_build"]
