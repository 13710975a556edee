"""``make bench``: the SDK against a plain ``requests`` script, at the rate-limit floor.

Every scenario runs twice on identical sandboxes of the same run: the SDK's job, and the
same job by ``baseline.py``. Both sandboxes and both clients use the real rates (Lucca
40 a minute, the SDK's share of the tenant's 50; Cards 60) scaled by one factor, so a run
of minutes stands for one of hours; so is the memberships' bound (``memberships_max_age``,
5 minutes). For each scenario: the calls per API and method (the sandbox's log), the
minimum (``minimum.py``, from the sandbox's state before and after), the wall time, the
floor (the minimum at the rates), the baseline's calls and wall time, and the SDK's peak
memory (``tracemalloc``, in a separate unthrottled run of the same job on the same starting
state: never while timing). Then two 50 000-employee users imports, traced: a first
import as a dry run (the target), and one where every account exists (links only).

A full run writes ``benchmarks/results.json``, ``docs/_static/performance.png`` and
``docs/_generated/performance-results.rst``; ``--only`` (a partial run) and ``--max-age``
print only. Preparation steps (generating companies, putting accounts in groups, HR
changes, learner activity, the imports a rerun follows) are not measured;
``docs/performance.rst`` lists them.

Run: ``.venv/bin/python benchmarks/bench.py [--factor 25] [--first 600] [--rerun 10000]
[--memory 50000] [--only NAME[,NAME]] [--max-age SECONDS]`` (``make bench``: all).
"""

from __future__ import annotations

import argparse
import copy
import gc
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import requests
from _jobs import Spec, run_in_child
from _report import ROOT, write_outputs
from _scenarios import (
    company,
    connection,
    hr_changes,
    into_department_groups,
    pair,
    progress,
    record_activity,
    serve,
    unthrottled,
)
from bench_models import employee_models_seconds
from minimum import Rates, calls_by_api, floor_seconds, minimum_calls, snapshot, total

from lucca_cards import Sandbox

CHANGED, PROGRESSED = 0.01, 0.05
#: The rates' scale: the slowest page the sandbox serves (the legacy API's 1 000 users
#: with their trainings, 20 to 25 ms) takes less than half the Lucca interval (60 ms).
FACTOR = 25.0
#: The scenarios that follow one another on the rerun pair of sandboxes, in order.
RERUN_ROWS = ("users, rerun", "departments, rerun", "users, after 1 % changed",
              "departments, after 1 % changed", "life cycle, after 1 % changed")
#: The other scenarios, and the memory checks (``{size}``: their employees).
FIRST_ROWS = ("users, first import", "departments, first import")
STATS_ROWS = ("statistics, first publish", "statistics, rerun", "statistics, 5 % progressed")
MEMORY_ROWS = ("memory: users first import, {size:,} employees (dry run)",
               "memory: users import, {size:,} employees, every account exists (links only)")
#: ``--only`` groups: a name's prefix (``memory``: the memory checks).
GROUPS = {"users": "users,", "departments": "departments,", "lifecycle": "life cycle,",
          "stats": "statistics,", "memory": "memory:"}


def selection(only: str | None) -> list[str] | None:
    """``--only``'s names, lower-cased (``None``: everything).

    Names are separated by a comma without a space: one followed by a space belongs to
    a scenario's name (``--only "departments, first,memory"``: two).
    """
    if only is None:
        return None
    return [part.strip().lower() for part in re.split(r",(?!\s)", only) if part.strip()]


