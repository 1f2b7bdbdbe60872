"""Line tables and exception tables of code objects, for every era of CPython.

Line numbers come from ``co_lnotab`` before 3.10, the 3.10 line table, and the 3.11+
location table; 3.11+ exception tables are decoded into :class:`ExceptionEntry` rows.
Garbage never raises, and varints of any length are read in linear time (values stay exact:
a crafted table can hold numbers far larger than any real code).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from bytecast.coderecord import CodeRecord

__all__ = ["ExceptionEntry", "exception_entries", "line_ranges", "line_starts"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True


@dataclass(**_DC_OPTS)
class ExceptionEntry:
    """One row of a 3.11+ exception table (offsets in bytes)."""

    start: int
    end: int
    target: int
    depth: int
    lasti: bool


# --- line tables ------------------------------------------------------------------------------


def line_ranges(code: CodeRecord) -> list[tuple[int, int, int | None]]:
    """``(start, end, line)`` byte ranges of ``code``, as ``co_lines()`` would give them."""
    table = code.linetable
    if code.python >= (3, 11):
        return _locations_311(table, code.firstlineno)
    if code.python >= (3, 10):
        return _linetable_310(table, code.firstlineno, len(code.code))
    return _lnotab(table, code.firstlineno, len(code.code), signed=code.python >= (3, 6))


def line_starts(code: CodeRecord, ranges: list[tuple[int, int, int | None]] | None = None
                ) -> list[tuple[int, int | None]]:
    """``(offset, line)`` where a new source line starts, as ``dis.findlinestarts`` of the
    code's own Python gives them: from ``co_lnotab`` before 3.10 (a start may lie at the end of
    the code), from the line ranges since, where 3.10-3.12 skip instructions without a line and
    3.13+ also list where such a run starts (with line None). ``ranges``: the code's
    :func:`line_ranges`, when the caller has them already."""
    if code.python < (3, 10):
        return list(_lnotab_starts(code.linetable, code.firstlineno, len(code.code),
                                   code.python >= (3, 6)))
    keep_none = code.python >= (3, 13)
    out: list[tuple[int, int | None]] = []
    for start, _end, line in line_ranges(code) if ranges is None else ranges:
        if line is None and not keep_none:
            continue
        if not out or line != out[-1][1]:  # None is a "line" of its own from 3.13
            out.append((start, line))
    return out


def _lnotab_starts(table: bytes, first: int, size: int, signed: bool) -> list[tuple[int, int]]:
    # dis.findlinestarts of 2.7-3.9: (byte increment, line increment) pairs.
    starts: list[tuple[int, int]] = []
    last: int | None = None
    line = first
    addr = 0
    for i in range(0, len(table) - 1, 2):
        byte_incr, line_incr = table[i], table[i + 1]
        if byte_incr:
            if line != last:
                starts.append((addr, line))
                last = line
            addr += byte_incr
            if addr >= size:
                break
        if signed and line_incr >= 0x80:
            line_incr -= 0x100
        line += line_incr
    else:
        if line != last:
            starts.append((addr, line))
    return starts


def _lnotab(table: bytes, first: int, size: int,
            signed: bool) -> list[tuple[int, int, int | None]]:
    starts = _lnotab_starts(table, first, size, signed)
    out: list[tuple[int, int, int | None]] = []
    for k, (begin, ln) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else max(size, begin)
        if end > begin:
            out.append((begin, end, ln))
    return out


def _linetable_310(table: bytes, first: int, size: int) -> list[tuple[int, int, int | None]]:
    out: list[tuple[int, int, int | None]] = []
    line = first
    addr = 0
    for i in range(0, len(table) - 1, 2):
        sdelta, ldelta = table[i], table[i + 1]
        if ldelta == 0x80:
            current: int | None = None
        else:
            line += ldelta - 0x100 if ldelta > 0x80 else ldelta
            current = line
        end = addr + sdelta
        if end > addr:
            _add_range(out, addr, end, current)
        addr = end
    return out


def _add_range(out: list[tuple[int, int, int | None]], start: int, end: int, line: int | None) -> None:
    """Append the byte range [start, end) of ``line``, merged into the previous one when it continues it."""
    if out and out[-1][2] == line and out[-1][1] == start:
        out[-1] = (out[-1][0], end, line)
    else:
        out.append((start, end, line))


def _varint(table: bytes, i: int) -> tuple[int, int]:
    """The 6-bit-chunk varint at ``table[i]`` (bit 6 set: more follow) and where it ends."""
    value = shift = 0
    n = len(table)
    while i < n:
        b = table[i]
        i += 1
        value |= (b & 63) << shift
        shift += 6
        if not b & 64:
            return value, i
        if shift >= 60:  # only crafted tables get here: finish in linear time
            return _long_varint(table, i, value, shift)
    return value, i


def _long_varint(table: bytes, i: int, value: int, shift: int) -> tuple[int, int]:
    end = i
    n = len(table)
    while end < n and table[end] & 64:
        end += 1
    end = min(end + 1, n)
    chunks = "".join([format(b & 63, "06b") for b in reversed(table[i:end])])
    if chunks:
        value |= int(chunks, 2) << shift
    return value, end


def _svarint(table: bytes, i: int) -> tuple[int, int]:
    value, i = _varint(table, i)
    return (-(value >> 1) if value & 1 else value >> 1), i


def _locations_311(table: bytes, first: int) -> list[tuple[int, int, int | None]]:
    out: list[tuple[int, int, int | None]] = []
    line = first
    addr = 0
    i = 0
    n = len(table)
    while i < n:
        b = table[i]
        i += 1
        code = (b >> 3) & 15
        end = addr + ((b & 7) + 1) * 2
        current: int | None
        if code == 15:
            current = None
        elif code == 14:
            delta, i = _svarint(table, i)
            line += delta
            current = line
            for _ in range(3):
                _, i = _varint(table, i)
        elif code == 13:
            delta, i = _svarint(table, i)
            line += delta
            current = line
        elif code >= 10:
            line += code - 10
            current = line
            i += 2
        else:
            current = line
            i += 1
        _add_range(out, addr, end, current)
        addr = end
    return out


def _varint_be(table: bytes, i: int) -> tuple[int, int]:
    """The exception table's varint at ``table[i]``: 6-bit chunks, most significant first
    (bit 6 set: more follow), unlike the location table's; linear time at any length."""
    end = i
    n = len(table)
    while end < n and table[end] & 64:
        end += 1
    if end >= n:  # runs off the end: dis stops reading the table here
        return 0, n + 1
    end += 1
    if end - i <= 10:
        value = 0
        for b in table[i:end]:
            value = (value << 6) | (b & 63)
        return value, end
    return int("".join([format(b & 63, "06b") for b in table[i:end]]), 2), end


def exception_entries(code: CodeRecord) -> list[ExceptionEntry]:
    """The decoded 3.11+ exception table of ``code`` (empty before 3.11), as ``dis`` reads it;
    a last entry cut short is dropped, as ``dis`` drops it."""
    table = code.exceptiontable
    out = []
    i = 0
    n = len(table)
    while i < n:
        start, i = _varint_be(table, i)
        length, i = _varint_be(table, i)
        target, i = _varint_be(table, i)
        dl, i = _varint_be(table, i)
        if i > n:
            break
        out.append(ExceptionEntry(start * 2, (start + length) * 2, target * 2, dl >> 1,
                                  bool(dl & 1)))
    return out
