"""Typed models of the Cards REST API (snake_case on the wire, as in Cards' own JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypedDict

import attrs

from .._models import ApiModel

# Re-exported: ConnectionMode lives in _values, below config and the clients.
from .._values import ConnectionMode as ConnectionMode
from ..errors import ValidationError


@attrs.frozen(kw_only=True)
class CardsModel(ApiModel):
    """Base of the Cards models: the API's keys are snake_case, like the attributes."""

    api_naming: ClassVar[str] = "snake"


@attrs.frozen(kw_only=True)
class GroupRef(CardsModel):
    """A group as a user carries it, or as you name it when assigning groups.

    On input either key is enough: with an ``id`` Cards uses that group (the name is then
    ignored); with a ``name`` only, Cards uses the group of that name and **creates it**
    if it does not exist; an entry with an unknown id and no name is silently ignored.

    >>> GroupRef(name="Onboarding 2024").to_api()
    {'name': 'Onboarding 2024'}
    """

    id: str | None = None
    name: str | None = None

    def to_api(self) -> dict[str, str]:
        """Return the ``groups`` item to send: the keys that are set."""
        return {key: value for key, value in (("id", self.id), ("name", self.name)) if value}


@attrs.frozen(kw_only=True)
class CardsUser(CardsModel):
    """A Cards user (``/v1/users``).

    Attributes:
        id: the user's id (a UUID string).
        firstname, lastname, email, company, phone: as entered in Cards.
        role: ``user`` (learner), ``editor`` or ``owner``.
        source: how the user signs in: ``app`` (password), ``sso``, ``GoogleOAuth``,
            ``MicrosoftOAuth``, ``AppleOAuth``.
        lang: the interface language, ``fr`` or ``en``.
        enable_ranking: whether the user takes part in the ranking.
        groups: the groups the user belongs to.
    """

    id: str
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    role: str | None = None
    company: str | None = None
    phone: str | None = None
    source: str | None = None
    lang: str | None = None
    enable_ranking: bool | None = None
    groups: list[GroupRef] = attrs.field(factory=list)

    @property
    def connection_mode(self) -> ConnectionMode | None:
        """The :class:`ConnectionMode` of ``source``; ``None`` for a social login.

        >>> CardsUser(id="u1", source="sso").connection_mode
        <ConnectionMode.SSO: 'sso'>
        """
        return next((mode for mode in ConnectionMode if mode.source == self.source), None)


@attrs.frozen(kw_only=True)
class Group(CardsModel):
    """A Cards group (``/v1/groups`` lists only its id and name)."""

    id: str
    name: str | None = None


@attrs.frozen(kw_only=True)
class Training(CardsModel):
    """A Cards training (``/v1/trainings``).

    The documented object is cut after ``category``; the fields Cards sends beyond those
    land in :attr:`~lucca_cards._models.ApiModel.extra`.

    Attributes:
        status: publication status (values undocumented; probably ``draft``/``publish``).
        public_url: the training's shareable URL; for a signed-in learner's link use
            :meth:`~lucca_cards.cards.resources.Embeds.create`.
    """

    id: str
    title: str | None = None
    description: str | None = None
    status: str | None = None
    image: str | None = None
    public_url: str | None = None
    category: str | None = None


@attrs.frozen(kw_only=True)
class Badge(CardsModel):
    """A Cards badge (``/v1/badges``).

    Attributes:
        emoji: the emoji-picker record as Cards sends it (``{"i": "🏅", "n": [...],
            "u": "1f3c5", ...}``; ``i`` is the character).
    """

    id: str
    name: str | None = None
    description: str | None = None
    image: str | None = None
    emoji: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Certificate(CardsModel):
    """A Cards certificate (``/v1/certificates``)."""

    id: str
    name: str | None = None
    description: str | None = None
    content: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Embed(CardsModel):
    """An embed link (``POST /v1/embeds``): an opaque, server-generated URL for an iframe."""

    url: str
    message: str | None = None


# --- What is sent: the checked body of POST and PUT /v1/users -------------------------

#: Cards user roles (UI names: Learner, Editor, Owner).
ROLES = ("user", "editor", "owner")
#: Interface languages.
LANGS = ("fr", "en")
#: The documented length limit of firstname, lastname and company.
MAX_TEXT_LENGTH = 190
_REQUIRED_FIELDS = ("firstname", "lastname")
_LIMITED_FIELDS = ("firstname", "lastname", "company")

#: One ``groups`` item as callers may give it: a :class:`GroupRef`, a group **name**, or a
#: mapping with ``id`` and/or ``name``.
GroupLike = GroupRef | str | Mapping[str, str]


class UserChanges(TypedDict, total=False):
    """The user fields :meth:`~lucca_cards.cards.resources.Users.update` may change.

    A field left out (or ``None``) is not sent and stays as it is; ``""`` clears it.
    ``groups`` **replaces** every membership of the user.
    """

    firstname: str | None
    lastname: str | None
    email: str | None
    role: str | None
    connection_mode: ConnectionMode | str | None
    lang: str | None
    company: str | None
    phone: str | None
    enable_ranking: bool | None
    groups: Iterable[GroupLike] | None


