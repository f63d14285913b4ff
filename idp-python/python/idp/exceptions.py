"""The exceptions idp raises: one class per core error kind, under :class:`IdpError`.

Every instance has ``.kind`` (the core's kind name, e.g. ``"Denied"``), ``.reason`` (the message
alone; ``str(e)`` adds the context), ``.retryable`` (whether the same call may succeed when made
again later: a provider's timeout, a cancelled run), ``.context`` (a dict of what the error is
about: ``field``, ``file``, ...) and ``.details`` (structured details such as every guardrail
violation, or ``None``). The classes also inherit the matching builtins, so
``except LookupError`` catches :class:`NotFoundError`. The native module maps the core's kinds
to these classes (``idp-python/src/error.rs``).
"""

from typing import Any, Dict, Optional


class IdpError(Exception):
    """Base of every idp error."""

    kind: Optional[str] = None
    reason: str = ""
    retryable: bool = False
    context: Dict[str, str] = {}
    details: Optional[Any] = None


class InvalidInputError(IdpError, ValueError):
    """The request or the platform configuration is malformed. Nothing was written."""

    kind = "InvalidInput"


class DeniedError(IdpError, PermissionError):
    """The principal is not allowed to do this. Nothing was written."""

    kind = "Denied"


class ConflictError(IdpError):
    """The request collides with existing state (a name taken by another owner, a run in progress)."""

    kind = "Conflict"


class NotFoundError(IdpError, LookupError):
    """Something the request refers to does not exist (service, run, team, golden path)."""

    kind = "NotFound"


class PolicyViolationError(IdpError):
    """A guardrail denied the change set; ``.details`` lists every violation. Nothing was written."""

    kind = "PolicyViolation"


class ProviderError(IdpError):
    """A provider (git, database, remote API) failed; often worth retrying (``.retryable``)."""

    kind = "Provider"


class InternalError(IdpError):
    """A bug or an unexpected state inside idp."""

    kind = "Internal"


class CancelledError(IdpError):
    """The call was cancelled: the run stopped at a safe point, is recorded as cancelled, and
    ``resume`` finishes it. (An asyncio task that is cancelled raises ``asyncio.CancelledError``
    as usual; the run underneath stops the same way.)"""

    kind = "Cancelled"


__all__ = [
    "IdpError",
    "InvalidInputError",
    "DeniedError",
    "ConflictError",
    "NotFoundError",
    "PolicyViolationError",
    "ProviderError",
    "InternalError",
    "CancelledError",
]
