"""Sphinx configuration of the lucca_cards documentation."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lucca_cards import __version__  # noqa: E402

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
html_title = f"lucca_cards {release}"
exclude_patterns = ["_build"]
