"""LuccaLegacyApiClient's training records: one read, the write payload, minimal writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import responses

from conftest import FakeClock
from lucca_cards import StatsFieldCodes, StoredTrainingRecord, TrainingRecord
from lucca_cards.lucca.legacy import LuccaLegacyApiClient
from lucca_cards.lucca.legacy_models import LegacyUser
from test_legacy_client import USERS, envelope, make_client, query


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client(clock: FakeClock) -> LuccaLegacyApiClient:
    return make_client(clock)


CODES = ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date")


def occurrence(
    id_: int,
    title: str,
    link: str | None = None,
    progress: float | None = None,
    score: float | None = None,
    done: str | None = None,
) -> dict[str, Any]:
    """An e_formation occurrence on the wire: every sub-value wrapped as {"value": …}."""
    values = (title, link, progress, score, done)
    return {"id": id_, "value": {code: {"value": v} for code, v in zip(CODES, values, strict=True)}}


CURRENT_BODY = envelope(
    {
        "id": 416,
        "extendedData": {
            "e_formation": [
                occurrence(9001, "Python avancé", progress=80),
                occurrence(9002, "RGPD", progress=100),
            ]
        },
    }
)
WANTED = [
    TrainingRecord(title="python AVANCÉ", progress=100, last_completion_date=date(2024, 6, 10)),
    TrainingRecord(title="Docker", link="https://lms.example.com/c/7", progress=10),
]
# Kept by title (case-insensitive) with its id, new with id 0, dropped as value null.
EXPECTED_PAYLOAD = {
    "e_formation": [
        occurrence(9001, "python AVANCÉ", progress=100, done="2024-06-10T00:00:00"),
        occurrence(0, "Docker", link="https://lms.example.com/c/7", progress=10),
        {"id": 9002, "value": None},
    ]
}
ANSWER = envelope(
    {
        "id": 416,
        "extendedData": {
            "e_formation": [
                occurrence(9001, "python AVANCÉ", progress=100, done="2024-06-10T00:00:00"),
                occurrence(9003, "Docker", link="https://lms.example.com/c/7", progress=10),
            ]
        },
    }
)


def test_read_training_records_gets_id_and_extended_data(client, api) -> None:
    api.get(f"{USERS}/416", json=CURRENT_BODY)
    records = client.users.read_training_records(416)
    assert query(api.calls[0]) == {"fields": "id,extendedData"}
    assert [(r.id, r.record.title, r.record.progress) for r in records] == [
        (9001, "Python avancé", 80.0),
        (9002, "RGPD", 100.0),
    ]


def test_write_training_records_reads_once_then_puts_the_full_list(client, api) -> None:
    api.get(f"{USERS}/416", json=CURRENT_BODY)
    api.put(f"{USERS}/416", json=ANSWER)
    result = client.users.write_training_records(416, WANTED)
    get, put = api.calls
    assert get.request.method == "GET"
    assert query(get) == {"fields": "id,extendedData"}
    assert put.request.method == "PUT"
    assert query(put) == {"fields": "id,extendedData"}
    assert json.loads(put.request.body) == EXPECTED_PAYLOAD  # e_ field at the root
    assert result.written
    assert result.payload == EXPECTED_PAYLOAD
    assert [(r.id, r.record.title) for r in result.records] == [
        (9001, "python AVANCÉ"),
        (9003, "Docker"),
    ]
    # The field as answered, raw: what the publisher's mark of the file is made from.
    assert result.field_value == ANSWER["data"]["extendedData"]["e_formation"]


def test_write_training_records_with_current_reads_nothing(client, api) -> None:
    api.put(f"{USERS}/416", json=ANSWER)
    current = [
        StoredTrainingRecord(id=9001, record=TrainingRecord(title="Python avancé", progress=80)),
        StoredTrainingRecord(id=9002, record=TrainingRecord(title="RGPD", progress=100)),
    ]
    client.users.write_training_records(416, WANTED, current=current)
    assert [call.request.method for call in api.calls] == ["PUT"]
    assert json.loads(api.calls[0].request.body) == EXPECTED_PAYLOAD


def test_write_training_records_writes_nothing_when_the_file_already_matches(client, api) -> None:
    api.get(f"{USERS}/416", json=CURRENT_BODY)
    same = [
        TrainingRecord(title="RGPD", progress=100),
        TrainingRecord(title="Python avancé", progress=80),
    ]
    result = client.users.write_training_records(416, same)
    assert [call.request.method for call in api.calls] == ["GET"]
    assert not result.written
    assert result.payload is None and result.field_value is None
    assert [r.id for r in result.records] == [9001, 9002]


def test_write_training_records_with_matching_current_sends_nothing(client, api) -> None:
    current = [StoredTrainingRecord(id=1, record=TrainingRecord(title="A", progress=50.0))]
    result = client.users.write_training_records(
        416, [TrainingRecord(title="A", progress=50)], current=current
    )
    assert not result.written
    assert len(api.calls) == 0


def test_write_training_records_treats_a_title_case_change_as_a_change(client, api) -> None:
    api.put(f"{USERS}/416", json=envelope({"id": 416, "extendedData": None}))
    current = [StoredTrainingRecord(id=1, record=TrainingRecord(title="rgpd"))]
    result = client.users.write_training_records(
        416, [TrainingRecord(title="RGPD")], current=current
    )
    assert json.loads(api.calls[0].request.body)["e_formation"][0]["id"] == 1
    assert result.written
    assert result.records == []  # the answer held no extended data


def test_write_training_records_uses_custom_codes(client, api) -> None:
    codes = StatsFieldCodes(field="e_trainings", title="e_name")
    api.get(
        f"{USERS}/416",
        json=envelope(
            {
                "id": 416,
                "extendedData": {"e_trainings": [{"id": 5, "value": {"e_name": {"value": "SQL"}}}]},
            }
        ),
    )
    api.put(f"{USERS}/416", json=envelope({"id": 416}))
    client.users.write_training_records(416, [], codes=codes)
    assert json.loads(api.calls[1].request.body) == {"e_trainings": [{"id": 5, "value": None}]}


def test_write_training_records_refuses_repeated_titles(client) -> None:
    with pytest.raises(ValueError, match="unique"):
        client.users.write_training_records(
            416, [TrainingRecord(title="A"), TrainingRecord(title=" a")], current=[]
        )


def test_user_training_records_helper_reads_its_extended_data() -> None:
    user = LegacyUser.from_api(CURRENT_BODY["data"])
    assert [r.id for r in user.training_records()] == [9001, 9002]
    assert user.training_records(StatsFieldCodes(field="e_other")) == []
