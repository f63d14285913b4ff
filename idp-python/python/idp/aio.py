"""``idp.aio.Platform``: every method of :class:`idp.Platform` as a coroutine, for asyncio
applications (FastAPI, aiohttp, ...). A call does not occupy a thread of the application: the
core runs it on its own runtime and settles an asyncio future on the caller's event loop when it
ends, progress events are delivered on the loop too, and cancelling the task cancels the run
(it stops at its next safe point, is recorded as cancelled, and ``resume`` finishes it). Safe to
use after ``fork()``: a child opens its own runtime and platform.

>>> from idp import aio
>>> platform = aio.Platform.default(workspace=".idp")
>>> receipt = await platform.run_golden_path(service="payments-api", owner="team-payments",
...                                          as_="user:default/alice")
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Callable, Mapping, Optional, Union

from . import CancelToken, Principal, ProgressCallback, _dumps, to_arguments
from . import Platform as SyncPlatform
from ._api import AsyncMethods

__all__ = ["Platform"]


def _settle(fut: "asyncio.Future[str]", text: Optional[str], error: Optional[BaseException]) -> None:
    if fut.done():  # cancelled meanwhile
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(text)  # type: ignore[arg-type]


class Platform(AsyncMethods):
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
        host_tokens: Optional[Mapping[str, str]] = None,
    ) -> "Platform":
        return cls(SyncPlatform.from_dir(path, workspace, as_=as_, host_tokens=host_tokens))

    @classmethod
    def default(
        cls,
        workspace: Union[str, os.PathLike] = ".idp",
        *,
        as_: Optional[Principal] = None,
        host_tokens: Optional[Mapping[str, str]] = None,
    ) -> "Platform":
        return cls(SyncPlatform.default(workspace, as_=as_, host_tokens=host_tokens))

    @property
    def workspace(self) -> str:
        return self.sync.workspace

    async def _invoke(
        self,
        method: str,
        request: Any,
        as_: Optional[Principal],
        progress: Optional[ProgressCallback],
        cancel: Optional[CancelToken],
        kwargs: Mapping[str, Any],
        wrap: Optional[Callable[[Any], Any]],
    ) -> Any:
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[str]" = loop.create_future()
        token = cancel if cancel is not None else CancelToken()

        def done(text: Optional[str], error: Optional[BaseException]) -> None:
            # On a worker thread of the core: hand the outcome to the loop.
            try:
                loop.call_soon_threadsafe(_settle, fut, text, error)
            except RuntimeError:  # the loop is closed; nobody is waiting any more
                pass

        def on_progress(event: Any) -> None:
            try:
                loop.call_soon_threadsafe(progress, event)  # type: ignore[arg-type]
            except RuntimeError:
                pass

        self.sync._native.call_async(
            method,
            self.sync._principal(as_),
            _dumps("arguments", to_arguments(request, kwargs)),
            done,
            None if progress is None else on_progress,
            token,
        )
        try:
            text = await fut
        except asyncio.CancelledError:
            token.cancel()
            raise
        out = json.loads(text)
        return out if wrap is None else wrap(out)

    async def call(
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
        """Calls core method ``method``; returns the core's JSON as plain Python objects."""
        return await self._invoke(method, request, as_, progress, cancel, kwargs, None)
