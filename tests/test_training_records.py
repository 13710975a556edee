"""The training field's wire format: tolerant reads (reference §A10.2, §A10.4) and the write
payload rules (ids kept by title, id 0 for new, ``value: null`` for dropped)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from lucca_cards.errors import ConfigurationError
from lucca_cards.lucca.training_records import (
    StatsFieldCodes,
    StoredTrainingRecord,
    TrainingRecord,
    read_training_records,
    training_records_payload,
)

# The worked example of reference §A10.4, read with fields=id,extendedData.
A10_4_EXTENDED_DATA: dict[str, Any] = {
    "e_formation": [
        {
            "id": 9001,
            "value": {
                "e_title": {"value": "Python avancé"},
                "e_link": {"value": "https://lms.example.com/c/42"},
                "e_progress": {"value": 80},
                "e_score": {"value": 15.5},
                "e_last_completion_date": {"value": "2024-05-01T00:00:00"},
            },
        },
        {"id": 9002, "value": {"e_title": {"value": "RGPD"}}},
    ]
}


def stored(id_: int, title: str, **values: Any) -> StoredTrainingRecord:
    return StoredTrainingRecord(id=id_, record=TrainingRecord(title=title, **values))


# --- reading -------------------------------------------------------------------------


def test_reads_the_documented_multi_occurrence_shape() -> None:
    assert read_training_records(A10_4_EXTENDED_DATA) == [
        stored(
            9001,
            "Python avancé",
            link="https://lms.example.com/c/42",
            progress=80.0,
            score=15.5,
            last_completion_date=date(2024, 5, 1),
        ),
        stored(9002, "RGPD"),
    ]


def test_reads_a_single_occurrence_object_like_a_list_of_one() -> None:
    single = {"e_formation": A10_4_EXTENDED_DATA["e_formation"][0]}
    assert [s.id for s in read_training_records(single)] == [9001]


def test_reads_bare_sub_values_and_sub_values_with_their_own_id() -> None:
    data = {
        "e_formation": [
            {
                "id": 7,
                "value": {
                    "e_title": "Docker",
                    "e_progress": "42.5",
                    "e_score": {"id": 31, "value": 12},
                    "e_last_completion_date": "2024-06-10",
                },
            }
        ]
    }
    assert read_training_records(data) == [
        stored(7, "Docker", progress=42.5, score=12.0, last_completion_date=date(2024, 6, 10))
    ]


@pytest.mark.parametrize(
    "sub_values",
    [
        {"e_title": {"value": "RGPD"}},  # sub-fields missing
        {
            "e_title": {"value": "RGPD"},
            "e_link": None,
            "e_progress": {"value": None},
            "e_score": {},
            "e_last_completion_date": {"value": ""},
        },  # null, empty, or without "value"
    ],
)
def test_missing_or_null_sub_fields_read_as_none(sub_values: dict[str, Any]) -> None:
    assert read_training_records({"e_formation": [{"id": 1, "value": sub_values}]}) == [
        stored(1, "RGPD")
    ]


def test_text_sub_values_read_as_text_and_numeric_text_as_numbers() -> None:
    data = {"e_formation": [{"id": 1, "value": {
        "e_title": "T", "e_score": "8/10", "e_progress": " 80 ", "e_link": ["x"]}}]}
    record = read_training_records(data)[0].record
    assert (record.score, record.progress, record.link) == ("8/10", 80.0, None)
    blank = {"e_formation": [{"id": 1, "value": {"e_title": "T", "e_score": "  ",
                                                 "e_progress": {"a": 1}}}]}
    assert read_training_records(blank)[0].record.score is None
    assert read_training_records(blank)[0].record.progress is None


def test_a_record_equals_itself_read_back_whatever_the_text() -> None:
    record = TrainingRecord(title="T", progress="80", score="8/10")
    assert record.progress == 80.0
    payload = training_records_payload([record], [])
    stored = [{**payload["e_formation"][0], "id": 5}]
    assert read_training_records({"e_formation": stored})[0].record == record


@pytest.mark.parametrize(
    "field",
    [
        None,
        "text",
        42,
        [None, "junk", 3, ["nested"], {"id": 5}, {"id": 6, "value": "not an object"}],
        [{"id": 8, "value": {"e_link": {"value": "https://x"}}}],  # no title: unmatchable
        [{"id": 9, "value": {"e_title": {"value": None}}}],
    ],
)
def test_junk_and_untitled_occurrences_are_ignored(field: Any) -> None:
    assert read_training_records({"e_formation": field}) == []


def test_junk_beside_good_occurrences_does_not_hide_them() -> None:
    data = {"e_formation": ["junk", None, *A10_4_EXTENDED_DATA["e_formation"], 12]}
    assert [s.id for s in read_training_records(data)] == [9001, 9002]


def test_no_extended_data_or_no_field_reads_empty() -> None:
    assert read_training_records(None) == []
    assert read_training_records({}) == []
    assert read_training_records({"e_other": A10_4_EXTENDED_DATA["e_formation"]}) == []


def test_reads_with_custom_codes() -> None:
    codes = StatsFieldCodes(field="e_trainings", title="e_name", score="e_grade")
    data = {
        "e_trainings": [{"id": 3, "value": {"e_name": {"value": "SQL"}, "e_grade": {"value": 9}}}],
        "e_formation": A10_4_EXTENDED_DATA["e_formation"],  # the default code is not read
    }
    assert read_training_records(data, codes) == [stored(3, "SQL", score=9.0)]


def test_a_non_numeric_occurrence_id_is_skipped() -> None:
    data = {"e_formation": [{"id": "abc", "value": {"e_title": "T"}}]}
    assert read_training_records(data) == []


def test_occurrences_without_a_usable_id_or_title_are_skipped() -> None:
    data = {"e_formation": [
        {"value": {"e_title": "no id"}},
        {"id": 0, "value": {"e_title": "zero id"}},
        {"id": 5, "value": {"e_title": "   "}},
        {"id": 6, "value": {"e_title": "kept"}},
    ]}
    assert [s.id for s in read_training_records(data)] == [6]


def test_an_unparsable_date_reads_as_none() -> None:
    data = {"e_formation": [{"id": 1, "value": {"e_title": "T", "e_last_completion_date": "?"}}]}
    assert read_training_records(data)[0].record.last_completion_date is None


# --- writing -------------------------------------------------------------------------


def test_payload_keeps_ids_by_title_creates_new_and_deletes_dropped() -> None:
    current = [stored(9001, "Python avancé", progress=80), stored(9002, "RGPD")]
    records = [
        TrainingRecord(
            title="  PYTHON AVANCÉ ",  # matched case- and space-insensitively
            progress=100,
            last_completion_date=date(2024, 6, 10),
        ),
        TrainingRecord(title="Docker", link="https://lms.example.com/c/7", progress=10),
    ]
    assert training_records_payload(records, current) == {
        "e_formation": [
            {
                "id": 9001,
                "value": {
                    "e_title": {"value": "  PYTHON AVANCÉ "},
                    "e_link": {"value": None},
                    "e_progress": {"value": 100},
                    "e_score": {"value": None},
                    "e_last_completion_date": {"value": "2024-06-10T00:00:00"},
                },
            },
            {
                "id": 0,
                "value": {
                    "e_title": {"value": "Docker"},
                    "e_link": {"value": "https://lms.example.com/c/7"},
                    "e_progress": {"value": 10},
                    "e_score": {"value": None},
                    "e_last_completion_date": {"value": None},
                },
            },
            {"id": 9002, "value": None},
        ]
    }


def test_payload_deletes_every_occurrence_when_nothing_is_wanted() -> None:
    current = [stored(1, "A"), stored(2, "B")]
    assert training_records_payload([], current) == {
        "e_formation": [{"id": 1, "value": None}, {"id": 2, "value": None}]
    }


def test_payload_deletes_a_title_stored_twice_but_keeps_one() -> None:
    current = [stored(1, "Docker"), stored(2, "docker")]
    payload = training_records_payload([TrainingRecord(title="Docker")], current)
    assert [(o["id"], o["value"] is None) for o in payload["e_formation"]] == [
        (1, False),
        (2, True),
    ]


def test_payload_formats_a_datetime_with_its_time() -> None:
    record = TrainingRecord(title="T", last_completion_date=datetime(2024, 6, 10, 9, 30))
    occurrence = training_records_payload([record], [])["e_formation"][0]
    assert occurrence["value"]["e_last_completion_date"] == {"value": "2024-06-10T09:30:00"}


def test_payload_uses_custom_codes_for_the_field_and_every_sub_field() -> None:
    codes = StatsFieldCodes(
        field="e_trainings",
        title="e_name",
        link="e_url",
        progress="e_done",
        score="e_grade",
        last_completion_date="e_when",
    )
    record = TrainingRecord(
        title="SQL", link="https://x", progress=50, score=7.5, last_completion_date=date(2024, 1, 2)
    )
    values = {
        "e_name": "SQL",
        "e_url": "https://x",
        "e_done": 50,
        "e_grade": 7.5,
        "e_when": "2024-01-02T00:00:00",
    }
    assert training_records_payload([record], [stored(4, "sql")], codes) == {
        "e_trainings": [{"id": 4, "value": {code: {"value": v} for code, v in values.items()}}]
    }


def test_a_payload_read_back_gives_the_records_written() -> None:
    """The write format is one the tolerant reader understands (ids as the server gives)."""
    records = [
        TrainingRecord(title="A", link="https://a", progress=5, score=1.5),
        TrainingRecord(title="B", last_completion_date=date(2024, 2, 29)),
    ]
    written = training_records_payload(records, [])["e_formation"]
    echoed = [{**occurrence, "id": n} for n, occurrence in enumerate(written, start=100)]
    assert read_training_records({"e_formation": echoed}) == [
        StoredTrainingRecord(id=100, record=records[0]),
        StoredTrainingRecord(id=101, record=records[1]),
    ]


@pytest.mark.parametrize("code", ["formation", "e_", "", "E_formation"])
def test_codes_must_be_extended_field_codes(code: str) -> None:
    with pytest.raises(ConfigurationError, match="e_"):
        StatsFieldCodes(field=code)