class Bench:
    """Runs the scenarios at ``rates``; collects one row per scenario.

    ``only`` (``--only``) names the scenarios measured: a group of :data:`GROUPS` or a
    part of a scenario's name. A scenario left out that changes the state the next ones
    start from still runs, unthrottled and unmeasured, on both sandboxes. ``max_age`` (real
    seconds, scaled like the rates) overrides the memberships' default bound on both sides.
    """

    def __init__(self, rates: Rates, folder: Path, only: list[str] | None = None,
                 max_age: float | None = None) -> None:
        self.rates, self.folder, self.only, self.max_age = rates, folder, only, max_age
        self.rows: list[dict[str, Any]] = []

    def selected(self, *names: str) -> bool:
        """Whether any of ``names`` is measured."""
        if self.only is None:
            return True
        return any(name.startswith(GROUPS[part]) if part in GROUPS else part in name.lower()
                   for name in names for part in self.only)

    def spec(self, box: Sandbox, kind: str, side: str, *, throttled: bool = True,
             **files: Path | None) -> Spec:
        """What a child process is told: the job, where, at which rates, with which files."""
        rates = (self.rates.lucca, self.rates.cards) if throttled else (0.0, 0.0)
        spec: Spec = {"kind": kind, "side": side, "info": connection(box),
                      "factor": self.rates.factor, "lucca_rate": rates[0],
                      "cards_rate": rates[1], "traced": not throttled,
                      **{name: str(path) for name, path in files.items() if path is not None}}
        if self.max_age is not None:
            spec["memberships_max_age"] = self.max_age / self.rates.factor
        return spec

    def prepare(self, box: Sandbox, kind: str, side: str, **files: Path | None) -> str:
        """Run a job unthrottled as a preparation step (not measured); return its summary."""
        with unthrottled(box):
            spec = {**self.spec(box, kind, side, throttled=False, **files), "traced": False}
            return str(run_in_child(spec)["summary"])

    def scenario(self, name: str, kind: str, boxes: tuple[Sandbox, Sandbox], employees: int,
                 *, writes: bool, links: Path | None = None, state: Path | None = None,
                 ledger: Path | None = None) -> None:
        """Measure one scenario: the SDK, the baseline, then the SDK's peak memory."""
        sdk_box, base_box = boxes
        if not self.selected(name):
            if writes:  # the next scenarios start from the state it leaves
                sdk_said = self.prepare(sdk_box, kind, "sdk", links=links, ledger=ledger)
                base_said = self.prepare(base_box, kind, "baseline", state=state,
                                         ledger=ledger)
                print(f"-- {name}: not measured, run ({sdk_said}; {base_said})", flush=True)
            return
        # The traced run needs the state the measured one starts from: kept aside.
        start = copy.deepcopy(sdk_box.company) if writes else None
        traced_links = self._copy(links) if links else None
        print(f"-- {name}: SDK …", flush=True)
        sdk = run_side(sdk_box, self.spec(sdk_box, kind, "sdk", links=links, ledger=ledger))
        print(f"   {sdk['summary']}\n-- {name}: baseline …", flush=True)
        base = run_side(base_box, self.spec(base_box, kind, "baseline", state=state,
                                            ledger=ledger))
        print(f"   {base['summary']}\n-- {name}: peak memory (unthrottled, traced) …",
              flush=True)
        traced_box = serve(start, None) if start is not None else sdk_box
        try:
            with unthrottled(traced_box):
                traced = run_in_child(self.spec(traced_box, kind, "sdk", throttled=False,
                                                links=traced_links, ledger=ledger))
        finally:
            if start is not None:
                traced_box.close()
        self.rows.append(self.row(name, employees, sdk, base, traced["peak_mb"]))

    def row(self, name: str, employees: int, sdk: dict[str, Any], base: dict[str, Any],
            peak_mb: float) -> dict[str, Any]:
        """One scenario as ``results.json`` holds it."""
        calls, minimum = total(sdk["calls"]), total(sdk["minimum"])
        floor = floor_seconds(sdk["minimum"], self.rates)
        if sdk["minimum"] != base["minimum"]:
            print(f"   ! the two sandboxes' minimums differ: SDK {sdk['minimum']}, "
                  f"baseline {base['minimum']}")
        return {"name": name, "employees": employees, "calls": calls,
                "minimum_calls": minimum, "calls_ratio": calls / minimum,
                "wall_s": sdk["wall_s"], "floor_s": floor, "wall_over_floor": sdk["wall_s"] / floor,
                "baseline_calls": total(base["calls"]), "baseline_wall_s": base["wall_s"],
                "wall_over_baseline": sdk["wall_s"] / base["wall_s"], "peak_mb": peak_mb,
                "calls_by_api": sdk["calls"], "minimum_by_api": sdk["minimum"],
                "baseline_calls_by_api": base["calls"],
                "baseline_minimum_calls": total(base["minimum"]),
                "rejected_429": sdk["rejected"], "baseline_rejected_429": base["rejected"],
                "summary": sdk["summary"], "baseline_summary": base["summary"]}

    def _copy(self, path: Path) -> Path:
        target = path.with_name(f"traced-{path.name}")
        if path.exists():
            shutil.copyfile(path, target)
        else:
            target.unlink(missing_ok=True)
        return target


