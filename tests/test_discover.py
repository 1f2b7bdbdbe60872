"""The one walker: sources, other files, caches; excludes, depth, links; each folder once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bytecast.discover import Entry, Source, walk
from bytecast.errors import UsageError
from bytecast.problem import Problem


def _tree(root: Path) -> Path:
    for rel, text in {
        "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n", "pkg/data.json": "{}", "pkg/py.typed": "",
        "pkg/sub/deep.py": "", "pkg/sub/native.so": "", "pkg/__pycache__/mod.cpython-311.pyc": "x",
        "pkg/legacy.pyc": "x", "top.py": "", "notes.txt": "",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _walk(paths: list[str], **kw: object) -> tuple[list[tuple[str, str]], list[Problem]]:
    problems: list[Problem] = []
    out: list[tuple[str, str]] = []
    for item in walk(paths, problems, **kw):  # type: ignore[arg-type]
        kind = "source" if isinstance(item, Source) else item.kind
        out.append((kind, item.relpath))
    return out, problems


def test_kinds_select_what_comes(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    sources, _ = _walk([root])
    assert sources == [("source", "pkg/__init__.py"), ("source", "pkg/mod.py"), ("source", "pkg/sub/deep.py"),
                       ("source", "top.py")]
    everything, _ = _walk([root], kinds=("source", "file"))
    assert ("file", "pkg/data.json") in everything and ("file", "pkg/py.typed") in everything
    assert ("file", "pkg/sub/native.so") in everything and ("file", "pkg/legacy.pyc") in everything
    assert not [r for _, r in everything if "__pycache__" in r]  # never entered
    assert [r for k, r in everything if k == "source"] == [r for _, r in sources]
    bytecode, _ = _walk([root], kinds=("bytecode", "cache"))
    assert bytecode == [("cache", "pkg/__pycache__"), ("file", "pkg/legacy.pyc")]


def test_excludes_depth_and_file_arguments(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    got, _ = _walk([root], excludes=("sub/", "*.json"), kinds=("source", "file"))
    assert not [r for _, r in got if r.startswith("pkg/sub") or r.endswith(".json")]
    got, _ = _walk([root], excludes=("/pkg/sub/",))
    assert ("source", "pkg/sub/deep.py") not in got and ("source", "pkg/mod.py") in got
    got, _ = _walk([root], max_depth=1)
    assert [r for _, r in got] == ["pkg/__init__.py", "pkg/mod.py", "top.py"]
    got, _ = _walk([os.path.join(root, "top.py")])
    assert got == [("source", "top.py")]
    with pytest.raises(UsageError, match="not a Python source"):
        _walk([os.path.join(root, "notes.txt")])
    with pytest.raises(UsageError, match="no such file"):
        _walk([os.path.join(root, "nope")])
    got, _ = _walk([os.path.join(root, "notes.txt")], kinds=("file",))
    assert got == [("file", "notes.txt")]


def test_links_follow_the_policy_and_loops_are_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    outside = _tree(tmp_path / "outside")
    (root / "in_link").symlink_to(root / "pkg" / "sub")
    (root / "out_link").symlink_to(outside / "pkg")
    (root / "pkg" / "sub" / "loop").symlink_to(root / "pkg")
    for policy, expect_out in (("inside", False), ("all", True), ("none", False)):
        got, problems = _walk([str(root)], links=policy)
        rels = [r for _, r in got]
        assert ("out_link/mod.py" in rels) == expect_out, policy
        assert rels.count("pkg/sub/deep.py") == 1 and "in_link/deep.py" not in rels  # one folder, walked once
        if policy == "none":
            assert problems == []
        else:
            assert [p.kind for p in problems] == ["SymlinkLoop"] and problems[0].path.endswith("loop")
    with pytest.raises(UsageError, match="link policy"):
        _walk([str(root)], links="some")


def test_a_virtual_environment_is_walked_once(tmp_path: Path) -> None:
    """A venv's ``lib64 -> lib``: every source counted once (it was counted twice)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "mod_a.py").write_text("A = 1\n")
    (site / "pkg").mkdir()
    (site / "pkg" / "__init__.py").write_text("")
    if not (venv / "lib64").is_symlink():
        (venv / "lib64").symlink_to("lib")  # what a 64-bit posix venv holds; made when it did not
    got, problems = _walk([str(venv)])
    real = {os.path.realpath(os.path.join(str(venv), r)) for _, r in got}
    assert len(got) == len(real) >= 2 and problems == []
    assert all(r.startswith("lib" + os.sep) for _, r in got)


def test_the_same_folder_named_twice_is_walked_once(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    once, _ = _walk([root])
    twice, _ = _walk([root, root, os.path.join(root, ".")])
    assert once == twice


def test_entries_are_records() -> None:
    assert Entry("a/b", "a", "file") == Entry("a/b", "a", "file") != ("a/b", "a", "file")
    assert Entry("a/b/c.txt", "a", "file").relpath == os.path.join("b", "c.txt")
