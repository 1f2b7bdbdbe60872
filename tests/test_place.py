"""The place stage: layouts, and the atomic and reproducible writers they share."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bytecast.discover import Source
from bytecast.engine import compile_tree
from bytecast.errors import UsageError
from bytecast.options import Options
from bytecast.place.archive import ReproducibleZip, fixed_date_time
from bytecast.place.atomic import write_atomic
from bytecast.place.pycache import PycacheLayout, cache_path, legacy_levels
from bytecast.place.zipped import ZipLayout
from bytecast.targets import Target, current
from interpreters import require


def _source(path: Path) -> Source:
    st = path.stat()
    return Source(str(path), str(path.parent), st.st_mtime, st.st_size)


def test_pycache_names_are_importlibs(small_tree: Path) -> None:
    layout = PycacheLayout()
    sources = sorted(small_tree.rglob("*.py"))[:50]
    for path in sources:
        names = layout.namer(current(), [0, 1, 2])(_source(path))
        assert names == [importlib.util.cache_from_source(str(path), optimization=opt) for opt in ("", 1, 2)]
        assert cache_path(str(path), current(), 2) == names[2]


def test_pycache_names_of_other_interpreters() -> None:
    py39 = Target((3, 9), "cpython-39", (3425).to_bytes(2, "little") + b"\r\n", "/x/python3.9")
    py27 = Target((2, 7), "cpython-27", (62211).to_bytes(2, "little") + b"\r\n", "/x/python2.7")
    layout = PycacheLayout()
    src = Source(os.path.join("pkg", "mod.py"), "pkg", 0.0, 0)
    assert layout.namer(py39, [0, 2])(src) == [os.path.join("pkg", "__pycache__", "mod.cpython-39.pyc"),
                                                      os.path.join("pkg", "__pycache__", "mod.cpython-39.opt-2.pyc")]
    assert layout.levels(py27, [0, 1, 2]) == [0, 2] == legacy_levels([0, 1, 2])
    assert layout.namer(py27, [0, 2])(src) == [os.path.join("pkg", "mod.pyc"), os.path.join("pkg", "mod.pyo")]


def test_atomic_write_replaces_whole_files_and_refuses_links(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "f.bin"
    write_atomic(str(target), b"one")
    write_atomic(str(target), b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]  # no temporary left
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(UsageError, match="symbolic link"):
        write_atomic(str(link), b"three")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        write_atomic(str(fifo), b"three")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        write_atomic(str(blocker / "under" / "f"), b"x")  # a file where a folder must be
    assert target.read_bytes() == b"two"


def test_zip_bytes_depend_on_the_members_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    members = [("b/x.pyc", b"\x00" * 100, False), ("a.txt", b"text", False), ("bin/run", b"#!/bin/sh\n", True)]
    digests: list[str] = []
    for order in (members, list(reversed(members))):
        archive = ReproducibleZip(b"#!/usr/bin/env python3\n")
        for name, data, executable in order:
            archive.add(name, data, executable)
        out = tmp_path / f"{len(digests)}.pyz"
        archive.write(str(out))
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    data = (tmp_path / "0.pyz").read_bytes()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(tmp_path / "0.pyz") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a.txt", "b/x.pyc", "bin/run"]  # sorted, no folder entries
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert [(i.external_attr >> 16) & 0o777 for i in infos] == [0o644, 0o644, 0o755]
        assert zf.read("b/x.pyc") == b"\x00" * 100
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert fixed_date_time() == (2023, 11, 14, 22, 13, 20)
    archive = ReproducibleZip()
    with pytest.raises(UsageError, match="twice"):
        archive.add("a", b"")
        archive.add("a", b"")
    for bad in ("", "/abs", "../up", "a/../../b"):
        with pytest.raises(UsageError):
            archive.add(bad, b"")


def test_a_zip_of_legacy_pycs_imports_without_sources(small_tree: Path, tmp_path: Path) -> None:
    (small_tree / "json" / "data.txt").write_text("kept as it is\n")
    (small_tree / "json" / "__pycache__").mkdir(exist_ok=True)
    (small_tree / "json" / "__pycache__" / "stray.cpython-311.pyc").write_bytes(b"stray")
    (small_tree / "json" / "broken.py").write_text("def f(:\n")
    out = tmp_path / "app.zip"
    report = compile_tree([str(small_tree)], Options(), layout=ZipLayout(str(out)))
    assert [(p.kind, os.path.basename(p.path)) for p in report.problems] == [("SyntaxError", "broken.py")]
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert "json/decoder.pyc" in names and "json/data.txt" in names and "json/broken.pyc" not in names
    assert not [n for n in names if n.endswith(".py") or "__pycache__" in n]  # no source, no stray pyc
    assert report.compiled == len([n for n in names if n.endswith(".pyc")]) == report.sources - 1
    first = out.read_bytes()
    for path in small_tree.rglob("*.py"):
        os.utime(path, (1, 1))  # another mtime: the archive must not change
    compile_tree([str(small_tree)], Options(), layout=ZipLayout(str(out)))
    assert out.read_bytes() == first
    # Two roots whose files meet at one name: one problem each, the rest is placed.
    clash = compile_tree([str(small_tree / "json"), str(small_tree / "email")], Options(excludes=("broken.py",)),
                         layout=ZipLayout(str(tmp_path / "clash.zip")))
    assert [p.kind for p in clash.problems] == ["PlacementError"] and "twice" in clash.problems[0].message
    script = (f"import sys; sys.path.insert(0, {str(out)!r}); import json, json.decoder, email.message; "
              "print(json.__file__); print(json.dumps([1]))")
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    where, dumped = done.stdout.split()
    assert where == os.path.join(str(out), "json", "__init__.pyc") and dumped == "[1]"


def test_a_zip_layout_holds_one_target_and_one_level(small_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.zip"
    with pytest.raises(UsageError, match="one optimization level"):
        compile_tree([str(small_tree / "json")], Options(optimize=(0, 1)), layout=ZipLayout(str(out)))
    assert not out.exists()


def test_a_zip_for_another_interpreter_runs_there(small_tree: Path, tmp_path: Path) -> None:
    from bytecast.targets import resolve

    exe = require("3.9")
    (target,) = resolve(["3.9"])
    out = tmp_path / "old.zip"
    root = tmp_path / "app"
    shutil.copytree(small_tree / "json", root / "json")
    report = compile_tree([str(root)], Options(targets=(target,)), layout=ZipLayout(str(out)))
    assert report.ok
    script = f"import sys; sys.path.insert(0, {str(out)!r}); import json; assert json.__file__.startswith(sys.path[0]); " \
             "print(json.loads('[1]'))"
    done = subprocess.run([exe, "-I", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[1]", done.stderr
