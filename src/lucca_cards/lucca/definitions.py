"""The tenant's employee-file field definitions, and the check of the statistics codes.

``GET /api/v3/extensionuserdefinitions`` (legacy API, API key) lists the tenant's custom
``e_…`` fields. Before the statistics publisher writes anything it checks that the
configured compound field and its five sub-fields exist, so that a missing field is one
clear :class:`~lucca_cards.errors.ConfigurationError` naming the Lucca setup step, rather
than a 400 on every employee.

>>> legacy = LuccaLegacyApiClient(base_url="https://acme.ilucca.net", api_key="…")  # doctest: +SKIP
>>> legacy.field_definitions.check_stats_codes(StatsFieldCodes())  # doctest: +SKIP

ASSUMPTION (lucca-api.md §A8 documents the route, ``id``, ``formatKey`` and the list entries
``extensionUserPropertyListEntries``; the other keys are not documented): a definition is
``{"id", "name": "<e_code>", "label", "formatKey", "isMultiple", "parentName", "url"}``,
``parentName`` being the code of the compound field a sub-field belongs to (``null`` for a
field of its own), ``formatKey`` ``"compound"`` for a compound field. The properties asked
for live in :data:`DEFINITION_FIELDS` and the model tolerates any of them missing but the
code and the id, so a tenant that spells them otherwise changes one line.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from .._http import Transport
from .._models import ApiModel, api_key, json_kind, unwrap_data
from .._paths import segment
from .._values import StatsFieldCodes
from ..errors import ConfigurationError, UnexpectedResponseError

D = TypeVar("D", bound="FieldDefinition")

SERVICE = "Lucca legacy API"
DEFINITIONS_PATH = "/api/v3/extensionuserdefinitions"
#: ASSUMPTION: the properties of a definition (v3 returns only id, name and url unasked).
DEFINITION_FIELDS = (
    "id,name,label,formatKey,isMultiple,parentName,url,extensionUserPropertyListEntries"
)
#: A tenant has a few dozen fields: one page holds them (the legacy API's largest page).
PAGE_SIZE = 1000
#: The most definitions read before the listing stops (the paging would not end).
MAX_DEFINITIONS = 10 * PAGE_SIZE
_DEFAULT_CODES = StatsFieldCodes()
#: ASSUMPTION: the right to read the definitions is the one ``/api/v3/users`` needs.
_RIGHTS = (
    "the API key lacks the right to read the employee-file field definitions: assumed "
    "(undocumented) to be the 'Collaborators: view users' right, with the right to see the "
    "HR-file section that holds the training field"
)
LIST_HINTS = {
    403: _RIGHTS,
    404: "the tenant has no /api/v3/extensionuserdefinitions: check LUCCA_URL (lucca_url), "
    "it must be the tenant's root URL",
}
GET_HINTS = {
    403: _RIGHTS,
    404: "no field has this code on the tenant (codes are case-sensitive), or the API key "
    "may not see it: list the codes with field_definitions.list()",
}
#: How alike (difflib's ratio) a code must be to be offered as "did you mean".
CLOSE_ENOUGH = 0.75
#: Where the Lucca setup creates employee-file fields.
SETUP_PLACE = "in Lucca, HR Base > Settings > Data management"
#: The kind of each training sub-field, as the setup creates it.
SUB_FIELD_KINDS = {"title": "text", "link": "link", "progress": "text", "score": "text",
                   "last_completion_date": "date"}


@attrs.frozen(kw_only=True)
class FieldListEntry(ApiModel):
    """One choice of a list-type field (``extensionUserPropertyListEntries``).

    Attributes:
        id: the entry id, the value a list field holds on the employee file.
        name: the entry's label.
    """

    api_naming: ClassVar[str] = "camel"

    id: int
    name: str | None = None


@attrs.frozen(kw_only=True)
class FieldDefinition(ApiModel):
    """The definition of an employee-file field (``e_…``), from the legacy API.

    >>> FieldDefinition.from_api({"id": 3, "name": "e_title", "ParentName": "e_formation"})
    FieldDefinition(id=3, code='e_title', label=None, format_key=None, is_multiple=None, \
parent_code='e_formation', url=None, list_entries=[])

    Attributes:
        id: the definition's integer id.
        code: the field's code (``name`` on the wire), case-sensitive: ``e_formation``.
        label: its display name.
        format_key: its kind (``"compound"``, ``"text"``, ``"link"``, ``"date"`` …).
        is_multiple: whether it holds several occurrences (``None``: not said).
        parent_code: the compound field a sub-field belongs to (``parentName``); ``None``
            for a field of its own, or when the answer does not say.
        url: its ``/api/v3/extensionuserdefinitions/…`` address.
        list_entries: the choices of a list-type field.
    """

    api_naming: ClassVar[str] = "camel"

    id: int
    code: str = attrs.field(metadata={"api": "name"})
    label: str | None = None
    format_key: str | None = None
    is_multiple: bool | None = None
    parent_code: str | None = attrs.field(default=None, metadata={"api": "parentName"})
    url: str | None = None
    list_entries: list[FieldListEntry] = attrs.field(
        factory=list, metadata={"api": "extensionUserPropertyListEntries"})

    @classmethod
    def from_api(cls: type[D], data: Any) -> D:
        """Build the definition from v3 JSON (keys in any case; ``null`` list entries).

        Raises:
            ValidationError: the payload is not an object, or lacks a usable id or code.
        """
        if isinstance(data, Mapping):
            data = _canonical_keys(cls, data)
        return super().from_api(data)

    @property
    def is_compound(self) -> bool:
        """Whether the field is a compound (its ``formatKey`` is ``"compound"``)."""
        return (self.format_key or "").lower() == "compound"


class FieldDefinitions:
    """``/api/v3/extensionuserdefinitions``: the tenant's employee-file field definitions."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"FieldDefinitions({self._transport.base_url!r})"

    def list(self) -> builtins.list[FieldDefinition]:
        """Return every definition the API key may see (one GET for up to 1000).

        >>> [d.code for d in legacy.field_definitions.list()][:2]  # doctest: +SKIP
        ['e_formation', 'e_title']

        Raises:
            PermissionDeniedError: the key may not read the definitions.
            UnexpectedResponseError: the answer is not a v3 collection of definitions.
        """
        definitions: builtins.list[FieldDefinition] = []
        seen: set[int] = set()
        for offset in range(0, MAX_DEFINITIONS, PAGE_SIZE):
            items = self._page(offset)
            page = self._parse(items)
            ids = {definition.id for definition in page}
            if ids and ids <= seen:
                raise self._unexpected(f"answered, at offset {offset}, only definitions it "
                                       "had already listed: offset paging does not advance")
            seen |= ids
            definitions += page
            if len(items) < PAGE_SIZE:
                return definitions
        raise self._unexpected(f"gave more than {MAX_DEFINITIONS} definitions; the listing "
                               "stopped there")

    def get(self, code: str) -> FieldDefinition:
        """Return the definition of the field ``code`` (case-sensitive).

        >>> legacy.field_definitions.get("e_formation").is_multiple  # doctest: +SKIP
        True

        Raises:
            NotFoundError: no field has this code, or the key may not see it.
            ValidationError: ``code`` is empty or not text; nothing is sent.
        """
        where = f"{SERVICE}: GET {DEFINITIONS_PATH}/{{code}}"
        path = f"{DEFINITIONS_PATH}/{segment(code, name='code', where=where)}"
        body = self._transport.request_json(
            "GET", path, params={"fields": DEFINITION_FIELDS}, hints=GET_HINTS)
        return self._transport.parse(
            "GET", path, lambda: FieldDefinition.from_api(unwrap_data(body)))

    def check_stats_codes(self, codes: StatsFieldCodes = _DEFAULT_CODES) -> None:
        """List the definitions, then :func:`check_stats_codes` ``codes`` against them.

        Raises:
            ConfigurationError: a field or sub-field is missing or of the wrong kind.
        """
        check_stats_codes(self.list(), codes)

    def _page(self, offset: int) -> builtins.list[Any]:
        params = {"fields": DEFINITION_FIELDS, "paging": f"{offset},{PAGE_SIZE}"}
        body = self._transport.request_json("GET", DEFINITIONS_PATH, params=params,
                                            hints=LIST_HINTS)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping):
            shown = body if not isinstance(body, Mapping) else data
            where = "data" if isinstance(body, Mapping) else "the answer"
            raise self._unexpected(f"answered with {where} as {json_kind(shown)}, not an "
                                   "object holding the items")
        items = data.get("items")
        if not isinstance(items, list):
            raise self._unexpected(f"answered with data.items as {json_kind(items)}, not a "
                                   "list of items")
        if len(items) > PAGE_SIZE:
            raise self._unexpected(f"answered {len(items)} definitions for a page of "
                                   f"{PAGE_SIZE}")
        return items

    def _parse(self, items: builtins.list[Any]) -> builtins.list[FieldDefinition]:
        return self._transport.parse(
            "GET", DEFINITIONS_PATH, lambda: [FieldDefinition.from_api(item) for item in items])

    def _unexpected(self, problem: str) -> UnexpectedResponseError:
        return self._transport.unexpected("GET", DEFINITIONS_PATH, problem)


