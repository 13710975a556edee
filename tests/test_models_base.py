from __future__ import annotations

from datetime import date, datetime, timezone
from typing import ClassVar

import attrs
import pytest

from conftest import SECRET_MARK
from lucca_cards import Secret, ValidationError
from lucca_cards._models import ApiModel, parse_date, parse_datetime
from lucca_cards.errors import redact_url


@attrs.frozen(kw_only=True)
class Thing(ApiModel):
    id: str
    given_name: str | None = None
    culture_id: int | None = attrs.field(default=None, metadata={"api": "cultureID"})
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class SnakeThing(ApiModel):
    api_naming: ClassVar[str] = "snake"
    id: str
    enable_ranking: bool | None = None


def test_camel_keys_explicit_keys_and_unknown_keys_kept() -> None:
    thing = Thing.from_api({"id": 7, "givenName": "Édouard", "cultureID": 1036,
                            "createdAt": "2024-04-15T23:12:54.0001Z", "newField": [1]})
    assert thing.id == "7"
    assert thing.given_name == "Édouard"
    assert thing.culture_id == 1036
    assert thing.created_at == datetime(2024, 4, 15, 23, 12, 54, 100, tzinfo=timezone.utc)
    assert thing.extra == {"newField": [1]}


def test_snake_naming() -> None:
    assert SnakeThing.from_api({"id": "u", "enable_ranking": True}).enable_ranking is True


def test_missing_required_key_or_non_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"Thing.*\$\.id"):
        Thing.from_api({"givenName": "x"})
    with pytest.raises(ValidationError, match="expected a JSON object"):
        Thing.from_api(["not", "an", "object"])


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-04-15T23:12:54.0001Z", datetime(2024, 4, 15, 23, 12, 54, 100, tzinfo=timezone.utc)),
    ("2014-09-01T00:00:00", datetime(2014, 9, 1)),
    ("2015-09-07T10:20:06.583", datetime(2015, 9, 7, 10, 20, 6, 583000)),
    ("2024-01-20 09:10:00", datetime(2024, 1, 20, 9, 10)),
    ("2024-01-20T09:09:00.000000Z", datetime(2024, 1, 20, 9, 9, tzinfo=timezone.utc)),
    ("2024-01-20T09:09:00+02:00", datetime.fromisoformat("2024-01-20T09:09:00+02:00")),
])
def test_parse_datetime_reads_every_api_format(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def test_parse_date() -> None:
    assert parse_date("2024-01-01") == date(2024, 1, 1)
    assert parse_date("2024-05-01T00:00:00") == date(2024, 5, 1)


def test_secret_never_shows_itself() -> None:
    secret = Secret(f"{SECRET_MARK}-x")
    assert SECRET_MARK not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == f"{SECRET_MARK}-x"
    assert not Secret("")


def test_redact_url_masks_secret_looking_query_values() -> None:
    url = redact_url("https://h/x?page=!abc&token=T0K&api_key=K&limit=100")
    assert "T0K" not in url and "=K" not in url
    assert "page=!abc" in url and "limit=100" in url


def test_an_empty_extra_is_a_shared_dict_that_refuses_changes() -> None:
    import copy
    import json
    import pickle

    from lucca_cards.lucca.models import Employee

    first, second = Employee.from_api({"id": "1"}), Employee.from_api({"id": "2"})
    assert first.extra is second.extra  # one object, not one dict per model
    assert isinstance(first.extra, dict) and json.dumps(first.extra) == "{}"
    assert first.extra | {"a": 1} == {"a": 1} and first.extra.copy() == {}
    for change in (lambda e: e.__setitem__("a", 1), lambda e: e.update(a=1),
                   lambda e: e.clear()):
        with pytest.raises(TypeError, match="shared"):
            change(first.extra)  # type: ignore[no-untyped-call]
    assert pickle.loads(pickle.dumps(first)).extra is first.extra  # noqa: S301 - our own bytes
    assert copy.deepcopy(first).extra is first.extra
