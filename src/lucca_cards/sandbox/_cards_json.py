"""Cards' JSON dialect: records written as the API writes them, user input read as it reads it.

Reference ``cards-api.md`` §4 to §8. Settled where it is silent: flags (``enable_ranking``,
``is_public``, ``is_rating``, ``option_teasing``, ``notif``) are JSON booleans; badges and
certificates also carry the fields they are filtered on (``status``, ``option_teasing``,
``notif``); model dates are Laravel's default ``2024-01-20T09:09:00.000000Z``; group names
are compared exactly (case-sensitive), in filters as on user input.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request

from lucca_cards.sandbox._laravel import (
    FilterField,
    LaravelError,
    LaravelValidationError,
    Rules,
    clean,
    flag,
    message,
    text_value,
    validate,
)
from lucca_cards.sandbox._model import Badge, CardsGroup, CardsUser, Certificate, Training
from lucca_cards.sandbox._service import request_json

Groups = Mapping[str, CardsGroup]
GroupItem = tuple["str | None", "str | None"]

MAX_NAME = 190
_NAME = f"required|string|max:{MAX_NAME}"
#: ``POST /v1/users`` rules (``PUT``: the same, each only when present, without ``notify``).
USER_RULES = {
    "firstname": _NAME,
    "lastname": _NAME,
    "email": "nullable|string|email",
    "role": "in:user,editor,owner",
    "company": f"nullable|string|max:{MAX_NAME}",
    "phone": "nullable|string",
    "source": "in:app,sso,GoogleOAuth,MicrosoftOAuth,AppleOAuth",
    "enable_ranking": "boolean",
    "lang": "in:fr,en",
    "notify": "boolean",
    "groups": "nullable|array",
}
#: The user's text fields, in the order the API writes them.
USER_FIELDS = ("firstname", "lastname", "email", "role", "company", "phone", "source", "lang")
#: The inputs Laravel's ``boolean`` rule reads as true.
TRUTHY = (True, 1, "1")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def group_refs(group_ids: list[str], groups: Groups) -> list[dict[str, str]]:
    """Return ``[{id, name}]`` of the groups that still exist."""
    return [{"id": gid, "name": groups[gid].name} for gid in group_ids if gid in groups]


def group_names(group_ids: list[str], groups: Groups) -> list[str]:
    """Return the names of the groups that still exist."""
    return [groups[gid].name for gid in group_ids if gid in groups]


def user_json(user: CardsUser, groups: Groups) -> dict[str, Any]:
    """Write a user (§4.1)."""
    fields = {name: getattr(user, name) for name in USER_FIELDS}
    return {"id": user.id, **fields, "enable_ranking": bool(user.enable_ranking),
            "groups": group_refs(user.group_ids, groups)}  # fmt: skip


def group_json(group: CardsGroup) -> dict[str, str]:
    """Write a group as the list does: ``{id, name}`` only (§5)."""
    return {"id": group.id, "name": group.name}


def training_json(training: Training, groups: Groups) -> dict[str, Any]:
    """Write a training (§6, plus flags, chapter count and groups)."""
    fields = ("id", "title", "description", "status", "image", "public_url", "category")
    return {**{name: getattr(training, name) for name in fields},
            "is_public": bool(training.is_public), "is_rating": bool(training.is_rating),
            "chapters_count": len(training.chapters),
            "groups": group_refs(training.group_ids, groups)}  # fmt: skip


def badge_json(badge: Badge) -> dict[str, Any]:
    """Write a badge (§7)."""
    return {"id": badge.id, "name": badge.name, "description": badge.description,
            "image": badge.image, "emoji": badge.emoji, **_publication(badge)}  # fmt: skip


def certificate_json(item: Certificate) -> dict[str, Any]:
    """Write a certificate (§8)."""
    return {"id": item.id, "name": item.name, "description": item.description,
            "content": item.content, **_publication(item)}  # fmt: skip


def _publication(item: Badge | Certificate) -> dict[str, Any]:
    return {"status": item.status, "option_teasing": bool(item.option_teasing),
            "notif": bool(item.notif), "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at)}  # fmt: skip


def iso(moment: dt.datetime) -> str:
    """Write a date as Laravel serialises models (UTC when aware, microseconds, ``Z``)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain(record: Any) -> Any:
    """Return a model record as JSON-ready data (dates in ISO 8601), for the state dump."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        record = dataclasses.asdict(record)
    if isinstance(record, dict):
        return {key: plain(item) for key, item in record.items()}
    if isinstance(record, (list, tuple)):
        return [plain(item) for item in record]
    if isinstance(record, (dt.datetime, dt.date)):
        return record.isoformat()
    return record


# -- filters (§2.2) -------------------------------------------------------------------


def role_value(value: Any) -> str | None:
    """Read a role filter value; the docs' example writes ``users`` for ``user``."""
    text = text_value(value)
    return "user" if text == "users" else text