def check_stats_codes(
    definitions: Iterable[FieldDefinition], codes: StatsFieldCodes = _DEFAULT_CODES
) -> None:
    """Check that the tenant has the training field ``codes`` name, as the setup creates it.

    The compound field must exist, hold multiple occurrences (when its definition says)
    and not be a sub-field itself; each sub-field must exist and, when its definition
    names a parent, belong to that compound.

    >>> check_stats_codes([], StatsFieldCodes())
    Traceback (most recent call last):
    ...
    lucca_cards.errors.ConfigurationError: stats_field: the Lucca tenant has no field \
e_formation; in Lucca, HR Base > Settings > Data management: create a compound field \
'e_formation' with multiple occurrences (one per training), with the sub-fields e_title \
(text), e_link (link), e_progress (text), e_score (text), e_last_completion_date (date); \
or set [stats] field (LUCCA_STATS_FIELD) to the code of the field that exists

    Raises:
        ConfigurationError: ``setting`` names the code at fault (``stats_field``,
            ``stats_title`` …, the :class:`~lucca_cards.Settings` names); the message
            says the Lucca setup step that creates it, and close codes that exist.
    """
    by_code = {definition.code: definition for definition in definitions}
    field = by_code.get(codes.field)
    problem = _field_problem(field, codes, by_code)
    if problem:
        raise ConfigurationError("stats_field", problem)
    for name, code in codes.sub_fields().items():
        problem = _sub_field_problem(name, by_code.get(code), codes, by_code)
        if problem:
            raise ConfigurationError(f"stats_{name}", problem)


