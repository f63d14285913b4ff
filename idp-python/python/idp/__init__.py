"""idp: golden paths as code, through one policy point. The Python face of idp-core.

Every method calls the core's call surface with the same JSON every face sends (the CLI's
``--request`` file, the Node package, the Backstage actions), so results are identical: a
receipt's :meth:`Record.to_dict` equals the CLI's ``--json`` output. The request and result
types (``ServiceRequest``, ``Receipt``, ``Plan``, ...) and the methods are generated from the
core's Rust types (``idp/_api.py``).

>>> import idp
>>> platform = idp.Platform.default(workspace=".idp")
>>> receipt = platform.run_golden_path(
...     idp.ServiceRequest(service="payments-api", owner="team-payments"),
...     as_="user:default/alice",
...     progress=lambda ev: print(ev["message"]),
... )
>>> receipt.status
'completed'

Sync methods release the GIL while the core works; :mod:`idp.aio` has the same methods as
coroutines for asyncio applications (FastAPI, ...), and cancelling their task cancels the run.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Mapping, Optional, Union

from . import _native
from ._api import *  # noqa: F401,F403  (the generated request and result types)
from ._api import METHODS, Methods, Principal
from ._record import Args, Record, to_arguments
from .exceptions import (
    CancelledError,
    ConflictError,
    DeniedError,
    IdpError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    PolicyViolationError,
    ProviderError,
)

__version__: str = _native.__version__

#: Cancels the calls it is given to (``cancel=``), from any thread: each stops at its next safe
#: point and raises :class:`CancelledError`; the run is recorded as cancelled and ``resume``
#: finishes it.
CancelToken = _native.CancelToken

#: A progress event as a callback receives it: ``{"run_id", "step", "message"}``.
ProgressCallback = Callable[[Dict[str, Any]], None]


def _default_principal() -> str:
    # The same default as the CLI's --as: the operating-system user.
    return f"user:default/{os.environ.get('USER', 'unknown')}"


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _dumps(what: str, value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"{what}: {e}; use JSON values (str, int, float, bool, list, dict)") from None


def init(dir: Union[str, os.PathLike]) -> int:
    """Writes the built-in platform folder to ``dir`` for a team to edit; returns the file count."""
    return _native.init(os.fspath(dir))


class Platform(Methods):
    """The platform: a definition (config, org, golden paths, policies) bound to a workspace
    (repos, state, audit). Thread-safe; share one per process (a forked child opens its own).

    Every method takes its arguments as a dict, a dataclass (:class:`ServiceRequest`, ...) or
    keyword arguments (merged over them), ``as_=`` the principal (default: the one given to the
    constructor, else ``user:default/$USER`` like the CLI), ``progress=`` a callback for each
    progress event as it happens, and ``cancel=`` a :class:`CancelToken`.
    """

    __slots__ = ("_native", "_as")

    def __init__(self, native: _native.Platform, as_: Optional[Principal] = None) -> None:
        self._native = native
        self._as = as_

    @classmethod
    def from_dir(
        cls,
        path: Union[str, os.PathLike],
        workspace: Union[str, os.PathLike] = ".idp",
        *,
        as_: Optional[Principal] = None,
        host_tokens: Optional[Mapping[str, str]] = None,
    ) -> "Platform":
        """The platform defined in folder ``path`` (``idp.yaml``, ``golden-paths/``, ...).

        ``host_tokens`` maps a forge's host (``github.com``, ``gitlab.example:8443``) to a token,
        used when ``providers.source_control.token`` is not set: a host that already holds its
        forge credentials passes them without writing them anywhere.
        """
        native = _native.Platform.from_dir(
            os.fspath(path), os.fspath(workspace), dict(host_tokens or {})
        )
        return cls(native, as_)

    @classmethod
    def default(
        cls,
        workspace: Union[str, os.PathLike] = ".idp",
        *,
        as_: Optional[Principal] = None,
        host_tokens: Optional[Mapping[str, str]] = None,
    ) -> "Platform":
        """The built-in default platform."""
        return cls(_native.Platform.builtin(os.fspath(workspace), dict(host_tokens or {})), as_)

    @property
    def workspace(self) -> str:
        """Where repos, state and audit live."""
        return os.fspath(self._native.workspace)

    def __repr__(self) -> str:
        return repr(self._native)

    def _principal(self, as_: Optional[Principal]) -> str:
        who = as_ if as_ is not None else self._as if self._as is not None else _default_principal()
        return _dumps("principal", who)

    def _invoke(
        self,
        method: str,
        request: Any,
        as_: Optional[Principal],
        progress: Optional[ProgressCallback],
        cancel: Optional[CancelToken],
        kwargs: Mapping[str, Any],
        wrap: Optional[Callable[[Any], Any]],
    ) -> Any:
        args = _dumps("arguments", to_arguments(request, kwargs))
        out = json.loads(self._native.call(method, self._principal(as_), args, progress, cancel))
        return out if wrap is None else wrap(out)

    def call(
        self,
        method: str,
        request: Any = None,
        /,
        *,
        as_: Optional[Principal] = None,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
        **kwargs: Any,
    ) -> Any:
        """Calls core method ``method`` (one of :data:`METHODS`); returns the core's JSON as
        plain Python objects. The typed methods are this plus a result class."""
        return self._invoke(method, request, as_, progress, cancel, kwargs, None)


from . import aio  # noqa: E402  (idp.aio after `import idp`; aio imports the names above)

__all__ = [
    "METHODS",
    "aio",
    "Platform",
    "Principal",
    "CancelToken",
    "ServiceRequest",
    "WaiverRequest",
    "UpgradeRequest",
    "Args",
    "Record",
    "Receipt",
    "Plan",
    "Explanation",
    "UpgradeResult",
    "init",
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
