"""Learner activity on the fake Cards: progress, event payloads, signed webhook delivery."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from conftest import SECRET_MARK, FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox._model import CardsData
from lucca_cards.sandbox.activity import ActivityReport, WebhookSender, php_json, simulate
from lucca_cards.sandbox.cards import CardsFake
from sandbox_cards_data import (
    ALICE,
    DRAFT,
    NOMAIL,
    ONBOARDING,
    OWNER,
    SAFETY,
    TENANT,
    cards_data,
)
from served_sandbox import two_free_ports

API_KEY = f"{SECRET_MARK}-cards-key"
SECRET = f"{SECRET_MARK}-webhook"
NOW = dt.datetime(2024, 5, 6, 10, 0, 0)
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


class Receiver:
    """A webhook endpoint that records what it accepts and fails the first ``fail`` posts."""

    def __init__(self, fail: int = 0, status: int = 500) -> None:
        self.fail, self.status, self.posts = fail, status, 0
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()
        self.posts += 1
        if self.posts <= self.fail:
            return Response("no", status=self.status)(environ, start_response)
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        return Response("ok")(environ, start_response)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with ServedApp(app) as served:
        yield app, served.url + "/hooks/cards"


def make_fake(url: str | None, clock: FakeClock, data: CardsData | None = None,
              **options: Any) -> CardsFake:  # fmt: skip
    return CardsFake(data or cards_data(), api_key=API_KEY, webhook_secret=SECRET,
                     webhook_url=url, clock=clock, sleep=clock.sleep, now=lambda: NOW,
                     rate_limit=0, **options)  # fmt: skip


def closed_port_url() -> str:
    """A URL nothing listens on: a free port the kernel never hands to another socket."""
    return f"http://127.0.0.1:{two_free_ports()}/hooks"


def test_php_json_writes_what_php_signs() -> None:
    value = {"url": "https://x.test/a", "name": "Jérôme 🎉", "n": 1, "f": 0.5, "none": None}
    assert php_json(value) == (
        b'{"url":"https:\\/\\/x.test\\/a","name":"J\\u00e9r\\u00f4me \\ud83c\\udf89",'
        b'"n":1,"f":0.5,"none":null}'
    )


def test_webhooks_are_signed_over_the_exact_bytes(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    report = make_fake(url, clock).simulate_activity(learners=4, seed=1)
    assert report == ActivityReport(delivered=len(app.bodies), failed=0)
    assert report.as_json() == {"delivered": report.delivered, "failed": 0}
    assert report.delivered > 4
    for body, headers in zip(app.bodies, app.headers, strict=True):
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["Signature"], expected)
        assert headers["Content-Type"] == "application/json"
        assert b"https:\\/\\/cdn.acme.test" in body  # PHP's escaping, not Python's
        resigned = json.dumps(json.loads(body)).encode()
        assert hmac.new(SECRET.encode(), resigned, hashlib.sha256).hexdigest() != expected
    assert clock.sleeps == []


def test_signature_header_is_configurable(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    make_fake(url, clock, signature_header="X-Cards-Signature").simulate_activity(2, seed=2)
    assert app.headers and all("X-Cards-Signature" in h and "Signature" not in h
                               for h in app.headers)  # fmt: skip


def test_events_follow_the_documented_shape(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    fake = make_fake(url, clock)
    fake.simulate_activity(learners=10, seed=5)
    fake.simulate_activity(learners=10, seed=5)
    events = app.events()
    assert len({event["id"] for event in events}) == len(events)
    for event in events:
        assert set(event) == {"id", "type", "created_at", "data"}
        assert event["type"] in {"chapter-complete", "quiz-complete"}
        assert event["created_at"] == "2024-05-06 10:00:00"
        data = event["data"]
        assert set(data) == {"created_at", "points", "user", "training", "score"}
        assert DATE.fullmatch(data["created_at"]) and data["created_at"] <= event["created_at"]
        assert set(data["user"]) == {"id", "firstname", "lastname", "email", "company", "lang"}
        assert set(data["training"]) == {"id", "title", "description", "image",
                                         "chapters_count", "chapter"}  # fmt: skip
        assert set(data["training"]["chapter"]) == {"id", "title", "position"}
        assert set(data["score"]) == {"points", "max_points", "progress"}
        assert 0 < data["score"]["progress"] <= 1
        assert 0 <= data["score"]["points"] <= data["score"]["max_points"]
    # One learner's events are in time order, across the two calls too.
    per_user: dict[str, list[str]] = defaultdict(list)
    for event in events:
        per_user[event["data"]["user"]["id"]].append(event["data"]["created_at"])
    assert all(times == sorted(times) for times in per_user.values())


def test_progress_records_are_the_ground_truth(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    fake = make_fake(url, clock)
    before = {key: (list(p.chapters_done), p.points) for key, p in fake.data.progress.items()}
    for seed in (1, 2, 3):
        fake.simulate_activity(learners=4, seed=seed)
    per_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event in app.events():
        data = event["data"]
        per_pair[(data["user"]["id"], data["training"]["id"])].append(data)
    assert per_pair
    for key, datas in per_pair.items():
        progress = fake.data.progress[key]
        done_before, points_before = before.get(key, ([], 0))
        done = [d["training"]["chapter"]["position"] for d in datas]
        assert progress.points == points_before + sum(d["points"] for d in datas)
        assert set(progress.chapters_done) == set(done_before) | set(done)
        last = datas[-1]
        assert last["score"]["points"] == progress.points
        assert last["score"]["max_points"] == progress.max_points
        count = last["training"]["chapters_count"]
        assert last["score"]["progress"] == len(progress.chapters_done) / count
        assert progress.last_activity is not None
        assert progress.last_activity.strftime("%Y-%m-%d %H:%M:%S") == last["created_at"]
        assert (progress.completed_at is not None) == (len(progress.chapters_done) == count)


def test_learners_have_emails_and_follow_shared_published_trainings() -> None:
    data = cards_data()
    data.trainings[ONBOARDING].is_public = False  # Alice now sees only Safety
    new_id = iter(map(str, range(999))).__next__
    events = simulate(data, learners=50, seed=9, now=NOW, new_id=new_id)
    users = {event["data"]["user"]["id"] for event in events}
    trainings = {event["data"]["training"]["id"] for event in events}
    assert NOMAIL not in users and DRAFT not in trainings
    for event in events:
        user = data.users[event["data"]["user"]["id"]]
        training = data.trainings[event["data"]["training"]["id"]]
        assert training.status == "publish"
        # The owner shares no training with anyone: any published one will do for her.
        assert user.id == OWNER or set(user.group_ids) & set(training.group_ids)
    assert OWNER in users
    # Alice had finished chapter 1 of Safety: she goes on from chapter 2.
    alice = [e["data"]["training"] for e in events if e["data"]["user"]["id"] == ALICE]
    assert {training["id"] for training in alice} == {SAFETY}
    assert alice[0]["chapter"]["position"] == 2


def test_quiz_chapters_also_send_quiz_complete() -> None:
    data = cards_data()
    chapters = {c.id: c for t in data.trainings.values() for c in t.chapters}
    counter = iter(range(10_000))
    events: list[dict[str, Any]] = []
    for seed in range(6):
        events += simulate(data, learners=4, seed=seed, now=NOW,
                           new_id=lambda: f"evt-{next(counter)}")  # fmt: skip
    assert {"chapter-complete", "quiz-complete"} <= {event["type"] for event in events}
    seen: set[tuple[str, str]] = set()
    for event in events:
        data_ = event["data"]
        chapter = chapters[data_["training"]["chapter"]["id"]]
        key = (data_["user"]["id"], chapter.id)
        if event["type"] == "chapter-complete":
            assert data_["points"] == (0 if chapter.has_quiz else chapter.points)
            seen.add(key)
        else:
            assert chapter.has_quiz and key in seen
            assert chapter.points // 2 <= data_["points"] <= chapter.points
    # Learners run out of chapters: every emailed user has finished every training they see.
    assert simulate(data, learners=10, seed=99, now=NOW, new_id=lambda: "x") == []
    assert all(p.completed_at is not None for p in data.progress.values())


def test_same_seed_same_story() -> None:
    def story(data: CardsData) -> list[tuple[str, str, str, int]]:
        events = simulate(data, learners=3, seed=4, now=NOW, new_id=lambda: "id")
        return [(e["type"], e["data"]["user"]["id"], e["data"]["training"]["chapter"]["id"],
                 e["data"]["points"]) for e in events]  # fmt: skip

    assert story(cards_data()) == story(cards_data())
    assert story(cards_data()) != []


def test_failed_deliveries_are_retried_with_backoff(clock: FakeClock) -> None:
    app = Receiver(fail=2, status=503)
    with ServedApp(app) as served:
        report = make_fake(served.url, clock).simulate_activity(learners=1, seed=1)
    assert report.failed == 0 and report.delivered == len(app.bodies) > 0
    assert app.posts == len(app.bodies) + 2
    assert clock.sleeps == [0.5, 1.0]


def test_undeliverable_events_wait_for_redelivery(clock: FakeClock) -> None:
    app = Receiver(fail=10_000)
    with ServedApp(app) as served:
        fake = make_fake(served.url, clock, delivery_attempts=2)
        report = fake.simulate_activity(learners=2, seed=3)
        assert report.delivered == 0 and report.failed > 0
        assert app.posts == 2 * report.failed
        assert fake.state()["undelivered"] == report.failed
        app.fail = 0
        again = fake.redeliver()
    assert again == ActivityReport(delivered=report.failed, failed=0)
    assert fake.state()["undelivered"] == 0
    for body, headers in zip(app.bodies, app.headers, strict=True):
        assert headers["Signature"] == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert fake.redeliver() == ActivityReport(0, 0)


def test_without_a_url_everything_is_queued(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    fake = make_fake(None, clock)
    report = fake.simulate_activity(learners=3, seed=1)
    assert report.delivered == 0 and report.failed > 0 and app.posts == 0
    fake.webhook_url = url
    assert fake.redeliver() == ActivityReport(report.failed, 0)
    assert len(app.bodies) == report.failed


def test_connection_errors_count_as_failures(clock: FakeClock) -> None:
    fake = make_fake(closed_port_url(), clock, delivery_attempts=3)
    report = fake.simulate_activity(learners=1, seed=1)
    assert report.delivered == 0 and report.failed > 0
    assert clock.sleeps == [0.5, 1.0] * report.failed


def test_sender_needs_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WebhookSender(secret=SECRET, attempts=0)
    assert SECRET not in repr(WebhookSender(secret=SECRET))


def test_activity_control_endpoint(receiver: tuple[Receiver, str], clock: FakeClock) -> None:
    app, url = receiver
    fake = make_fake(url, clock)
    with ServedApp(fake) as served:
        answer = requests.post(served.url + "/_sandbox/activity",
                               json={"learners": 2, "seed": 3}, timeout=5)  # fmt: skip
        assert answer.status_code == 200
        assert answer.json() == {"delivered": len(app.bodies), "failed": 0}
        assert requests.post(served.url + "/_sandbox/activity", timeout=5).status_code == 200
        assert requests.post(served.url + "/_sandbox/activity", data="[1]",
                             timeout=5).status_code == 400  # fmt: skip
        negative = requests.post(served.url + "/_sandbox/activity", json={"learners": -1},
                                 timeout=5)  # fmt: skip
        assert negative.status_code == 422
        assert negative.json()["errors"] == {"learners": ["The learners field must be at least 0."]}
        assert requests.get(served.url + "/_sandbox/activity", timeout=5).status_code == 405
        redelivered = requests.post(served.url + "/_sandbox/redeliver", timeout=5)
        assert redelivered.json() == {"delivered": 0, "failed": 0}
        state = requests.get(served.url + "/_sandbox/state", timeout=5)
        assert SECRET_MARK not in state.text
        assert state.json()["progress"] and state.json()["tenant"] == TENANT
        # Control requests are neither logged nor rate limited.
        assert requests.get(served.url + "/_sandbox/requests", timeout=5).json()["log"] == []


def test_a_finished_training_reports_progress_one_as_php_writes_it(
    receiver: tuple[Receiver, str], clock: FakeClock
) -> None:
    app, url = receiver
    fake = make_fake(url, clock)
    for seed in range(8):
        fake.simulate_activity(learners=4, seed=seed)
    finished = [body for body in app.bodies if b'"progress":1}' in body]
    assert finished and not any(b'"progress":1.0' in body for body in app.bodies)
