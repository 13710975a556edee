"""The state database: what the SDK remembers between runs, in one SQLite file or PostgreSQL.

* :class:`Database`: the database itself (``lucca-cards.sqlite`` by default, or a
  SQLAlchemy URL), migrated with Alembic when it is opened;
* :class:`LinkStore`: which Cards account each Lucca employee was linked to;
* :class:`TrainingLedger`: Cards webhook events, folded into one
  :class:`LearnerTraining` per learner and training, which the statistics publisher
  writes to Lucca;
* :class:`LuccaInbox`: Lucca webhook events (:class:`InboxEvent`), kept from their
  arrival until the life-cycle processor applied them.

**Statistics start with the first webhook received.** The Cards public API offers no
history of learners' activity: whatever happened before the Cards webhook pointed at a
receiver feeding this ledger is unknown to it. Configure the webhook before the rollout,
and keep the database on persistent storage.

Stores accept an open :class:`Database` (shared between them, and left open when they
close) or a path or URL (then they open their own, and close it).
"""

from .database import DEFAULT_DATABASE, Database
from .inbox import InboxEvent, LuccaInbox
from .ledger import TrainingLedger
from .links import LinkStore
from .records import LearnerTraining

__all__ = ["DEFAULT_DATABASE", "Database", "InboxEvent", "LearnerTraining", "LinkStore",
           "LuccaInbox", "TrainingLedger"]
