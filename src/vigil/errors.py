"""The one error root of Vigil; each error declares its HTTP status and CLI exit code."""

from __future__ import annotations

from typing import Any, ClassVar


class VigilError(Exception):
    """Root of every error Vigil raises on purpose.

    ``code`` is a stable machine-readable name, ``http_status`` what the API answers and
    ``exit_code`` what the CLI exits with. ``fields`` travel to API clients and ``--json``.
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        # Set once the refusal is in the audit log, so it is recorded exactly once.
        self.audited = False

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}


class InvalidInput(VigilError, ValueError):
    code = "invalid_input"
    http_status = 422
    exit_code = 2


class BadRequest(VigilError, ValueError):
    """The request could not even be read (e.g. a body that is not UTF-8)."""

    code = "bad_request"
    http_status = 400
    exit_code = 2


class NotFound(VigilError, LookupError):
    code = "not_found"
    http_status = 404
    exit_code = 3


class Conflict(VigilError):
    code = "conflict"
    http_status = 409
    exit_code = 4


class NotAuthenticated(VigilError):
    code = "not_authenticated"
    http_status = 401
    exit_code = 5


class Forbidden(VigilError, PermissionError):
    code = "forbidden"
    http_status = 403
    exit_code = 6


class RetryLater(VigilError):
    """A refusal that passes: the API says when to try again (``Retry-After``)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class TooManyAttempts(RetryLater):
    code = "too_many_attempts"
    http_status = 429
    exit_code = 7


class Busy(RetryLater):
    """This process is at its limit for that kind of work; try again shortly."""

    code = "busy"
    http_status = 503
    exit_code = 9


class DiskFull(VigilError, OSError):
    """The disk is full: nothing more can be stored (footage, or records of any kind)."""

    code = "disk_full"
    http_status = 507
    exit_code = 12


class PayloadTooLarge(VigilError):
    code = "payload_too_large"
    http_status = 413
    exit_code = 2


class NotInitialised(VigilError):
    code = "not_initialised"
    http_status = 503
    exit_code = 8


class ConfigError(VigilError):
    code = "config_error"
    http_status = 500
    exit_code = 8


class AuditIntegrityError(VigilError):
    """The stored audit log does not match what was signed or recorded."""

    code = "audit_integrity"
    http_status = 500
    exit_code = 10


class ProofError(VigilError, ValueError):
    """A Merkle proof or signed head does not verify."""

    code = "proof_invalid"
    http_status = 422
    exit_code = 11


class NotReady(VigilError):
    """Something is not available yet (a camera not streaming); worth retrying later."""

    code = "not_ready"
    http_status = 503
    exit_code = 9


class PeerUnavailable(VigilError):
    """A part of the cluster (NATS, an ingest node) cannot be reached now; try again later."""

    code = "peer_unavailable"
    http_status = 503
    exit_code = 13
