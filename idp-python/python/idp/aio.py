"""``idp.aio.Platform``: every method of :class:`idp.Platform` as a coroutine, for asyncio
applications (FastAPI, aiohttp, ...). Each call runs the sync method in a worker thread
(``asyncio.to_thread``); the sync method releases the GIL while the core works, so the event loop
and other requests keep running.

>>> from idp import aio
>>> platform = aio.Platform.default(workspace=".idp")
>>> receipt = await platform.run_golden_path(service="payments-api", owner="team-payments",
...                                          as_="user:default/alice")
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, List, Optional, Union

from . import Explanation, Plan, Principal, Receipt, Record, Request
from . import Platform as SyncPlatform

__all__ = ["Platform"]


class Platform:
    """The asyncio twin of :class:`idp.Platform`; same constructors, same methods, awaitable."""

    __slots__ = ("sync",)

    def __init__(self, sync: SyncPlatform) -> None:
        #: The underlying sync platform (share it with sync code freely).
        self.sync = sync

    @classmethod
    def from_dir(
        cls,
        path: Union[str, os.PathLike],
        workspace: Union[str, os.PathLike] = ".idp",
        *,
        as_: Optional[Principal] = None,
    ) -> "Platform":
        return cls(SyncPlatform.from_dir(path, workspace, as_=as_))

    @classmethod
    def default(
        cls, workspace: Union[str, os.PathLike] = ".idp", *, as_: Optional[Principal] = None
    ) -> "Platform":
        return cls(SyncPlatform.default(workspace, as_=as_))

    @property
    def workspace(self) -> str:
        return self.sync.workspace

    async def call(self, method: str, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self.sync.call, method, request, as_=as_, **kwargs)

    async def bootstrap_service(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.bootstrap_service, request, as_=as_, **kwargs)

    async def wire_ci(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.wire_ci, request, as_=as_, **kwargs)

    async def provision_gitops(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.provision_gitops, request, as_=as_, **kwargs)

    async def attach_observability(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.attach_observability, request, as_=as_, **kwargs)

    async def request_infra_resource(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.request_infra_resource, request, as_=as_, **kwargs)

    async def run_golden_path(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.run_golden_path, request, as_=as_, **kwargs)

    async def plan(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Plan:
        return await asyncio.to_thread(self.sync.plan, request, as_=as_, **kwargs)

    async def explain(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Explanation:
        return await asyncio.to_thread(self.sync.explain, request, as_=as_, **kwargs)

    async def resume(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Receipt:
        return await asyncio.to_thread(self.sync.resume, request, as_=as_, **kwargs)

    async def runs(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.runs, request, as_=as_, **kwargs)

    async def golden_paths(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.golden_paths, request, as_=as_, **kwargs)

    async def request_waiver(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.request_waiver, request, as_=as_, **kwargs)

    async def approve_waiver(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.approve_waiver, request, as_=as_, **kwargs)

    async def list_waivers(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.list_waivers, request, as_=as_, **kwargs)

    async def authorize(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.authorize, request, as_=as_, **kwargs)

    async def test_policies(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.test_policies, request, as_=as_, **kwargs)

    async def audit_verify(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.audit_verify, request, as_=as_, **kwargs)

    async def audit_list(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.audit_list, request, as_=as_, **kwargs)

    async def audit_checkpoint(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Optional[Record]:
        return await asyncio.to_thread(self.sync.audit_checkpoint, request, as_=as_, **kwargs)

    async def modules(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.modules, request, as_=as_, **kwargs)

    async def infra_impact(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.infra_impact, request, as_=as_, **kwargs)

    async def upgrade(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.upgrade, request, as_=as_, **kwargs)

    async def upgrade_plan(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.upgrade_plan, request, as_=as_, **kwargs)

    async def upgrade_fleet(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> Record:
        return await asyncio.to_thread(self.sync.upgrade_fleet, request, as_=as_, **kwargs)

    async def fleet(self, request: Request = None, /, *, as_: Optional[Principal] = None, **kwargs: Any) -> List[Record]:
        return await asyncio.to_thread(self.sync.fleet, request, as_=as_, **kwargs)
