"""Code objects as plain data: :class:`CodeRecord`, the same shape for every Python version.

The bounded reader (:mod:`bytecast.unmarshal`) builds these in place of live code objects;
:func:`code_from_object` converts live code from a *trusted* ``marshal.loads`` so the two can
be compared with :func:`same_code`; :func:`walk_code` lists a module's code objects.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["CodeRecord", "PyVersion", "code_from_object", "same_code", "walk_code"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

PyVersion = tuple[int, int]
"""A Python ``(major, minor)``."""


@dataclass(eq=False, repr=False, **_DC_OPTS)
class CodeRecord:
    """A code object as plain data, the same shape for every Python version.

    Records compare and hash by identity, and their repr is one line: crafted data can share
    one nested record many times over (a DAG), where field-by-field equality, hashing or
    repr would take exponential time. Compare contents with :func:`same_code`.

    Text fields are ``str`` for every version (Python 2's byte strings are decoded as UTF-8,
    falling back to Latin-1); constants keep their marshalled types.
    """

    python: PyVersion
    """The ``(major, minor)`` whose layout this record was read with."""
    argcount: int
    """Positional parameters, including positional-only ones."""
    posonlyargcount: int
    """Positional-only parameters (0 before 3.8)."""
    kwonlyargcount: int
    """Keyword-only parameters (0 before 3.0)."""
    nlocals: int
    """Local variables (stored before 3.11, counted from the locals kinds since)."""
    stacksize: int
    """Evaluation stack depth the compiler computed."""
    flags: int
    """``co_flags``."""
    code: bytes
    """Raw instruction bytes (``co_code``)."""
    consts: tuple[Any, ...]
    """Constants; nested code objects are CodeRecords."""
    names: tuple[str, ...]
    """Global and attribute names (``co_names``)."""
    varnames: tuple[str, ...]
    """Local variable names, arguments first."""
    freevars: tuple[str, ...]
    """Names of free variables (closures)."""
    cellvars: tuple[str, ...]
    """Names of cell variables used by nested functions."""
    filename: str
    """``co_filename``: the path the compiler was given."""
    name: str
    """``co_name``."""
    qualname: str
    """``co_qualname`` (3.11+); the plain name before 3.11, where it is not stored."""
    firstlineno: int
    """First source line."""
    linetable: bytes
    """Raw line table: ``co_lnotab`` before 3.10, ``co_linetable`` since."""
    exceptiontable: bytes
    """Raw exception table (3.11+; empty before)."""
    localsplusnames: tuple[str, ...]
    """Names of all fast locals, cells and free variables in slot order (3.11+; empty before).
    Local, cell and free instruction arguments index this tuple from 3.11 on."""
    localspluskinds: bytes
    """Raw kinds of ``co_localsplusnames`` (3.11+; empty before)."""

    @property
    def children(self) -> tuple[CodeRecord, ...]:
        """Code objects among the constants (nested functions, classes, comprehensions)."""
        return tuple(c for c in self.consts if isinstance(c, CodeRecord))

    def __repr__(self) -> str:
        return (f"<CodeRecord {self.qualname!r} of Python {self.python[0]}.{self.python[1]}, "
                f"file {self.filename!r}, line {self.firstlineno}>")


def same_code(a: Any, b: Any, _seen: set[tuple[int, int]] | None = None) -> bool:
    """Field-by-field equality of two values that may hold CodeRecords (for tests and tools;
    linear in the distinct objects compared)."""
    if isinstance(a, CodeRecord) and isinstance(b, CodeRecord):
        seen = set() if _seen is None else _seen
        key = (id(a), id(b))
        if key in seen:
            return True
        seen.add(key)
        return all(same_code(getattr(a, f), getattr(b, f), seen) for f in _CODE_FIELDS)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_code(x, y, _seen) for x, y in zip(a, b))
    if isinstance(a, CodeRecord) or isinstance(b, CodeRecord):
        return False
    return type(a) is type(b) and bool(a == b)


_CODE_FIELDS = tuple(f.name for f in fields(CodeRecord))


def walk_code(code: CodeRecord) -> list[CodeRecord]:
    """``code`` and every code object nested in it, depth first, parents before children;
    a record shared by several parents (only crafted data does that) is listed once."""
    out: list[CodeRecord] = []
    seen: set[int] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        stack.extend(reversed(current.children))
    return out


def code_from_object(obj: Any, python: PyVersion | None = None) -> Any:
    """Convert a value from a *trusted* ``marshal.loads`` of the running interpreter.

    Live code objects become :class:`CodeRecord` (recursively, inside containers too), so the
    result can be compared with what :func:`loads` returns for the same bytes. Python does not
    expose ``co_localsplusnames`` and ``co_localspluskinds``, so those are left empty.
    """
    version = python or (sys.version_info[0], sys.version_info[1])
    if isinstance(obj, type(code_from_object.__code__)):
        co = obj
        linetable = co.co_linetable if version >= (3, 10) else co.co_lnotab
        return CodeRecord(
            python=version, argcount=co.co_argcount,
            posonlyargcount=getattr(co, "co_posonlyargcount", 0),
            kwonlyargcount=co.co_kwonlyargcount, nlocals=co.co_nlocals,
            stacksize=co.co_stacksize, flags=co.co_flags, code=co.co_code,
            consts=tuple(code_from_object(c, version) for c in co.co_consts),
            names=co.co_names, varnames=co.co_varnames, freevars=co.co_freevars,
            cellvars=co.co_cellvars, filename=co.co_filename, name=co.co_name,
            qualname=getattr(co, "co_qualname", co.co_name), firstlineno=co.co_firstlineno,
            linetable=linetable, exceptiontable=getattr(co, "co_exceptiontable", b""),
            localsplusnames=(), localspluskinds=b"")
    if isinstance(obj, tuple):
        return tuple(code_from_object(c, version) for c in obj)
    if isinstance(obj, list):
        return [code_from_object(c, version) for c in obj]
    if isinstance(obj, frozenset):
        return frozenset(code_from_object(c, version) for c in obj)
    return obj
