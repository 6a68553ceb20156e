"""AutoIntegrate repair-order API: client, the contract's rules and webhook signing.

Pure Python (``requests`` only): the Odoo addon and the fleet simulator both
build on it, and it never imports Odoo.

- :mod:`.contract`: the contract's vocabulary and limits (statuses, kinds, sizes)
- :mod:`.formatting`: amounts, quantities, identifiers, canonical JSON and digests
- :mod:`.bodies`: checks of the bodies a shop sends (used by both sides)
- :mod:`.answers`: checks of what the fleet answers (RO states, notes)
- :mod:`.events`: webhook events, once :mod:`.signing` has verified them
- :mod:`.client`: the HTTP client, :mod:`.errors` its typed errors
"""

from .client import Client, DocumentContent, Token
from .errors import (
    AuthError,
    AutoIntegrateError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DuplicateROError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InvalidStateError,
    NoAnswerError,
    NotFoundError,
    PayloadTooLargeError,
    ProtocolError,
    RateLimitedError,
    RevisionConflictError,
    ServerError,
    SignatureError,
    TLSError,
    TransientError,
    TransportError,
    UnknownFleetError,
    UnreachableError,
    ValidationError,
)

__all__ = [
    "AuthError",
    "AutoIntegrateError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "DocumentContent",
    "DuplicateROError",
    "ForbiddenError",
    "IdempotencyKeyReusedError",
    "InvalidStateError",
    "NoAnswerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ProtocolError",
    "RateLimitedError",
    "RevisionConflictError",
    "ServerError",
    "SignatureError",
    "TLSError",
    "Token",
    "TransientError",
    "TransportError",
    "UnknownFleetError",
    "UnreachableError",
    "ValidationError",
]

# the addon's version (its __manifest__.py), which the Python packages share
__version__ = "18.0.1.3.0"
