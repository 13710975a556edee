"""The data version the list caches follow: every change moves it, and only changes do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from conftest import FakeClock
from lucca_cards.sandbox._list_cache import ListCache
from lucca_cards.sandbox._model import CardsUser
from lucca_cards.sandbox._observed import ObservedDict, ObservedList, data_version
from sandbox_company import API_KEY, make_fake

DICT_CHANGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "set": lambda d: d.__setitem__("b", 2),
    "del": lambda d: d.__delitem__("a"),
    "pop": lambda d: d.pop("a"),
    "popitem": lambda d: d.popitem(),
    "setdefault": lambda d: d.setdefault("b", 2),
    "update": lambda d: d.update(b=2),
    "clear": lambda d: d.clear(),
    "ior": lambda d: d.__ior__({"b": 2}),
}
LIST_CHANGES: dict[str, Callable[[list[int]], Any]] = {
    "set": lambda items: items.__setitem__(0, 9),
    "del": lambda items: items.__delitem__(0),
    "iadd": lambda items: items.__iadd__([4]),
    "imul": lambda items: items.__imul__(2),
    "append": lambda items: items.append(4),
    "extend": lambda items: items.extend([4]),
    "insert": lambda items: items.insert(0, 4),
    "pop": lambda items: items.pop(),
    "remove": lambda items: items.remove(1),
    "clear": lambda items: items.clear(),
    "sort": lambda items: items.sort(reverse=True),
    "reverse": lambda items: items.reverse(),
}


@pytest.mark.parametrize("change", DICT_CHANGES.values(), ids=DICT_CHANGES.keys())
def test_every_change_of_an_observed_dict_moves_the_version(
    change: Callable[[dict[str, Any]], Any],
) -> None:
    table: ObservedDict[str, int] = ObservedDict(a=1)
    before = data_version()
    change(table)
    assert data_version() != before


@pytest.mark.parametrize("change", LIST_CHANGES.values(), ids=LIST_CHANGES.keys())
def test_every_change_of_an_observed_list_moves_the_version(
    change: Callable[[list[int]], Any],
) -> None:
    items = ObservedList([1, 2, 3])
    before = data_version()
    change(items)
    assert data_version() != before


def test_a_record_holds_observed_copies_and_reading_moves_nothing() -> None:
    groups = ["g1"]
    user = CardsUser("u1", "Ana", "Lima", None, group_ids=groups)
    assert isinstance(user.group_ids, ObservedList) and user.group_ids == groups
    before = data_version()
    assert (user.firstname, list(user.group_ids)) == ("Ana", ["g1"])
    assert data_version() == before
    user.group_ids.append("g2")
    after_append = data_version()
    user.lang = "en"
    assert before != after_append != data_version()


def test_the_cache_keeps_a_list_until_the_version_moves_and_evicts_the_oldest() -> None:
    cache, built = ListCache(size=2), []

    def build(name: str) -> Callable[[], list[str]]:
        return lambda: built.append(name) or [name]

    for name in ("a", "b", "a", "c", "a", "b"):
        assert cache.get(name, build(name)) == [name]
    assert built == ["a", "b", "c", "b"]  # "b" was the oldest when "c" came
    ObservedList().append(1)  # any change
    cache.get("a", build("a"))
    assert built[-1] == "a" and cache.builds == 5


def test_a_legacy_list_filtered_on_extended_data_sees_a_change_deep_inside_it() -> None:
    fake = make_fake(FakeClock(), rate_limit=0)
    client = Client(fake)
    headers = {"Authorization": f"lucca application={API_KEY}"}
    query = {"fields": "id", "extendedData.e_github.value": "bruno-2"}

    def found() -> list[int]:
        answer = client.get("/api/v3/users", query_string=query, headers=headers)
        return [item["id"] for item in answer.json["data"]["items"]]

    assert found() == []
    stored = fake.data.employees[2].extended_data["e_github"]
    stored["value"] = "bruno-2"  # a plain dict inside: this moves no version
    assert found() == [2]
