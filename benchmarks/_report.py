"""What ``make bench`` leaves behind: the table, ``results.json``, the chart, the docs' table."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from minimum import Rates

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
CHART = ROOT / "docs" / "_static" / "performance.png"
TABLE = ROOT / "docs" / "_generated" / "performance-results.rst"
#: The issue's targets.
TARGETS = {"calls_ratio": 1.05, "wall_over_floor": 1.10, "wall_over_baseline": 1.0,
           "memory_mb": 40.0}
_COLUMNS = (("Scenario", "name", "{}"), ("Empl.", "employees", "{:,}"),
            ("Calls", "calls", "{:,}"), ("Min.", "minimum_calls", "{:,}"),
            ("Ratio", "calls_ratio", "{:.2f}"), ("Wall s", "wall_s", "{:.1f}"),
            ("Floor s", "floor_s", "{:.1f}"), ("Wall/floor", "wall_over_floor", "{:.2f}"),
            ("Base calls", "baseline_calls", "{:,}"), ("Base s", "baseline_wall_s", "{:.1f}"),
            ("Wall/base", "wall_over_baseline", "{:.2f}"), ("Peak MiB", "peak_mb", "{:.1f}"))


def machine() -> dict[str, Any]:
    """Where the numbers come from."""
    return {"platform": platform.platform(), "python": sys.version.split()[0],
            "cpu_count": os.cpu_count()}


def cells(row: dict[str, Any]) -> list[str]:
    """A scenario's cells, formatted as the table shows them."""
    return [form.format(row[key]) for _, key, form in _COLUMNS]


def table(rows: list[dict[str, Any]]) -> str:
    """The scenarios as a text table, a ``!`` after each value past its target."""
    lines = [[title for title, _, _ in _COLUMNS]]
    for row in rows:
        line = cells(row)
        for index, (_, key, _) in enumerate(_COLUMNS):
            if key in TARGETS and row[key] > TARGETS[key]:
                line[index] += "!"
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(line, widths)))
                     for line in lines)


def memory_line(check: dict[str, Any]) -> str:
    """One memory check in a sentence (the target, where the issue sets one)."""
    target = check["target_mb"]
    verdict = "" if target is None else (
        f" ({'under' if check['peak_mb'] <= target else 'OVER'} the {target:.0f} MiB target)")
    return (f"{check['name']}: peak {check['peak_mb']:.1f} MiB traced{verdict}; "
            f"{check['calls']:,} calls, minimum {check['minimum_calls']:,}; "
            f"{check['wall_s_unthrottled']:.1f} s unthrottled; {check['summary']}")


#: The largest share of its API's interval a sandbox page may take (the factor's rule):
#: the other half is the client's, to receive the page and decode it.
PAGE_SHARE = 1 / 2
_PAGE_NAMES = {"lucca_employees_page": "Lucca employees (100)",
               "cards_users_page": "Cards users (500)",
               "legacy_users_page": "legacy users with their trainings (1 000)"}


def pages_line(sizes: dict[str, Any]) -> str:
    """How long the sandbox took to serve each probed page, and what share of an interval."""
    shares = sizes.get("sandbox_page_interval_share", {})
    parts = [f"{_PAGE_NAMES.get(name, name)} {ms:.0f} ms ({shares.get(name, 0):.0%} of an "
             f"interval{'' if shares.get(name, 0) <= PAGE_SHARE else ', OVER half'})"
             for name, ms in sizes.get("sandbox_page_ms", {}).items()]
    return "The sandbox served a page, unthrottled: " + "; ".join(parts) + "." if parts else ""


