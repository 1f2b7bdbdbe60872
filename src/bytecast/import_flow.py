"""Which conditions an import runs under, from the control flow of the bytecode itself.

An import inside ``if TYPE_CHECKING:`` (``typing.TYPE_CHECKING``, a module's own
``TYPE_CHECKING = False``, Python 2's ``if False:``) never runs: it is *typing-only*. An import
inside ``if sys.version_info >= (3, 14):`` or ``if PY314:`` runs on some Pythons only: it is
*version-guarded*. Each Python lays these tests out differently (absolute jump targets before
3.10, code units after; 3.11's forward and backward jumps; 3.12's relative-only jumps; 3.13's
``TO_BOOL`` before the jump; the compiler may also invert a test or copy the code after it), so
no pattern over the instruction sequence holds everywhere. What holds is the control flow: an
import is typing-only when no path from the entry reaches it once the "condition is true" edge
of a ``TYPE_CHECKING`` test is cut, and version-guarded when cutting one edge of a version test
makes it unreachable.

The work is bounded: every reachability walk of one code object shares a step budget linear in
its size; past it, the imports left are reported plainly (never wrongly typing-only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bytecast.coderecord import CodeRecord
from bytecast.disasm import Instruction, opcode_table
from bytecast.linetable import exception_entries

__all__ = ["TYPING", "VERSION", "conditions", "is_version_flag", "version_flags"]

TYPING = "typing"
"""Marks an import that runs only while a type checker reads the code."""
VERSION = "version"
"""Marks an import that runs only on some Python versions."""

# No fall-through after these: the next instruction is reached only by a jump.
_STOPS = frozenset({
    "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD", "JUMP_ABSOLUTE",
    "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT", "BREAK_LOOP",
    "CONTINUE_LOOP",
})
_RETURNS = frozenset({"RETURN_VALUE", "RETURN_CONST"})
# What a condition's expression is made of; the backward look from a test stops at anything else.
_EXPRESSION = frozenset({
    "LOAD_NAME", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "LOAD_CONST", "LOAD_SMALL_INT",
    "LOAD_FAST", "LOAD_DEREF", "LOAD_FAST_BORROW", "LOAD_FAST_CHECK", "COMPARE_OP", "IS_OP",
    "CONTAINS_OP", "BINARY_SUBSCR", "BINARY_OP", "TO_BOOL", "UNARY_NOT", "PUSH_NULL", "CACHE",
    "NOP", "EXTENDED_ARG", "COPY", "SWAP", "PRECALL", "CALL", "CALL_FUNCTION", "CALL_METHOD",
})
_TRANSPARENT = frozenset({"TO_BOOL", "NOP", "CACHE", "EXTENDED_ARG"})
_NAME_LOADS = frozenset({"LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_FAST", "LOAD_FAST_BORROW",
                         "LOAD_FAST_CHECK", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_GLOBALS"})
_STORES = frozenset({"STORE_NAME", "STORE_GLOBAL"})
_VERSION_ATTRS = frozenset({"version_info", "hexversion"})
_FLAG = re.compile(r"_?(?:IS_)?PY(?:THON)?_?[23][0-9]*(?:_?PLUS|_OR_(?:NEWER|LATER|ABOVE|GREATER))?")
_WINDOW = 16


def is_version_flag(name: str) -> bool:
    """True for the names compat modules give a version test (``PY2``, ``PY310``, ``PY38_PLUS``)."""
    return _FLAG.fullmatch(name) is not None


def _window(ins: Sequence[Instruction], k: int) -> list[Instruction]:
    """The expression instructions just before ins[k], nearest last."""
    j = k
    while j > 0 and k - j < _WINDOW and ins[j - 1].opname in _EXPRESSION:
        j -= 1
    return list(ins[j:k])


def _mentions_version(window: Iterable[Instruction], flags: frozenset[str]) -> bool:
    for item in window:
        if isinstance(item.argval, str) and (
                item.argval in _VERSION_ATTRS and item.opname in ("LOAD_ATTR", "LOAD_METHOD")
                or (item.argval in flags or is_version_flag(item.argval))
                and (item.opname in _NAME_LOADS or item.opname == "LOAD_ATTR")):
            return True
    return False


def version_flags(code: CodeRecord, ins: Sequence[Instruction]) -> frozenset[str]:
    """Names ``code`` (a module) sets from a version test (``PY314 = sys.version_info >= ...``)."""
    out = set()
    for k, item in enumerate(ins):
        if item.opname in _STORES and isinstance(item.argval, str) \
                and _mentions_version(_window(ins, k), frozenset()):
            out.add(item.argval)
    return frozenset(out)


def _typing_test(window: list[Instruction]) -> tuple[bool, bool]:
    """(is a TYPE_CHECKING / False test, inverted by ``not``)."""
    tail = [item for item in window if item.opname not in _TRANSPARENT]
    inverted = False
    while tail and tail[-1].opname == "UNARY_NOT":
        inverted = not inverted
        tail.pop()
    if not tail:
        return False, False
    last = tail[-1]
    if last.argval == "TYPE_CHECKING" and (last.opname in _NAME_LOADS or last.opname == "LOAD_ATTR"):
        return True, inverted
    if last.opname in ("LOAD_NAME", "LOAD_GLOBAL") and last.argval == "False":  # Python 2
        return True, inverted
    if last.opname == "LOAD_CONST" and last.argval is False:
        return True, inverted
    return False, False


def _successors(code: CodeRecord, ins: Sequence[Instruction]) -> list[list[int]] | None:
    """For each instruction, the indices control can go to next (handlers included)."""
    table = opcode_table(code.python)
    jumps = table.groups["hasjrel"] | table.groups["hasjabs"]
    by_offset = {item.offset: k for k, item in enumerate(ins)}
    starts = {item.start: k for k, item in enumerate(ins)}
    out: list[list[int]] = []
    loops: list[int] = []  # before 3.8: ends of the SETUP_LOOP blocks open here, innermost last
    for k, item in enumerate(ins):
        nxt: list[int] = []
        while loops and item.offset >= loops[-1]:
            loops.pop()
        if item.opname not in _STOPS and k + 1 < len(ins):
            nxt.append(k + 1)
        if item.opname == "SETUP_LOOP" and isinstance(item.argval, int):
            loops.append(item.argval)
        elif item.opname == "BREAK_LOOP" and loops:  # jumps to the end of its loop
            end = starts.get(loops[-1], by_offset.get(loops[-1]))
            if end is not None:
                nxt.append(end)
        if item.opcode in jumps and isinstance(item.argval, int):
            target = starts.get(item.argval, by_offset.get(item.argval))
            if target is not None:
                nxt.append(target)
        out.append(nxt)
    if code.python >= (3, 11):
        edges = 0
        offsets = [item.offset for item in ins]
        from bisect import bisect_left

        for entry in exception_entries(code):
            handler = starts.get(entry.target, by_offset.get(entry.target))
            if handler is None:
                continue
            for k in range(bisect_left(offsets, entry.start), len(ins)):
                if offsets[k] >= entry.end:
                    break
                edges += 1
                if edges > 4 * len(ins) + 1000:  # overlapping entries: crafted data only
                    return None
                out[k].append(handler)
    return out


def _reachable(succ: list[list[int]], cut: tuple[int, int] | None, budget: list[int], start: int = 0
               ) -> bytearray | None:
    """Indices reachable from ``start`` (the entry) with the edge ``cut`` removed (None: out of
    budget)."""
    seen = bytearray(len(succ))
    if not succ:
        return seen
    seen[start] = 1
    todo = [start]
    while todo:
        k = todo.pop()
        budget[0] -= 1
        if budget[0] < 0:
            return None
        for j in succ[k]:
            if not seen[j] and (cut is None or (k, j) != cut):
                seen[j] = 1
                todo.append(j)
    return seen


def _edges(ins: Sequence[Instruction], succ: list[list[int]], k: int, inverted: bool
           ) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(the edge taken when the test at ins[k] is true, the one taken when false)."""
    fall = (k, k + 1) if k + 1 in succ[k] else None
    jumped = [j for j in succ[k] if j != k + 1]
    jump = (k, jumped[0]) if jumped else None
    when_true, when_false = (jump, fall) if "IF_TRUE" in ins[k].opname else (fall, jump)
    return (when_false, when_true) if inverted else (when_true, when_false)


