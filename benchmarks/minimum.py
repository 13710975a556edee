"""The fewest calls a scenario can make, and the fastest it can go: from the sandbox's state.

Nothing here asks the SDK what it planned. The reads are the paged sweeps a job of the
scenario's kind must make, counted from the size of each collection in the sandbox; the
writes are what the sandbox's state before and after the run shows had to change:

* a Cards account that did not exist before: one ``POST /v1/users``;
* a Cards account whose email or groups changed: one ``PUT /v1/users/{id}``, whatever
  changed (Cards takes both in one body);
* a Lucca employee file whose training field changed: one ``PUT /api/v3/users/{id}``.

The floor is the time those calls take at the configured rates, each call costing one
interval of its API: the reads of Lucca and of Cards in parallel, then the writes, which
wait for both sweeps (Cards accounts can only be written once every Lucca employee and every
Cards account is known: an email two employees share, or one already taken, is refused
whole). See ``docs/performance.rst``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lucca_cards.sandbox._model import Company, employee_status

#: Items a page, as each API serves them at most (the Lucca API's ``limit=100``, Cards'
#: ``paginate=500``, the legacy API's ``paging=offset,1000``).
PAGE_SIZES = {"employees": 100, "everyone": 100, "departments": 100, "cards_users": 500,
              "groups": 500, "legacy_users": 1000, "trainings": 500}
#: Which API serves each collection (the Lucca token and the legacy API are on the Lucca
#: host: one budget).
API_OF = {"token": "token", "employees": "lucca", "everyone": "lucca", "departments": "lucca",
          "definitions": "legacy", "legacy_users": "legacy", "cards_users": "cards",
          "groups": "cards", "trainings": "cards"}
#: What each kind of job must sweep (one token or one definitions read where used).
#: ``employees`` are those at work (active and upcoming); ``everyone``, every status.
SWEEPS = {
    "users": ("token", "employees", "cards_users"),
    "departments": ("token", "departments", "employees", "cards_users", "groups"),
    # The rules must see the deactivated employees to find leavers: every status. Movers
    # and hires name their group; the users' memberships give the ids: no group sweep.
    "lifecycle": ("token", "departments", "everyone", "cards_users"),
    "stats": ("definitions", "legacy_users", "trainings"),
}
#: The employee statuses an import or a sync considers.
AT_WORK = ("active", "upcoming")
TRAINING_FIELD = "e_formation"


@dataclass(frozen=True)
class Rates:
    """The real rates (requests a minute) scaled by one factor, for clients and sandbox."""

    factor: float
    lucca_per_minute: float = 40.0  # the SDK's default share of Lucca's 50 a minute
    cards_per_minute: float = 60.0

    @property
    def lucca(self) -> float:
        """Lucca requests a minute, scaled."""
        return self.lucca_per_minute * self.factor

    @property
    def cards(self) -> float:
        """Cards requests a minute, scaled."""
        return self.cards_per_minute * self.factor

    @property
    def lucca_interval(self) -> float:
        """Seconds between two Lucca calls (the token and the legacy API included)."""
        return 60.0 / self.lucca

    @property
    def cards_interval(self) -> float:
        """Seconds between two Cards calls."""
        return 60.0 / self.cards

    @property
    def window(self) -> float:
        """The sandbox's rate window: a real minute, scaled."""
        return 60.0 / self.factor

    def as_json(self) -> dict[str, float]:
        """The rates as ``results.json`` shows them."""
        return {"factor": self.factor, "lucca_per_minute_real": self.lucca_per_minute,
                "cards_per_minute_real": self.cards_per_minute,
                "lucca_per_minute": self.lucca, "cards_per_minute": self.cards,
                "lucca_interval_s": self.lucca_interval,
                "cards_interval_s": self.cards_interval, "sandbox_window_s": self.window}


@dataclass(frozen=True)
class Snapshot:
    """What the minimum is computed from: collection sizes, accounts and files."""

    at_work: int
    everyone: int
    departments: int
    legacy_users: int
    groups: int
    trainings: int
    accounts: Mapping[str, tuple[str | None, frozenset[str]]] = field(repr=False)
    files: Mapping[int, str] = field(repr=False)

    @property
    def cards_users(self) -> int:
        """How many Cards accounts exist."""
        return len(self.accounts)