#: ASSUMPTION (gap 13): the body field that asks Cards to send the invitation email.
NOTIFY_FIELD = "notify"


def notify_fields(notify: bool) -> dict[str, int]:
    """Return the body fields that ask (or not) for the invitation email on creation.

    ASSUMPTION (gap 13): the Cards API documents no way to send the invitation email
    that its own Lucca import offers ("Notify created users"). This sends a ``notify``
    body field (0/1, like Cards' other input booleans), which Cards may ignore. On a real
    tenant, create a test user with ``notify=True`` and check whether the email arrives;
    if Cards uses another name, change :data:`NOTIFY_FIELD` (the only place to change).
    """
    return {NOTIFY_FIELD: int(notify)}


def user_payload(fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check and encode user fields for ``POST``/``PUT /v1/users``; ``None`` = not sent.

    What Cards documents as invalid is refused here, before sending, with each field at
    fault named in ``errors`` (the shape of Cards' own 422): a missing or blank firstname
    or lastname, more than 190 characters in firstname, lastname or company, a role or
    lang outside the documented values, a group with neither id nor name, a field Cards
    does not have. Anything else (email format, uniqueness) is left to Cards.

    Args:
        fields: :class:`UserChanges` keys; ``connection_mode`` is sent as ``source``,
            ``enable_ranking`` as 0/1, ``groups`` as ``[{"id"/"name": ...}]``.
        creating: ``True`` for ``POST`` (firstname and lastname then required).

    Raises:
        ValidationError: the fields at fault, each with its reason; nothing is sent.

    >>> user_payload({"groups": ["RPS"], "connection_mode": "sso"}, creating=False)
    {'groups': [{'name': 'RPS'}], 'source': 'sso'}
    """
    body = {key: value for key, value in fields.items() if value is not None}
    problems = {key: "Cards users have no such field." for key in body if key not in _FIELDS}
    for key in _TEXT_FIELDS:
        if key in body and not isinstance(body[key], str):
            problems[key] = f"The {key} must be text, not {type(body.pop(key)).__name__}."
    for key in _REQUIRED_FIELDS:
        if (creating or key in body) and not str(body.get(key, "")).strip():
            problems[key] = f"The {key} field is required."
    for key in _LIMITED_FIELDS:
        if len(str(body.get(key, ""))) > MAX_TEXT_LENGTH:
            problems[key] = f"The {key} may not be longer than {MAX_TEXT_LENGTH} characters."
    for key, allowed in (("role", ROLES), ("lang", LANGS)):
        if key in body and body[key] not in allowed:
            problems[key] = f"The {key} must be one of {', '.join(allowed)}."
    if "connection_mode" in body:
        mode = body.pop("connection_mode")
        try:
            body["source"] = ConnectionMode(mode).source
        except ValueError:
            problems["connection_mode"] = f"{mode!r} is not password (app) or sso."
    if "enable_ranking" in body:
        body["enable_ranking"] = int(bool(body["enable_ranking"]))
    if "groups" in body:
        groups = body["groups"]
        if isinstance(groups, (str, bytes, Mapping)) or not isinstance(groups, Iterable):
            # groups="RPS" would otherwise name three groups: R, P and S.
            problems["groups"] = "The groups must be a list, such as ['RPS']."
        else:
            body["groups"] = [_group_item(group) for group in groups]
            if not all(body["groups"]):
                problems["groups"] = "Each group needs an id or a name."
    if problems:
        raise not_sent("POST /users" if creating else "PUT /users/{id}", problems)
    return body


_FIELDS = frozenset(UserChanges.__annotations__)
_TEXT_FIELDS = ("firstname", "lastname", "email", "role", "lang", "company", "phone")


def _group_item(group: GroupLike) -> dict[str, str]:
    """Encode one ``groups`` item; a plain string is a group name. Empty = invalid."""
    if isinstance(group, str):
        return GroupRef(name=group).to_api()
    if isinstance(group, GroupRef):
        return group.to_api()
    if not isinstance(group, Mapping):
        return {}  # reported as a group without an id or a name
    item = GroupRef(id=group.get("id"), name=group.get("name")).to_api()
    return {key: value for key, value in item.items() if isinstance(value, str)}


def not_sent(request: str, problems: Mapping[str, str]) -> ValidationError:
    """Build the error for a request refused before sending, shaped like Cards' 422.

    Args:
        request: what was not sent (``POST /users``).
        problems: field → what is wrong with it; becomes ``errors``.
    """
    details = "; ".join(f"{field}: {text.rstrip('.')}" for field, text in problems.items())
    return ValidationError(
        f"Cards API: {request} was not sent: {details}.",
        errors={field: [text] for field, text in problems.items()},
    )
