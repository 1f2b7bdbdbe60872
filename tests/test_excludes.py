"""Tests for bytecast.excludes: gitignore-style patterns, never a crash on any pattern or path."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bytecast.errors import UsageError
from bytecast.excludes import compile_excludes

GLOB = "ab.*?[]!-/\\^&~|:=(){}+$"
patterns = st.text(alphabet=st.sampled_from(GLOB) | st.characters(), max_size=12)
paths = st.lists(st.text(alphabet="ab.[]-\\/&:", min_size=1, max_size=4), min_size=1, max_size=4).map("/".join) \
    | st.text(max_size=20)


def compiled(pattern: str) -> object:
    try:
        return compile_excludes([pattern])
    except UsageError as exc:
        assert exc.field == "excludes"
        assert repr(pattern) in str(exc)
        return None


@example("[[:alpha:]]", ["a", "a/b", "[", "-"], False)
@example("[a&&b]", ["a", "a/b", "[", "-"], False)
@example("[a||b]", ["a", "a/b", "[", "-"], False)
@example("[a~~b]", ["a", "a/b", "[", "-"], False)
@example("[a--b]", ["a", "a/b", "[", "-"], False)
@example("[[]", ["a", "a/b", "[", "-"], False)
@example("[]a]", ["a", "a/b", "[", "-"], False)
@example("[!]", ["a", "a/b", "[", "-"], False)
@example("[z-a]", ["a", "a/b", "[", "-"], False)
@example("(", ["a", "a/b", "[", "-"], False)
@example("\\", ["a", "a/b", "[", "-"], False)
@given(patterns, st.lists(paths, max_size=5), st.booleans())
def test_any_pattern_is_refused_or_matches_without_raising(pattern: str, rels: list[str], is_dir: bool) -> None:
    match = compiled(pattern)
    if match is None:
        return
    assert callable(match)
    for rel in rels:
        assert match(rel, is_dir) in (True, False)


single_part = st.text(alphabet=st.sampled_from("ab.*?[]!-\\&~|"), min_size=1, max_size=8)
names = st.text(alphabet=st.sampled_from("ab.[]!-\\&~|"), min_size=1, max_size=6)


@settings(max_examples=500)
@given(single_part, st.lists(names, min_size=1, max_size=8))
def test_one_part_patterns_match_as_fnmatch(pattern: str, candidates: list[str]) -> None:
    """Without ``/`` (and without a ``^`` that fnmatch reads as a literal), a pattern matches a
    file name as :func:`fnmatch.fnmatchcase` does, at any depth."""
    match = compiled(pattern)
    if match is None:
        return
    assert callable(match)
    for name in candidates:
        expected = fnmatch.fnmatchcase(name, pattern)
        assert match(name, False) is expected, name
        assert match("d/" + name, False) is expected, name
        assert match("d/e/" + name, True) is expected, name


@pytest.mark.parametrize("pattern", ["", "/", "//", "[z-a]", "a[9-0]", "[]"])
def test_patterns_that_cannot_work(pattern: str) -> None:
    with pytest.raises(UsageError) as info:
        compile_excludes(["ok", pattern])
    assert info.value.field == "excludes"


def test_no_patterns() -> None:
    assert compile_excludes([]) is None


def test_leading_slash_anchors() -> None:
    match = compile_excludes(["/test/"])
    assert match is not None
    assert match("test", True)
    assert not match("a/test", True)
    assert not match("test", False)  # folders only
    assert not match("test/x", True)
    match = compile_excludes(["/setup.py"])
    assert match is not None
    assert match("setup.py", False) and not match("pkg/setup.py", False)


def test_middle_slash_anchors() -> None:
    match = compile_excludes(["a/b"])
    assert match is not None
    assert match("a/b", False) and match("a/b", True)
    assert not match("x/a/b", False)


def test_trailing_slash_folders_at_any_depth() -> None:
    match = compile_excludes(["test/"])
    assert match is not None
    for rel in ("test", "a/test", "a/b/test"):
        assert match(rel, True), rel
        assert not match(rel, False), rel
    assert not match("tests", True)
    assert not match("mytest", True)


def test_name_at_any_depth() -> None:
    match = compile_excludes(["build"])
    assert match is not None
    assert match("build", True) and match("build", False) and match("a/b/build", False)
    assert not match("build.py", False)
    assert not match("rebuild", False)


def test_double_star() -> None:
    match = compile_excludes(["**/conftest.py"])
    assert match is not None
    for rel in ("conftest.py", "a/conftest.py", "a/b/c/conftest.py"):
        assert match(rel, False), rel
    assert not match("xconftest.py", False)
    assert not match("a/conftest.pyc", False)
    match = compile_excludes(["a/**/z.py"])
    assert match is not None
    assert match("a/z.py", False) and match("a/b/c/z.py", False)
    assert not match("b/a/z.py", False)
    match = compile_excludes(["data/**"])
    assert match is not None
    assert match("data/x", False) and match("data/x/y.py", False)
    assert not match("other/data/x", False)


def test_star_stays_within_one_part() -> None:
    match = compile_excludes(["*.py"])
    assert match is not None
    assert match("m.py", False) and match("a/b/m.py", False)
    assert not match("m.pyc", False)
    match = compile_excludes(["a/*.py"])
    assert match is not None
    assert match("a/m.py", False)
    assert not match("a/b/m.py", False)
    match = compile_excludes(["a?b"])
    assert match is not None
    assert match("axb", False) and not match("a/b", False)


def test_character_classes() -> None:
    match = compile_excludes(["[!a]"])
    assert match is not None
    assert match("b", False) and match("x/b", False)
    assert not match("a", False)
    assert not match("bb", False)
    match = compile_excludes(["[a-c]x"])
    assert match is not None
    assert match("bx", False) and not match("dx", False)
    match = compile_excludes(["[[]x", "[&]y"])
    assert match is not None
    assert match("[x", False) and match("&y", False)
    assert not match("ax", False)


def test_several_patterns_any_matches() -> None:
    match = compile_excludes(["*.pyw", "/docs/"])
    assert match is not None
    assert match("a/b.pyw", False) and match("docs", True)
    assert not match("a/docs", True) and not match("a.py", False)
