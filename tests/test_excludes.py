"""Tests for bytecast.excludes: gitignore-style patterns, never a crash on any pattern or path."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bytecast.discover import Entry, Source, walk
from bytecast.errors import UsageError
from bytecast.excludes import Rules, compile_excludes, parse_lines
from conftest import run_cli

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


# --- git itself as the oracle ------------------------------------------------------------------

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed: it is the oracle of gitignore rules")

TOKENS = ["a", "b", "ab", "*", "**", "?", "/", "[ab]", "[a-b]", "[!a]", "[^b]", "[]a]", "[z-a]", "[", "]",
          "\\", "\\*", "\\!", "\\#", "\\ ", "!", " ", "#", ".", "-", "[[:alpha:]]", "[[:space:]]", "[[:nope:]]",
          "[:", "^", "$"]
git_patterns = st.lists(st.lists(st.sampled_from(TOKENS), max_size=6).map("".join), min_size=1, max_size=5)
PART = st.text(alphabet=st.sampled_from("ab.*?[]!-\\ #^$"), min_size=1, max_size=3).filter(
    lambda s: s not in (".", "..")) | st.sampled_from(["a.py", "b.py", "ab"])
tree_paths = st.lists(st.tuples(st.lists(PART, min_size=1, max_size=3).map("/".join), st.booleans()), min_size=1,
                      max_size=8, unique_by=lambda t: t[0])


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    repo = tmp_path_factory.mktemp("repo")
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL")}
    os.environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "xdg"), GIT_CONFIG_NOSYSTEM="1")
    os.environ.pop("GIT_CONFIG_GLOBAL", None)
    try:
        subprocess.run([GIT or "git", "init", "-q", str(repo)], check=True, timeout=60)
        yield repo
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _git_verdicts(repo: Path, rels: list[str]) -> dict[str, int]:
    """Path -> the 1-based line of the deciding pattern (0: none), from git check-ignore -v."""
    out = subprocess.run([GIT or "git", "-C", str(repo), "check-ignore", "--no-index", "-v", "-n", "-z", "--stdin"],
                         input=b"".join(os.fsencode(r) + b"\0" for r in rels), capture_output=True, timeout=60)
    assert out.returncode in (0, 1), out.stderr
    fields = out.stdout.split(b"\0")
    verdicts = {}
    for i in range(0, len(fields) - 1, 4):
        verdicts[os.fsdecode(fields[i + 3])] = int(fields[i + 1]) if fields[i + 1] else 0
    return verdicts


def _our_verdict(rules: Rules, rel: str, is_dir: bool) -> int:
    """The deciding line as git reports it: the first excluded folder above the path, else the
    path's own last matching pattern."""
    parts = rel.split("/")
    for k in range(1, len(parts)):
        folder = "/".join(parts[:k]).encode()
        index = rules.decide(folder, parts[k - 1].encode(), True)
        if index >= 0 and not rules.negative[index]:
            return index + 1
    return rules.decide(rel.encode(), parts[-1].encode(), is_dir) + 1


_counter = itertools.count()


@needs_git
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(["*.py", "!keep.py", "/top/", "a/**/b", "\\#x", "x\\ ", "y  "],
         [("keep.py", False), ("m.py", False), ("top/k", False), ("a/c/b/d", False), ("#x", False), ("x ", False),
          ("y", False), ("top2", True)])
@example(["a**/b", "**\\/a", "[[:space:]]", "[]a]", "[!]", "a//", "//a", "b\\", "[z-a]", "[^a]b"],
         [("ab", False), ("x/a", False), (" ", False), ("]", True), ("a/b", False), ("z", False), ("bb", False),
          ("^b", False)])
@example([".*test.*\\.py$", "^foo"], [("a.test.b.py", False), ("^foo", False)])
@given(git_patterns, tree_paths)
def test_rules_agree_with_git_check_ignore(git_repo: Path, lines: list[str], paths: list[tuple[str, bool]]) -> None:
    """Patterns written to a .gitignore: for every path (files and folders, with the folders
    above them) the line that decides is the one git check-ignore names; the walker with that
    .gitignore, and with the same patterns as -x, keeps exactly the files git keeps; and a -x
    pattern refused as unable to match is one git never matches."""
    root = git_repo / f"t{next(_counter)}"
    root.mkdir()
    rels = [r for r, _ in paths]
    folders = {"/".join(r.split("/")[:k]) for r in rels for k in range(1, r.count("/") + 1)}
    folders |= {r for r, is_dir in paths if is_dir}
    for rel in sorted(folders | set(rels)):
        path = root / rel
        if rel in folders:
            folders.add(rel)
            path.mkdir(exist_ok=True)
        else:
            path.write_text("")
    text = "\n".join(lines) + "\n"
    (root / ".gitignore").write_bytes(text.encode())
    every = sorted(folders | set(rels))
    verdicts = _git_verdicts(git_repo, [f"{root.name}/{r}" for r in every])
    rules = Rules(parse_lines(text.encode()))
    for rel in every:
        assert _our_verdict(rules, rel, rel in folders) == verdicts[f"{root.name}/{rel}"], (rel, lines)

    def ignored(rel: str) -> bool:
        line = verdicts[f"{root.name}/{rel}"]
        return line > 0 and not rules.negative[line - 1]

    # .gitignore rules choose folders and sources; other files are judged by -x only
    kept = {r for r in every if r not in folders and not any(ignored(a) for a in _above(r))
            and not (r.endswith(".py") and ignored(r))}
    walked = _files(walk([str(root)], [], kinds=("source", "file")), root)
    assert walked == kept
    accepted = []
    for number, line in enumerate(lines, 1):
        try:
            compile_excludes([line])
        except UsageError as exc:
            if "cannot match anything" in str(exc):
                assert number not in {verdicts[f"{root.name}/{r}"] for r in every}, line
            continue
        accepted.append(line)
    if accepted:
        walked = _files(walk([str(root)], [], excludes=accepted, ignore=False, kinds=("source", "file")), root)
        rules_x = Rules(parse_lines("\n".join(accepted).encode()))
        expected = set()
        for r in every:
            if r in folders:
                continue
            v = _our_verdict(rules_x, r, False)
            if v == 0 or rules_x.negative[v - 1]:
                expected.add(r)
        assert walked == expected, accepted


