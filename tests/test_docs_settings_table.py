"""The configuration page's settings table is the code's: every setting, key and default."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

import settings_table  # the docs' extension folder: on sys.path above

from lucca_cards import Settings
from lucca_cards._config_sources import SOURCES


def test_every_setting_is_in_the_table_with_its_names_and_default() -> None:
    text = settings_table.table()
    settings = Settings()
    for name, (table, key, variable) in SOURCES.items():
        assert f"``{name}``\n\n       ``[{table}] {key}``\n\n       ``{variable}``" in text
        value = getattr(settings.stats_codes, name[6:]) if name.startswith("stats_") and \
            not hasattr(settings, name) else getattr(settings, name)
        assert settings_table.shown(value) == settings_table.shown(
            settings_table.default_of(name))
    assert "     - ``40``\n" in text  # lucca_requests_per_minute: 40, not 40.0
    assert "     - ``password``\n" in text  # a connection mode as typed, not its wire value


def test_a_setting_without_a_note_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "lucca_new_thing", ("lucca", "new_thing", "LUCCA_NEW_THING"))
    with pytest.raises(ValueError, match="notes missing for \\['lucca_new_thing'\\]"):
        settings_table.table()


def test_the_page_includes_the_generated_table() -> None:
    page = Path(__file__).resolve().parents[1] / "docs" / "configuration.rst"
    assert ".. include:: _generated/settings-table.rst" in page.read_text(encoding="utf-8")
