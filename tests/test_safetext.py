"""safetext: what reaches a terminal is printable, whatever the file held."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bytecast.safetext import bounded_repr, escape, show_int


def test_escape() -> None:
    assert escape("plain name é") == "plain name é"
    assert escape("a\x1b[2Jb\ud800\x00\n\u200b") == "a\\x1b[2Jb\\ud800\\x00\\x0a\\u200b"


@given(st.text())
def test_escape_is_always_printable(text: str) -> None:
    assert escape(text).isprintable()
    if text.isprintable():
        assert escape(text) == text


def test_show_int() -> None:
    assert show_int(-12) == "-12"
    assert show_int((1 << 1000) - 1) == str((1 << 1000) - 1)
    assert show_int(1 << 50_000) == "<int of 50001 bits>"
    assert show_int(-(1 << 50_000)) == "<-int of 50001 bits>"


def test_bounded_repr() -> None:
    shared: tuple[object, ...] = ("x",)
    for _ in range(50):  # 2**50 leaves when expanded
        shared = (shared, shared)
    text = bounded_repr(shared)
    assert len(text) <= 200 and text.startswith("((((")
    assert bounded_repr((1 << 30_000, "\x1b")) == "(<int of 30001 bits>, '\\x1b')"
    assert bounded_repr(frozenset()) == "frozenset()" and bounded_repr((1,)) == "(1,)"
    loop: list[object] = []
    loop.append(loop)
    assert bounded_repr(loop) == "[[[[[...]]]]]"
