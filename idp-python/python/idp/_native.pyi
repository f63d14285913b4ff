# Stub of the native module (idp-python/src). tests/test_stubs.py fails when it drifts from
# the compiled module: every name, every Platform member and every parameter name.
import os
from typing import Any, Callable, Mapping, Optional, Union

__version__: str
METHODS: list[str]
ERROR_KINDS: list[str]

class CancelToken:
    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

class Platform:
    @staticmethod
    def builtin(
        workspace: Union[str, os.PathLike[str]], host_tokens: Optional[Mapping[str, str]] = None
    ) -> Platform: ...
    @staticmethod
    def from_dir(
        dir: Union[str, os.PathLike[str]],
        workspace: Union[str, os.PathLike[str]],
        host_tokens: Optional[Mapping[str, str]] = None,
    ) -> Platform: ...
    def call(
        self,
        method: str,
        principal: str,
        arguments: str,
        progress: Optional[Callable[[dict[str, Any]], None]] = None,
        cancel: Optional[CancelToken] = None,
    ) -> str: ...
    def call_async(
        self,
        method: str,
        principal: str,
        arguments: str,
        done: Callable[[Optional[str], Optional[BaseException]], None],
        progress: Optional[Callable[[dict[str, Any]], None]] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None: ...
    @property
    def workspace(self) -> str: ...

def init(dir: Union[str, os.PathLike[str]]) -> int: ...
