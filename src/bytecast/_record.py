"""Frozen, slotted value types without the import cost of :mod:`dataclasses`.

``dataclasses`` pulls in ``inspect`` (tens of milliseconds on a slow machine), and a no-op
``bytecast compile`` must finish in well under 50 ms. :func:`record` builds the same thing
for the simple cases bytecast needs: fields from the class annotations (in order), defaults
from class attributes, ``__slots__``, ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
and no attribute assignment after ``__init__``. Type checkers see :func:`dataclasses.dataclass`
(``frozen=True``) through the ``TYPE_CHECKING`` branch in the modules that use it::

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from dataclasses import dataclass
    else:
        from bytecast._record import dataclass

    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
"""

from __future__ import annotations

__all__ = ["dataclass", "record", "FrozenError"]


class FrozenError(AttributeError):
    """Raised on an attempt to change a field of a record."""


def _setattr(self: object, name: str, value: object) -> None:
    raise FrozenError(f"cannot assign to field {name!r} of {type(self).__name__}")


def record(cls: type) -> type:
    """Turn an annotated class into a frozen, slotted record type."""
    names = [n for n in cls.__dict__.get("__annotations__", {}) if not n.startswith("_")]
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    params = []
    for n in names:
        params.append(f"{n}=_d[{n!r}]" if n in defaults else n)
    body = "\n".join(f"    _set(self, {n!r}, {n})" for n in names) or "    pass"
    src = f"def __init__(self, {', '.join(params)}):\n{body}\n"
    namespace: dict[str, object] = {"_d": defaults, "_set": object.__setattr__}
    exec(compile(src, f"<record {cls.__name__}>", "exec"), namespace)  # noqa: S102 - our own text

    attrs = {k: v for k, v in cls.__dict__.items() if k not in names and k not in ("__dict__", "__weakref__")}
    attrs["__slots__"] = tuple(names)
    attrs["__init__"] = namespace["__init__"]
    attrs["__setattr__"] = _setattr
    attrs["__delattr__"] = _setattr
    attrs["__match_args__"] = tuple(names)
    attrs["_fields"] = tuple(names)

    def __repr__(self: object) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__name__}({inner})"

    def _astuple(self: object) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in names)

    def __eq__(self: object, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return _astuple(self) == _astuple(other)

    def __hash__(self: object) -> int:
        return hash(_astuple(self))

    def __reduce__(self: object) -> tuple[object, ...]:
        return (type(self), _astuple(self))

    attrs.setdefault("__repr__", __repr__)
    attrs["__eq__"] = __eq__
    attrs["__hash__"] = __hash__
    attrs["__reduce__"] = __reduce__
    new = type(cls.__name__, cls.__bases__, attrs)
    new.__qualname__ = cls.__qualname__
    return new


def dataclass(*, frozen: bool = True) -> object:
    """Stand-in for ``dataclasses.dataclass(frozen=True)`` that builds a :func:`record`."""
    if not frozen:
        raise TypeError("bytecast records are always frozen")
    return record