def run_side(box: Sandbox, spec: Spec) -> dict[str, Any]:
    """Run one job against ``box``; add its logged calls, the minimum, and its 429s."""
    before = snapshot(box.company)
    box.lucca.log.clear()
    box.cards.log.clear()
    # The sandboxes hold companies of 10 000 employees and more: a full collection in
    # this process, which serves them, stalls an answer by 0.1 s. Frozen, what is alive
    # now is no longer traversed, so the job measures the client, not the sandbox's GC.
    gc.collect()
    gc.freeze()
    result = run_in_child(spec)
    entries = {"lucca": box.lucca.log.entries(), "cards": box.cards.log.entries()}
    result["calls"] = calls_by_api(entries)
    result["minimum"] = minimum_calls(spec["kind"], before, snapshot(box.company))
    result["rejected"] = sum(1 for log in entries.values() for e in log if e["status"] == 429)
    return result


def closing(boxes: tuple[Sandbox, ...]) -> None:
    """Stop the sandboxes."""
    for box in boxes:
        box.close()


def first_imports(bench: Bench, size: int) -> None:
    """Users and departments into a smaller company (each on a pair of its own)."""
    if bench.selected(FIRST_ROWS[0]):
        boxes = pair(company(size, existing=0.1), bench.rates)
        try:
            bench.scenario(FIRST_ROWS[0], "users", boxes, size, writes=True)
        finally:
            closing(boxes)
    if bench.selected(FIRST_ROWS[1]):
        boxes = pair(company(size, existing=1.0), bench.rates)  # so that joins are measured
        try:
            bench.scenario(FIRST_ROWS[1], "departments", boxes, size,
                           writes=True, state=bench.folder / "first-baseline-links.json")
        finally:
            closing(boxes)


def reruns(bench: Bench, size: int) -> dict[str, Any]:
    """:data:`RERUN_ROWS`, in order, on one pair of sandboxes of a large company."""
    if not bench.selected(*RERUN_ROWS):
        return {}
    data = company(size, existing=1.0)
    into_department_groups(data)  # the state a departments import leaves
    boxes = pair(data, bench.rates)
    files = {"links": bench.folder / "links.sqlite",
             "state": bench.folder / "baseline-links.json"}
    try:
        prepared(bench, boxes, "users", files)
        bench.scenario("users, rerun", "users", boxes, size, writes=False, **files)
        prepared(bench, boxes, "departments", files)
        bench.scenario("departments, rerun", "departments", boxes, size, writes=False,
                       **files)
        changes = hr_changes(boxes, CHANGED)
        for name, kind in zip(RERUN_ROWS[2:], ("users", "departments", "lifecycle")):
            bench.scenario(name, kind, boxes, size, writes=True, **files)
        return {**changes, "sandbox_page_ms": probe(boxes[0], "lucca_employees_page",
                                                    "cards_users_page")}
    finally:
        closing(boxes)


def prepared(bench: Bench, boxes: tuple[Sandbox, Sandbox], kind: str,
             files: dict[str, Path]) -> None:
    """Run a job of ``kind`` on both sandboxes, unmeasured (what a rerun follows)."""
    print(f"   (prepared: {bench.prepare(boxes[0], kind, 'sdk', links=files['links'])}; "
          f"{bench.prepare(boxes[1], kind, 'baseline', state=files['state'])})", flush=True)


