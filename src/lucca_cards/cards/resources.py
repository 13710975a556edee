"""The resources of :class:`~lucca_cards.cards.client.CardsClient`: one class per path.

Every list is a lazy :class:`~lucca_cards._paging.Pager`: it asks for ``page`` 1, 2, … with
``paginate=500`` and the same ``filters`` on every page, up to ``meta.last_page`` (the
server's ``links`` drop the filters, so they are not followed). A single object is read
from ``{"data": {...}}`` when Cards wraps it, else from the body itself (gap 9).
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from .._http import Params, Transport
from .._models import fields_parser, unwrap_data
from .._paging import Pager, RawPage, cards_numbered_pages
from .._paths import segment
from ..errors import ValidationError
from .filters import (
    BADGE_FILTERS,
    CERTIFICATE_FILTERS,
    GROUP_FILTERS,
    TRAINING_FILTERS,
    USER_FILTERS,
    ResourceFilters,
    TextFilter,
    filters_query,
)
from .models import (
    Badge,
    CardsModel,
    CardsUser,
    Certificate,
    ConnectionMode,
    Embed,
    Group,
    GroupLike,
    Training,
    UserChanges,
    not_sent,
    notify_fields,
    user_payload,
)

if TYPE_CHECKING:  # Python 3.11 has typing.Unpack; annotations are never evaluated
    from typing_extensions import Unpack

M = TypeVar("M", bound=CardsModel)
P = TypeVar("P", Badge, Certificate)

EMBED_TYPES = ("training", "trainings")


def _id(value: Any, where: str, name: str = "user_id") -> str:
    """Return an id as one encoded path segment (``a/../b`` never reaches another route)."""
    return segment(value, name=name, where=f"Cards API: {where}")


class _Resource:
    """What every resource shares: its transport, paged lists, single objects."""

    _path = ""
    _filters: ResourceFilters | None = None

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _pager(
        self, model: type[M], path: str, params: Params, hints: Mapping[int, str] | None = None
    ) -> Pager[M]:
        def fetch() -> Iterator[RawPage]:
            return cards_numbered_pages(self._transport, path, params, hints=hints)

        return Pager(fetch, lambda item, _page: model.from_api(item))

    def _list(self, model: type[M], filters: Mapping[str, Any]) -> Pager[M]:
        assert self._filters is not None  # set on every resource that lists
        return self._pager(model, self._path, filters_query(self._filters, filters))

    def _one(
        self,
        model: type[M],
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> M:
        answer = self._transport.request_json(method, path, json=body, idempotent=idempotent)
        # gap 9: Laravel resources wrap one object in "data"; accept a bare object too.
        return self._transport.parse(method, path, lambda: model.from_api(unwrap_data(answer)))


class Users(_Resource):
    """``/v1/users``: list, read, create, update, delete users; their badges."""

    _path = "users"
    _filters = USER_FILTERS

    def list(
        self,
        *,
        role: TextFilter | None = None,
        group_names: TextFilter | None = None,
        group_ids: TextFilter | None = None,
        fields: Collection[str] | None = None,
        **undocumented: NoReturn,
    ) -> Pager[CardsUser]:
        """List users; a list of values matches any of them, filters combine with AND.

        Cards has no email filter: to find a user by email, iterate and compare.

        Args:
            role: ``user``, ``editor`` or ``owner`` (or several).
            group_names: users in the group(s) of this name.
            group_ids: users in the group(s) of this id.
            fields: build only these attributes of each user (and ``id``), e.g.
                ``["email", "groups"]``; the others keep their defaults. Cards sends the
                same answer: a sweep of many users then holds a fraction of the memory.
            **undocumented: refused (Cards documents no other user filter).

        Raises:
            ValidationError: an undocumented filter or role, or an unknown field, before
                anything is sent.

        >>> learners = cards.users.list(role="user", group_names=["RPS"])  # doctest: +SKIP
        """
        pager = self._list(
            CardsUser,
            {"role": role, "group_names": group_names, "group_ids": group_ids, **undocumented},
        )
        if fields is None:
            return pager
        parse = fields_parser(CardsUser, fields)
        return pager.parsed_by(lambda item, _page: parse(item))

    def page(self, number: int) -> builtins.list[CardsUser]:
        """Read one page (500 users) of the unfiltered list, as :meth:`list` pages it.

        What a long import reads again when the memberships it swept are getting old:
        one call refreshes 500 accounts, where :meth:`get` refreshes one.

        Raises:
            ValidationError: ``number`` is not a whole number from 1.
        """
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValidationError(f"Cards API: a users page number is a whole number from 1, "
                                  f"not {number!r:.40}")
        pages = cards_numbered_pages(self._transport, self._path, {}, start=number)
        return next(pages).parse(lambda item, _page: CardsUser.from_api(item))

    def get(self, user_id: str) -> CardsUser:
        """Read one user. Raises :class:`~lucca_cards.errors.NotFoundError` if unknown."""
        return self._one(CardsUser, "GET", f"users/{_id(user_id, 'GET /users/{id}')}")

    def create(
        self,
        firstname: str,
        lastname: str,
        email: str,
        *,
        notify: bool = False,
        connection_mode: ConnectionMode | str = ConnectionMode.PASSWORD,
        role: str = "user",
        lang: str | None = None,
        company: str | None = None,
        phone: str | None = None,
        enable_ranking: bool | None = None,
        groups: Iterable[GroupLike] = (),
    ) -> CardsUser:
        """Create a user; a group named in ``groups`` that does not exist is created.

        The request is never retried once it may have reached Cards (only on a 429 or a
        connection that never opened), so a retry cannot create the user twice.

        Args:
            firstname: required, at most 190 characters.
            lastname: required, at most 190 characters.
            email: the sign-in email, also the key that matches a Lucca employee.
            notify: ask Cards to email an invitation (an assumption, see
                :func:`notify_fields`).
            connection_mode: password (``source`` ``app``) or SSO (``sso``).
            role: ``user`` (learner), ``editor`` or ``owner``.
            lang: ``fr`` or ``en``; Cards' default when ``None``.
            company: at most 190 characters.
            phone: optional, free text.
            enable_ranking: whether the user takes part in the ranking.
            groups: :class:`GroupRef`, group names or ``{"id"/"name": ...}`` mappings.

        Raises:
            ValidationError: a value Cards documents as invalid (checked before sending,
                ``errors`` names the field), or Cards' own 422.

        >>> cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com",
        ...                    groups=["Onboarding 2024"])  # doctest: +SKIP
        """
        fields: UserChanges = {
            "firstname": firstname,
            "lastname": lastname,
            "email": email,
            "role": role,
            "connection_mode": connection_mode,
            "lang": lang,
            "company": company,
            "phone": phone,
            "enable_ranking": enable_ranking,
            # None leaves the key out, as Cards' example; a str is refused by user_payload.
            "groups": groups if isinstance(groups, (str, bytes)) else (list(groups) or None),
        }
        payload = {**user_payload(fields, creating=True), **notify_fields(notify)}
        return self._one(CardsUser, "POST", "users", payload, idempotent=False)

    def update(self, user_id: str, **changes: Unpack[UserChanges]) -> CardsUser:
        """Change some fields of a user (partial ``PUT``); the others stay as they are.

        Pass only the fields to change (see :class:`~lucca_cards.cards.models.UserChanges`);
        a field left out or ``None`` is not sent; ``""`` clears it (Cards clears a field
        sent empty).

        .. warning::
           ``groups`` **replaces** all of the user's memberships: the user leaves every
           group not in the list, and ``groups=[]`` removes the user from all groups.
           To add a group, send the union of ``user.groups`` and the new one.

        Raises:
            ValidationError: an unknown field or an invalid value (checked before
                sending), or Cards' own 422.

        >>> user = cards.users.get(user_id)  # doctest: +SKIP
        >>> cards.users.update(user.id, groups=[*user.groups, "RPS"])  # doctest: +SKIP
        """
        payload = user_payload(changes, creating=False)
        return self._one(CardsUser, "PUT", f"users/{_id(user_id, 'PUT /users/{id}')}", payload)

    def delete(self, user_id: str) -> None:
        """Delete a user (any 2xx answer, 200 or 204, is a success)."""
        self._transport.request("DELETE", f"users/{_id(user_id, 'DELETE /users/{id}')}")

    def badges(self, user_id: str) -> Pager[Badge]:
        """List the badges the user has unlocked."""
        path = f"users/{_id(user_id, 'GET /users/{id}/badges')}/badges"
        return self._pager(Badge, path, {}, {404: "check the user id; the user may be deleted"})


class Groups(_Resource):
    """``/v1/groups``: list groups (Cards has no other group endpoint).

    A group is created by naming it in a user's ``groups``
    (:meth:`Users.create`/:meth:`Users.update`).
    """

    _path = "groups"
    _filters = GROUP_FILTERS

    def list(
        self,
        *,
        is_public: bool | None = None,
        enable_ranking: bool | None = None,
        **undocumented: NoReturn,
    ) -> Pager[Group]:
        """List groups, optionally by the ``is_public``/``enable_ranking`` flags."""
        return self._list(
            Group, {"is_public": is_public, "enable_ranking": enable_ranking, **undocumented}
        )


class Trainings(_Resource):
    """``/v1/trainings``: list trainings."""

    _path = "trainings"
    _filters = TRAINING_FILTERS

    def list(
        self,
        *,
        group_ids: TextFilter | None = None,
        group_names: TextFilter | None = None,
        is_public: bool | None = None,
        is_rating: bool | None = None,
        status: TextFilter | None = None,
        **undocumented: NoReturn,
    ) -> Pager[Training]:
        """List trainings, optionally by group, flags or status (e.g. ``publish``)."""
        return self._list(
            Training,
            {
                "group_ids": group_ids,
                "group_names": group_names,
                "is_public": is_public,
                "is_rating": is_rating,
                "status": status,
                **undocumented,
            },
        )


class _Publications(_Resource, Generic[P]):
    """Badges and certificates: the same documented filters, the same listing."""

    _model: type[P]

    def list(
        self,
        *,
        status: TextFilter | None = None,
        option_teasing: bool | None = None,
        notif: bool | None = None,
        **undocumented: NoReturn,
    ) -> Pager[P]:
        """List them; ``status`` is ``draft``, ``publish`` or ``expire`` (or several).

        Args:
            status: the publication status(es) to keep.
            option_teasing: shown on "My badges" before being unlocked ("teasing").
            notif: with or without a notification.
            **undocumented: refused (Cards documents no other filter).
        """
        filters = {"status": status, "option_teasing": option_teasing, "notif": notif}
        return self._list(self._model, {**filters, **undocumented})


class Badges(_Publications[Badge]):
    """``/v1/badges``: list badges, read one, list who unlocked it."""

    _path = "badges"
    _filters = BADGE_FILTERS
    _model = Badge

    def get(self, badge_id: str) -> Badge:
        """Read one badge."""
        return self._one(Badge, "GET", f"badges/{_id(badge_id, 'GET /badges/{id}', 'badge_id')}")

    def users(self, badge_id: str) -> Pager[CardsUser]:
        """List the users who unlocked the badge."""
        where = "GET /badges/{id}/users"
        path = f"badges/{_id(badge_id, where, 'badge_id')}/users"
        return self._pager(CardsUser, path, {}, {404: "check the badge id; it may be deleted"})


class Certificates(_Publications[Certificate]):
    """``/v1/certificates``: list certificates (documented with the badges' filters)."""

    _path = "certificates"
    _filters = CERTIFICATE_FILTERS
    _model = Certificate


class Embeds(_Resource):
    """``/v1/embeds``: signed links that show trainings to a learner in an iframe."""

    def create(
        self,
        email: str,
        *,
        training_id: str | None = None,
        type: str | None = None,
        once: bool = True,
        expires_at: date | str | None = None,
    ) -> Embed:
        """Create an embed URL for the learner ``email``.

        Args:
            email: the learner the trainings are shown to.
            training_id: the one training to show (``type="training"``).
            type: ``training`` or ``trainings`` (the learner's list); by default
                ``training`` when ``training_id`` is given, else ``trainings``.
            once: the URL works only once (Cards' default).
            expires_at: the URL's expiry date (``date`` or ``"YYYY-MM-DD"``).

        Raises:
            ValidationError: an unknown ``type``, or ``training`` without ``training_id``.

        >>> cards.embeds.create("jeanne.martin@example.com", training_id=t.id).url
        ...  # doctest: +SKIP
        """
        kind = type or ("training" if training_id else "trainings")
        if kind not in EMBED_TYPES:
            raise not_sent("POST /embeds", {"type": f"must be one of {', '.join(EMBED_TYPES)}"})
        if kind == "training" and not training_id:
            raise not_sent("POST /embeds", {"training_id": "is required when type is 'training'"})
        body: dict[str, Any] = {"type": kind, "email": email, "once": once}
        if training_id:
            body["training_id"] = training_id
        if expires_at is not None:
            body["expires_at"] = (
                expires_at.isoformat() if isinstance(expires_at, date) else expires_at
            )
        return self._one(Embed, "POST", "embeds", body)
