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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Final

from bytecast._frozen import Record
from bytecast.coderecord import CodeRecord
from bytecast.errors import DataError
from bytecast.linetable import ExceptionEntry, exception_entries, line_ranges, line_starts
from bytecast.safetext import escape, show_int

__all__ = [
    "ExceptionEntry",
    "Instruction",
    "OpcodeTable",
    "available_versions",
    "code_info",
    "code_repr",
    "const_repr",
    "disassemble",
    "exception_entries",
    "instructions",
    "line_ranges",
    "line_starts",
    "opcode_table",
    "pretty_flags",
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


class Instruction(Record):
    """One decoded instruction, with what the code's own ``dis`` knows of it (immutable: its
    fields are ``Final``; a plain record, as a listing makes one per instruction)."""

    __slots__ = ("offset", "start", "opcode", "opname", "arg", "argval", "argrepr", "line",
                 "starts_line", "jump_target", "is_jump_target", "label")

    offset: Final[int]
    """Byte offset of the opcode (after any EXTENDED_ARG prefixes it absorbed)."""
    start: Final[int]
    """Byte offset where the instruction starts, EXTENDED_ARG prefixes included."""
    opcode: Final[int]
    """The opcode number."""
    opname: Final[str]
    """Its name for this Python version."""
    arg: Final[int | None]
    """The full argument (EXTENDED_ARG applied), or None."""
    argval: Final[Any]
    """The argument resolved: a constant, a name, a jump target offset, an operator."""
    argrepr: Final[str]
    """``argval`` as the code's own ``dis`` shows it (safe to print)."""
    line: Final[int | None]
    """Source line, or None when the compiler recorded none."""
    starts_line: Final[bool]
    """True when a source line starts here (``dis.findlinestarts`` of the code's Python)."""
    jump_target: Final[int | None]
    """The offset a jump goes to; None for other instructions."""
    is_jump_target: Final[bool]
    """True when a jump (or, from 3.11, an exception handler entry) leads here."""
    label: Final[int | None]
    """3.13+: the ``L<n>`` label ``dis`` gives this offset (jump and exception table offsets
    numbered in order); None before 3.13 and for offsets nothing refers to."""

    def __init__(self, offset: int, start: int, opcode: int, opname: str, arg: int | None,
                 argval: Any, argrepr: str, line: int | None, starts_line: bool = False,
                 jump_target: int | None = None, is_jump_target: bool = False,
                 label: int | None = None) -> None:
        self.offset = offset
        self.start = start
        self.opcode = opcode
        self.opname = opname
        self.arg = arg
        self.argval = argval
        self.argrepr = argrepr
        self.line = line
        self.starts_line = starts_line
        self.jump_target = jump_target
        self.is_jump_target = is_jump_target
        self.label = label


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
_FUNCTION_ATTRS = ("defaults", "kwdefaults", "annotations", "closure")
_CONVERSIONS = ("", "str", "repr", "ascii")


def _flag_names(arg: int) -> str:
    return ", ".join(s for i, s in enumerate(_FUNCTION_ATTRS) if arg & (1 << i))


def _name_note(name: str, arg: int, ver: tuple[int, int]) -> tuple[int, str]:
    """Where a name instruction's index is and what its low bit adds, as the code's own dis
    shows it: 3.11+ LOAD_GLOBAL and 3.12+ LOAD_ATTR/LOAD_SUPER_ATTR also push NULL."""
    if name == "LOAD_GLOBAL" and ver >= (3, 11):
        return arg >> 1, "NULL" if arg & 1 else ""
    if name == "LOAD_ATTR" and ver >= (3, 12):
        return arg >> 1, "NULL|self" if arg & 1 else ""
    if name == "LOAD_SUPER_ATTR":
        return arg >> 2, "NULL|self" if arg & 1 else ""
    return arg, ""


class _Consts:
    """Constant reprs of one code object, made once each (a listing shows the same constant
    many times) and cut only when a listing's budget of long text is spent."""

    __slots__ = ("budget", "code", "made")

    def __init__(self, code: CodeRecord, budget: _Budget) -> None:
        self.code = code
        self.budget = budget
        self.made: dict[int, str] = {}

    def show(self, index: int) -> str:
        text = self.made.get(index)
        if text is None:
            # once the budget is spent, a constant costs no more than its first characters
            limit = min(_MAX_CONST, max(_SHORT, self.budget.left))
            text = const_repr(_item(self.code.consts, index), limit)
            self.made[index] = text
        if len(text) > _SHORT:
            if len(text) > self.budget.left:
                return text[:_SHORT] + "..."
            self.budget.left -= len(text)
        return text


def instructions(code: CodeRecord, table: OpcodeTable | None = None,
                 extended_args: bool = False, *, _budget: _Budget | None = None,
                 _lines: tuple[list[tuple[int, int, int | None]], list[tuple[int, int | None]]]
                 | None = None) -> list[Instruction]:
    """Decode ``code.code`` into instructions, caches skipped, arguments resolved as the code's
    own ``dis`` resolves them. EXTENDED_ARG prefixes are folded into the instruction they
    extend, or listed as instructions of their own with ``extended_args`` (as ``dis`` does)."""
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
    consts = _Consts(code, _budget or _Budget(_LONG_TEXT))
    lines, start_list = _lines or _line_tables(code)
    starts = {offset for offset, _ in start_list}
    li = 0
    n_lines = len(lines)
    out: list[Instruction] = []
    jumps: list[int] = []  # indexes of the jumps in out
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
        name = names[op]
        argval: Any = None
        argrepr = ""
        jump: int | None = None
        if wordcode:
            if i + 1 >= n:
                break
            i += 2
            if op in hasarg:
                if op == extended_arg:
                    prefix.append(raw[offset + 1])
                    if extended_args:
                        ext = int.from_bytes(prefix, "big")
                        while li < n_lines and lines[li][1] <= offset:
                            li += 1
                        line = lines[li][2] if li < n_lines and lines[li][0] <= offset else None
                        out.append(Instruction(offset, offset, op, name, ext, ext, "", line,
                                               offset in starts))
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
                if extended_args:
                    ext = int.from_bytes(prefix, "big")
                    out.append(Instruction(offset, offset, op, name, ext, ext, "", None,
                                           offset in starts))
                continue
            arg = raw[offset + 1] | (raw[offset + 2] << 8)
            if prefix:
                prefix.extend((raw[offset + 2], raw[offset + 1]))
                arg = int.from_bytes(prefix, "big")
        else:
            i += 1
        prefix.clear()
        if arg is not None:
            argval = arg
            if op in hasconst:
                argval = _item(code.consts, arg)
                if ver[:2] == (3, 11) and name != "LOAD_CONST":
                    argval = None  # 3.11's dis resolves only LOAD_CONST (not KW_NAMES)
                else:
                    argrepr = consts.show(arg)
            elif op in hasname:
                index, note = _name_note(name, arg, ver)
                argval = _item(code.names, index)
                argrepr = _text(argval)
                if note and argrepr:
                    argrepr = f"{argrepr} + {note}" if ver >= (3, 13) else f"{note} + {argrepr}"
            elif op in hasjrel:
                signed = -arg if "JUMP_BACKWARD" in name else arg
                # 3.10+ counts in code units, relative to the end of the caches
                jump = argval = offset + 2 + 2 * caches + signed * 2 if ver >= (3, 10) else i + signed
                argrepr = f"to {show_int(argval)}"
            elif op in hasjabs:
                jump = argval = arg * 2 if ver >= (3, 10) else arg
                if ver >= (3, 10):  # before 3.10, dis names no target of an absolute jump
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
                if ver >= (3, 13) and arg & 16:
                    argrepr = f"bool({argrepr})"
            elif name == "BINARY_OP":
                argrepr = str(_item(table.nb_ops, arg))
            elif name == "CALL_INTRINSIC_1":
                argrepr = str(_item(table.intrinsic1, arg))
            elif name == "CALL_INTRINSIC_2":
                argrepr = str(_item(table.intrinsic2, arg))
            elif name == "LOAD_SMALL_INT":
                argrepr = show_int(arg)
            elif name == "FORMAT_VALUE" and ver >= (3, 6):
                argrepr = _CONVERSIONS[arg & 3]
                if arg & 4:
                    argrepr += ", with format" if argrepr else "with format"
            elif name == "CONVERT_VALUE":
                argrepr = str(_item(_CONVERSIONS, arg))
            elif name == "MAKE_FUNCTION" and ver >= (3, 8) or name == "SET_FUNCTION_ATTRIBUTE":
                argrepr = _flag_names(arg)
        while li < n_lines and lines[li][1] <= offset:
            li += 1
        line = lines[li][2] if li < n_lines and lines[li][0] <= offset else None
        if jump is not None:
            jumps.append(len(out))
        out.append(Instruction(offset, start, op, name, arg, argval, argrepr, line,
                               offset in starts, jump))
        i += 2 * caches
        start = i
    return _mark_targets(code, out, jumps)


def _mark_targets(code: CodeRecord, out: list[Instruction], jumps: list[int]
                  ) -> list[Instruction]:
    """``out`` with the instructions jumps lead to marked (and, from 3.11, exception handlers;
    from 3.13, every offset the exception table names), and 3.13's labels given."""
    ver = code.python
    targets: set[int] = set()
    for k in jumps:
        jump = out[k].jump_target
        if jump is not None:
            targets.add(jump)
    if ver >= (3, 11):
        for e in exception_entries(code):
            if ver >= (3, 13):
                targets.update((e.start, e.end, e.target))
            elif e.end > e.start:
                targets.add(e.target)
    if not targets:
        return out
    labels = {offset: k + 1 for k, offset in enumerate(sorted(targets))} \
        if ver >= (3, 13) else {}
    for k, item in enumerate(out):
        if item.offset in targets or labels and item.jump_target is not None:
            argrepr = item.argrepr
            if labels and item.jump_target is not None:
                argrepr = f"to L{labels[item.jump_target]}"
            out[k] = Instruction(item.offset, item.start, item.opcode, item.opname, item.arg,
                                 item.argval, argrepr, item.line, item.starts_line,
                                 item.jump_target, item.offset in targets,
                                 labels.get(item.offset))
    return out


# --- constants as dis shows them --------------------------------------------------------------

_SHORT = 200
"""Characters of a constant always shown; longer ones are cut once a listing's budget is spent."""
_LONG_TEXT = 4_000_000
"""Characters of long constants one listing may show in full: every real module fits (the
most, pydoc's topics, shows 0.5 million); a crafted file that repeats a huge constant, or
holds many, gets the rest cut instead of gigabytes of text and minutes of work."""
_MAX_CONST = 1_000_000
"""No one constant's repr grows past this (the longest in the standard library is 66,000;
a shared tuple nested 30 deep is 2**30 items)."""


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def code_repr(code: CodeRecord) -> str:
    """A code object as ``dis`` shows it, without the memory address (the same for every run):
    ``<code object NAME, file "FILE", line N>``."""
    return (f'<code object {escape(code.name)}, file "{escape(code.filename)}", '
            f"line {show_int(code.firstlineno)}>")


def const_repr(value: Any, limit: int = _MAX_CONST) -> str:
    """``repr()`` of a marshalled constant as the code's own Python writes it, safe to print
    and the same in every run: code objects by :func:`code_repr`, set items in sorted order
    (their order in a live set depends on the hash seed), integers too large to print by
    size; past ``limit`` characters the text is cut and ends with ``...``."""
    budget = _Budget(limit)
    parts: list[str] = []
    _const_parts(value, parts, budget)
    text = "".join(parts)
    return text if budget.left >= 0 else text[:limit] + "..."


def _set_order(item: Any) -> tuple[int, Any]:
    """Set items in an order that does not depend on the hash seed: numbers by value, then
    everything else by its text."""
    if type(item) in (int, float):
        return (0, item) if item == item else (1, repr(item))  # NaN is not ordered
    return (1, const_repr(item, _SHORT))


def _const_parts(value: Any, out: list[str], budget: _Budget) -> None:
    if budget.left < 0:
        return
    kind = type(value)
    if kind is tuple or kind is list:
        opening, closing = ("(", ")") if kind is tuple else ("[", "]")
        out.append(opening)
        for k, item in enumerate(value):
            if k:
                out.append(", ")
            _const_parts(item, out, budget)
            if budget.left < 0:
                return
        out.append("," + closing if kind is tuple and len(value) == 1 else closing)
        budget.left -= 2 + 2 * len(value)
        return
    if kind is frozenset or kind is set or kind is dict:
        if not value:
            text = {frozenset: "frozenset()", set: "set()", dict: "{}"}[kind]
        else:
            out.append("frozenset({" if kind is frozenset else "{")
            items = value.items() if kind is dict else sorted(value, key=_set_order)
            for k, item in enumerate(items):
                if k:
                    out.append(", ")
                if kind is dict:
                    _const_parts(item[0], out, budget)
                    out.append(": ")
                    _const_parts(item[1], out, budget)
                else:
                    _const_parts(item, out, budget)
                if budget.left < 0:
                    return
            text = "})" if kind is frozenset else "}"
            budget.left -= 2 * len(value)
    elif kind is int:
        try:
            text = repr(value) if value.bit_length() <= 14_000 else show_int(value)
        except ValueError:  # past this interpreter's int_max_str_digits
            text = show_int(value)
    elif kind is str or kind is bytes:
        text = repr(value[:budget.left + 1]) if len(value) > budget.left else repr(value)
    elif isinstance(value, CodeRecord):
        text = code_repr(value)
    elif value is None or value is Ellipsis or kind in (bool, float, complex, slice) \
            or value is StopIteration or isinstance(value, _Bad):
        text = repr(value)
    else:
        text = f"<{escape(kind.__name__)}>"
    out.append(text)
    budget.left -= len(text)


# --- listings ---------------------------------------------------------------------------------


def disassemble(code: CodeRecord, recursive: bool | None = None,
                source: Sequence[str] | None = None) -> str:
    """The text ``dis.dis(code)`` of the code's own Python prints (3.6-3.13; 2.7 in the 3.6
    layout), safe to print: names escaped, integers of any size shown, code objects without
    their memory address (see :func:`code_repr`), set items sorted.

    Nested code objects follow their parent, depth first, when ``recursive`` (by default as
    that Python's ``dis.dis`` does: from 3.7 on). With ``source``
    (the lines of the source file), each source line is shown as a ``#`` comment before the
    instructions that start it. Raises DataError when bytecast has no opcode table for the
    code's Python version."""
    if recursive is None:
        recursive = code.python >= (3, 7)
    parts: list[str] = []
    budget = _Budget(_LONG_TEXT)
    stack: list[tuple[CodeRecord, bool]] = [(code, False)]
    shown: set[int] = set()
    while stack:
        current, nested = stack.pop()
        if id(current) in shown:  # a record shared by several parents is listed once
            continue
        shown.add(id(current))
        if nested:
            parts.append("")
            parts.append(f"Disassembly of {code_repr(current)}:")
        _listing(current, parts, budget, source)
        if recursive:
            stack.extend((child, True) for child in reversed(current.children))
    return "\n".join(parts) + "\n" if parts else ""


def _line_tables(code: CodeRecord
                 ) -> tuple[list[tuple[int, int, int | None]], list[tuple[int, int | None]]]:
    ranges = line_ranges(code)
    return ranges, line_starts(code, ranges)


def _listing(code: CodeRecord, parts: list[str], budget: _Budget,
             source: Sequence[str] | None) -> None:
    ver = code.python
    tables = _line_tables(code)
    ins = instructions(code, extended_args=True, _budget=budget, _lines=tables)
    starts = dict(tables[1])
    entries = exception_entries(code)
    if ver >= (3, 13):
        _listing_313(code, ins, starts, entries, parts, source)
        return
    values = [v for v in starts.values() if v is not None]
    width = (max(3, len(show_int(max(values)))) if values else 0)
    if ver < (3, 7) or not values and ver < (3, 10):
        width = 3  # 3.6's column is 3 wide whatever; until 3.9 it is there even with no lines
    offset_width = max(4, len(str(len(code.code) - 2))) if ver >= (3, 7) else 4
    blank = " " * width + " " if width else ""
    add = parts.append
    for item in ins:
        offset = item.offset
        head = blank
        if width and item.starts_line:
            if offset > 0:
                add("")
            line = starts.get(offset)
            if source is not None:
                _source_comment(source, line, parts)
            if line is not None:
                head = show_int(line).rjust(width) + " "
        # the fields dis joins with spaces: line, current-instruction mark, target mark,
        # offset, name, argument, its meaning
        text = f"{head}    {'>>' if item.is_jump_target else '  '} {offset:>{offset_width}} " \
            f"{item.opname:<{_OPNAME_WIDTH}}"
        if item.arg is not None:
            text += f" {show_int(item.arg):>{_OPARG_WIDTH}}"
            if item.argrepr:
                text += f" ({item.argrepr})"
        add(text.rstrip())
    if entries:
        parts.append("ExceptionTable:")
        for e in entries:
            lasti = " lasti" if e.lasti else ""
            parts.append(f"  {show_int(e.start)} to {show_int(e.end - 2)} -> "
                         f"{show_int(e.target)} [{show_int(e.depth)}]{lasti}")


_OPNAME_WIDTH = 20
_OPARG_WIDTH = 5
_NO_LINE = "  --"


def _listing_313(code: CodeRecord, ins: list[Instruction], starts: dict[int, int | None],
                 entries: list[ExceptionEntry], parts: list[str],
                 source: Sequence[str] | None) -> None:
    values = [v for v in starts.values() if v]  # dis filters falsy lines, 0 included
    width = 0
    if values:
        width = max(3, len(show_int(max(values))))
        if width < len(_NO_LINE) and None in starts.values():
            width = len(_NO_LINE)
    # the labels instructions() numbered: every jump target and exception table offset
    numbered = {offset: k + 1 for k, offset in enumerate(sorted(
        {e for entry in entries for e in (entry.start, entry.end, entry.target)}
        | {i.jump_target for i in ins if i.jump_target is not None}))}
    label_width = 4 + len(str(len(numbered)))
    for item in ins:
        if width and item.starts_line:
            if item.offset > 0:
                parts.append("")
            _source_comment(source, starts.get(item.offset), parts)
        fields = []
        if width:
            if item.starts_line:
                line = starts[item.offset]
                fields.append(_NO_LINE.rjust(width) if line is None else show_int(line).rjust(width))
            else:
                fields.append(" " * width)
        fields.append(f"L{item.label}:".rjust(label_width) if item.label is not None
                      else " " * label_width)
        fields.append("   ")
        fields.append(item.opname.ljust(_OPNAME_WIDTH))
        if item.arg is not None:
            excess = max(0, len(item.opname) - _OPNAME_WIDTH)
            fields.append(show_int(item.arg).rjust(_OPARG_WIDTH - excess))
            if item.argrepr:
                fields.append(f"({item.argrepr})")
        parts.append(" ".join(fields).rstrip())
    if entries:
        parts.append("ExceptionTable:")
        for e in entries:
            lasti = " lasti" if e.lasti else ""
            parts.append(f"  L{numbered[e.start]} to L{numbered[e.end]} -> L{numbered[e.target]} "
                         f"[{show_int(e.depth)}]{lasti}")


def _source_comment(source: Sequence[str] | None, line: int | None, parts: list[str]) -> None:
    """The source line ``line`` as a comment (``--source``), when there is one."""
    if source is None or line is None or not 0 < line <= len(source):
        return
    text = source[line - 1].rstrip().expandtabs()
    if text:
        parts.append(f"# {escape(text)}")


# --- code details (dis.code_info) -------------------------------------------------------------

_FLAG_NAMES = {1: "OPTIMIZED", 2: "NEWLOCALS", 4: "VARARGS", 8: "VARKEYWORDS", 16: "NESTED",
               32: "GENERATOR", 64: "NOFREE", 128: "COROUTINE", 256: "ITERABLE_COROUTINE",
               512: "ASYNC_GENERATOR"}


def pretty_flags(flags: int) -> str:
    """``co_flags`` as ``dis.pretty_flags`` names them (unknown bits in hex)."""
    names = []
    for i in range(32):
        flag = 1 << i
        if flags & flag:
            names.append(_FLAG_NAMES.get(flag, hex(flag)))
            flags ^= flag
            if not flags:
                break
    else:
        names.append(hex(flags))
    return ", ".join(names)


def code_info(code: CodeRecord) -> str:
    """The text ``dis.code_info(code)`` of the code's own Python gives, safe to print (see
    :func:`const_repr` for how constants are written)."""
    lines = [
        f"Name:              {escape(code.name)}",
        f"Filename:          {escape(code.filename)}",
        f"Argument count:    {show_int(code.argcount)}",
        f"Positional-only arguments: {show_int(code.posonlyargcount)}",
        f"Kw-only arguments: {show_int(code.kwonlyargcount)}",
        f"Number of locals:  {show_int(code.nlocals)}",
        f"Stack size:        {show_int(code.stacksize)}",
        f"Flags:             {pretty_flags(code.flags)}",
    ]
    if code.python < (3, 8):  # positional-only parameters came with 3.8
        del lines[3]
    if code.consts:
        lines.append("Constants:")
        lines.extend(f"{k:4d}: {const_repr(c)}" for k, c in enumerate(code.consts))
    for title, names in (("Names", code.names), ("Variable names", code.varnames),
                         ("Free variables", code.freevars), ("Cell variables", code.cellvars)):
        if names:
            lines.append(f"{title}:")
            lines.extend(f"{k:4d}: {_text(name)}" for k, name in enumerate(names))
    return "\n".join(lines)