def setup_step(codes: StatsFieldCodes = _DEFAULT_CODES) -> str:
    """Say how the Lucca setup creates the training field ``codes`` name.

    >>> step = setup_step(StatsFieldCodes(field="e_lms"))
    >>> "create a compound field 'e_lms' with multiple occurrences" in step
    True
    """
    subs = ", ".join(f"{code} ({SUB_FIELD_KINDS[name]})"
                     for name, code in codes.sub_fields().items())
    return (f"{SETUP_PLACE}: create a compound field '{codes.field}' with multiple "
            f"occurrences (one per training), with the sub-fields {subs}")


def _field_problem(
    field: FieldDefinition | None, codes: StatsFieldCodes, by_code: Mapping[str, FieldDefinition]
) -> str | None:
    where = _setting_place("field")
    if field is None:
        return (f"the Lucca tenant has no field {codes.field}{_close(codes.field, by_code)}; "
                f"{setup_step(codes)}; or set {where} to the code of the field that exists")
    if field.parent_code is not None:
        return (f"{codes.field} is a sub-field of {field.parent_code}, not a compound field; "
                f"set {where} to the code of the compound field, or {setup_step(codes)}")
    if field.format_key is not None and not field.is_compound:
        # ASSUMPTION (the definitions' formatKey values): "compound" names a compound
        # field; a field of another kind (a text, a date) cannot hold the five sub-fields.
        return (f"the field {codes.field} is a {field.format_key} field, not a compound "
                f"field with sub-fields; {setup_step(codes)}, and set {where} to its code")
    if field.is_multiple is False:
        return (f"the field {codes.field} holds a single value, but the statistics need "
                f"one occurrence per training; {setup_step(codes)}, and set {where} to its "
                "code")
    return None


def _sub_field_problem(
    name: str,
    sub: FieldDefinition | None,
    codes: StatsFieldCodes,
    by_code: Mapping[str, FieldDefinition],
) -> str | None:
    code, where = getattr(codes, name), _setting_place(name)
    add = (f"{SETUP_PLACE}: add the sub-field {code} ({SUB_FIELD_KINDS[name]}) to the "
           f"compound field {codes.field}")
    if sub is None:
        siblings = [d.code for d in by_code.values() if d.parent_code == codes.field]
        close = _close(code, by_code)
        known = (f" ({codes.field}'s sub-fields are {', '.join(siblings)})"
                 if siblings and not close else "")
        return (f"the Lucca tenant has no sub-field {code}{close}{known}; {add}; or set "
                f"{where} to the code of the sub-field that exists")
    if sub.parent_code is not None and sub.parent_code != codes.field:
        return (f"{code} is a sub-field of {sub.parent_code}, not of {codes.field}; set "
                f"{where} to the code of {codes.field}'s own sub-field, or {add}")
    return None


def _close(code: str, by_code: Mapping[str, FieldDefinition]) -> str:
    """`` (did you mean e_score?)`` when codes close to ``code`` exist, else ``""``."""
    close = difflib.get_close_matches(code, list(by_code), n=3, cutoff=CLOSE_ENOUGH)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _setting_place(name: str) -> str:
    return f"[stats] {name} (LUCCA_STATS_{name.upper()})"


def _canonical_keys(cls: type[ApiModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Respell modelled keys sent in another case (v3 names are case-insensitive)."""
    known = {api_key(cls, f) for f in attrs.fields(cls) if f.name != "extra"}
    by_lower = {key.lower(): key for key in known}
    result: dict[str, Any] = {}
    for key, value in data.items():
        canonical = by_lower.get(key.lower(), key)
        result[key if canonical in data and canonical != key else canonical] = value
    if result.get("extensionUserPropertyListEntries", []) is None:
        result["extensionUserPropertyListEntries"] = []
    return result


__all__ = [
    "DEFINITIONS_PATH",
    "DEFINITION_FIELDS",
    "FieldDefinition",
    "FieldDefinitions",
    "FieldListEntry",
    "check_stats_codes",
    "setup_step",
]
