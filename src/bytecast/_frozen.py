r"""The base of bytecast's records: plain slotted classes, immutable, compared by value.

Why not :mod:`dataclasses`: importing it brings :mod:`inspect` (20 to 90 ms measured on this
project's machines for 3.9 to 3.13, against a no-op ``bytecast compile`` of about 80 ms), and
records are made at start-up. A slotted class costs nothing to import and little to make.

A record declares its fields as ``__slots__`` (in the order of its ``__init__`` arguments)
with class-level annotations for the type checker. :class:`Record` gives it value equality,
hashing, a ``repr``, :meth:`Record.replace` (which runs ``__init__`` again, so validation
holds) and :meth:`Record.as_dict`; records never compare equal to tuples or to records of
another class. :class:`Frozen` also refuses assignment at run time (its ``__init__`` sets
fields through :data:`init`); the few records made per source of a tree are plain
:class:`Record`\s with ``Final`` fields, immutable for the type checker, cheaper to make.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _F = TypeVar("_F", bound="Record")

__all__ = ["Record", "Frozen", "init"]

init = object.__setattr__
"""Sets a field of a record being built (records refuse ordinary assignment)."""


class Record:
    """Slotted, compared and hashed by its fields; the base of every record.

    A record made once per source of a tree (``Source``, ``Job``, ``Unit``) derives from this
    class directly: its fields are ``Final`` for the type checker, which refuses any assignment
    outside ``__init__``, and are set there by plain assignment (a third of the cost of the
    setters :class:`Frozen` needs, measured on a no-op compile). Every other record is a
    :class:`Frozen`, whose immutability is also checked at run time.
    """

    __slots__ = ("_hash",)  # the hash, made once: records are dict keys on hot paths
    _hash: int

    @classmethod
    def _field_names(cls) -> tuple[str, ...]:
        """The fields: every slot of the class and its bases, in declaration order (made on
        first use, not when the class is made: record classes are made at start-up)."""
        names = cls.__dict__.get("_fields_cache")
        if names is None:
            fields: list[str] = []
            for klass in reversed(cls.__mro__):
                slots = klass.__dict__.get("__slots__", ())
                fields.extend(n for n in ((slots,) if isinstance(slots, str) else slots) if n != "_hash")
            names = tuple(fields)
            type.__setattr__(cls, "_fields_cache", names)
        return names

    @property
    def _fields(self) -> tuple[str, ...]:
        return self._field_names()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() != other._values()

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            value = hash((type(self).__name__, self._values()))
            object.__setattr__(self, "_hash", value)
            return value

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.as_dict()))

    def replace(self: _F, **changes: Any) -> _F:
        """A copy with ``changes`` applied, made (and so validated) by ``__init__``."""
        values = self.as_dict()
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in order (nested records stay records)."""
        return {name: getattr(self, name) for name in self._fields}


class Frozen(Record):
    """A record whose immutability is also checked at run time: setting or deleting a field
    raises AttributeError (``__init__`` sets them through :data:`init`)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")


def _rebuild(cls: type[_F], values: dict[str, Any]) -> _F:
    return cls(**values)
