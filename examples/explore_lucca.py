"""Explore a Lucca tenant read-only: head count per department, employees without email.

``explore_lucca.ipynb`` goes further in a notebook: DataFrames, charts, and training
completion per department from the ledger.

Reads configuration from the environment (``LUCCA_URL``, ``LUCCA_CLIENT_ID``,
``LUCCA_CLIENT_SECRET``) or a TOML file:

    python examples/explore_lucca.py [--config lucca-cards.toml]
    python examples/explore_lucca.py --sandbox      # the bundled fake tenant, no setup

One paged sweep of employees (100 a page, departments resolved from the embedded job
positions) and one of departments: ceil(N / 100) + 1 requests plus the token.
"""

from __future__ import annotations

import argparse
from collections import Counter

from lucca_cards import Department, LuccaOAuthClient, Sandbox, Settings, department_path


def summarise(lucca: LuccaOAuthClient) -> str:
    """Return a short report of the tenant's current staff by department.

    Counted by department, not by name: two branches' "Marketing" are two lines, each
    with its path ("Agence Lyon › Marketing") and its id.
    """
    departments = {d.id: d for d in lucca.departments.list()}
    per_department: Counter[str | None] = Counter()
    without_email: list[str] = []
    for employee in lucca.employees.list(status=["active", "upcoming"]):
        per_department[employee.department_id] += 1
        if not employee.email:
            without_email.append(f"{employee.given_name} {employee.family_name}")
    lines = [f"{sum(per_department.values())} current employees"]
    lines += [f"  {count:5d}  {label(departments, ident)}"
              for ident, count in per_department.most_common()]
    lines.append(f"{len(without_email)} without a professional email (cannot be imported)")
    lines += [f"  - {name}" for name in sorted(without_email)]
    return "\n".join(lines)


def label(departments: dict[str, Department], ident: str | None) -> str:
    """Name a department so that same-named ones differ: its path and its id."""
    department = departments.get(ident or "")
    if department is None:
        return "(no department)" if ident is None else f"department {ident}"
    return f"{department_path(department, departments)} (id {department.id})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a lucca-cards TOML file")
    parser.add_argument("--sandbox", action="store_true",
                        help="explore the bundled sandbox (a generated company) instead")
    args = parser.parse_args()
    if args.sandbox:
        with Sandbox() as sandbox, LuccaOAuthClient.from_settings(sandbox.settings()) as lucca:
            print(summarise(lucca))
        return
    with LuccaOAuthClient.from_settings(Settings.load(args.config)) as lucca:
        print(summarise(lucca))


if __name__ == "__main__":
    main()
