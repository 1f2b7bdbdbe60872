"""Finding the imports in compiled code, for every Python the disassembler knows.

:func:`find_imports` walks a module's code objects and returns every ``IMPORT_NAME`` (with
its level and fromlist) and every ``__import__("x")`` / ``importlib.import_module("x")``
with a constant argument, with its line, scope (module level, class body, function) and
whether a try whose handler catches ImportError guards it. The work is linear in the code:
crafted exception tables and try blocks cannot make it quadratic.

The conditions an import runs under come from :mod:`bytecast.import_flow`: typing-only under
``if TYPE_CHECKING:``, guarded under a version test. A call whose module name is computed
(``import_module("%s.base" % name)``, an f-string, a concatenation, a variable) is *dynamic*:
its name is not known until run time, so it is never a missing module.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from bytecast.coderecord import CodeRecord
from bytecast.disasm import Instruction, instructions
from bytecast.import_flow import TYPING, VERSION, conditions, version_flags
from bytecast.linetable import exception_entries

__all__ = ["FoundImport", "find_imports"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

_CO_NEWLOCALS = 0x2
_CATCHES_IMPORT = frozenset({"ImportError", "ModuleNotFoundError", "Exception",
                             "BaseException"})


@dataclass(**_DC_OPTS)
class FoundImport:
    """One import as written in the code (not yet resolved against its package)."""

    name: str
    level: int
    fromlist: tuple[str, ...]
    line: int | None
    scope: str
    guarded: bool
    """Inside a try whose handler catches ImportError, or under a version test."""
    how: str
    """"import", "from", "__import__" or "import_module"."""
    typing_only: bool = False
    """Under ``if TYPE_CHECKING:``: never run."""
    guard: str | None = None
    """Why it is guarded: "ImportError handler" or "version check"; None when not."""
    dynamic: bool = False
    """The module name is computed at run time; ``name`` is its constant part, if any."""


def _handler_catches_import(ins: list[Instruction], by_offset: dict[int, int],
                            target: int) -> bool:
    k = by_offset.get(target)
    if k is None:
        return False
    for item in ins[k:k + 14]:
        if item.opname in ("LOAD_GLOBAL", "LOAD_NAME") and item.argval in _CATCHES_IMPORT:
            return True
        if item.opname in ("RERAISE", "RETURN_VALUE", "END_FINALLY"):
            break
    return False


_SETUPS = frozenset({"SETUP_EXCEPT", "SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH",
                     "SETUP_LOOP"})


def _try_body_end(ins: list[Instruction], k: int, handler: int, budget: list[int]) -> int:
    """Where the try body opened by ins[k] ends (before 3.11): its last POP_BLOCK.

    The compiler may lay out the code that follows the try statement between the body and
    the handler (3.10 does), so the handler offset alone over-reaches. A POP_BLOCK before a
    ``return`` inside the body also closes the block, hence the *last* one at this depth.
    Real code scans a few instructions per block; crafted code could make every block scan
    to the end, so the scans of one code object share ``budget`` steps, past which a body
    runs to its handler.
    """
    depth = 1
    end = handler
    for j in range(k + 1, len(ins)):
        item = ins[j]
        if item.offset >= handler:
            break
        budget[0] -= 1
        if budget[0] < 0:
            return handler
        if item.opname in _SETUPS:
            depth += 1
        elif item.opname == "POP_BLOCK":
            depth -= 1
            if depth == 0:
                end = item.offset
                depth = 1  # later POP_BLOCKs of this block (after a return) count too
    return end


class _Ranges:
    """Byte ranges, merged, for a fast "is this offset inside one of them"."""

    __slots__ = ("ends", "starts")

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(r for r in ranges if r[1] > r[0]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [r[0] for r in merged]
        self.ends = [r[1] for r in merged]

    def covers(self, offset: int) -> bool:
        k = bisect_right(self.starts, offset) - 1
        return k >= 0 and offset < self.ends[k]


def _guard_ranges(code: CodeRecord, ins: list[Instruction]) -> _Ranges:
    """Byte ranges protected by a handler that catches ImportError."""
    by_offset = {item.offset: k for k, item in enumerate(ins)}
    ranges: list[tuple[int, int]] = []
    budget = [4 * len(ins) + 10_000]  # steps of the try-body scans, see _try_body_end
    if code.python >= (3, 11):
        for entry in exception_entries(code):
            if _handler_catches_import(ins, by_offset, entry.target):
                ranges.append((entry.start, entry.end))
    else:
        for k, item in enumerate(ins):
            if (item.opname in ("SETUP_EXCEPT", "SETUP_FINALLY")
                    and isinstance(item.argval, int)
                    and _handler_catches_import(ins, by_offset, item.argval)):
                ranges.append((item.offset, _try_body_end(ins, k, item.argval, budget)))
    return _Ranges(ranges)


def _const(item: Instruction) -> tuple[bool, Any]:
    if item.opname == "LOAD_CONST":
        return True, item.argval
    if item.opname == "LOAD_SMALL_INT":
        return True, item.arg
    return False, None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):  # Python 2 str constants
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


_SKIP = frozenset({"PUSH_NULL", "PRECALL", "CACHE", "NOP", "EXTENDED_ARG", "COPY_FREE_VARS"})
_CALLS = frozenset({"CALL", "CALL_FUNCTION", "CALL_METHOD", "CALL_KW", "CALL_FUNCTION_KW",
                    "CALL_FUNCTION_EX", "CALL_FUNCTION_VAR", "CALL_FUNCTION_VAR_KW"})
# Ops that build a string from the constant: the module name is computed.
_BUILDS = frozenset({"BINARY_MODULO", "BINARY_ADD", "BINARY_OP", "FORMAT_VALUE", "FORMAT_SIMPLE",
                     "FORMAT_WITH_SPEC", "BUILD_STRING", "CONVERT_VALUE", "LOAD_ATTR",
                     "LOAD_METHOD", "INPLACE_ADD", "INPLACE_MODULO"})
_LOOKAHEAD = 12


def _call_argument(ins: list[Instruction], k: int) -> tuple[str, str | None] | None:
    """What the call of the ``__import__``/``import_module`` loaded at ins[k] imports:
    ("static", name), ("dynamic", constant part or None), or None when no call follows."""
    j = k + 1
    while j < len(ins) and ins[j].opname in _SKIP:
        j += 1
    if j >= len(ins):
        return None
    ok, value = _const(ins[j])
    text = _text(value) if ok else None
    for m in range(j + (1 if ok else 0), min(len(ins), j + _LOOKAHEAD)):
        op = ins[m].opname
        if op in _CALLS:
            if text is None:
                return "dynamic", None
            return ("dynamic", text) if text.startswith(".") else ("static", text)
        if op in _BUILDS:
            return "dynamic", text
        if op.startswith(("STORE_", "POP_", "RETURN", "JUMP", "IMPORT")):
            return None  # the function is stored or passed, not called here
    return None


def find_imports(code: CodeRecord) -> list[FoundImport]:
    """Every import in ``code`` and the code nested in it (names as written, not resolved).

    Raises DataError when bytecast has no opcode table for the code's Python version.
    """
    out: list[FoundImport] = []
    stack: list[tuple[CodeRecord, str]] = [(code, "module")]
    seen = 0
    visited: set[int] = set()
    flags: frozenset[str] | None = None
    while stack and seen < 100_000:
        current, scope = stack.pop()
        if id(current) in visited:  # shared by several parents: crafted data only
            continue
        visited.add(id(current))
        seen += 1
        ins = instructions(current)
        if flags is None:  # the module's own code: the names it sets from a version test
            flags = version_flags(current, ins)
        ranges = _guard_ranges(current, ins)
        found: list[tuple[int, FoundImport]] = []
        for k, item in enumerate(ins):
            how = None
            name: str | None = None
            level = 0
            fromlist: tuple[str, ...] = ()
            dynamic = False
            if item.opname == "IMPORT_NAME":
                name = _text(item.argval)
                ok_level, lvl = _const(ins[k - 2]) if k >= 2 else (False, None)
                ok_from, frm = _const(ins[k - 1]) if k >= 1 else (False, None)
                level = lvl if ok_level and isinstance(lvl, int) else 0
                if ok_from and isinstance(frm, tuple):
                    fromlist = tuple(t for t in (_text(x) for x in frm) if t is not None)
                how = "from" if fromlist else "import"
            elif (item.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_ATTR", "LOAD_METHOD",
                                  "LOAD_DEREF", "LOAD_FAST")
                  and item.argval in ("__import__", "import_module")):
                call = _call_argument(ins, k)
                if call is not None:
                    dynamic = call[0] == "dynamic"
                    name = call[1]
                    how = str(item.argval)
            if how is None or not dynamic and not name and not fromlist:
                continue
            found.append((k, FoundImport(name or "", level, fromlist, item.line, scope,
                                         ranges.covers(item.offset), how, dynamic=dynamic)))
        if found:
            marks = conditions(current, ins, [k for k, _ in found], flags)
            for k, imp in found:
                mark = marks.get(k)
                if imp.guarded:
                    guard: str | None = "ImportError handler"
                elif mark == VERSION:
                    guard = "version check"
                else:
                    guard = None
                out.append(FoundImport(imp.name, imp.level, imp.fromlist, imp.line, imp.scope,
                                       guard is not None, imp.how, mark == TYPING, guard,
                                       imp.dynamic))
        for child in current.children:
            child_scope = "class" if not child.flags & _CO_NEWLOCALS else "function"
            stack.append((child, child_scope))
    return out
