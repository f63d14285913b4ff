"""idp: golden paths as code, through one policy point. The Python face of idp-core.

Every method calls the core's ``api::call`` with the same JSON every face sends (the CLI's
``--request`` file, the Node package, the Backstage actions), so results are identical: a
receipt's :meth:`Record.to_dict` equals the CLI's ``--json`` output.

>>> import idp
>>> platform = idp.Platform.default(workspace=".idp")
>>> receipt = platform.run_golden_path(
...     idp.ServiceRequest(service="payments-api", owner="team-payments"),
...     as_="user:default/alice",
... )
>>> receipt.status
'completed'

Sync methods release the GIL while the core works; :mod:`idp.aio` has the same methods as
coroutines for asyncio applications (FastAPI, ...).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

from . import _native
from .exceptions import (
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

#: Every operation of the core's ``api::call``, in the core's order; each is a method of
#: :class:`Platform` (and a coroutine of :class:`idp.aio.Platform`).
METHODS: tuple = tuple(_native.METHODS)

#: Who is acting: a catalog user ref (``"user:default/alice"``; teams come from the platform's
#: org directory), or ``{"user": ..., "groups": [...]}`` with explicit groups (e.g. a
#: Backstage user's ownership refs).
Principal = Union[str, Mapping[str, Any]]


@dataclasses.dataclass
class ServiceRequest:
    """A request about one service: the core's ``ServiceRequest``, field for field."""

    service: str
    owner: str
    golden_path: Optional[str] = None
    version: Optional[str] = None
    parameters: Dict[str, Any] = dataclasses.field(default_factory=dict)
    intents: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    change_window: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        """The request as the core's JSON (unset optional fields left out)."""
        return _fields(self)


@dataclasses.dataclass
class WaiverRequest:
    """A waiver request (``request_waiver``): an exception to ``rule`` for ``service``."""

    rule: str
    service: str
    justification: str
    expires: str
    environment: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return _fields(self)


def _fields(obj: Any) -> Dict[str, Any]:
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)
        if getattr(obj, f.name) is not None
    }


Request = Union[Mapping[str, Any], ServiceRequest, WaiverRequest, None]


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Record(Mapping[str, Any]):
    """A result of the core: read-only, with attribute access (``receipt.steps[0].repo``).

    :meth:`to_dict` returns the core's JSON as plain Python objects, keys in the core's order.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of the core's JSON for this result."""
        return copy.deepcopy(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self._data)}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use to_dict() for a copy")

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._data == other._data
        return self._data == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({json.dumps(self._data)[:200]})"


class Receipt(Record):
    """What an operation did: run id, steps with change requests and artifacts, links."""


class Plan(Record):
    """A dry run: the exact change sets with diffs and policy decisions. Nothing was written."""


class Explanation(Record):
    """What idp created for a service, and how to override each file safely."""


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