def write_outputs(rows: list[dict[str, Any]], memory: list[dict[str, Any]], rates: Rates,
                  sizes: dict[str, Any], seconds: float, *, write: bool = True,
                  cpu: dict[str, float] | None = None) -> None:
    """Print the table; unless ``write`` is false, write ``results.json``, chart, docs' table."""
    if rows:
        print("\n" + table(rows))
    for check in memory:
        print("\n" + memory_line(check))
    if cpu:
        print(f"\ncpu: 10,000 employee models from decoded pages in "
              f"{cpu['employee_models_10000_s']:.3f} s, best of 15 (target: under "
              f"{cpu['target_s']:g} s)")
    if pages_line(sizes):
        print(pages_line(sizes))
    print(f"rates: x{rates.factor:g}: Lucca {rates.lucca:g}/min ({rates.lucca_interval * 1000:.0f}"
          f" ms apart), Cards {rates.cards:g}/min ({rates.cards_interval * 1000:.0f} ms apart);"
          f" total {seconds / 60:.1f} min")
    if not write:
        print("(a partial run: results.json, the chart and the docs' table are left as they are)")
        return
    results = {"scenarios": rows, "memory": memory, "machine": machine(),
               "cpu": cpu, "rates": rates.as_json(), "sizes": sizes, "targets": TARGETS,
               "total_s": round(seconds, 1)}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_chart(rows, rates.factor, CHART)
    write_rst(results, TABLE)


def write_chart(rows: list[dict[str, Any]], factor: float, path: Path) -> None:
    """Bars of wall, floor and baseline per scenario, in seconds (log scale)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(10, 4.8), dpi=110)
    width, positions = 0.27, range(len(rows))
    for offset, (key, label, colour) in enumerate((
            ("wall_s", "SDK wall", "#2b6cb0"), ("floor_s", "floor (minimum calls at the rates)",
                                                "#a0aec0"),
            ("baseline_wall_s", "plain requests script", "#dd6b20"))):
        axes.bar([p + (offset - 1) * width for p in positions], [row[key] for row in rows],
                 width, label=label, color=colour)
    axes.set_yscale("log")
    axes.set_ylabel(f"seconds (rates x{factor:g})")
    axes.set_xticks(list(positions), [row["name"] for row in rows], rotation=20, ha="right",
                    fontsize=8)
    axes.legend(fontsize=8)
    axes.set_title("Wall time per scenario, against the floor and the baseline")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)


def write_rst(results: dict[str, Any], path: Path) -> None:
    """A list-table of the scenarios, for ``docs/performance.rst`` to include."""
    titles = [title for title, _, _ in _COLUMNS]
    lines = [":orphan:", "", ".. list-table::", "   :header-rows: 1", "   :class: performance",
             ""]
    for line in [titles, *(cells(row) for row in results["scenarios"])]:
        lines += [f"   * - {line[0]}", *(f"     - {cell}" for cell in line[1:])]
    rates, host = results["rates"], results["machine"]
    lines += ["", f".. list-table:: Peak memory of a users import of "
              f"{results['sizes']['memory_check']:,} employees: unthrottled, traced "
              "(tracemalloc), in a process of its own", "   :header-rows: 1", "",
              "   * - Run", "     - Peak MiB", "     - Target", "     - Calls (minimum)",
              "     - The import's report"]
    for check in results["memory"]:
        target = "—" if check["target_mb"] is None else f"under {check['target_mb']:.0f} MiB"
        lines += [f"   * - {check['caption']}", f"     - **{check['peak_mb']:.1f}**",
                  f"     - {target}",
                  f"     - {check['calls']:,} ({check['minimum_calls']:,})",
                  f"     - {check['summary']}"]
    lines += ["", f"Rates x{rates['factor']:g}: Lucca {rates['lucca_per_minute']:g} a minute "
              f"({rates['lucca_interval_s'] * 1000:.0f} ms apart), Cards "
              f"{rates['cards_per_minute']:g} a minute ({rates['cards_interval_s'] * 1000:.0f}"
              f" ms apart). Measured on {host['platform']}, Python {host['python']}, "
              f"{host['cpu_count']} CPUs; the whole run took {results['total_s'] / 60:.1f} "
              "minutes.", "", pages_line(results["sizes"]), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
