"""A bounded, pure-Python reader for marshalled code of every CPython version.

:func:`loads` reads marshal data written by CPython 2.3-2.7 or 3.0-3.14 (marshal format
versions 0-5) and returns plain values: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``bytes``, ``str``, ``tuple``, ``list``, ``dict``, ``set``, ``frozenset``, ``slice``,
``Ellipsis``, ``StopIteration`` (the class, as marshal stores it) and :class:`CodeRecord` in
place of code objects. It never calls ``marshal.loads``, ``exec`` or ``import`` on its input,
so it is safe on untrusted files.

Every failure is an :class:`~bytecast.errors.UnmarshalError` carrying the byte offset where
reading stopped and a message saying what was expected and what was found. Lengths declared
in the data are checked against the bytes actually left before anything is allocated; nesting
depth, the number of container slots and the input size are bounded by :class:`Limits`.

Which Python wrote the data matters: Python 2 strings are bytes and share an interned table,
and the code object layout changed in 3.0, 3.8, 3.11. :func:`python_for_magic` maps a pyc magic
number to the ``(major, minor)`` whose semantics apply.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from bytecast.coderecord import CodeRecord, PyVersion, code_from_object, same_code, walk_code
from bytecast.errors import UnmarshalError
from bytecast.magic import python_for_magic  # re-exported: the rule's home is the magic table
from bytecast.marshal_code import read_code
from bytecast.marshal_containers import Reader
from bytecast.marshal_reader import DEFAULT_LIMITS, FLAG_REF, NULL, Handler, Limits

__all__ = [
    "DEFAULT_LIMITS",
    "SUPPORTED_PYTHONS",
    "CodeRecord",
    "Limits",
    "code_from_object",
    "loads",
    "python_for_magic",
    "same_code",
    "walk_code",
]

SUPPORTED_PYTHONS: tuple[PyVersion, ...] = ((2, 7),) + tuple((3, m) for m in range(15))
"""Python versions whose marshal semantics and code layout :func:`loads` understands."""

# Magic number ranges (inclusive) per minor version, from importlib's own list. Numbers used
# only by alphas of a release are read with the final layout of that release.
def _table(entries: dict[str, Callable[[Reader, int, int], Any]], refs: bool) -> list[Handler]:
    """256 entries: the type code as read; with ``refs``, also the code | FLAG_REF (3.4+)."""
    table: list[Handler] = [None] * 256
    for char, fn in entries.items():
        table[ord(char)] = fn
        if refs:
            table[ord(char) | FLAG_REF] = fn
    return table


_COMMON = {
    "0": Reader.r_null, "N": Reader.r_none, "F": Reader.r_false, "T": Reader.r_true,
    "S": Reader.r_stopiter, ".": Reader.r_ellipsis, "i": Reader.r_int,
    "I": Reader.r_int64, "f": Reader.r_float, "g": Reader.r_binary_float,
    "x": Reader.r_complex, "y": Reader.r_binary_complex, "l": Reader.r_long,
    "s": Reader.r_bytes, "u": Reader.r_unicode, "(": Reader.r_tuple, "[": Reader.r_list,
    "{": Reader.r_dict, "<": Reader.r_set, ">": Reader.r_frozenset, "c": read_code,
    "?": Reader.r_unknown,
}
_PY2_DISPATCH = _table({**_COMMON, "t": Reader.r_py2_interned, "R": Reader.r_py2_stringref},
                       refs=False)
# 3.0-3.3 wrote marshal version 2: no references, no short ASCII strings or tuples.
_PY30_DISPATCH = _table({**_COMMON, "t": Reader.r_unicode}, refs=False)
_PY34_DISPATCH = _table({
    **_COMMON, "t": Reader.r_unicode, "r": Reader.r_ref, "a": Reader.r_ascii,
    "A": Reader.r_ascii, "z": Reader.r_short_ascii, "Z": Reader.r_short_ascii,
    ")": Reader.r_small_tuple, ":": Reader.r_slice,
}, refs=True)


def _parse_version(python: PyVersion | str) -> PyVersion:
    if isinstance(python, str):
        try:
            major, minor = (int(p) for p in python.split(".")[:2])
        except ValueError:
            raise UnmarshalError(f"Python version must look like '3.11', found {python!r}",
                                 -1) from None
        version = (major, minor)
    else:
        version = (int(python[0]), int(python[1]))
    if version not in SUPPORTED_PYTHONS and not (version[0] == 2 and 3 <= version[1] <= 7):
        raise UnmarshalError(f"cannot read marshal data of Python {version[0]}.{version[1]}",
                             -1)
    return version


def loads(data: bytes, python: PyVersion | str = (sys.version_info[0], sys.version_info[1]),
          *, limits: Limits = DEFAULT_LIMITS, allow_trailing: bool = True,
          start: int = 0) -> Any:
    """Read one marshalled object written by ``python`` (``(3, 11)`` or ``"3.11"``).

    ``data`` is the marshal payload only (for a .pyc, what follows the header, or the whole file
    with ``start`` at the header's size: offsets in errors then count from the file's start). Returns plain
    values, with :class:`CodeRecord` for code objects. Raises
    :class:`~bytecast.errors.UnmarshalError` for anything that is not well-formed marshal data
    of that version; trailing bytes after the object are an error unless ``allow_trailing``
    (CPython's own loader ignores them).
    """
    version = _parse_version(python)
    data = bytes(data)  # the same object when it is bytes already
    if not 0 <= start <= len(data):
        raise UnmarshalError(f"start {start} is outside the {len(data)} bytes of data", 0)
    if len(data) - start > limits.max_size:
        raise UnmarshalError(f"data is {len(data) - start} bytes, more than the limit of "
                             f"{limits.max_size}", start)
    reader = Reader(data, version, limits, _dispatch_for(version), start)
    try:
        value = reader.read()
    except RecursionError:
        raise UnmarshalError("nesting too deep for the interpreter stack", reader.pos) from None
    except MemoryError:
        raise UnmarshalError("out of memory while reading", reader.pos) from None
    if value is NULL:
        raise UnmarshalError("expected an object, found NULL", start)
    if not allow_trailing and reader.pos != reader.end:
        raise UnmarshalError(f"{reader.end - reader.pos} unexpected bytes after the object",
                             reader.pos)
    return value


def _dispatch_for(version: PyVersion) -> list[Handler]:
    if version[0] == 2:
        return _PY2_DISPATCH
    if version < (3, 4):
        return _PY30_DISPATCH
    return _PY34_DISPATCH