def snapshot(company: Company) -> Snapshot:
    """Read the sandbox's records (call it while no request is in flight)."""
    lucca, cards, today = company.lucca, company.cards, company.today
    statuses = [employee_status(lucca.employments[e.employment_id], today)
                for e in lucca.employees.values()]
    # The legacy API lists everyone whose contract has not ended (formerEmployees=false).
    former = sum(1 for e in lucca.employees.values()
                 if (end := lucca.employments[e.employment_id].end) is not None and end < today)
    return Snapshot(
        at_work=sum(1 for s in statuses if s in AT_WORK),
        everyone=len(statuses),
        departments=len(lucca.departments),
        legacy_users=len(lucca.employees) - former,
        groups=len(cards.groups),
        trainings=len(cards.trainings),
        accounts={u.id: (u.email, frozenset(u.group_ids)) for u in cards.users.values()},
        files={e.id: json.dumps(e.extended_data.get(TRAINING_FIELD), sort_keys=True,
                                default=str)
               for e in lucca.employees.values()},
    )


def pages(items: int, size: int, *, offset_paging: bool = False) -> int:
    """Requests a sweep of ``items`` takes: an empty collection still takes one.

    With offset paging (the legacy API) the end is a short page, so a last page that is
    full costs one more, empty, read.
    """
    if offset_paging:
        return items // size + 1
    return max(1, math.ceil(items / size))


def minimum_calls(kind: str, before: Snapshot, after: Snapshot) -> dict[str, dict[str, int]]:
    """The fewest calls, ``{api: {method: count}}``, for a job of ``kind`` between two states."""
    sizes = {"employees": before.at_work, "everyone": before.everyone,
             "departments": before.departments,
             "cards_users": before.cards_users, "groups": before.groups,
             "legacy_users": before.legacy_users, "trainings": before.trainings}
    calls: dict[str, Counter[str]] = {}
    for sweep in SWEEPS[kind]:
        count = 1 if sweep in ("token", "definitions") else pages(
            sizes[sweep], PAGE_SIZES[sweep], offset_paging=sweep == "legacy_users")
        method = "POST" if sweep == "token" else "GET"
        calls.setdefault(API_OF[sweep], Counter())[method] += count
    created = set(after.accounts) - set(before.accounts)
    changed = sum(1 for key, (email, groups) in after.accounts.items()
                  if key in before.accounts and (before.accounts[key][0] != email
                                                 or before.accounts[key][1] != groups))
    files = sum(1 for key, value in after.files.items() if before.files.get(key) != value)
    for api, method, count in (("cards", "POST", len(created)), ("cards", "PUT", changed),
                               ("legacy", "PUT", files)):
        if count:
            calls.setdefault(api, Counter())[method] += count
    return {api: dict(methods) for api, methods in calls.items()}


def total(calls: Mapping[str, Mapping[str, int]]) -> int:
    """Every call of a ``{api: {method: count}}`` table."""
    return sum(sum(methods.values()) for methods in calls.values())


def floor_seconds(calls: Mapping[str, Mapping[str, int]], rates: Rates) -> float:
    """The time ``calls`` take at ``rates``: reads of both APIs in parallel, then the writes.

    Each call costs one interval of its API. Lucca's budget is the tenant's: the token and
    the legacy API count in it. The writes wait for both sweeps (see the module).
    """
    def count(apis: Iterable[str], reads: bool) -> int:
        return sum(n for api in apis for method, n in calls.get(api, {}).items()
                   if (method == "GET" or (api == "token")) == reads)

    lucca_apis, cards_apis = ("token", "lucca", "legacy"), ("cards",)
    reading = max(count(lucca_apis, True) * rates.lucca_interval,
                  count(cards_apis, True) * rates.cards_interval)
    return (reading + count(lucca_apis, False) * rates.lucca_interval
            + count(cards_apis, False) * rates.cards_interval)


def api_of_path(host: str, path: str) -> str:
    """Name the API of a logged request: ``token``, ``lucca``, ``legacy`` or ``cards``."""
    if host == "cards":
        return "cards"
    if path.rstrip("/").endswith("/connect/token"):
        return "token"
    return "legacy" if path.startswith("/api/v3") else "lucca"


def calls_by_api(entries: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Count logged requests ``{api: {method: count}}``; ``entries`` by host (lucca, cards)."""
    counts: dict[str, Counter[str]] = {}
    for host, log in entries.items():
        for entry in log:
            counts.setdefault(api_of_path(host, entry["path"]), Counter())[entry["method"]] += 1
    return {api: dict(sorted(methods.items())) for api, methods in sorted(counts.items())}
