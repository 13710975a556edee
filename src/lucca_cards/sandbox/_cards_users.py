"""Cards accounts as the API keeps them: one account per email, groups found by name.

:class:`Accounts` validates a create or an update of a user (Laravel's rules, and the
``unique`` email rule: case-insensitive, keeping one's own address allowed), applies it,
and resolves the ``groups`` items, creating a group the first time a name is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lucca_cards.sandbox import _cards_json as cj
from lucca_cards.sandbox._laravel import Check, LaravelValidationError, message, validate
from lucca_cards.sandbox._model import CardsData, CardsGroup, CardsUser


class Accounts:
    """The users of ``data``, indexed by email (lower case) and their groups by name."""

    def __init__(self, data: CardsData, new_id: Callable[[], str]) -> None:
        self.data, self._new_id = data, new_id
        #: Lower-case email -> user id (the first user of an email the data holds twice).
        self.emails: dict[str, str] = {}
        self._group_by_name: dict[str, str] = {}
        for user in data.users.values():
            if user.email:
                self.emails.setdefault(user.email.lower(), user.id)
        for group in data.groups.values():
            self._group_by_name.setdefault(group.name, group.id)

    def check(self, body: dict[str, Any], user_id: str | None) -> list[Any] | None:
        """Validate a create (``user_id`` ``None``) or an update; return the group items.

        Raises:
            LaravelValidationError: the 422 listing what is wrong.
        """
        rules: dict[str, Any] = dict(cj.USER_RULES)
        rules["email"] = [*cj.USER_RULES["email"].split("|"), self._unique_email(user_id)]
        if user_id is not None:
            del rules["notify"]
        errors = validate(body, rules, partial=user_id is not None)
        groups = body.get("groups") if "groups" in body and "groups" not in errors else None
        items = cj.group_items(groups or [], errors)
        if errors:
            raise LaravelValidationError(errors)
        return items if "groups" in body else None

    def apply(self, user: CardsUser, body: Mapping[str, Any], groups: list[Any] | None) -> None:
        """Write a checked body onto ``user`` and keep the email index in step."""
        old_email = user.email
        for name in cj.USER_FIELDS:
            if name in body:
                setattr(user, name, body[name])
        if "enable_ranking" in body:
            user.enable_ranking = body["enable_ranking"] in cj.TRUTHY
        if groups is not None:
            user.group_ids = self._resolve_groups(groups)
        if old_email:
            self.forget(user, old_email)
        if user.email:
            self.emails[user.email.lower()] = user.id

    def forget(self, user: CardsUser, email: str | None) -> None:
        """Free ``email`` if it is ``user``'s (on a delete, or a change of address)."""
        if email and self.emails.get(email.lower()) == user.id:
            del self.emails[email.lower()]

    def _unique_email(self, user_id: str | None) -> Check:
        current = self.data.users[user_id].email if user_id else None

        def check(value: Any) -> str | None:
            email = str(value).lower()
            if current is not None and email == current.lower():
                return None  # keeping one's own address, even one the data holds twice
            taken = self.emails.get(email, user_id) != user_id
            return message("unique", "email") if taken else None

        return check

    def _resolve_groups(self, items: list[cj.GroupItem]) -> list[str]:
        """Resolve ``(id, name)`` pairs: a known id wins, else the name (created if new)."""
        ids: list[str] = []
        for group_id, name in items:
            if group_id is not None and group_id in self.data.groups:
                chosen = group_id
            elif name is not None:
                chosen = self._group_by_name.get(name) or self._create_group(name)
            else:
                continue  # an unknown id without a name is ignored, as documented
            if chosen not in ids:
                ids.append(chosen)
        return ids

    def _create_group(self, name: str) -> str:
        group_id = self._new_id()
        self.data.groups[group_id] = CardsGroup(id=group_id, name=name)
        self._group_by_name[name] = group_id
        return group_id