def statistics_publish(bench: Bench, first: int, size: int) -> dict[str, Any]:
    """Statistics: first publish (smaller company), rerun and 5 % progressed (larger)."""
    if bench.selected(STATS_ROWS[0]):
        boxes = pair(company(first, existing=1.0), bench.rates)
        ledger = bench.folder / "ledger-first.sqlite"
        try:
            record_activity(boxes[0], ledger)
            bench.scenario(STATS_ROWS[0], "stats", boxes, first, writes=True,
                           ledger=ledger)
        finally:
            closing(boxes)
    if not bench.selected(STATS_ROWS[1], STATS_ROWS[2]):
        return {}
    boxes = pair(company(size, existing=1.0), bench.rates)
    ledger = bench.folder / "ledger.sqlite"
    try:
        record_activity(boxes[0], ledger)
        print(f"   (prepared: {bench.prepare(boxes[0], 'stats', 'sdk', ledger=ledger)}; "
              f"{bench.prepare(boxes[1], 'stats', 'baseline', ledger=ledger)})")
        pages = probe(boxes[0], "legacy_users_page")  # the files hold their trainings now
        bench.scenario(STATS_ROWS[1], "stats", boxes, size, writes=False, ledger=ledger)
        progressed = progress(ledger, PROGRESSED)
        bench.scenario(STATS_ROWS[2], "stats", boxes, size, writes=True,
                       ledger=ledger)
        return {"learners_progressed": progressed, "sandbox_page_ms": pages}
    finally:
        closing(boxes)


def memory_checks(bench: Bench, size: int) -> list[dict[str, Any]]:
    """Users imports of ``size`` employees, unthrottled and traced (the issue's target).

    The headline: a first import on the generated company's own mix (about 10 % of the
    employees with an account), as a dry run (the plan and report of a real run, without
    the POSTs). Then every account existing: a real run, which links only.
    """
    checks = (
        (MEMORY_ROWS[0].format(size=size), None, True, 40.0,
         "First users import on the generated company's own mix (about 10 % of the "
         "employees already have a Cards account), run as a dry run "
         "(``UserImporter.run(dry_run=True)``: the same plan and report as a real run, "
         "without the POSTs)"),
        (MEMORY_ROWS[1].format(size=size), 1.0, False, None,
         "Users import where every account already exists: a real run, which links only "
         "(no target claimed)"))
    rows = []
    for name, existing, dry_run, target, caption in checks:
        if not bench.selected(name):
            continue
        box = serve(company(size, existing=existing), None)
        try:
            print(f"-- {name}: peak memory …", flush=True)
            side = run_side(box, {**bench.spec(box, "users", "sdk", throttled=False),
                                  "dry_run": dry_run})
        finally:
            box.close()
        rows.append({"name": name, "caption": caption, "employees": size, "dry_run": dry_run,
                     "peak_mb": side["peak_mb"], "target_mb": target,
                     "calls": total(side["calls"]), "minimum_calls": total(side["minimum"]),
                     "wall_s_unthrottled": side["wall_s"], "summary": side["summary"]})
        print(f"   {side['summary']}; peak {side['peak_mb']:.1f} MiB", flush=True)
    return rows


