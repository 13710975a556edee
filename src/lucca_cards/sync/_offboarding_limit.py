"""The safety threshold of the leaver rules: no mass offboarding without a human.

An empty or partial answer from Lucca (an expired scope, a business establishment taken
from the OAuth client) looks like everyone leaving. So a run stops before offboarding
when the accounts it would offboard, with those offboarded in the last 24 hours (a burst
of events arrives over minutes, and each run sees a few), would be more than
``max_offboarded`` accounts **or** more than ``max_offboarded_share`` of the linked ones.
A held leaver stays held, run after run, until a forced run offboards them; offboardings
a forced run made do not count towards the next ones.
"""

from __future__ import annotations

import datetime as dt

import attrs

from ..state.links import WRITING_RULES, LinkStore

#: How far back the offboardings already made count.
WINDOW = dt.timedelta(hours=24)


@attrs.frozen(kw_only=True)
class OffboardingLimit:
    """The threshold: a count and a share of the linked accounts (10 and 0.05)."""

    max_offboarded: int = 10
    max_offboarded_share: float = 0.05

    def check(self, leaving: int, links: LinkStore, now: dt.datetime,
              force: bool) -> tuple[str | None, list[str]]:
        """Return why the ``leaving`` offboardings are held (``None``: they go), and notes."""
        if not leaving:
            return None, []
        recent = links.offboarded_since(now - WINDOW)
        # The accounts still linked: a reported or held leaver's is.
        linked = sum(1 for link in links.links().values()
                     if link.offboarded not in WRITING_RULES)
        total = leaving + recent
        share_limit = self.max_offboarded_share * (linked + recent)
        if total <= self.max_offboarded and total <= share_limit:
            return None, []
        said = (f"safety stop: {_accounts(leaving)} would be offboarded"
                + (f", after {recent} in the last 24 hours" if recent else "")
                + f": more than {_accounts(self.max_offboarded)} or "
                f"{self.max_offboarded_share * 100:g} % of the {linked + recent} linked")
        if force:
            return None, [f"{said}; forced, so they were"]
        return (f"{said}; nothing was offboarded: check Lucca, then run again with --force",
                [f"{said}: the offboardings are held until a forced run"])


def _accounts(count: int) -> str:
    return f"{count} account{'' if count == 1 else 's'}"
