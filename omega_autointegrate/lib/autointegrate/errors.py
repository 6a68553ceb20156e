"""Typed errors of the AutoIntegrate client.

One base class, :class:`AutoIntegrateError`, so callers can catch everything
the wire can throw at them; subclasses say what went wrong in a way a caller
can act on (fix the data, refresh and retry later, re-authenticate...).
Nothing here knows about Odoo: the addon turns these into ``UserError`` at
its UI boundary.
"""

from . import answers


class AutoIntegrateError(Exception):
    """Base class of every error raised by :mod:`autointegrate`.

    :param message: human readable text
    :param status: HTTP status of the answer, when there was one
    :param code: the contract's machine code (``validation_error``...)
    :param details: the contract's ``details`` list
    :param retryable: overrides the class's :attr:`retryable`
    """

    #: whether trying the same call again later may succeed
    retryable = False

    def __init__(self, message, *, status=None, code=None, details=None, retryable=None):
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        self.message = message
        self.status = status
        self.code = code
        self.details = list(details or [])

    def __str__(self):
        return self.message


class ConfigurationError(AutoIntegrateError):
    """The client is set up wrongly (no URL, plain HTTP to a public host...)."""


class TransientError(AutoIntegrateError):
    """The call may succeed later: server errors, rate limits, network trouble."""

    retryable = True


class TransportError(TransientError):
    """No usable answer: connection refused or dropped, timeout, TLS failure.

    Its two kinds say whether the fleet may have acted:
    :class:`UnreachableError` (nothing was sent) and :class:`NoAnswerError`
    (sent, but no whole answer came back).
    """

    #: whether the request may have reached the fleet; when in doubt, it may have
    request_sent = True


class UnreachableError(TransportError):
    """The fleet could not be reached, so nothing was sent: the host name does
    not resolve, the connection is refused or not accepted in time, or the
    TLS handshake fails. The fleet cannot have acted."""

    request_sent = False


class TLSError(UnreachableError):
    """The secure connection failed (certificate, protocol): retrying won't heal it."""

    retryable = False


class NoAnswerError(TransportError):
    """The request was sent but no whole answer came back: no answer in time,
    the connection closed after sending, or the answer cut off. The fleet may
    have acted on it. Sending the same call again is safe: it carries the
    same ``idempotency_key`` (``None`` on reads, which change nothing), so
    the fleet answers what it did instead of doing it twice."""

    request_sent = True

    def __init__(self, message, *, idempotency_key=None, **kwargs):
        super().__init__(message, **kwargs)
        self.idempotency_key = idempotency_key


class RateLimitedError(TransientError):
    """HTTP 429; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(TransientError):
    """HTTP 5xx."""


class ProtocolError(TransientError):
    """The fleet answered something that is not what the contract says
    (not JSON, truncated, wrong types, too large)."""


class AuthError(AutoIntegrateError):
    """HTTP 401: wrong client credentials or a token the fleet refuses."""


class ForbiddenError(AutoIntegrateError):
    """HTTP 403: this shop may not act on that fleet, shop id or RO."""


class BadRequestError(AutoIntegrateError):
    """HTTP 400: the request itself is malformed."""


class NotFoundError(AutoIntegrateError):
    """HTTP 404 ``not_found``: unknown RO."""


class UnknownFleetError(NotFoundError):
    """HTTP 404 ``unknown_fleet``: the fleet company id is not known."""


class ValidationError(AutoIntegrateError):
    """HTTP 422 ``validation_error``, or a payload our own checks refuse
    before sending it. ``details`` is ``[{"field": ..., "message": ...}]``."""

    def field_messages(self):
        """:return: ``["lines[0].amount: must equal ...", ...]``"""
        out = []
        for item in self.details:
            if isinstance(item, dict):
                field = item.get("field") or ""
                msg = item.get("message") or ""
                out.append(f"{field}: {msg}" if field else msg)
            else:
                out.append(str(item))
        return out


class PayloadTooLargeError(ValidationError):
    """HTTP 413 ``payload_too_large``, or a body our own checks find larger
    than the fleet accepts before sending it (a document upload: 15 MiB).
    A :class:`ValidationError`: the data must change to be accepted."""


class IdempotencyKeyReusedError(AutoIntegrateError):
    """HTTP 422 ``idempotency_key_reused``: the key was used with another body."""


class ConflictError(AutoIntegrateError):
    """HTTP 409. ``state`` is the RO state carried in ``details`` when given."""

    @property
    def state(self):
        """The RO state of ``details`` (checked as any answer), or ``None`` when there is no usable one."""
        first = self.details[0] if self.details else None
        if not isinstance(first, dict) or answers.ro_state_problems(first):
            return None
        return answers.with_defaults(first)


class RevisionConflictError(ConflictError):
    """409 ``revision_conflict``: someone changed the RO since our revision."""


class InvalidStateError(ConflictError):
    """409 ``invalid_state``: not allowed in the RO's current status."""


class DuplicateROError(ConflictError):
    """409 ``duplicate_ro``: the shop already has an RO with that reference;
    ``state`` is that RO, which the caller can adopt."""


class SignatureError(AutoIntegrateError):
    """A webhook signature is missing, malformed, wrong or out of its window."""


#: contract error code -> exception class
ERROR_CLASSES = {
    "bad_request": BadRequestError,
    "unauthorized": AuthError,
    "forbidden": ForbiddenError,
    "not_found": NotFoundError,
    "unknown_fleet": UnknownFleetError,
    "revision_conflict": RevisionConflictError,
    "invalid_state": InvalidStateError,
    "duplicate_ro": DuplicateROError,
    "validation_error": ValidationError,
    "idempotency_key_reused": IdempotencyKeyReusedError,
    "payload_too_large": PayloadTooLargeError,
    "rate_limited": RateLimitedError,
    "server_error": ServerError,
}

#: HTTP status -> exception class, when the code is missing or unknown
STATUS_CLASSES = {
    400: BadRequestError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
}
