"""``examples/explore_lucca.ipynb`` runs, as Jupyter runs it, and shows what it says it shows.

The committed notebook is executed cell by cell in a real kernel (nbclient, ipykernel)
against the sandbox, in ``examples/`` as a user opens it. Its outputs are then compared
with the committed ones, so the page on GitHub is what the code prints today
(``jupyter execute --inplace examples/explore_lucca.ipynb`` refreshes it), and its head
count is checked against the sandbox's own company: by department, not by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from lucca_cards import Sandbox
from sync_support import considered, department_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "explore_lucca.ipynb"
#: The day the notebook's sandbox company is generated for.
TODAY = dt.date(2026, 3, 2)
#: Appended to the executed notebook: what the checks below read back from the kernel.
PROBE = """print(json.dumps({
    "head_count": head_count["employees"].to_dict(),
    "paths": departments["path"].to_dict(),
    "ledger": [[row["email"], row["progress"]] for row in ledger.export()],
    "completed": completion["completed"].to_dict(),
}))"""


def text_outputs(notebook: Any) -> list[list[str]]:
    """Return, per code cell, its outputs as text (a chart as its kind, not its pixels)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        shown = []
        for output in cell.outputs:
            if output.output_type == "stream":
                shown.append(f"{output.name}: {output.text}")
            elif output.output_type == "error":
                shown.append(f"error: {output.ename}: {output.evalue}")
            else:
                kinds = sorted(output.data)
                shown.append(output.data.get("text/plain", "") + f" {kinds}")
        found.append(shown)
    return found


@pytest.fixture(scope="module")
def executed() -> tuple[Any, dict[str, Any]]:
    """Return the executed notebook, and what the probe cell read from its kernel."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.insert(-1, nbformat.v4.new_code_cell("import json\n" + PROBE))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    probe = notebook.cells.pop(-2)
    return notebook, json.loads(probe.outputs[0].text)


def test_the_committed_outputs_are_what_the_notebook_prints(
        executed: tuple[Any, dict[str, Any]]) -> None:
    notebook, _ = executed
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert text_outputs(notebook) == text_outputs(committed)
    charts = [cell for cell in committed.cells if cell.cell_type == "code"
              and any("image/png" in output.get("data", {}) for output in cell.outputs)]
    assert len(charts) == 2  # the head count and the progress per department
    assert all(not any(o.output_type == "error" for o in cell.outputs)
               for cell in committed.cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def company() -> Sandbox:
    """The notebook's company, generated again (a sandbox never started)."""
    return Sandbox(today=TODAY)


def test_the_head_count_is_per_department_as_the_company_has_it(
        executed: tuple[Any, dict[str, Any]], company: Sandbox) -> None:
    _, seen = executed
    lucca = company.company.lucca
    current = Counter(str(department_of(company, ident)) for ident in considered(company))
    assert seen["head_count"] == dict(current)
    names = Counter(department.name for department in lucca.departments.values())
    shared = [str(d.id) for d in lucca.departments.values() if names[d.name] > 1]
    assert shared, "the company has same-named departments"
    # same-named departments are counted apart, each named by its own path
    assert len({seen["paths"][ident] for ident in shared}) == len(shared)
    assert all(seen["paths"][ident].endswith(lucca.departments[int(ident)].name)
               for ident in shared)


def test_completion_per_department_is_the_ledger_s_by_the_company_s_emails(
        executed: tuple[Any, dict[str, Any]], company: Sandbox) -> None:
    _, seen = executed
    employees = company.company.lucca.employees
    emails = {ident: employees[int(ident)].email for ident in considered(company)}
    keys = Counter(email.strip().lower() for email in emails.values() if email)
    department_by_email = {  # an email two employees share belongs to neither
        email.strip().lower(): str(department_of(company, ident))
        for ident, email in emails.items() if email and keys[email.strip().lower()] == 1}
    completed: Counter[str] = Counter()
    for email, progress in seen["ledger"]:
        if email in department_by_email:
            completed[department_by_email[email]] += progress >= 1
    assert len(seen["ledger"]) > 100  # three days of 60 learners, through the receiver
    assert sum(completed.values()) > 0
    assert seen["completed"] == {department: completed[department]
                                 for department in seen["completed"]}
    assert {d for d, n in completed.items() if n} <= set(seen["completed"])
