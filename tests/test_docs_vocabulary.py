"""The docs' words of the previews and reports are the enums' own, each with its meaning."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

import vocabulary  # the docs' extension folder: on sys.path above

from lucca_cards import SyncOutcome, UserState


@pytest.mark.parametrize("kind", [SyncOutcome, UserState])
def test_every_word_has_its_meaning(kind: type[enum.Enum]) -> None:
    words = vocabulary.meanings(kind)
    assert [value for value, _ in words] == [member.value for member in kind]
    assert all(meaning and "\n" not in meaning for _, meaning in words)
    rows = "\n".join(vocabulary.table(kind, "t"))
    for member in kind:
        assert f"``{member.value.replace('_', ' ')}``" in rows


def test_a_word_without_a_meaning_fails_the_build() -> None:
    class Bare(str, enum.Enum):
        KNOWN = "known"
        """Explained."""
        NEW = "new"

    with pytest.raises(ValueError, match=r"Bare: no docstring under \['NEW'\]"):
        vocabulary.meanings(Bare)
