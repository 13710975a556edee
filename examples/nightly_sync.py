"""The nightly job from Python: life cycle, departments, users, statistics, in one report.

What ``lucca-cards sync`` runs, written with the SDK, for a scheduler that starts Python
rather than the command line. Configuration comes from the environment (``LUCCA_*``,
``CARDS_*``, ``LUCCA_CARDS_DATABASE``) or a TOML file; statistics are published only with
``[stats] enabled = true`` (``LUCCA_STATS_ENABLED=1``):

    python examples/nightly_sync.py [--config lucca-cards.toml] [--state PATH|URL]
                                    [--only departments,users,stats] [--dry-run] [--json]
    python examples/nightly_sync.py --sandbox [--json]   # the bundled fake tenant

``--sandbox`` starts the sandbox (rate limits off), serves the webhook receiver on a free
loopback port, points the fake Cards' webhooks at it, lets some learners progress (their
signed events land in the training ledger) and runs the job with statistics on, against a
state database in a temporary folder.

Exit status, as ``lucca-cards sync``: 0 when nothing failed, 1 when some item or some part
failed (the other parts still ran), 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from lucca_cards import (
    ConfigurationError,
    NightlyReport,
    Sandbox,
    Settings,
    SyncOutcome,
    TrainingLedger,
    nightly_sync,
)
from lucca_cards._serving import ServedApp  # serves a WSGI app on a loopback port
from lucca_cards.receiver import make_app
from lucca_cards.sync.nightly import PARTS

#: The learners who progress in the sandbox before the job runs.
SANDBOX_LEARNERS = 40


def run(settings: Settings, *, only: Sequence[str] = PARTS, dry_run: bool = False,
        database: str | None = None) -> NightlyReport:
    """Run the nightly job; ``database`` overrides the ``state_database`` setting."""
    return nightly_sync(settings, only=only, dry_run=dry_run, database=database)


def render(report: NightlyReport, *, as_json: bool = False) -> str:
    """Return the report as JSON, or as text: the summary, then per part what needs a look.

    The text lists each part's summary, its failed and skipped items, its notes, and why
    it stopped if it did; ``--json`` lists every item.
    """
    if as_json:  # ASCII only: a name from Lucca cannot act on the terminal
        return json.dumps(report.to_dict(), indent=2)
    lines = [str(report)]
    for part in report.reports:
        lines += ["", str(part)]
        lines += [f"  {line}" for line in part.lines([SyncOutcome.FAILED, SyncOutcome.SKIPPED])]
        lines += [f"  note: {shown(note)}" for note in part.notes]
        if part.stopped is not None:
            lines.append(f"  stopped: {shown(part.stopped)}")
    lines += ["", "ok: nothing failed" if report.ok else
              "FAILED: run the same job again to retry (it writes only what still differs)"]
    return "\n".join(lines)


def shown(text: str) -> str:
    """Escape what would act on a terminal (control and bidirectional characters).

    Notes and errors may quote names from Lucca or text from a server.
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def parts(text: str) -> list[str]:
    """Parse ``--only``: comma-separated parts among ``departments``, ``users``, ``stats``."""
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    if not chosen or set(chosen) - set(PARTS):
        raise argparse.ArgumentTypeError(f"{text!r}: name some of {', '.join(PARTS)}")
    return chosen


@contextlib.contextmanager
def sandbox_night(folder: Path, learners: int = SANDBOX_LEARNERS) -> Iterator[Settings]:
    """Start a sandbox whose learners progressed; yield settings for the nightly job.

    The fake Cards posts its signed webhooks to the receiver (:func:`make_app`), which
    records them in the training ledger of ``folder/lucca-cards.sqlite``: the database the
    job then reads, as a receiver and a nightly job share one on a host.
    """
    database = str(folder / "lucca-cards.sqlite")
    with Sandbox(lucca_rate_limit=0, cards_rate_limit=0) as box:
        secret = box.credentials.webhook_secret
        with TrainingLedger(database) as ledger, \
                ServedApp(make_app(ledger, secret=secret)) as receiver:
            box.cards.webhook_url = f"{receiver.url}/cards"
            activity = box.simulate_activity(learners=learners, seed=2)
            box.cards.webhook_url = None
        print(f"sandbox: {activity.delivered} webhook events received into the ledger "
              f"({activity.failed} undelivered)", file=sys.stderr)
        yield box.settings(stats_enabled=True, state_database=database)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a lucca-cards TOML file")
    parser.add_argument("--state", metavar="PATH|URL",
                        help="the state database (default: the state_database setting)")
    parser.add_argument("--only", type=parts, default=list(PARTS), metavar="PARTS",
                        help=f"comma-separated parts among {','.join(PARTS)} (all)")
    parser.add_argument("--dry-run", action="store_true", help="plan every part, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--sandbox", action="store_true",
                        help="run against the bundled sandbox, with some learner activity")
    args = parser.parse_args(argv)
    try:
        with contextlib.ExitStack() as stack:
            if args.sandbox:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                settings = stack.enter_context(sandbox_night(folder))
            else:
                settings = Settings.load(args.config)
            report = run(settings, only=args.only, dry_run=args.dry_run, database=args.state)
    except ConfigurationError as error:  # a missing or invalid setting: nothing ran
        print(f"configuration error: {shown(str(error))}", file=sys.stderr)
        return 2
    print(render(report, as_json=args.json))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