class Platform:
    """The platform: a definition (config, org, golden paths, policies) bound to a workspace
    (repos, state, audit). Thread-safe; share one per process.

    Every method takes the request as a dict, a dataclass (:class:`ServiceRequest`, ...) or
    keyword arguments (merged over the dict), and ``as_=`` the principal (default: the one given
    to the constructor, else ``user:default/$USER`` like the CLI).
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
    ) -> "Platform":
        """The platform defined in folder ``path`` (``idp.yaml``, ``golden-paths/``, ...)."""
        return cls(_native.Platform.from_dir(os.fspath(path), os.fspath(workspace)), as_)

    @classmethod
    def default(
        cls, workspace: Union[str, os.PathLike] = ".idp", *, as_: Optional[Principal] = None
    ) -> "Platform":
        """The built-in default platform."""
        return cls(_native.Platform.builtin(os.fspath(workspace)), as_)

    @property
    def workspace(self) -> str:
        """Where repos, state and audit live."""
        return os.fspath(self._native.workspace)

    def __repr__(self) -> str:
        return repr(self._native)

    def call(
        self, method: str, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any
    ) -> Any:
        """Calls core method ``method`` (one of :data:`METHODS`); returns the core's JSON as
        plain Python objects. The typed methods below are this plus a result class."""
        args: Dict[str, Any] = {}
        if request is not None:
            args.update(request.to_dict() if hasattr(request, "to_dict") else request)
        args.update(kwargs)
        who = as_ if as_ is not None else self._as if self._as is not None else _default_principal()
        out = self._native.call(method, _dumps("principal", who), _dumps("arguments", args))
        return json.loads(out)

    def _record(self, cls: type, method: str, request: Request, as_: Optional[Principal], kwargs: Dict[str, Any]) -> Any:
        return cls(self.call(method, request, as_=as_, **kwargs))

    def _list(self, method: str, request: Request, as_: Optional[Principal], kwargs: Dict[str, Any]) -> List[Record]:
        return [Record(v) for v in self.call(method, request, as_=as_, **kwargs)]

    # Golden-path operations: each takes a ServiceRequest and returns a Receipt.

    def bootstrap_service(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """The service repo: app, tests, container, security baselines, catalog entry."""
        return self._record(Receipt, "bootstrap_service", request, as_, kwargs)

    def wire_ci(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """The CI pipeline in the service repo."""
        return self._record(Receipt, "wire_ci", request, as_, kwargs)

    def provision_gitops(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """Argo CD applications and Kubernetes manifests per environment."""
        return self._record(Receipt, "provision_gitops", request, as_, kwargs)

    def attach_observability(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """The Grafana dashboard and SLO burn-rate alerts."""
        return self._record(Receipt, "attach_observability", request, as_, kwargs)

    def request_infra_resource(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """The request's ``intents`` as org-approved modules in the infra repo."""
        return self._record(Receipt, "request_infra_resource", request, as_, kwargs)

    def run_golden_path(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """Every step of the golden path, in order."""
        return self._record(Receipt, "run_golden_path", request, as_, kwargs)

    def plan(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Plan:
        """Dry run of ``operation`` on ``request``: ``plan(operation="run_golden_path",
        request=ServiceRequest(...))``. Writes nothing."""
        return self._record(Plan, "plan", request, as_, kwargs)

    def explain(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Explanation:
        """What idp created for ``service``, and how to override each file safely."""
        return self._record(Explanation, "explain", request, as_, kwargs)

    def resume(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        """Resumes run ``run_id`` to the end state an uninterrupted run reaches."""
        return self._record(Receipt, "resume", request, as_, kwargs)

    def runs(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """Runs, newest first (``service=``, ``limit=``)."""
        return self._list("runs", request, as_, kwargs)

    def golden_paths(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """The golden paths and versions, with their parameter schemas."""
        return self._list("golden_paths", request, as_, kwargs)

    # Upgrades: move services to newer golden-path versions, keeping the team's edits.

    def upgrade(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Upgrades ``service`` to version ``to`` (default: the latest) with a three-way merge;
        ``keep=True`` keeps local edits of platform-managed files."""
        return self._record(Record, "upgrade", request, as_, kwargs)

    def upgrade_plan(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """What :meth:`upgrade` would change, conflicts included. Writes nothing."""
        return self._record(Record, "upgrade_plan", request, as_, kwargs)

    def upgrade_fleet(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Upgrades every service (``owner=`` one team's) to ``to``; ``plan=True`` writes nothing."""
        return self._record(Record, "upgrade_fleet", request, as_, kwargs)

    def fleet(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """Every service with its golden path, scaffold version, how far behind it is, and drift."""
        return self._list("fleet", request, as_, kwargs)

    # Policy: waivers, authorization, policy tests.

    def request_waiver(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Asks for an exception (:class:`WaiverRequest`); it applies once someone else approves it."""
        return self._record(Record, "request_waiver", request, as_, kwargs)

    def approve_waiver(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Approves waiver ``id`` (as someone other than its requester, allowed by policy)."""
        return self._record(Record, "approve_waiver", request, as_, kwargs)

    def list_waivers(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """Waivers and their state (``service=`` to filter)."""
        return self._list("list_waivers", request, as_, kwargs)

    def authorize(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Asks the policy point about a request (``principal``, ``action``, ``resource``,
        ``context``); no side effects."""
        return self._record(Record, "authorize", request, as_, kwargs)

    def test_policies(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Runs the policy unit tests in ``dir`` against this platform's policies."""
        return self._record(Record, "test_policies", request, as_, kwargs)

    # Infrastructure: the module catalog.

    def modules(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """Every infrastructure module of the platform's catalog."""
        return self._list("modules", request, as_, kwargs)

    def infra_impact(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """What would change, per service, if every stored infrastructure request were resolved
        again against the current module catalog. Writes nothing."""
        return self._record(Record, "infra_impact", request, as_, kwargs)

    # Audit: the tamper-evident log.

    def audit_verify(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        """Checks the hash chain and signed checkpoints (``key=`` a public key in hex)."""
        return self._record(Record, "audit_verify", request, as_, kwargs)

    def audit_list(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        """Audit records, oldest first (``service=``, ``since=``, ``limit=``)."""
        return self._list("audit_list", request, as_, kwargs)

    def audit_checkpoint(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Optional[Record]:
        """Signs a checkpoint of the current head; ``None`` when the log is empty."""
        out = self.call("audit_checkpoint", request, as_=as_, **kwargs)
        return None if out is None else Record(out)


from . import aio  # noqa: E402  (idp.aio after `import idp`; aio imports the names above)

__all__ = [
    "METHODS",
    "aio",
    "Platform",
    "Principal",
    "ServiceRequest",
    "WaiverRequest",
    "Record",
    "Receipt",
    "Plan",
    "Explanation",
    "init",
    "IdpError",
    "InvalidInputError",
    "DeniedError",
    "ConflictError",
    "NotFoundError",
    "PolicyViolationError",
    "ProviderError",
    "InternalError",
]
