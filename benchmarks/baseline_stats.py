"""The plain ``requests`` script's statistics publish (see :mod:`baseline`).

Reads the Cards trainings and the legacy API's employee files, then writes each learner's
training field where its occurrences differ from the learner's states in the ledger.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from baseline import FIELD, Api, cards_all, connect, key  # the script's folder is on sys.path


def publish_stats(info: dict[str, str], lucca_rate: float, cards_rate: float,
                  ledger: str) -> str:
    """Write each learner's trainings onto their employee file, only where they differ."""
    from lucca_cards.state import TrainingLedger  # the learners' states: a table to read

    _, legacy, cards = connect(info, lucca_rate, cards_rate)
    fields = legacy.call("GET", "/api/v3/extensionuserdefinitions")["data"]["items"]
    if FIELD not in {f["name"] for f in fields}:
        raise SystemExit(f"the tenant has no {FIELD} field")
    users = legacy_users(legacy)
    trainings = {t["id"]: t for t in cards_all(cards, "/trainings")}
    with TrainingLedger(ledger) as states_file:
        states: dict[str, list[Any]] = {}
        for state in states_file.states():
            states.setdefault(state.email, []).append(state)
    counts = Counter(key(u.get("mail")) for u in users)
    written = 0
    for user in users:
        email = key(user.get("mail"))
        if email in states and counts[email] == 1:
            body = _occurrences(user, states[email or ""], trainings)
            if body:
                legacy.call("PUT", f"/api/v3/users/{user['id']}", params={"fields": "id"},
                            json={FIELD: body})
                written += 1
    return f"baseline statistics: {written} files written"


def legacy_users(legacy: Api) -> list[dict[str, Any]]:
    """Current employees with their extended data, 1000 a page."""
    users: list[dict[str, Any]] = []
    while True:
        items = legacy.call("GET", "/api/v3/users", params={
            "fields": "id,name,mail,extendedData", "paging": f"{len(users)},1000"})["data"]["items"]
        users += items
        if len(items) < 1000:
            return users


def _occurrences(user: dict[str, Any], states: list[Any], trainings: dict[str, Any]
                 ) -> list[dict[str, Any]]:
    """The occurrences to send (new or different); ``[]`` when the file is up to date."""
    stored = (user.get("extendedData") or {}).get(FIELD) or []
    by_title = {(o["value"]["e_title"]["value"] or "").strip().casefold(): o
                for o in stored if o.get("value")}
    changes = []
    for state in states:
        training = trainings.get(state.training_id)
        if training is None:
            continue
        value = _value(state, training)
        held = by_title.get(value["e_title"].casefold())
        if held is None or {c: v["value"] for c, v in held["value"].items()} != value:
            changes.append({"id": held["id"] if held else 0,
                            "value": {c: {"value": v} for c, v in value.items()}})
    return changes


def _value(state: Any, training: dict[str, Any]) -> dict[str, Any]:
    """One training's sub-values, as the integration's documented format writes them."""
    done = state.last_completed_at
    return {"e_title": (training.get("title") or "").strip() or (state.title or "").strip()
            or state.training_id,
            "e_link": training.get("public_url"),
            "e_progress": f"{state.progress * 100:.0f} %",
            "e_score": f"{state.points}/{state.max_points}"
            if state.max_points and state.points is not None else None,
            "e_last_completion_date": done.strftime("%Y-%m-%dT00:00:00") if done else None}
