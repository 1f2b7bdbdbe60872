"""Tests for bytecast.paths: the baked path against the real compileall of 3.12 and 3.13, and
the source of a pyc against importlib's own naming rule."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

import interpreters
from bytecast.paths import baked_path, source_for, strips

# Reads back the co_filename of the pyc importlib would use for argv[1] (this interpreter's
# cache tag and marshal).
_READ_BACK = """\
import importlib.util, marshal, sys
with open(importlib.util.cache_from_source(sys.argv[1]), "rb") as f:
    sys.stdout.write(marshal.loads(f.read()[16:]).co_filename)
"""

VERSIONS = {"3.12": (3, 12), "3.13": (3, 13)}


def real_compileall(exe: str, args: list[str], target: Path, source: Path) -> tuple[str, str]:
    """The path compileall of ``exe`` bakes into ``source`` (compiling ``target``), and what it
    printed."""
    done = subprocess.run([exe, "-I", "-m", "compileall", "-q", *args, str(target)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    baked = subprocess.run([exe, "-I", "-c", _READ_BACK, str(source)], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    return baked, done.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``ROOT/x/a/b/c.py`` (the real path of tmp_path: compileall does not resolve links)."""
    root = Path(os.path.realpath(tmp_path)) / "x"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "c.py").write_text("def f():\n    return 1\n")
    return root


# (strip, prepend) with ROOT standing for the tree's folder: every -s/-p shape compileall meets.
CASES = [
    ("ROOT", None),                 # a leading prefix
    ("ROOT/a/b", None),             # the whole folder
    ("ROOT/b", None),               # not a leading prefix: 3.12 strips parts, 3.13 ignores it
    ("ROOT/a/q", None),             # a prefix up to one part that differs
    ("ROOT/", None),                # a trailing separator
    ("/", None),
    ("b", None),                    # a relative strip, matching no leading part
    ("/nowhere/at/all", None),
    ("ROOT", "/opt/app"),
    ("ROOT/b", "/opt/app"),
    (None, "/opt/app"),
    (None, "rel"),
]


@pytest.mark.parametrize("version", list(VERSIONS))
@pytest.mark.parametrize(("strip", "prepend"), CASES)
def test_baked_path_equals_real_compileall(tree: Path, version: str, strip: str | None,
                                           prepend: str | None) -> None:
    exe = interpreters.require(version)
    source = tree / "a" / "b" / "c.py"
    stripdir = None if strip is None else strip.replace("ROOT", str(tree))
    args = (["-s", stripdir] if stripdir is not None else []) + (["-p", prepend] if prepend else [])
    real, printed = real_compileall(exe, args, source, source)
    ours = baked_path(str(source), "c.py", stripdir=stripdir, prependdir=prepend, version=VERSIONS[version])
    assert ours == real
    if stripdir is not None:
        # 3.13 says when it ignores -s; earlier versions always strip something
        ignored = "not a valid prefix" in printed
        assert strips(str(source), stripdir, VERSIONS[version]) is not ignored


def test_not_a_leading_prefix_differs_between_versions(tree: Path) -> None:
    """``-s ROOT/b`` on ``ROOT/a/b/c.py``: 3.12 strips the equal parts, 3.13 keeps the path."""
    path = str(tree / "a" / "b" / "c.py")
    stripdir = str(tree / "b")
    old = baked_path(path, "c.py", stripdir=stripdir, version=(3, 12))
    new = baked_path(path, "c.py", stripdir=stripdir, version=(3, 13))
    assert new == path
    assert old == os.path.join("a", "b", "c.py")
    assert strips(path, stripdir, (3, 12)) and not strips(path, stripdir, (3, 13))


