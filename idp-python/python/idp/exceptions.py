"""The exceptions idp raises: one class per core error kind, under :class:`IdpError`.

Every instance has ``.kind`` (the core's kind name, e.g. ``"Denied"``), ``.reason`` (the message
alone; ``str(e)`` adds the context), ``.context`` (a dict of what the error is about: ``field``,
``file``, ...) and ``.details`` (structured details such as
every guardrail violation, or ``None``). The classes are defined by the native module, so the
mapping from the core's kinds lives in one place (``idp-python/src/error.rs``).
"""

from ._native import (
    ConflictError,
    DeniedError,
    IdpError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    PolicyViolationError,
    ProviderError,
)

__all__ = [
    "IdpError",
    "InvalidInputError",
    "DeniedError",
    "ConflictError",
    "NotFoundError",
    "PolicyViolationError",
    "ProviderError",
    "InternalError",
]