def user_filters(groups: Groups) -> dict[str, FilterField[CardsUser]]:
    """Return the filters of ``GET /v1/users``."""
    return {
        "role": FilterField(lambda user: (user.role,), role_value),
        "groups_id": FilterField(lambda user: user.group_ids),
        "groups_name": FilterField(lambda user: group_names(user.group_ids, groups)),
    }


def training_filters(groups: Groups) -> dict[str, FilterField[Training]]:
    """Return the filters of ``GET /v1/trainings``."""
    return {
        "groups_id": FilterField(lambda training: training.group_ids),
        "groups_name": FilterField(lambda training: group_names(training.group_ids, groups)),
        "is_public": flag(lambda training: training.is_public),
        "is_rating": flag(lambda training: training.is_rating),
        "status": FilterField(lambda training: (training.status,)),
    }


GROUP_FILTERS: dict[str, FilterField[CardsGroup]] = {
    "is_public": flag(lambda group: group.is_public),
    "enable_ranking": flag(lambda group: group.enable_ranking),
}
PUBLICATION_FILTERS: dict[str, FilterField[Badge | Certificate]] = {
    "status": FilterField(lambda item: (item.status,)),
    "option_teasing": flag(lambda item: item.option_teasing),
    "notif": flag(lambda item: item.notif),
}


# -- input (§4.4, §9) ----------------------------------------------------------------


def group_items(items: list[Any], errors: dict[str, list[str]]) -> list[GroupItem]:
    """Read ``groups`` items (``{id?, name?}`` or strings) as ``(id, name)``; record errors.

    A string is an id when it looks like a UUID, else a name; an empty item is skipped.
    """
    pairs: list[GroupItem] = []
    for index, item in enumerate(items):
        attribute = f"groups.{index}"
        if isinstance(item, str):
            pair: GroupItem = (item, None) if _UUID.fullmatch(item) else (None, item)
        elif isinstance(item, dict):
            pair, attribute = (item.get("id"), item.get("name")), f"{attribute}.name"
            if pair[0] is not None and not isinstance(pair[0], str):
                errors[f"groups.{index}.id"] = [message("string", f"groups.{index}.id")]
                continue
        elif item is None:
            continue  # an empty string, after Laravel's middleware
        else:
            errors[attribute] = [message("in", attribute)]
            continue
        name = pair[1]
        if name is not None and not isinstance(name, str):
            errors[attribute] = [message("string", attribute)]
        elif name is not None and len(name) > MAX_NAME:
            errors[attribute] = [message("max.string", attribute, n=MAX_NAME)]
        else:
            pairs.append(pair)
    return pairs


def embed_rules(trainings: Mapping[str, Training], emails: Mapping[str, str]) -> dict[str, Rules]:
    """Return ``POST /v1/embeds`` rules; ``emails`` maps lower-cased emails to users."""

    def known_training(value: Any) -> str | None:
        return None if value in trainings else message("exists", "training_id")

    def known_email(value: Any) -> str | None:
        return None if value.lower() in emails else message("exists", "email")

    return {
        "type": "required|in:training,trainings",
        "training_id": ["required_if:type,training", "nullable", "string", known_training],
        "email": ["required", "string", "email", known_email],
        "once": "boolean",
        "expires_at": "nullable|date_format:Y-m-d",
    }


def read_body(request: Request) -> dict[str, Any]:
    """Return the cleaned JSON object of the body; anything else reads as no input."""
    try:
        body = request_json(request)
    except ValueError:
        return {}
    return clean(body) if isinstance(body, dict) else {}


def activity_options(request: Request) -> tuple[int, int]:
    """Read ``POST /_sandbox/activity``'s optional ``{"learners": 20, "seed": 1}``."""
    try:
        body = request_json(request)
    except ValueError:
        raise LaravelError(400, "The body must be a JSON object.") from None
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise LaravelError(400, "The body must be a JSON object.")
    errors = validate(body, {"learners": "integer|min:0", "seed": "integer"})
    if errors:
        raise LaravelValidationError(errors)
    return int(body.get("learners", 20)), int(body.get("seed", 1))
