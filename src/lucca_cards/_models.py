"""Typed models from API JSON: one cattrs converter, snake_case attributes, unknown keys kept.

Every model subclasses :class:`ApiModel`. Its attributes are snake_case; the API key of
each is derived by the model's naming style (camelCase for Lucca, snake_case for Cards)
or given explicitly with ``attrs.field(metadata={"api": "cultureID"})``. Keys the model
does not know are kept in ``extra``, so a server that adds a field never breaks a read.

Each model is constructed once per item, by a function generated for its class that
calls the converter's hooks; a payload it refuses is read again by cattrs' own generated
function, which says where each problem lies (so the messages are cattrs').
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

from ._model_values import (
    LEAF_HOOKS,
    json_kind,
    legacy_date_text,
    parse_date,
    parse_datetime,
    utc,
)
from .errors import ValidationError

__all__ = ["ApiModel", "api_key", "camel", "converter", "json_kind", "legacy_date_text",
           "parse_date", "parse_datetime", "unwrap_data", "utc"]

M = TypeVar("M", bound="ApiModel")

@attrs.frozen(kw_only=True)
class ApiModel:
    """Base of every model: ``extra`` holds the keys the server sent that we do not model."""

    api_naming: ClassVar[str] = "camel"

    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls: type[M], data: Any) -> M:
        """Build the model from the API's JSON object.

        Raises:
            ValidationError: the payload is not an object or lacks a required key.
        """
        return cls._from_api(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the attributes as a plain ``dict``, one key per attribute, for a DataFrame.

        Nested models become dictionaries too, tuples lists and enumerations their values;
        dates and times stay :class:`~datetime.date` / :class:`~datetime.datetime` objects
        (pandas makes them date columns; ``json.dumps(..., default=str)`` writes them as
        ISO 8601). ``extra`` is left out: only what the model declares, so every item of a
        list has the same keys::

            employees = pandas.DataFrame(e.to_dict() for e in lucca.employees.list())

        >>> from lucca_cards import Reference
        >>> Reference(id="32", type="department").to_dict()
        {'id': '32', 'type': 'department', 'url': None}
        """
        return attrs.asdict(self, filter=_declared, value_serializer=_plain)

    @classmethod
    def _from_api(cls: type[M], data: Any, given: Mapping[str, Any] | None = None) -> M:
        """Build the model from ``data``, then set the attributes in ``given`` as they are.

        ``given`` holds values the caller resolved itself (already typed); they replace
        what the payload says, in the one construction (the payload is still checked).
        """
        if data.__class__ is not dict and not isinstance(data, Mapping):  # (dict: fast)
            raise ValidationError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}"
            )
        try:
            return _hook_of(cls)(data, cls, given)
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            raise ValidationError(
                f"could not read {cls.__name__} from the server's answer: "
                f"{_describe(exc)}. What to do: check the API version; the payload may "
                "have changed shape."
            ) from None


def _declared(field: attrs.Attribute[Any], _: Any) -> bool:
    return field.name != "extra"


