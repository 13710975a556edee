"""``bench.py --only``: which scenarios a partial run measures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench import RERUN_ROWS, Bench, selection  # the benchmarks folder: on sys.path above
from minimum import Rates

NAMES = ("users, first import", "departments, first import", *RERUN_ROWS,
         "statistics, first publish", "statistics, rerun", "statistics, 5 % progressed",
         "memory: users first import, 50,000 employees (dry run)")


def measured(only: str | None) -> list[str]:
    bench = Bench(Rates(50), Path("."), selection(only))
    return [name for name in NAMES if bench.selected(name)]


def test_a_full_run_measures_everything() -> None:
    assert measured(None) == list(NAMES)


@pytest.mark.parametrize(("only", "expected"), [
    ("users", ["users, first import", "users, rerun", "users, after 1 % changed"]),
    ("stats", ["statistics, first publish", "statistics, rerun",
               "statistics, 5 % progressed"]),
    ("memory", ["memory: users first import, 50,000 employees (dry run)"]),
    ("lifecycle", ["life cycle, after 1 % changed"]),
    ("After 1 %,departments", ["departments, first import", "departments, rerun",
                               "users, after 1 % changed", "departments, after 1 % changed",
                               "life cycle, after 1 % changed"]),
    ("departments, first,memory", ["departments, first import",
                                   "memory: users first import, 50,000 employees (dry run)"]),
])
def test_groups_and_parts_of_names(only: str, expected: list[str]) -> None:
    assert measured(only) == expected
