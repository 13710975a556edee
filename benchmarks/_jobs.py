"""One side of one scenario, run in a child process: the SDK's job or the baseline's.

The sandboxes serve from threads of the parent; each job runs in a process of its own
(``multiprocessing``, spawn), so the client neither shares the GIL with the server it
talks to nor has the server's allocations traced. A job is timed (rates on, no tracing) or
traced (rates off, ``tracemalloc`` on): never both, as tracing slows every allocation.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import baseline  # the script's folder is on sys.path (spawned children inherit it)
import baseline_stats

from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LinkStore,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    RateLimiter,
    Settings,
    StatsPublisher,
    TrainingLedger,
    UserImporter,
)
from lucca_cards.sync.lifecycle import LifecycleSync

Spec = dict[str, Any]
#: The importers' default ``memberships_max_age`` (5 minutes), in real seconds.
MEMBERSHIPS_MAX_AGE = 300.0


def run_in_child(spec: Spec) -> dict[str, Any]:
    """Run :func:`run` in a fresh spawned process; return what it measured."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run, spec).result()


def run(spec: Spec) -> dict[str, Any]:
    """Run one job: ``wall_s``, ``peak_mb`` (traced jobs only) and the job's own summary."""
    traced = bool(spec.get("traced"))
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    summary = (sdk_job if spec["side"] == "sdk" else baseline_job)(spec)
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    if traced:
        tracemalloc.stop()
    return {"wall_s": wall, "peak_mb": peak, "summary": summary}


def max_age(spec: Spec) -> float:
    """The memberships' bound: the default 5 minutes scaled like the rates, or the spec's."""
    return float(spec.get("memberships_max_age", MEMBERSHIPS_MAX_AGE / spec["factor"]))


def baseline_job(spec: Spec) -> str:
    """The plain ``requests`` script's job of the spec's kind (the same bound on joins)."""
    info, rates = spec["info"], (spec["lucca_rate"], spec["cards_rate"])
    kind = spec["kind"]
    if kind == "users":
        return baseline.import_users(info, *rates, spec.get("state"))
    if kind == "departments":
        return baseline.import_departments(info, *rates, spec["state"], max_age=max_age(spec))
    if kind == "lifecycle":
        return baseline.sync_changes(info, *rates, spec["state"], max_age=max_age(spec))
    return baseline_stats.publish_stats(info, *rates, spec["ledger"])


def sdk_job(spec: Spec) -> str:
    """The SDK's job of the spec's kind, with explicit limiters at the spec's rates.

    One limiter for the Lucca host (token, Lucca API and legacy API: the tenant's one
    budget), one for Cards. ``memberships_max_age`` is the default 5 minutes scaled like the
    rates (``spec["memberships_max_age"]`` overrides it, in scaled seconds); ``dry_run``
    asks a users import for its plan and report without writing.
    """
    settings = _settings(spec["info"])
    lucca_limiter, cards_limiter = RateLimiter(spec["lucca_rate"]), RateLimiter(spec["cards_rate"])
    kind, bound = spec["kind"], max_age(spec)
    with contextlib.ExitStack() as stack:
        cards = stack.enter_context(CardsClient.from_settings(settings,
                                                              rate_limiter=cards_limiter))
        if kind == "stats":
            legacy = stack.enter_context(LuccaLegacyApiClient.from_settings(
                settings, rate_limiter=lucca_limiter))
            ledger = stack.enter_context(TrainingLedger(spec["ledger"]))
            return str(StatsPublisher(legacy, cards, ledger).run())
        lucca = stack.enter_context(LuccaOAuthClient.from_settings(
            settings, rate_limiter=lucca_limiter))
        links = stack.enter_context(LinkStore(spec["links"])) if spec.get("links") \
            else LinkStore()
        if kind == "users":
            return str(UserImporter(lucca, cards, links=links, memberships_max_age=bound).run(
                dry_run=bool(spec.get("dry_run"))))
        if kind == "departments":
            return str(DepartmentImporter(lucca, cards, links=links,
                                          memberships_max_age=bound).run())
        return str(LifecycleSync(lucca, cards, links, departments="all",
                                 memberships_max_age=bound).run())


def _settings(info: dict[str, str]) -> Settings:
    return Settings(lucca_url=info["lucca_url"], lucca_token_url=info["token_url"],
                    lucca_client_id=info["client_id"],
                    lucca_client_secret=info["client_secret"], lucca_api_key=info["api_key"],
                    lucca_scopes=info["scopes"], cards_url=info["cards_url"],
                    cards_tenant=info["cards_tenant"], cards_api_key=info["cards_api_key"])