def _plain(_: Any, __: Any, value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


def fields_parser(cls: type[M], fields: Collection[str]) -> Callable[[Any], M]:
    """Return a function building ``cls`` with only ``fields`` (and ``id``) of a payload.

    The other attributes keep their defaults and ``extra`` stays empty: a sweep of many
    items then holds a fraction of the memory. The names are checked at once.

    Raises:
        ValidationError: a name that is not an attribute of ``cls``.
    """
    names = {f.name: api_key(cls, f) for f in attrs.fields(cls) if f.name != "extra"}
    listed = [fields] if isinstance(fields, str) else list(fields)
    unknown = sorted(repr(f)[:40] for f in listed if not isinstance(f, str) or f not in names)
    if unknown:
        raise ValidationError(f"fields: {', '.join(unknown)[:80]} not an attribute of "
                              f"{cls.__name__}; use among {', '.join(names)}")
    keys = frozenset({names[f] for f in listed} | {names.get("id", "id")})

    def parse(data: Any) -> M:
        if not isinstance(data, Mapping):
            return cls.from_api(data)  # refused as usual
        return cls._from_api({key: value for key, value in data.items() if key in keys})

    return parse


_HOOKS: dict[type[Any], Callable[..., Any]] = {}


def _hook_of(cls: type[M]) -> Callable[..., M]:
    """Return the structure function of ``cls`` (the converter's, kept per class)."""
    hook = _HOOKS.get(cls)
    if hook is None:
        hook = _HOOKS[cls] = converter.get_structure_hook(cls)
    return hook


def unwrap_data(body: Any) -> Any:
    """Return the object inside a ``{"data": {...}}`` envelope; a bare object as it is.

    The legacy API wraps every answer so, and Cards (Laravel resources) wraps one object so.
    """
    if isinstance(body, Mapping) and isinstance(body.get("data"), Mapping):
        return body["data"]
    return body


def camel(name: str) -> str:
    """``given_name`` → ``givenName``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def api_key(cls: type[ApiModel], field: attrs.Attribute[Any]) -> str:
    """Return the JSON key of ``field`` in ``cls``'s API."""
    explicit = field.metadata.get("api")
    if explicit:
        return str(explicit)
    return camel(field.name) if cls.api_naming == "camel" else field.name


def _is_collection(kind: Any, origin: type) -> bool:
    return typing.get_origin(kind) is origin


def _is_optional(kind: Any) -> bool:
    args = typing.get_args(kind)
    return (typing.get_origin(kind) in (typing.Union, types.UnionType) and len(args) == 2
            and type(None) in args)


def _optional_hook(kind: Any) -> Callable[[Any, Any], Any]:
    # cattrs' own Optional hook looks the inner hook up on every value: here, once.
    (inner,) = (arg for arg in typing.get_args(kind) if arg is not type(None))
    hook = _later(inner)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook[0](value, inner)

    return structure


def _later(kind: Any) -> list[Callable[[Any, Any], Any]]:
    """Return a one-item list holding ``kind``'s hook, looked up on first use.

    On first use, not now: a model being prepared may nest one not prepared yet.
    """
    hook: list[Callable[[Any, Any], Any]] = []

    def first(value: Any, kind_of: Any) -> Any:
        hook[0] = converter.get_structure_hook(kind)
        return hook[0](value, kind_of)

    hook.append(first)
    return hook


def _list_hook(kind: Any) -> Callable[[Any, Any], list[Any]]:
    (item,) = typing.get_args(kind) or (Any,)
    hook = _later(item)

    def structure(value: Any, _: Any) -> list[Any]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {json_kind(value)}")
        return [hook[0](entry, item) for entry in value]

    return structure


def _tuple_hook(kind: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item = (typing.get_args(kind) or (Any,))[0]
    hook = _later(item)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list, got {json_kind(value)}")
        return tuple(hook[0](entry, item) for entry in value)

    return structure


def _dict_hook(kind: Any) -> Callable[[Any, Any], dict[Any, Any]]:
    def structure(value: Any, _: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {json_kind(value)}")
        return dict(value)

    return structure


converter = cattrs.Converter()
for _kind_of, _hook in LEAF_HOOKS:
    converter.register_structure_hook(_kind_of, _hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, list), _list_hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, tuple), _tuple_hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, dict), _dict_hook)
converter.register_structure_hook_factory(_is_optional, _optional_hook)

#: The key under which ``extra`` reaches cattrs' generated function (which words refusals)
#: with the payload. Any key does: a payload's own key of that name is not modelled, so it
#: stays in ``extra``.
_EXTRA_KEY = "extra (lucca_cards)"


def _model_hook(cls: type[ApiModel]) -> Callable[..., ApiModel]:
    keys = {f.name: api_key(cls, f) for f in attrs.fields(cls) if f.name != "extra"}
    overrides: dict[str, Any] = {name: override(rename=key) for name, key in keys.items()}
    extra_key = override(rename=_EXTRA_KEY, struct_hook=lambda value, _: value)
    detailed = make_dict_structure_fn(cls, converter, extra=extra_key, **overrides)
    quick = _quick_build(cls, keys)
    known = frozenset(keys.values())

    def structure(data: Any, _: Any, given: Mapping[str, Any] | None = None) -> ApiModel:
        if data.__class__ is not dict:
            if not isinstance(data, Mapping):
                detailed(data, cls)  # refuses most non-objects; the others fail as they
                # always have, here: an error cattrs words "expected a mapping".
                raise AttributeError(f"{type(data).__name__!r} object has no attribute 'items'")
            data = dict(data)
        extra = None if known.issuperset(data) else {
            k: v for k, v in data.items() if k not in known}
        try:
            return quick(data, extra, given)
        except Exception as exc:  # any refusal: worded below
            failure = exc
        # cattrs' function reads the payload again and says where each problem lies.
        detailed(data if extra is None else {**data, _EXTRA_KEY: extra}, cls)
        raise failure  # (only if it accepted what the quick function refused)

    return structure


