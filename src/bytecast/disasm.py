"""Disassemble a :class:`~bytecast.unmarshal.CodeRecord` of any supported Python version.

The opcode tables are data files in ``bytecast/opcodes/X.Y.json``, generated from each
interpreter's own ``opcode`` module by ``tools/gen_opcodes.py``; they load on first use.
Line and exception tables are decoded by :mod:`bytecast.linetable`; 3.11+ inline caches are
skipped. Garbage bytecode never raises: unknown opcodes show as ``<N>``, out-of-range
arguments as ``<bad index N>``; EXTENDED_ARG chains of any length give exact arguments in
linear time. The listing escapes what is not printable and shows integers of any size
(:mod:`bytecast.safetext`); the instructions keep the values themselves.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from bytecast.coderecord import CodeRecord
from bytecast.errors import DataError
from bytecast.linetable import ExceptionEntry, exception_entries, line_ranges
from bytecast.safetext import bounded_repr, escape, show_int

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


def available_versions() -> tuple[str, ...]:
    """The versions ("3.11") that have an opcode table in the package."""
    from importlib.resources import files

    names = [p.name[:-5] for p in files("bytecast.opcodes").iterdir()
             if p.name.endswith(".json")]
    return tuple(sorted(names, key=lambda v: tuple(int(x) for x in v.split("."))))


@cache
def opcode_table(python: tuple[int, int]) -> OpcodeTable:
    """The opcode table of Python ``python``; raises DataError if bytecast has none (code of
    that version cannot be disassembled)."""
    from importlib.resources import files

    resource = files("bytecast.opcodes").joinpath(f"{python[0]}.{python[1]}.json")
    try:
        raw = json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        have = ", ".join(available_versions())
        raise DataError(f"no opcode table for Python {python[0]}.{python[1]}: its bytecode "
                        f"cannot be disassembled (tables: {have})") from None
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


# --- instructions -----------------------------------------------------------------------------


def _item(seq: tuple[Any, ...], index: int) -> Any:
    if 0 <= index < len(seq):
        return seq[index]
    return _Bad(index)


class _Bad:
    """An argument that indexes past the end of its table."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<bad index {show_int(self.index)}>"


def _text(value: Any) -> str:
    return escape(value) if isinstance(value, str) else str(value)


_PAIRED_LOCALS = frozenset({"LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST",
                            "STORE_FAST_STORE_FAST"})


def instructions(code: CodeRecord, table: OpcodeTable | None = None) -> list[Instruction]:
    """Decode ``code.code`` into instructions, caches skipped, arguments resolved."""
    table = table or opcode_table(code.python)
    ver = code.python
    raw = code.code
    names = table.names
    hasarg = table.hasarg
    extended_arg = table.extended_arg
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
    prefix = bytearray()  # EXTENDED_ARG argument bytes so far, most significant first
    start = 0
    while i < n:
        op = raw[i]
        offset = i
        arg: int | None = None
        caches = table.caches[op]
        if wordcode:
            if i + 1 >= n:
                break
            i += 2
            if op in hasarg:
                if op == extended_arg:
                    prefix.append(raw[offset + 1])
                    i += 2 * caches
                    continue
                arg = raw[offset + 1]
                if prefix:
                    prefix.append(arg)
                    arg = int.from_bytes(prefix, "big")
        elif op in hasarg:
            if i + 2 >= n:
                break
            i += 3
            if op == extended_arg:
                prefix.extend((raw[offset + 2], raw[offset + 1]))
                continue
            arg = raw[offset + 1] | (raw[offset + 2] << 8)
            if prefix:
                prefix.extend((raw[offset + 2], raw[offset + 1]))
                arg = int.from_bytes(prefix, "big")
        else:
            i += 1
        prefix.clear()
        name = names[op]
        argval: Any = arg
        argrepr = ""
        if arg is not None:
            if op in hasconst:
                argval = _item(code.consts, arg)
                argrepr = repr(argval) if isinstance(argval, _Bad) else bounded_repr(argval)
            elif op in hasname:
                index = arg
                if ver >= (3, 11) and name == "LOAD_GLOBAL" or ver >= (3, 12) and name == "LOAD_ATTR":
                    index = arg >> 1
                elif name == "LOAD_SUPER_ATTR":
                    index = arg >> 2
                argval = _item(code.names, index)
                argrepr = _text(argval)
            elif op in hasjrel:
                signed = -arg if "JUMP_BACKWARD" in name else arg
                # 3.10+ counts in code units, relative to the end of the caches
                argval = offset + 2 + 2 * caches + signed * 2 if ver >= (3, 10) else i + signed
                argrepr = f"to {show_int(argval)}"
            elif op in hasjabs:
                argval = arg * 2 if ver >= (3, 10) else arg
                argrepr = f"to {show_int(argval)}"
            elif op in haslocal:
                if ver >= (3, 13) and name in _PAIRED_LOCALS:
                    argval = (_item(plus, arg >> 4), _item(plus, arg & 15))
                    argrepr = f"{_text(argval[0])}, {_text(argval[1])}"
                else:
                    argval = _item(plus if ver >= (3, 11) else code.varnames, arg)
                    argrepr = _text(argval)
            elif op in hasfree:
                argval = _item(plus if ver >= (3, 11) else cell_free, arg)
                argrepr = _text(argval)
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
                argrepr = show_int(arg)
        while li < len(lines) and lines[li][1] <= offset:
            li += 1
        line = lines[li][2] if li < len(lines) and lines[li][0] <= offset else None
        out.append(Instruction(offset, start, op, name, arg, argval, argrepr, line))
        i += 2 * caches
        start = i
    return out


def disassemble(code: CodeRecord, recursive: bool = True) -> str:
    """A dis-like listing of ``code`` (and nested code objects when ``recursive``), safe to
    print: names escaped, integers of any size shown. Raises DataError when bytecast has no
    opcode table for the code's Python version."""
    parts: list[str] = []
    todo = [code]
    shown: set[int] = set()
    k = 0
    while k < len(todo):
        current = todo[k]
        k += 1
        if id(current) in shown:  # a record shared by several parents is listed once
            continue
        shown.add(id(current))
        if parts:
            parts.append("")
        parts.append(f"Disassembly of <code {escape(current.qualname)}, file "
                     f"{current.filename!r}, line {show_int(current.firstlineno)}>:")
        last_line: int | None = None
        for ins in instructions(current):
            line = ""
            if ins.line is not None and ins.line != last_line:
                line = show_int(ins.line)
                last_line = ins.line
            arg = "" if ins.arg is None else show_int(ins.arg)
            rendered = f"{line:>6} {ins.offset:>6} {ins.opname:<28} {arg:>5}"
            if ins.argrepr:
                rendered += f" ({ins.argrepr})"
            parts.append(rendered.rstrip())
        entries = exception_entries(current)
        if entries:
            parts.append("ExceptionTable:")
            for e in entries:
                lasti = " lasti" if e.lasti else ""
                parts.append(f"  {show_int(e.start)} to {show_int(e.end - 2)} -> "
                             f"{show_int(e.target)} [{show_int(e.depth)}]{lasti}")
        if recursive:
            todo.extend(current.children)
    return "\n".join(parts) + "\n"
