"""Why an employee asked for is not imported, when reading it fails: said, and the rest goes on."""

from __future__ import annotations

from lucca_cards import RetryPolicy, UserImporter
from lucca_cards.sandbox import Faults
from lucca_cards.sync._base import NOT_CONSIDERED
from sync_support import clients, sandbox


def test_a_read_that_fails_keeps_the_general_reason_and_says_why() -> None:
    with sandbox() as box:
        with clients(box) as (lucca, _):
            gone = next(iter(lucca.employees.list(status=["deactivated"]))).id
        # No retry: no sleep (the failure is what is checked, not the retries).
        with clients(box, retry=RetryPolicy(max_attempts=1)) as both:
            box.set_faults("lucca", Faults.spread(1.0, ("server_error",)))
            reasons = UserImporter(*both).why_not_considered([gone, "999999"])
    for employee_id in (gone, "999999"):
        assert reasons[employee_id].startswith(f"{NOT_CONSIDERED} (reading it failed: ")
        assert "500" in reasons[employee_id]
        assert "What to do" not in reasons[employee_id]
