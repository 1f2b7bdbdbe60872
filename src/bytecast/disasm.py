"""Disassemble a :class:`~bytecast.unmarshal.CodeRecord` of any supported Python version.

The opcode tables are data files in ``bytecast/opcodes/X.Y.json``, generated from each
interpreter's own ``opcode`` module by ``tools/gen_opcodes.py``; they load on first use.
Line numbers come from the raw line table of each era (``co_lnotab`` before 3.10, the 3.10
line table, the 3.11+ location table); 3.11+ inline caches are skipped and exception tables
decoded. Garbage bytecode never raises: unknown opcodes show as ``<N>`` and out-of-range
arguments as ``<bad index N>``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from bytecast.errors import UsageError
from bytecast.unmarshal import CodeRecord

__all__ = [
    "ExceptionEntry",
    "Instruction",
    "OpcodeTable",
    "available_versions",
    "disassemble",
    "exception_entries",
    "instructions",
    "line_ranges",
    "opcode_table",
]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True


@dataclass(**_DC_OPTS)
class OpcodeTable:
    """The opcodes of one Python version, as its own ``opcode`` module defines them."""

    python: tuple[int, int]
    """The ``(major, minor)`` this table belongs to."""
    names: tuple[str, ...]
    """Opcode number -> name (``"<N>"`` for numbers the version does not use)."""
    hasarg: frozenset[int]
    """Opcodes that take an argument."""
    extended_arg: int
    """The EXTENDED_ARG opcode."""
    groups: dict[str, frozenset[int]]
    """``hasconst``, ``hasname``, ``hasjrel``, ``hasjabs``, ``haslocal``, ``hasfree``,
    ``hascompare`` -> opcode numbers."""
    cmp_op: tuple[str, ...]
    """Comparison operator names for COMPARE_OP."""
    nb_ops: tuple[str, ...]
    """Operator symbols for BINARY_OP (3.11+)."""
    intrinsic1: tuple[str, ...]
    """CALL_INTRINSIC_1 function names (3.12+)."""
    intrinsic2: tuple[str, ...]
    """CALL_INTRINSIC_2 function names (3.12+)."""
    caches: tuple[int, ...]
    """Opcode number -> inline cache code units that follow it (3.11+)."""
    source: str
    """Where the table came from."""


@dataclass(**_DC_OPTS)
class Instruction:
    """One decoded instruction."""

    offset: int
    """Byte offset of the opcode (after any EXTENDED_ARG prefixes it absorbed)."""
    start: int
    """Byte offset where the instruction starts, EXTENDED_ARG prefixes included."""
    opcode: int
    """The opcode number."""
    opname: str
    """Its name for this Python version."""
    arg: int | None
    """The full argument (EXTENDED_ARG applied), or None."""
    argval: Any
    """The argument resolved: a constant, a name, a jump target offset, an operator."""
    argrepr: str
    """``argval`` as dis would show it."""
    line: int | None
    """Source line, or None when the compiler recorded none."""


@dataclass(**_DC_OPTS)
class ExceptionEntry:
    """One row of a 3.11+ exception table (offsets in bytes)."""

    start: int
    end: int
    target: int
    depth: int
    lasti: bool


def available_versions() -> tuple[str, ...]:
    """The versions ("3.11") that have an opcode table in the package."""
    from importlib.resources import files

    names = [p.name[:-5] for p in files("bytecast.opcodes").iterdir()
             if p.name.endswith(".json")]
    return tuple(sorted(names, key=lambda v: tuple(int(x) for x in v.split("."))))


@cache
def opcode_table(python: tuple[int, int]) -> OpcodeTable:
    """The opcode table of Python ``python``; raises UsageError if bytecast has none."""
    from importlib.resources import files

    resource = files("bytecast.opcodes").joinpath(f"{python[0]}.{python[1]}.json")
    try:
        raw = json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        have = ", ".join(available_versions())
        raise UsageError(f"no opcode table for Python {python[0]}.{python[1]} "
                         f"(have: {have})") from None
    opmap: dict[str, int] = raw["opmap"]
    names = [f"<{i}>" for i in range(256)]
    for name, num in opmap.items():
        names[num] = name
    groups = {key: frozenset(opmap[n] for n in raw.get(key, ()) if n in opmap)
              for key in ("hasconst", "hasname", "hasjrel", "hasjabs", "haslocal", "hasfree",
                          "hascompare")}
    caches = [0] * 256
    for name, n in raw.get("cache_entries", {}).items():
        caches[opmap[name]] = n
    return OpcodeTable(
        python=python, names=tuple(names),
        hasarg=frozenset(opmap[n] for n in raw["hasarg"]), extended_arg=raw["EXTENDED_ARG"],
        groups=groups, cmp_op=tuple(raw["cmp_op"]),
        nb_ops=tuple(p[1] for p in raw.get("nb_ops", ())),
        intrinsic1=tuple(raw.get("intrinsic1", ())), intrinsic2=tuple(raw.get("intrinsic2", ())),
        caches=tuple(caches), source=raw.get("generated_by", ""))


# --- line tables ------------------------------------------------------------------------------


def line_ranges(code: CodeRecord) -> list[tuple[int, int, int | None]]:
    """``(start, end, line)`` byte ranges of ``code``, as ``co_lines()`` would give them."""
    table = code.linetable
    if code.python >= (3, 11):
        return _locations_311(table, code.firstlineno)
    if code.python >= (3, 10):
        return _linetable_310(table, code.firstlineno, len(code.code))
    return _lnotab(table, code.firstlineno, len(code.code), signed=code.python >= (3, 6))


def _lnotab(table: bytes, first: int, size: int,
            signed: bool) -> list[tuple[int, int, int | None]]:
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
    value = shift = 0
    while i < len(table):
        b = table[i]
        i += 1
        value |= (b & 63) << shift
        shift += 6
        if not b & 64:
            break
    return value, i


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


def exception_entries(code: CodeRecord) -> list[ExceptionEntry]:
    """The decoded 3.11+ exception table of ``code`` (empty before 3.11)."""
    table = code.exceptiontable
    out = []
    i = 0
    while i < len(table):
        start, i = _varint(table, i)
        length, i = _varint(table, i)
        target, i = _varint(table, i)
        dl, i = _varint(table, i)
        out.append(ExceptionEntry(start * 2, (start + length) * 2, target * 2, dl >> 1,
                                  bool(dl & 1)))
    return out


# --- instructions -----------------------------------------------------------------------------


def _item(seq: tuple[Any, ...], index: int) -> Any:
    if 0 <= index < len(seq):
        return seq[index]
    return _Bad(index)


class _Bad:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<bad index {self.index}>"


@lru_cache(maxsize=1)
def _repr() -> Any:
    import reprlib

    class _Bounded(reprlib.Repr):
        # Constants come from untrusted files: containers shared through references can nest
        # an exponentially large tree in a few bytes, so depth and width are both bounded.
        def repr_slice(self, x: slice, level: int) -> str:
            parts = (self.repr1(v, level - 1) for v in (x.start, x.stop, x.step))
            return f"slice({', '.join(parts)})"

        def repr_int(self, x: int, level: int) -> str:
            if x.bit_length() > 1000:  # decimal conversion of huge ints is slow or refused
                return f"<int of {x.bit_length()} bits>"
            return str(super().repr_int(x, level))

        def repr_CodeRecord(self, x: CodeRecord, level: int) -> str:
            return f"<code object {x.name}, file {x.filename!r}, line {x.firstlineno}>"

    bounded = _Bounded()
    bounded.maxlevel = 4
    bounded.maxtuple = bounded.maxlist = bounded.maxset = bounded.maxfrozenset = 10
    bounded.maxdict = 10
    bounded.maxstring = bounded.maxother = 200
    bounded.maxlong = 100
    return bounded


def _safe_repr(value: Any) -> str:
    try:
        text = str(_repr().repr(value))
    except (ValueError, RecursionError):  # huge ints, self-referencing containers
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


def instructions(code: CodeRecord, table: OpcodeTable | None = None) -> list[Instruction]:
    """Decode ``code.code`` into instructions, caches skipped, arguments resolved."""
    table = table or opcode_table(code.python)
    ver = code.python
    raw = code.code
    names = table.names
    groups = table.groups
    hasconst, hasname = groups["hasconst"], groups["hasname"]
    hasjrel, hasjabs = groups["hasjrel"], groups["hasjabs"]
    haslocal, hasfree, hascompare = groups["haslocal"], groups["hasfree"], groups["hascompare"]
    plus = code.localsplusnames if ver >= (3, 11) else ()
    cell_free = code.cellvars + code.freevars
    lines = line_ranges(code)
    li = 0
    out: list[Instruction] = []
    wordcode = ver >= (3, 6)
    i = 0
    n = len(raw)
    ext = 0
    start = 0
    while i < n:
        op = raw[i]
        offset = i
        if wordcode:
            if i + 1 >= n:
                break
            arg: int | None = raw[i + 1] | ext if op in table.hasarg else None
            i += 2
        elif op in table.hasarg:
            if i + 2 >= n:
                break
            arg = raw[i + 1] | (raw[i + 2] << 8) | ext
            i += 3
        else:
            arg = None
            i += 1
        caches = table.caches[op]
        if op == table.extended_arg and arg is not None:
            ext = arg << (8 if wordcode else 16)
            i += 2 * caches
            continue
        ext = 0
        name = names[op]
        argval: Any = arg
        argrepr = ""
        if arg is not None:
            if op in hasconst:
                argval = _item(code.consts, arg)
                argrepr = _safe_repr(argval)
            elif op in hasname:
                index = arg
                if ver >= (3, 11) and name == "LOAD_GLOBAL" or ver >= (3, 12) and name == "LOAD_ATTR":
                    index = arg >> 1
                elif name == "LOAD_SUPER_ATTR":
                    index = arg >> 2
                argval = _item(code.names, index)
                argrepr = str(argval)
            elif op in hasjrel:
                signed = -arg if "JUMP_BACKWARD" in name else arg
                # 3.10+ counts in code units, relative to the end of the caches
                argval = offset + 2 + 2 * caches + signed * 2 if ver >= (3, 10) else i + signed
                argrepr = f"to {argval}"
            elif op in hasjabs:
                argval = arg * 2 if ver >= (3, 10) else arg
                argrepr = f"to {argval}"
            elif op in haslocal:
                if ver >= (3, 13) and name in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST",
                                              "STORE_FAST_STORE_FAST"):
                    argval = (_item(plus, arg >> 4), _item(plus, arg & 15))
                    argrepr = "{}, {}".format(*argval)
                else:
                    argval = _item(plus if ver >= (3, 11) else code.varnames, arg)
                    argrepr = str(argval)
            elif op in hasfree:
                argval = _item(plus if ver >= (3, 11) else cell_free, arg)
                argrepr = str(argval)
            elif op in hascompare:
                shift = 5 if ver >= (3, 13) else 4 if ver >= (3, 12) else 0
                argval = _item(table.cmp_op, arg >> shift)
                argrepr = str(argval)
            elif name == "BINARY_OP":
                argrepr = str(_item(table.nb_ops, arg))
            elif name == "CALL_INTRINSIC_1":
                argrepr = str(_item(table.intrinsic1, arg))
            elif name == "CALL_INTRINSIC_2":
                argrepr = str(_item(table.intrinsic2, arg))
            elif name == "LOAD_SMALL_INT":
                argrepr = str(arg)
        while li < len(lines) and lines[li][1] <= offset:
            li += 1
        line = lines[li][2] if li < len(lines) and lines[li][0] <= offset else None
        out.append(Instruction(offset, start, op, name, arg, argval, argrepr, line))
        i += 2 * caches
        start = i
    return out


def disassemble(code: CodeRecord, recursive: bool = True) -> str:
    """A dis-like listing of ``code`` (and nested code objects when ``recursive``)."""
    parts: list[str] = []
    todo = [code]
    shown: set[int] = set()
    while todo:
        current = todo.pop(0)
        if id(current) in shown:  # a record shared by several parents is listed once
            continue
        shown.add(id(current))
        if parts:
            parts.append("")
        parts.append(f"Disassembly of <code {current.qualname}, file {current.filename!r}, "
                     f"line {current.firstlineno}>:")
        last_line: int | None = None
        for ins in instructions(current):
            line = ""
            if ins.line is not None and ins.line != last_line:
                line = str(ins.line)
                last_line = ins.line
            arg = "" if ins.arg is None else str(ins.arg)
            rendered = f"{line:>6} {ins.offset:>6} {ins.opname:<28} {arg:>5}"
            if ins.argrepr:
                rendered += f" ({ins.argrepr})"
            parts.append(rendered.rstrip())
        entries = exception_entries(current)
        if entries:
            parts.append("ExceptionTable:")
            for e in entries:
                lasti = " lasti" if e.lasti else ""
                parts.append(f"  {e.start} to {e.end - 2} -> {e.target} [{e.depth}]{lasti}")
        if recursive:
            todo.extend(current.children)
    return "\n".join(parts) + "\n"
