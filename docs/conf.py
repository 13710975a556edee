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

# The configuration page's table of settings, from the code (it cannot drift).
settings_table.write(Path(__file__).resolve().parent / "_generated")
# The command line's reference, from its parser (likewise).
cli_reference.write(Path(__file__).resolve().parent / "_generated")
# The words of the previews and reports, from the enums' docstrings (likewise).
vocabulary.write(Path(__file__).resolve().parent / "_generated")

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