class _NoExtra(dict):  # type: ignore[type-arg]
    """The ``extra`` of every model read with no unknown key: one empty dict, shared, frozen.

    A ``dict`` (so ``json.dumps``, ``|``, ``copy()`` and ``attrs.asdict`` work as on any
    other ``extra``) whose changing methods refuse: it is shared by every such model.
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("this model's extra is empty and shared: copy it to change it")

    __setitem__ = __delitem__ = __ior__ = _refuse
    pop = popitem = setdefault = update = clear = _refuse

    def __reduce__(self) -> str:
        return "_NO_EXTRA"  # pickled (and copied) as the module's one instance


_NO_EXTRA = _NoExtra()


def _quick_build(cls: type[ApiModel], keys: Mapping[str, str]) -> Callable[..., ApiModel]:
    """Generate ``quick(payload, extra, given)``, building ``cls`` in one construction.

    It calls the hooks cattrs' function calls, skipping the call where a hook would
    return the value as it is (``None`` for an optional field, a string for a string),
    but does not say where a problem lies: on any refusal it just raises.
    """
    names: dict[str, Any] = {"cls": cls, "NO_EXTRA": _NO_EXTRA}
    lines = ["def quick(o, extra, given):",
             "  res = {'extra': NO_EXTRA if extra is None else extra}"]
    fields = [f for f in attrs.fields(attrs.resolve_types(cls)) if f.name != "extra"]
    for number, field in enumerate(fields):
        hook, kind, key = f"h{number}", f"t{number}", keys[field.name]
        names[hook], names[kind] = converter.get_structure_hook(field.type), field.type
        call = f"{hook}(v, {kind})"
        if _is_optional(field.type):
            inner = next(arg for arg in typing.get_args(field.type) if arg is not type(None))
            names[f"k{number}"] = inner
            kept = f" or v.__class__ is k{number}" if inner in (str, int, bool) else ""
            call = f"v if v is None{kept} else {call}"
        if field.default is attrs.NOTHING:
            lines += [f"  v = o[{key!r}]", f"  res[{field.name!r}] = {call}"]
        else:
            lines += [f"  if {key!r} in o:", f"    v = o[{key!r}]",
                      f"    res[{field.name!r}] = {call}"]
    lines += ["  if given:", "    res.update(given)", "  return cls(**res)"]
    exec("\n".join(lines), names)  # noqa: S102 - our own text, from the model's fields
    return typing.cast(Callable[..., ApiModel], names["quick"])


converter.register_structure_hook_factory(
    lambda t: isinstance(t, type) and issubclass(t, ApiModel), _model_hook
)


def share_instances(cls: type[M], key_of: Callable[[Any], Hashable | None], *,
                    limit: int = 4096) -> dict[Hashable, ApiModel]:
    """Read ``cls`` as one shared instance per ``key_of(payload)``, where that is not ``None``.

    For a frozen model with few distinct values (a birthday: 366), read for every item
    of a sweep: one object then serves them all, built once. ``key_of`` must return
    ``None`` for any payload the key does not describe whole (an unknown key, another
    type); those are read as usual. At most ``limit`` instances are kept.
    Call it before ``cls`` is first read (at import).
    """
    build = _model_hook(cls)
    kept: dict[Hashable, ApiModel] = {}

    def structure(data: Any, kind: Any, given: Mapping[str, Any] | None = None) -> ApiModel:
        key = key_of(data) if given is None else None
        if key is None:
            return build(data, kind, given)
        found = kept.get(key)
        if found is None:
            found = build(data, kind)
            if len(kept) >= limit:
                kept.clear()
            kept[key] = found
        return found

    converter.register_structure_hook(cls, structure)
    return kept


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc, format_exception=_say)
        return "; ".join(notes[:5])
    return _say(exc, None)


def _say(exc: BaseException, kind: Any) -> str:
    """Word one refusal without the value itself (it may be long, or not ours to show)."""
    text = str(exc)
    if isinstance(exc, (TypeError, ValueError)) and text.startswith("expected"):
        return text
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ValueError):
        return f"invalid value for {getattr(kind, '__name__', kind)}"
    return format_exception(exc, kind)
