"""The two base classes of the generated types: :class:`Record` (a result) and :class:`Args` (a
request's arguments)."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any, Dict, Iterator, Mapping


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Record(Mapping[str, Any]):
    """A result of the core: read-only, with attribute access (``receipt.steps[0].repo``).

    The generated subclasses (``Receipt``, ``Plan``, ...) have one typed property per field;
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


def _plain(value: Any) -> Any:
    if isinstance(value, Args):
        return value.to_dict()
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Args:
    """Base of the generated argument dataclasses (``ServiceRequest``, ``WaiverRequest``, ...)."""

    __slots__ = ()

    def to_dict(self) -> Dict[str, Any]:
        """The arguments as the core's JSON; fields left at ``None`` are left out (the core
        applies its default)."""
        return {
            f.name.rstrip("_"): _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }


def to_arguments(request: Any, kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """A call's arguments: the request (a dict, a dataclass, or a Record), then the keywords."""
    args: Dict[str, Any] = {}
    if request is not None:
        args.update(request.to_dict() if hasattr(request, "to_dict") else request)
    args.update({k: _plain(v) for k, v in kwargs.items()})
    return args
