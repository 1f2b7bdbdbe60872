"""Finding the imports in compiled code, for every Python the disassembler knows.

:func:`find_imports` walks a module's code objects and returns every ``IMPORT_NAME`` (with
its level and fromlist) and every ``__import__("x")`` / ``importlib.import_module("x")``
with a constant argument, with its line, scope (module level, class body, function) and
whether a try whose handler catches ImportError guards it. The work is linear in the code:
crafted exception tables and try blocks cannot make it quadratic.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from bytecast.coderecord import CodeRecord
from bytecast.disasm import Instruction, instructions
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
    how: str


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


def find_imports(code: CodeRecord) -> list[FoundImport]:
    """Every import in ``code`` and the code nested in it (names as written, not resolved).

    Raises DataError when bytecast has no opcode table for the code's Python version.
    """
    out: list[FoundImport] = []
    stack: list[tuple[CodeRecord, str]] = [(code, "module")]
    seen = 0
    visited: set[int] = set()
    while stack and seen < 100_000:
        current, scope = stack.pop()
        if id(current) in visited:  # shared by several parents: crafted data only
            continue
        visited.add(id(current))
        seen += 1
        ins = instructions(current)
        ranges = _guard_ranges(current, ins)
        for k, item in enumerate(ins):
            how = None
            name: str | None = None
            level = 0
            fromlist: tuple[str, ...] = ()
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
                j = k + 1
                while j < len(ins) and ins[j].opname in _SKIP:
                    j += 1
                if j < len(ins):
                    ok, value = _const(ins[j])
                    text = _text(value) if ok else None
                    if text and not text.startswith("."):
                        name = text
                        how = str(item.argval)
            if how is None or not name and not fromlist:
                continue
            guarded = ranges.covers(item.offset)
            out.append(FoundImport(name or "", level, fromlist, item.line, scope, guarded, how))
        for child in current.children:
            child_scope = "class" if not child.flags & _CO_NEWLOCALS else "function"
            stack.append((child, child_scope))
    return out
