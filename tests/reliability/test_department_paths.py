"""A department's path ("Siège Paris › Marketing") from parents as Lucca gives them, however odd."""

from __future__ import annotations

from lucca_cards.lucca.models import Department
from lucca_cards.sync.departments import department_path


def tree(*links: tuple[str, str | None, str | None]) -> dict[str, Department]:
    return {ident: Department(id=ident, name=name, parent_id=parent)
            for ident, name, parent in links}


def test_a_path_names_every_ancestor_from_the_root() -> None:
    by_id = tree(("1", "Siège Paris", None), ("2", " Marketing ", "1"), ("3", "Web", "2"))
    assert department_path(by_id["3"], by_id) == "Siège Paris › Marketing › Web"
    assert department_path(by_id["1"], by_id) == "Siège Paris"


def test_a_parent_not_listed_ends_the_path_and_a_nameless_one_is_named_by_its_id() -> None:
    by_id = tree(("2", None, "404"), ("3", "Web", "2"))
    assert department_path(by_id["3"], by_id) == "department 2 › Web"


def test_parents_that_loop_end_where_they_come_back() -> None:
    by_id = tree(("1", "A", "2"), ("2", "B", "1"), ("3", "C", "3"))
    assert department_path(by_id["1"], by_id) == "B › A"
    assert department_path(by_id["3"], by_id) == "C"


def test_an_absurdly_deep_chain_is_cut() -> None:
    by_id = tree(*((str(n), f"D{n}", str(n + 1)) for n in range(10_000)))
    assert department_path(by_id["0"], by_id).count("›") == 31
