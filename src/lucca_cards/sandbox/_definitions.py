"""The fake legacy API's field definitions: ``GET /api/v3/extensionuserdefinitions[/{code}]``.

Every employee-file field of the tenant (:attr:`LuccaData.extended_fields`) is one
definition; a compound field's sub-fields are definitions of their own (lucca-api.md §A10.1:
each sub-field is itself an ``e_…`` property). A collection answers
``{"data": {"items": [...]}}``, one definition ``{"data": {...}}`` and an unknown code a 404
``{"Message", "Status"}``; the caller wraps the data in the v3 envelope.

ASSUMPTION (lucca-api.md §A8 documents the route, ``id``, ``formatKey`` and the list entries
``extensionUserPropertyListEntries``; the rest is not documented): a definition is

.. code-block:: json

    {"id": 3, "name": "e_title", "label": "Titre", "formatKey": "text", "isMultiple": false,
     "parentName": "e_formation", "url": "https://…/api/v3/extensionuserdefinitions/e_title",
     "extensionUserPropertyListEntries": []}

``name`` is the field's code, ``label`` its display name, ``parentName`` the code of the
compound field a sub-field belongs to (``null`` for a field of its own). ``formatKey`` is
``"compound"`` for a compound field and otherwise ``"text"``, ``"link"`` or ``"date"``: the
Lucca setup creates the training field's ``e_link`` as a link, ``e_last_completion_date``
as a date and its other sub-fields as texts; a field without sub-fields is a text. Ids are
numbered from 1 in the tenant's order of fields, each compound followed by its sub-fields.

As on ``/api/v3/users``, only ``id``, ``name`` and ``url`` come back without ``fields=``
(property names in any case; an unknown one is a 400), ``collection.count`` adds the total,
other query keys filter, and ``paging`` and ``orderBy`` apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lucca_cards.sandbox._legacy_query import (
    Filter,
    LegacyError,
    Selection,
    parse_fields,
    parse_order,
    parse_paging,
    sort_key,
)
from lucca_cards.sandbox._model import ExtendedField

#: The route's last path segment (v3 routes match any case).
ROUTE = "extensionuserdefinitions"
#: ASSUMPTION: the ``formatKey`` of each kind of definition.
COMPOUND, TEXT, LINK, DATE = "compound", "text", "link", "date"
#: ASSUMPTION: the kinds the Lucca setup gives the training field's sub-fields (others: text).
SUB_FIELD_FORMATS = {"e_link": LINK, "e_last_completion_date": DATE}
#: The labels of the training field's sub-fields (others: the code without ``e_``).
SUB_FIELD_LABELS = {
    "e_title": "Titre",
    "e_link": "Lien",
    "e_progress": "Progression",
    "e_score": "Score",
    "e_last_completion_date": "Date de dernière complétion",
}
PROPERTIES = ("id", "name", "label", "formatKey", "isMultiple", "parentName", "url",
              "extensionUserPropertyListEntries")
_NAMES = {name.lower(): name for name in PROPERTIES}
_DEFAULT_FIELDS = "id,name,url"


def definitions(fields: Mapping[str, ExtendedField], root: str) -> list[dict[str, Any]]:
    """Return every definition of ``fields``, whole (``root``: the tenant's ``/api/v3`` URL)."""
    result: list[dict[str, Any]] = []
    listed: set[str] = set()

    def add(code: str, label: str, kind: str, multiple: bool, parent: str | None) -> None:
        if code in listed:  # a code names one property on a tenant
            return
        listed.add(code)
        result.append({
            "id": len(result) + 1, "name": code, "label": label, "formatKey": kind,
            "isMultiple": multiple, "parentName": parent,
            "url": f"{root}/{ROUTE}/{code}", "extensionUserPropertyListEntries": [],
        })

    for field in fields.values():
        add(field.code, field.name, COMPOUND if field.sub_fields else TEXT, field.multiple, None)
        for sub in field.sub_fields:
            add(sub, SUB_FIELD_LABELS.get(sub, sub.removeprefix("e_")),
                SUB_FIELD_FORMATS.get(sub, TEXT), False, field.code)
    return result


def answer_definitions(
    fields: Mapping[str, ExtendedField],
    root: str,
    options: Mapping[str, str],
    filters: list[Filter],
    code: str | None,
) -> Any:
    """Return the ``data`` of a definitions request; raise :class:`LegacyError` to refuse.

    ``options`` are the reserved query keys (lower case), ``filters`` the others. ``code``
    is ``None`` for the collection, else the requested definition's code (exact: codes
    are case-sensitive).
    """
    selection = parse_fields(options.get("fields") or _DEFAULT_FIELDS)
    for name in selection:
        if name.lower() != "collection":
            _canonical(name)
    every = definitions(fields, root)
    if code is not None:
        found = next((item for item in every if item["name"] == code), None)
        if found is None:
            raise LegacyError(404, f"No extended field definition with the code {code!r}")
        return _project(found, selection)
    offset, limit = parse_paging(options.get("paging"))
    order = parse_order(options.get("orderby"))
    for path in [f.path for f in filters] + [path for path, _ in order]:
        _canonical(path[0])
    chosen = [item for item in every
              if all(f.matches(item[_canonical(f.path[0])]) for f in filters)]
    for path, descending in reversed(order):
        chosen.sort(key=_sorter(_canonical(path[0])), reverse=descending)
    counted = any(name.lower() == "collection" and any(p.lower() == "count" for p in sub or {})
                  for name, sub in selection.items())
    body: dict[str, Any] = {}
    if not counted or len(selection) > 1:
        body["items"] = [_project(item, selection) for item in chosen[offset:offset + limit]]
    if counted:
        body["count"] = len(chosen)
    return body


def _sorter(name: str) -> Callable[[Mapping[str, Any]], tuple[int, float, str]]:
    return lambda item: sort_key(item[name])


def _canonical(name: str) -> str:
    known = _NAMES.get(name.lower())
    if known is None:
        raise LegacyError(400, f"Unknown extended field definition property {name!r}")
    return known


def _project(item: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    """Keep the selected properties (sub-selections of these flat values are ignored)."""
    return {_canonical(name): item[_canonical(name)]
            for name in selection if name.lower() != "collection"}