def test_parts_removed_in_compileall_order(tmp_path: Path) -> None:
    """An equal part is removed where it first occurs (list.remove), as compileall does."""
    root = Path(os.path.realpath(tmp_path))
    source = root / "a" / "b" / "a" / "c.py"
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\n")
    stripdir = str(root / "y" / "z" / "a")
    for version in ("3.12", "3.13"):
        exe = interpreters.require(version)
        real, _ = real_compileall(exe, ["-f", "-s", stripdir], source, source)
        assert baked_path(str(source), "c.py", stripdir=stripdir, version=VERSIONS[version]) == real


@pytest.mark.parametrize("version", list(VERSIONS))
def test_ddir_on_a_folder(tree: Path, version: str) -> None:
    exe = interpreters.require(version)
    source = tree / "a" / "b" / "c.py"
    real, _ = real_compileall(exe, ["-d", "/srv/lib"], tree, source)
    assert baked_path(str(source), os.path.join("a", "b", "c.py"), ddir="/srv/lib",
                      version=VERSIONS[version]) == real


@pytest.mark.parametrize("version", [(3, 12), (3, 13)])
def test_whole_path_stripped_does_not_raise(version: tuple[int, int]) -> None:
    """compileall itself dies here (``os.path.join()`` of no parts: TypeError); bytecast must
    not, whatever it bakes."""
    assert baked_path("/x/c.py", "c.py", stripdir="/x/c.py", version=version) == ""
    assert baked_path("/x/c.py", "c.py", stripdir="/x/c.py", prependdir="/opt", version=version) == \
        os.path.join("/opt", "")


def test_no_option_bakes_the_path() -> None:
    assert baked_path("/p/m.py", "m.py") == "/p/m.py"
    assert baked_path("rel/m.py", "m.py", version=(3, 12)) == "rel/m.py"


def test_strips_rules() -> None:
    assert strips("/x/a/c.py", "/x", (3, 13))
    assert strips("/x/a/c.py", "/x/a/c.py", (3, 13))
    assert not strips("/x/a/c.py", "/x/b", (3, 13))
    assert not strips("/xa/c.py", "/x", (3, 13))  # whole parts, not characters
    assert not strips("/x/a/c.py", "/x/", (3, 13))
    for stripdir in ("/x", "/x/b", "/q", "rel"):
        assert strips("/x/a/c.py", stripdir, (3, 12))
        assert strips("/x/a/c.py", stripdir, (3, 9))


# --- source_for --------------------------------------------------------------------------------

def make(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("name", ["m.cpython-311.pyc", "m.cpython-312.opt-1.pyc", "m.cpython-313.opt-2.pyc",
                                  "m.pypy39.pyc"])
def test_source_for_pycache_matches_importlib(tmp_path: Path, name: str) -> None:
    pyc = str(make(tmp_path / "pkg" / "__pycache__" / name))
    assert source_for(pyc) is None  # no source yet
    source = make(tmp_path / "pkg" / "m.py")
    assert source_for(pyc) == importlib.util.source_from_cache(pyc) == str(source)


def test_source_for_pyw(tmp_path: Path) -> None:
    pyc = str(make(tmp_path / "__pycache__" / "gui.cpython-312.pyc"))
    pyw = make(tmp_path / "gui.pyw")
    assert source_for(pyc) == str(pyw)
    py = make(tmp_path / "gui.py")
    assert source_for(pyc) == str(py)  # .py first, as importlib's own naming gives


@pytest.mark.parametrize("suffix", [".pyc", ".pyo"])
def test_source_for_legacy(tmp_path: Path, suffix: str) -> None:
    pyc = str(make(tmp_path / ("m" + suffix)))
    assert source_for(pyc) is None
    source = make(tmp_path / "m.py")
    assert source_for(pyc) == str(source)


def test_source_for_other_names(tmp_path: Path) -> None:
    make(tmp_path / "m.py")
    assert source_for(str(make(tmp_path / "m.txt"))) is None
    assert source_for(str(make(tmp_path / "m.pyd"))) is None
    # a folder named like the source is not one
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "n.py").mkdir()
    assert source_for(str(make(tmp_path / "__pycache__" / "n.cpython-312.pyc"))) is None
