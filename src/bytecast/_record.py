"""Frozen value types without the import cost of :mod:`dataclasses`.

``dataclasses`` pulls in ``inspect`` (tens of milliseconds on a slow machine), and a no-op
``bytecast compile`` must finish in well under 50 ms while it makes a record per source.
:func:`record` builds what bytecast needs from an annotated class: fields from the class
annotations (in order) with defaults from class attributes, stored in a tuple subclass
(the cheapest immutable object CPython makes: no per-field ``__setattr__``), read through
C-level ``itemgetter`` properties, with a ``__repr__`` and type-aware ``__eq__``/``__hash__``.
Type checkers see :func:`dataclasses.dataclass` (``frozen=True``) through the
``TYPE_CHECKING`` branch in the modules that use it::

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

from operator import itemgetter

__all__ = ["dataclass", "record"]


def record(cls: type) -> type:
    """Turn an annotated class into a frozen record type."""
    names = [n for n in cls.__dict__.get("__annotations__", {}) if not n.startswith("_")]
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    count = len(names)
    new = tuple.__new__
    title = cls.__name__

    def bind(args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...]:
        if len(args) > count:
            raise TypeError(f"{title}() takes {count} arguments, {len(args)} given")
        values = list(args)
        for name in names[len(args) :]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in defaults:
                values.append(defaults[name])
            else:
                raise TypeError(f"{title}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{title}() got unexpected or repeated arguments {sorted(kwargs)}")
        return tuple(values)

    # No generated source (as namedtuple and dataclasses make): a process's first compile()
    # costs a millisecond, and this runs at start-up.
    def __new__(cls: type, *args: object, **kwargs: object) -> tuple[object, ...]:
        if not kwargs and len(args) == count:
            return new(cls, args)
        return new(cls, bind(args, kwargs))

    attrs = {k: v for k, v in cls.__dict__.items() if k not in names and k not in ("__dict__", "__weakref__")}
    attrs.pop("__annotations__", None)
    for i, n in enumerate(names):
        attrs[n] = property(itemgetter(i), doc=f"field {n}")
    attrs["__slots__"] = ()
    attrs["__new__"] = __new__
    attrs["__match_args__"] = tuple(names)
    attrs["_fields"] = tuple(names)

    def __repr__(self: tuple[object, ...]) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(names, self))
        return f"{type(self).__name__}({inner})"

    def __eq__(self: tuple[object, ...], other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple.__eq__(self, other)

    def __ne__(self: tuple[object, ...], other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple.__ne__(self, other)

    def __getnewargs__(self: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(self)

    attrs.setdefault("__repr__", __repr__)
    attrs["__eq__"] = __eq__
    attrs["__ne__"] = __ne__
    attrs["__hash__"] = tuple.__hash__
    attrs["__getnewargs__"] = __getnewargs__
    bases = tuple(b for b in cls.__bases__ if b is not object) + (tuple,)
    made = type(cls.__name__, bases, attrs)
    made.__qualname__ = cls.__qualname__
    return made


def dataclass(*, frozen: bool = True) -> object:
    """Stand-in for ``dataclasses.dataclass(frozen=True)`` that builds a :func:`record`."""
    if not frozen:
        raise TypeError("bytecast records are always frozen")
    return record