def models_cpu() -> dict[str, float]:
    """Seconds to build 10 000 employee models from decoded pages, in a fresh process."""
    print("-- cpu: 10,000 employee models from decoded pages …", flush=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        seconds = pool.submit(employee_models_seconds, 10_000).result()
    return {"employee_models_10000_s": round(seconds, 3), "target_s": 0.15}


#: The pages :func:`probe` times: the API, and the path and query of page ``n``.
PROBED: dict[str, tuple[str, str, Any]] = {
    "lucca_employees_page": ("lucca", "/lucca-api/employees",
                             lambda n: {"limit": 100, "include": "embedded,links", "page": n}),
    "cards_users_page": ("cards", "/users", lambda n: {"paginate": 500, "page": n}),
    # The statistics sweep's page: 1 000 users with their training field (the biggest).
    "legacy_users_page": ("legacy", "/api/v3/users",
                          lambda n: {"fields": "id,name,mail,extendedData",
                                     "orderBy": "id,asc", "paging": f"{(n - 1) * 1000},1000"}),
}


def probe(box: Sandbox, *names: str) -> dict[str, float]:
    """Median milliseconds the sandbox takes to answer each page of ``names`` (ten of each).

    Unthrottled, on a kept-alive session; the body is read, not decoded.
    """
    info, session = connection(box), requests.Session()
    token = session.post(info["token_url"], timeout=10, data={
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"]}).json()["access_token"]
    apis = {"lucca": (info["lucca_url"], {"Authorization": f"Bearer {token}",
                                          "Api-Version": "2024-11-01"}),
            "legacy": (info["lucca_url"], {"Authorization":
                                           f"lucca application={info['api_key']}"}),
            "cards": (info["cards_url"], {"Authorization": f"Bearer {info['cards_api_key']}",
                                          "X-Tenant": info["cards_tenant"]})}
    times: dict[str, list[float]] = {name: [] for name in names}
    with unthrottled(box):
        for number in range(1, 11):
            for name in names:
                api, path, query = PROBED[name]
                root, headers = apis[api]
                started = time.perf_counter()
                session.get(f"{root.rstrip('/')}{path}", headers=headers, params=query(number),
                            timeout=10).raise_for_status()
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def interval_shares(pages_ms: dict[str, float], rates: Rates) -> dict[str, float]:
    """Each probed page's time as a share of its API's interval (the factor's rule: ≤ 1/2)."""
    interval = {"lucca": rates.lucca_interval, "legacy": rates.lucca_interval,
                "cards": rates.cards_interval}
    return {name: ms / 1000 / interval[PROBED[name][0]] for name, ms in pages_ms.items()}


def main(argv: list[str]) -> int:
    """Run the scenarios; a full run writes the results, a partial one (``--only``) prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=FACTOR)
    parser.add_argument("--first", type=int, default=600, help="first imports' employees")
    parser.add_argument("--rerun", type=int, default=10000, help="reruns' employees")
    parser.add_argument("--memory", type=int, default=50000, help="memory checks' employees")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="measure only these scenarios "
                        f"(part of a name, or a group: {', '.join(GROUPS)}); prints only")
    parser.add_argument("--max-age", type=float, metavar="SECONDS",
                        help="memberships_max_age in real seconds (default 300), both sides")
    args = parser.parse_args(argv)
    names = [*FIRST_ROWS, *RERUN_ROWS, *STATS_ROWS,
             *(name.format(size=args.memory) for name in MEMORY_ROWS)]
    for part in selection(args.only) or []:
        if not Bench(Rates(1), Path(), [part]).selected(*names):
            parser.error(f"--only {part!r} names no scenario: {'; '.join(names)}")
    started = time.perf_counter()
    rates = Rates(args.factor)
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(rates, Path(folder), selection(args.only), args.max_age)
        first_imports(bench, args.first)
        extra = reruns(bench, args.rerun)
        stats = statistics_publish(bench, args.first, args.rerun)
        pages = {**extra.pop("sandbox_page_ms", {}), **stats.pop("sandbox_page_ms", {})}
        extra.update(stats, sandbox_page_ms=pages,
                     sandbox_page_interval_share=interval_shares(pages, rates))
        memory = memory_checks(bench, args.memory)
        cpu = models_cpu() if bench.only is None or "memory" in bench.only else None
    sizes = {"first_imports": args.first, "reruns": args.rerun, "memory_check": args.memory,
             "changed_share": CHANGED, "progressed_share": PROGRESSED, **extra}
    partial = args.only is not None or args.max_age is not None
    write_outputs(bench.rows, memory, rates, sizes, time.perf_counter() - started,
                  write=not partial, cpu=cpu)
    if not partial:
        print(f"\nwrote {ROOT / 'benchmarks/results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