def _above(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]


def _files(found: Iterable[Source | Entry], root: Path) -> set[str]:
    rels = {os.path.relpath(item.path, root).replace(os.sep, "/") for item in found}
    return {r for r in rels if os.path.basename(r) != ".gitignore"}


@pytest.mark.parametrize(("pattern", "suggested"), [(".*test.*\\.py$", "'*test*.py'"), ("^foo", "'/foo*'"),
                                                    ("\\d+\\.py", "such as")])
def test_a_regular_expression_is_a_usage_error_that_suggests_a_glob(pattern: str, suggested: str) -> None:
    with pytest.raises(UsageError) as info:
        compile_excludes([pattern])
    assert info.value.field == "excludes"
    assert "regular expression" in str(info.value) and suggested in str(info.value)


@pytest.mark.parametrize("pattern", ["#notes", "   ", "!", "a[b", "[[:nope:]]", "x\\", "a//b", "[/]"])
def test_patterns_that_can_never_match_say_so(pattern: str) -> None:
    with pytest.raises(UsageError, match="cannot match anything"):
        compile_excludes([pattern])


def test_globs_that_look_like_regex_parts_are_kept() -> None:
    match = compile_excludes([".*/", "*.py[cod]", "test.*", "\\#x", "a\\ "])  # hidden folders, classes, escapes
    assert match is not None
    assert match(".git", True) and not match(".git", False)
    assert match("m.pyc", False) and match("test.py", False) and match("#x", False) and match("a ", False)
    assert not match("m.py", False)


def test_the_command_line_refuses_a_regex_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    for command in ("compile", "check", "clean", "imports"):
        result = run_cli(command, "-x", ".*test.*\\.py$", str(tmp_path))
        assert result.returncode == 2, (command, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "regular expression" in result.stderr, result.stderr
        assert "'*test*.py'" in result.stderr
    assert not (tmp_path / "__pycache__").exists()


@needs_git
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(["*.py", "!keep*"], ["!a.py", "b/"], ["x"], [("a/a.py", False), ("a/keep.py", False), ("a/b/c.py", False),
                                                     ("keep.py", False), ("x.py", False)])
@given(git_patterns, git_patterns, git_patterns, tree_paths)
def test_nested_ignore_files_and_info_exclude_agree_with_git(git_repo: Path, top: list[str], nested: list[str],
                                                            info: list[str], paths: list[tuple[str, bool]]) -> None:
    """A .gitignore at the top, one in folder ``a`` and the repository's info/exclude: the
    walker keeps exactly the sources (and the other files outside ignored folders) git keeps."""
    root = git_repo / f"t{next(_counter)}"
    root.mkdir()
    paths = [*(p for p in paths if not p[0].startswith("a/a.py/")), ("a/a.py", False)]
    rels = list(dict.fromkeys(r for r, _ in paths))
    folders = {"/".join(r.split("/")[:k]) for r in rels for k in range(1, r.count("/") + 1)}
    folders |= {r for r, is_dir in paths if is_dir and r != "a/a.py"}
    folders.discard("a/a.py")
    for rel in sorted(folders | set(rels)):
        if rel in folders:
            (root / rel).mkdir(exist_ok=True)
        elif not (root / rel).exists():
            (root / rel).write_text("")
    (root / ".gitignore").write_bytes(("\n".join(top) + "\n").encode())
    (root / "a" / ".gitignore").write_bytes(("\n".join(nested) + "\n").encode())
    exclude = git_repo / ".git" / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    # info/exclude is read from the top of the work tree: anchor its patterns below this example
    exclude.write_bytes(("\n".join(line if "/" not in line.rstrip("/") else f"/{root.name}/{line.lstrip('/')}"
                                   for line in info) + "\n").encode())
    try:
        every = sorted(folders | set(rels))
        out = subprocess.run([GIT or "git", "-C", str(git_repo), "check-ignore", "--no-index", "-z", "--stdin"],
                             input=b"".join(os.fsencode(f"{root.name}/{r}".rstrip("/")) + b"\0"
                                            for r in ["", *every]),
                             capture_output=True, timeout=60)
        assert out.returncode in (0, 1), out.stderr
        ignored = {os.fsdecode(p)[len(root.name) + 1:] for p in out.stdout.split(b"\0") if p}
        if "" in ignored:  # the named folder itself is excluded: it is walked whole
            ignored = set()
        kept = {r for r in every if r not in folders and not any(a in ignored for a in _above(r))
                and not (r.endswith(".py") and r in ignored)}
        assert _files(walk([str(root)], [], kinds=("source", "file")), root) == kept
    finally:
        exclude.write_bytes(b"")