def conditions(code: CodeRecord, ins: Sequence[Instruction], wanted: Sequence[int],
               flags: frozenset[str] = frozenset()) -> dict[int, str]:
    """Instruction index -> :data:`TYPING` or :data:`VERSION`, for the indices in ``wanted``
    that run only under such a test (typing wins over version). ``flags``: module names set
    from a version test (:func:`version_flags`)."""
    tests = [k for k, item in enumerate(ins) if "JUMP" in item.opname
             and ("IF_FALSE" in item.opname or "IF_TRUE" in item.opname)]
    if not tests or not wanted:
        return {}
    succ = _successors(code, ins)
    if succ is None:
        return {}
    budget = [64 * len(ins) + 200_000]
    every = _reachable(succ, None, budget)
    if every is None:
        return {}
    exits = [k for k, item in enumerate(ins) if item.opname in _RETURNS]
    out: dict[int, str] = {}
    open_ = [w for w in wanted if every[w]]
    for k in tests:
        if not every[k] or not open_:
            continue
        window = _window(ins, k)
        typing, inverted = _typing_test(window)
        if not typing and not _mentions_version(window, flags):
            continue
        budget[0] -= len(open_) + len(exits)  # the loops below: crafted code with many tests pays too
        if budget[0] < 0:
            break
        if typing:
            when_true, _ = _edges(ins, succ, k, inverted)
            if when_true is None:
                continue
            seen = _reachable(succ, when_true, budget)
            if seen is None:
                break
            for w in open_:
                if not seen[w]:
                    out[w] = TYPING
            open_ = [w for w in open_ if out.get(w) != TYPING]
        else:
            pair = _edges(ins, succ, k, False)
            for edge, other in (pair, pair[::-1]):
                if edge is None or other is None:
                    continue
                seen = _reachable(succ, edge, budget)
                rest = _reachable(succ, None, budget, other[1])
                if seen is None or rest is None:
                    return out
                if not any(rest[e] for e in exits):
                    continue  # the other way only ends the code (raise): nothing is guarded
                for w in open_:
                    if not seen[w] and not rest[w] and w not in out:
                        out[w] = VERSION
    return out
