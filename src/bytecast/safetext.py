"""Text that is safe to print, whatever a hostile file holds.

Names, strings and numbers read from a pyc reach a terminal in the text output of
``inspect``, ``--dis`` and ``imports``: :func:`escape` keeps printable characters and
writes everything else (control characters, ANSI escapes, lone surrogates) as a Python
escape; :func:`show_int` prints an integer of any size (CPython refuses to turn one of more
than 4,300 digits into text); :func:`bounded_repr` shows a constant in bounded time and
length. Structured results (records, JSON) keep the values themselves.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# No import of the reader here: the command line escapes every problem line through this
# module, and a compile that reports a syntax error must not load dataclasses and typing.

__all__ = ["bounded_repr", "escape", "show_int"]

_INT_BITS = 1000
"""Integers up to this many bits (301 digits) are shown in decimal, larger ones by size."""


def _escape_char(c: str) -> str:
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def escape(text: str) -> str:
    """``text`` with every character that is not printable written as ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN`` (spaces and backslashes stay as they are)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def show_int(value: int) -> str:
    """``value`` in decimal, or ``<int of N bits>`` when it is too large to print."""
    if value.bit_length() <= _INT_BITS:
        return str(value)
    sign = "-" if value < 0 else ""
    return f"<{sign}int of {value.bit_length()} bits>"


_MAX_ITEMS = 10
_MAX_DEPTH = 4
_MAX_TEXT = 200


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def bounded_repr(value: Any, limit: int = _MAX_TEXT) -> str:
    """A repr of a marshalled constant in at most about ``limit`` characters: containers
    shown to depth 4 and 10 items (crafted data can share one container many times over),
    long strings and bytes cut, huge integers by size, code objects by name."""
    budget = _Budget(limit)
    text = _repr(value, _MAX_DEPTH, budget)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _repr(value: Any, depth: int, budget: _Budget) -> str:
    if budget.left <= 0:
        return "..."
    text = _repr1(value, depth, budget)
    budget.left -= len(text)
    return text


def _repr1(value: Any, depth: int, budget: _Budget) -> str:
    kind = type(value)
    if kind is bool or value is None or value is Ellipsis or kind in (float, complex):
        return repr(value)
    if kind is int:
        return show_int(value)
    if kind is str or kind is bytes:
        cut = value[:_MAX_TEXT]
        return repr(cut) + ("..." if len(value) > _MAX_TEXT else "")
    from bytecast.coderecord import CodeRecord  # only bounded_repr needs it, once a constant is shown

    if isinstance(value, CodeRecord):
        return (f"<code object {escape(value.name)}, file {escape(repr(value.filename))}, "
                f"line {show_int(value.firstlineno)}>")
    if kind is slice:
        parts = [_repr(v, depth - 1, budget) for v in (value.start, value.stop, value.step)]
        return f"slice({', '.join(parts)})"
    if kind in (tuple, list, set, frozenset, dict):
        return _container(value, depth, budget)
    if value is StopIteration:
        return "StopIteration"
    return f"<{escape(kind.__name__)}>"


_BRACKETS: dict[type, tuple[str, str]] = {tuple: ("(", ")"), list: ("[", "]"), set: ("{", "}"),
             frozenset: ("frozenset({", "})"), dict: ("{", "}")}


_EMPTY: dict[type, str] = {tuple: "()", list: "[]", set: "set()", frozenset: "frozenset()",
                           dict: "{}"}


def _container(value: Any, depth: int, budget: _Budget) -> str:
    kind = type(value)
    opening, closing = _BRACKETS[kind]
    if not value:
        return _EMPTY[kind]
    if depth <= 0:
        return f"{opening}...{closing}"
    parts = []
    items = iter(value.items()) if kind is dict else iter(value)
    for count, item in enumerate(items):
        if count >= _MAX_ITEMS or budget.left <= 0:
            parts.append("...")
            break
        if kind is dict:
            parts.append(f"{_repr(item[0], depth - 1, budget)}: "
                         f"{_repr(item[1], depth - 1, budget)}")
        else:
            parts.append(_repr(item, depth - 1, budget))
    inner = ", ".join(parts)
    if kind is tuple and len(value) == 1:
        inner += ","
    return f"{opening}{inner}{closing}"
