"""lucca_cards: a typed SDK connecting the Lucca HR platform with Cards microlearning.

Only the names listed in ``__all__`` are public; everything else may change.

>>> from lucca_cards import Settings
>>> Settings(cards_tenant="acme").cards_url
'https://api.cards-microlearning.com/v1'
"""

from typing import TYPE_CHECKING, Any

from ._ratelimit import RateLimiter
from ._retry import RetryPolicy
from ._secret import Secret
from ._values import DepartmentScope, LeaverAction
from ._version import __version__
from ._wire import Timeout
from .cards.client import CardsClient
from .cards.models import (
    Badge,
    CardsUser,
    Certificate,
    ConnectionMode,
    Embed,
    Group,
    GroupRef,
    Training,
)
from .cards.webhooks import (
    ChapterCompleteEvent,
    QuizCompleteEvent,
    TrainingActivityEvent,
    WebhookEvent,
)
from .config import Settings
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    LuccaCardsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from .lucca.client import LuccaOAuthClient
from .lucca.endpoints import WebhookEndpoint
from .lucca.legacy import LuccaLegacyApiClient
from .lucca.legacy_models import LegacyUser, TrainingRecordsWrite
from .lucca.models import Department, Employee, EmployeeStatus, JobPosition, Reference
from .lucca.training_records import StatsFieldCodes, StoredTrainingRecord, TrainingRecord
from .lucca.webhooks import LuccaEvent
from .state import Database, LearnerTraining, LuccaInbox, TrainingLedger
from .sync import (
    DepartmentImporter,
    DepartmentRow,
    EventProcessor,
    LifecycleSync,
    LinkStore,
    NightlyReport,
    StatsFormat,
    StatsPublisher,
    SyncItem,
    SyncOutcome,
    SyncReport,
    UserImporter,
    UserRow,
    UserState,
    department_path,
    nightly_sync,
)

if TYPE_CHECKING:
    from .receiver import CardsWebhookHandler, LuccaWebhookHandler
    from .sandbox import ActivityReport, Faults, Sandbox, SandboxCredentials

# The sandbox and the receiver need werkzeug; they load on first use, not on
# `import lucca_cards`. The receiver's WSGI app is `lucca_cards.receiver.make_app`.
_SANDBOX_NAMES = frozenset({"ActivityReport", "Faults", "Sandbox", "SandboxCredentials"})
_RECEIVER_NAMES = frozenset({"CardsWebhookHandler", "LuccaWebhookHandler"})


def __getattr__(name: str) -> Any:
    if name in _SANDBOX_NAMES:
        from . import sandbox

        return getattr(sandbox, name)
    if name in _RECEIVER_NAMES:
        from . import receiver

        return getattr(receiver, name)
    raise AttributeError(f"module 'lucca_cards' has no attribute {name!r}")

__all__ = [
    "ActivityReport",
    "ApiError",
    "AuthenticationError",
    "Badge",
    "CardsClient",
    "CardsUser",
    "CardsWebhookHandler",
    "Certificate",
    "ChapterCompleteEvent",
    "ConfigurationError",
    "ConnectionMode",
    "Database",
    "Department",
    "DepartmentImporter",
    "DepartmentRow",
    "DepartmentScope",
    "Embed",
    "Employee",
    "EmployeeStatus",
    "EventProcessor",
    "Faults",
    "Group",
    "GroupRef",
    "JobPosition",
    "LearnerTraining",
    "LeaverAction",
    "LegacyUser",
    "LifecycleSync",
    "LinkStore",
    "LuccaCardsError",
    "LuccaEvent",
    "LuccaInbox",
    "LuccaLegacyApiClient",
    "LuccaOAuthClient",
    "LuccaWebhookHandler",
    "NightlyReport",
    "NotFoundError",
    "PermissionDeniedError",
    "QuizCompleteEvent",
    "RateLimitError",
    "RateLimiter",
    "Reference",
    "RetryPolicy",
    "Sandbox",
    "SandboxCredentials",
    "Secret",
    "ServerError",
    "Settings",
    "StatsFieldCodes",
    "StatsFormat",
    "StatsPublisher",
    "StoredTrainingRecord",
    "SyncItem",
    "SyncOutcome",
    "SyncReport",
    "Timeout",
    "Training",
    "TrainingActivityEvent",
    "TrainingLedger",
    "TrainingRecord",
    "TrainingRecordsWrite",
    "TransportError",
    "UnexpectedResponseError",
    "UserImporter",
    "UserRow",
    "UserState",
    "ValidationError",
    "WebhookEndpoint",
    "WebhookEvent",
    "__version__",
    "department_path",
    "nightly_sync",
]
