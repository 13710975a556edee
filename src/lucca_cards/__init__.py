"""lucca_cards: a typed SDK connecting the Lucca HR platform with Cards microlearning.

Only the names listed in ``__all__`` are public; everything else may change.

>>> from lucca_cards import Settings
>>> Settings(cards_tenant="acme").cards_url
'https://api.cards-microlearning.com/v1'
"""

from ._http import Timeout
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy
from ._secret import Secret
from ._version import __version__
from .cards.models import ConnectionMode
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
    ValidationError,
)
from .lucca.training_records import StatsFieldCodes, StoredTrainingRecord, TrainingRecord

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionMode",
    "LuccaCardsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "Settings",
    "StatsFieldCodes",
    "StoredTrainingRecord",
    "Timeout",
    "TrainingRecord",
    "TransportError",
    "ValidationError",
    "__version__",
]
