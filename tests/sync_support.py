"""What the importer tests share: a sandbox with clients, and what to read back from it.

The tests check the importers against the sandbox's own records (``sandbox.company``,
the live state of the fakes) and its request logs, never against the importers' plan.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from lucca_cards import (
    CardsClient,
    LuccaCardsError,
    LuccaOAuthClient,
    RateLimiter,
    Settings,
    SyncReport,
)
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._cards_seed import normalise_email
from lucca_cards.sandbox._model import employee_status

#: The generated companies' "today": statuses do not move with the real date.
TODAY = dt.date(2026, 3, 2)
#: A small company that holds every edge case the generator makes.
COMPANY: dict[str, Any] = {"seed": 5, "employees": 120, "departments": 12, "today": TODAY}
#: What a Cards write is, in the request log.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sandbox(**options: Any) -> Sandbox:
    """Return an unlimited sandbox of :data:`COMPANY` (``options`` override), not started."""
    return Sandbox(**{**COMPANY, "lucca_rate_limit": 0, "cards_rate_limit": 0, **options})


@contextlib.contextmanager
def clients(box: Sandbox, **options: Any) -> Iterator[tuple[LuccaOAuthClient, CardsClient]]:
    """Yield unthrottled Lucca and Cards clients of ``box`` (``options`` go to both)."""
    settings = box.settings()
    options = {"rate_limiter": RateLimiter(0), **options}
    with LuccaOAuthClient.from_settings(settings, **options) as lucca, \
            CardsClient.from_settings(settings, **options) as cards:
        yield lucca, cards


def settings_from_line(info: dict[str, str], **overrides: Any) -> Settings:
    """Return the settings of the sandbox that printed ``info`` (``sandbox serve``'s line)."""
    return Settings(**{
        "lucca_url": info["lucca_url"], "lucca_token_url": info["token_url"],
        "lucca_client_id": info["client_id"], "lucca_client_secret": info["client_secret"],
        "cards_url": info["cards_url"], "cards_tenant": info["cards_tenant"],
        "cards_api_key": info["cards_api_key"], **overrides})


class Recorder:
    """A :class:`requests.Session` that keeps every request sent: method, URL, JSON body.

    Form bodies (the token request, with its secret) are never kept.
    """

    def __init__(self) -> None:
        self.session = requests.Session()
        self.sent: list[tuple[str, str, Any]] = []
        self.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        is_json = request.headers.get("Content-Type", "").startswith("application/json")
        body = json.loads(request.body) if is_json and request.body else None  # never a form
        self.sent.append((request.method or "", request.url or "", body))

    def bodies(self, method: str) -> list[Any]:
        """Return the JSON bodies of the requests with ``method``."""
        return [body for sent, _, body in self.sent if sent == method]


def considered(box: Sandbox, statuses: tuple[str, ...] = ("active", "upcoming")) -> set[str]:
    """Return the ids (as the Lucca API writes them) of the employees with ``statuses``."""
    lucca, today = box.company.lucca, box.company.today
    return {str(e.id) for e in lucca.employees.values()
            if employee_status(lucca.employments[e.employment_id], today) in statuses}


def department_of(box: Sandbox, employee_id: str) -> int:
    """Return the id of the department of the employee's current job position."""
    lucca = box.company.lucca
    return lucca.job_positions[lucca.employees[int(employee_id)].job_position_id].department_id


def memberships(box: Sandbox) -> dict[str, list[str]]:
    """Return every Cards account: trimmed lower-case email → sorted group names."""
    cards = box.company.cards
    return {normalise_email(user.email or ""): sorted(cards.groups[g].name for g in user.group_ids)
            for user in cards.users.values()}


def accounts_per_email(box: Sandbox) -> Counter[str]:
    """Count the Cards accounts of each (trimmed, lower-case) email."""
    return Counter(normalise_email(u.email or "") for u in box.company.cards.users.values())


def users_copy(box: Sandbox) -> dict[str, Any]:
    """Return a deep copy of the Cards accounts, to compare before and after an import."""
    return copy.deepcopy(box.company.cards.users)


def writes(box: Sandbox) -> list[dict[str, Any]]:
    """Return the Cards requests that may have written (whatever their answer)."""
    return [e for e in box.cards.log.entries() if e["method"] in WRITE_METHODS]


def converge(run: Callable[[], SyncReport], attempts: int = 10) -> list[SyncReport | None]:
    """Run until a report has no failure; return every attempt (``None``: the run raised)."""
    history: list[SyncReport | None] = []
    for _ in range(attempts):
        try:
            report = run()
        except LuccaCardsError:  # a read gave up after its retries: run again
            history.append(None)
            continue
        history.append(report)
        if report.ok:
            return history
    failures = [None if r is None else len(r.failed) for r in history]
    pytest.fail(f"no clean run in {attempts} attempts; failures per run: {failures}")
