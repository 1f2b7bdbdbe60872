"""Sourceless trees: built, imported and used by real interpreters, reproducible, complete or
absent, slimmed in place with RECORD kept valid, and checked.

Small trees made here cover each rule; real packages from PyPI (attrs, requests and its
dependencies, virtualenv, pyproject_hooks, pip), installed with pip into a folder, cover what
real code does. The wheels are downloaded once into pytest's cache; offline, those tests skip.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bytecast import process, sourceless
from bytecast.cli import main
from bytecast.errors import UsageError
from bytecast.targets import Target, current, resolve
from conftest import run_cli
from interpreters import require

# --- small trees ---------------------------------------------------------------------------------


def _write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def _legacy_pyc(source: Path, cfile: Path) -> None:
    """A real legacy pyc of ``source`` made by the running Python's own py_compile."""
    import py_compile

    py_compile.compile(str(source), cfile=str(cfile), doraise=True)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A small tree with one of each kind of file the rules tell apart."""
    root = tmp_path / "in"
    _write(root / "pkg" / "__init__.py", '"""The package."""\nfrom pkg.mod import boom\n')
    _write(root / "pkg" / "mod.py", 'RUNNER = "helper.py"\n\n\ndef boom():\n    raise ValueError("boom")\n')
    _write(root / "pkg" / "helper.py", 'print("run by path")\n')
    _write(root / "pkg" / "uses_source.py", "import inspect\n\n\ndef f():\n    return inspect.getsource(f)\n")
    _write(root / "pkg" / "data.txt", "data\n", 0o640)
    _write(root / "pkg" / "tool.sh", "#!/bin/sh\necho hi\n", 0o755)
    _write(root / "tool.py", "#!/usr/bin/env python\nprint('a script')\n", 0o755)
    _write(root / "bin" / "run.py", "print('a script in bin')\n")
    _write(root / "single.py", "VALUE = 42\n")
    _write(root / "pkg" / "table-1-0.py", "TABLE = (1, 0)\n")  # no identifier, imported by import_module
    # a ghost module (bytecode, no source), a stale legacy pyc beside its source, a cache
    ghost_src = _write(tmp_path / "ghost.py", "X = 1\n")
    _legacy_pyc(ghost_src, root / "ghost.pyc")
    _legacy_pyc(root / "single.py", root / "single.pyc")
    (root / "pkg" / "__pycache__").mkdir()
    _write(root / "pkg" / "__pycache__" / "mod.cpython-311.pyc", "junk")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _env_with(path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(path)
    return env


def _run(python: str, path: Path, code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages; PYTHONPATH is the tree (-E would drop it, so the rest of the
    # environment's PYTHON* variables are removed instead)
    return subprocess.run([python, "-S", "-c", code], capture_output=True, text=True, timeout=120,
                          env=_env_with(path), cwd=cwd)


def test_build_layout(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = sourceless.build([app], out, target=current())
    assert report.ok, report.problems
    got = _files(out)
    assert sorted(n for n in got if n.endswith(".pyc")) == [
        "pkg/__init__.pyc", "pkg/mod.pyc", "pkg/table-1-0.pyc", "pkg/uses_source.pyc", "single.pyc"]
    # kept as source, each with its reason; every other .py is gone
    assert set(report.kept) == {"pkg/helper.py", "tool.py", "bin/run.py"}
    assert "pkg/mod.py" in report.kept["pkg/helper.py"]
    assert sorted(n for n in got if n.endswith(".py")) == sorted(report.kept)
    assert report.compiled == ["pkg/__init__.py", "pkg/mod.py", "pkg/table-1-0.py", "pkg/uses_source.py", "single.py"]
    assert not any("__pycache__" in n for n in got) and not list(out.rglob("__pycache__"))
    # the ghost is dropped and said; the stale legacy pyc is replaced by this run's
    assert "ghost.pyc" not in got
    ghosts = [w for w in report.warnings if w.kind == "GhostModule"]
    assert [w.path for w in ghosts] == [str(app / "ghost.pyc")]
    assert got["single.pyc"] != (app / "single.pyc").read_bytes()
    needs = [w for w in report.warnings if w.kind == "NeedsSource"]
    assert [w.path for w in needs] == [str(app / "pkg" / "uses_source.py")] and "getsource" in needs[0].message
    # other files as they were, modes too
    for name in ("pkg/data.txt", "pkg/tool.sh", "tool.py"):
        assert got[name] == (app / name).read_bytes()
        assert stat.S_IMODE((out / name).stat().st_mode) == stat.S_IMODE((app / name).stat().st_mode)
    # the input is untouched, and nothing is left beside OUT
    assert (app / "pkg" / "mod.py").exists() and (app / "ghost.pyc").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ghost.py", "in", "out"]


def test_a_folder_is_compiled_where_it_is_and_out_is_what_a_copy_gives(
        app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One folder: its sources compiled are never copied (the workers read them in place), and
    OUT is the same, byte for byte and mode for mode, as when a copy of it is converted."""
    copied: list[str] = []
    real_copyfile = shutil.copyfile

    def copyfile(src: str, dst: str, **kwargs: bool) -> str:
        copied.append(os.path.relpath(src, app).replace(os.sep, "/"))
        return real_copyfile(src, dst, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copyfile)
    from bytecast.place import treecopy

    real_file = treecopy._Copier.file

    def file(self: treecopy._Copier, src: str, dst: str) -> None:  # the copy of a folder compiled in place
        copied.append(os.path.relpath(src, app).replace(os.sep, "/"))
        real_file(self, src, dst)

    monkeypatch.setattr(treecopy._Copier, "file", file)
    direct = sourceless.build([app], tmp_path / "a" / "out", target=current())
    assert direct.ok, direct.problems
    assert not set(copied) & set(direct.compiled) and not [c for c in copied if c.endswith(".pyc")]
    assert {"pkg/data.txt", "tool.py", "pkg/helper.py"} <= set(copied)  # other files, sources kept
    monkeypatch.setattr(sourceless, "_build_direct", lambda *args, **kwargs: None)
    copied.clear()
    via_copy = sourceless.build([app], tmp_path / "b" / "out", target=current())
    assert set(via_copy.compiled) <= set(copied)  # this way reads and writes every source once more
    assert direct.as_dict() == via_copy.as_dict()
    a, b = tmp_path / "a" / "out", tmp_path / "b" / "out"
    assert _files(a) == _files(b)
    assert {p.relative_to(a): p.lstat().st_mode for p in a.rglob("*")} == \
        {p.relative_to(b): p.lstat().st_mode for p in b.rglob("*")}
    assert (app / "pkg" / "mod.py").exists() and (app / "ghost.pyc").exists()


def test_pycs_are_valid_unchecked_hash_for_the_target(app: Path, tmp_path: Path) -> None:
    from importlib.util import source_hash

    out = tmp_path / "out"
    sourceless.build([app], out, target=current())
    data = (out / "pkg" / "mod.pyc").read_bytes()
    assert data[:4] == current().magic
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked: _classify_pyc's flags
    assert data[8:16] == source_hash((app / "pkg" / "mod.py").read_bytes())
    import marshal  # our own output, compiled by this interpreter: trusted here, as the oracle

    live = marshal.loads(data[16:])
    code = sourceless.read_back(str(out / "pkg" / "mod.pyc"), current())
    assert code.filename == live.co_filename == "<out/pkg/mod.py>"
    assert "helper.py" in code.consts and "helper.py" in live.co_consts


def test_imports_run_and_tracebacks_name_no_file(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sourceless.build([app], out, target=current())
    # A file that a relative or build-machine co_filename would let linecache print: a folder
    # named like the baked path, in the current folder.
    shadow = tmp_path / "cwd" / "<out" / "pkg"
    _write(shadow / "mod.py>", "SHADOW LINE 1\nSHADOW LINE 2\nSHADOW LINE 3\nSHADOW LINE 4\nSHADOW LINE 5\n")
    _write(tmp_path / "cwd" / "out" / "pkg" / "mod.py", "SHADOW LINE\n" * 5)
    code = ("import pkg, single, traceback, importlib\n"
            "assert pkg.__doc__ == 'The package.' and single.VALUE == 42\n"
            "assert importlib.import_module('pkg.table-1-0').TABLE == (1, 0)\n"
            "print(type(pkg.__loader__).__name__, pkg.__file__)\n"
            "pkg.boom()\n")
    done = _run(sys.executable, out, code, cwd=tmp_path / "cwd")
    assert done.returncode == 1
    assert f"SourcelessFileLoader {out / 'pkg' / '__init__.pyc'}" in done.stdout
    assert 'File "<out/pkg/mod.py>", line 5, in boom' in done.stderr
    assert "SHADOW" not in done.stderr and str(app) not in done.stderr


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.13"])
def test_other_targets_import_and_name_their_frames(tmp_path: Path, version: str) -> None:
    python = require(version)
    (target,) = resolve([python])
    tree = tmp_path / "in"
    _write(tree / "pkg" / "__init__.py", "")
    _write(tree / "pkg" / "mod.py", "def boom():\n    raise ValueError('boom')\n")
    _write(tree / "pkg" / "__main__.py", "import sys\nsys.stdout.write('main ran\\n')\n")
    _write(tree / "pkg" / "names.py", "WHAT = ['__main__.py', '__init__.py']\n")  # not files to keep
    out = tmp_path / "app"
    report = sourceless.build([tree], out, target=target)
    assert report.ok and report.kept == {}, (report.problems, report.kept)
    assert not list(out.rglob("*.py"))
    done = _run(python, out, "import pkg.mod; pkg.mod.boom()")
    assert 'File "<app/pkg/mod.py>", line 2' in done.stderr and "ValueError" in done.stderr
    ran = subprocess.run([python, "-S", "-m", "pkg"], capture_output=True, text=True, timeout=60,
                         env=_env_with(out))
    assert ran.stdout == "main ran\n", ran.stderr
    if target.version >= (3, 7):
        assert int.from_bytes((out / "pkg" / "mod.pyc").read_bytes()[4:8], "little") == 0b01


@pytest.mark.parametrize("version", ["2.7", "3.8", "3.12"])
def test_another_targets_bytes_are_checked_by_its_own_marshal(tmp_path: Path, version: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Another Python's pycs are loaded by a helper process of that Python, not by the compile
    worker and not by the pure-Python reader; what it refuses is refused; with no helper, the
    reader checks them."""
    import marshal

    from bytecast.errors import PycFormatError
    from bytecast.process import Helper

    (target,) = resolve([require(version)])
    if target.magic == current().magic:
        pytest.skip("the running Python's own bytes are checked in this process")
    tree = tmp_path / "in"
    _write(tree / "pkg" / "__init__.py", "")
    _write(tree / "pkg" / "mod.py", "def f(x):\n    return [x, 1.5, (2, 'y'), b'z']\n")
    asked: list[tuple[str, int]] = []
    real_ask = Helper.ask

    def ask(self: Helper, items: Sequence[object]) -> list[object]:
        asked.append((self.service, len(items)))
        return real_ask(self, items)

    read: list[str] = []
    real_read = sourceless.read_code
    monkeypatch.setattr(Helper, "ask", ask)
    def read_code(data: bytes, t: Target, name: str) -> object:
        read.append(name)
        return real_read(data, t, name)

    monkeypatch.setattr(sourceless, "read_code", read_code)
    report = sourceless.build([tree], tmp_path / "out", target=target)
    assert report.ok, report.problems
    assert asked == [("load", 1), ("load", 1)] and read == []  # each pyc, by the target's own marshal
    assert not [key for key in process._helpers if key[1] == "load"]  # closed with the run
    good = (tmp_path / "out" / "pkg" / "mod.pyc").read_bytes()
    size = 8 if target.version < (3, 7) else 16
    for bad, said in ((good[:-3], "no code object"), (good[:size] + marshal.dumps(7, 2), "holds a int")):
        with pytest.raises(PycFormatError, match=said):
            sourceless._check_written("", bad, target)
    sourceless._close_loaders()

    def no_helper(self: Helper, target: object, service: str) -> None:
        raise OSError(2, "cannot start")

    monkeypatch.setattr(Helper, "__init__", no_helper)
    report = sourceless.build([tree], tmp_path / "out2", target=target)
    assert report.ok and sorted(os.path.basename(n).split(".")[0] for n in read) == ["__init__", "mod"]  # the reader
    with pytest.raises(ValueError, match="truncated|ends"):  # the reader's verdict
        sourceless._check_written("", good[:-3], target)
    sourceless._close_loaders()


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.11", "3.13"])
def test_facts_from_the_worker_agree_with_the_reader(tmp_path: Path, version: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What the workers say the code names decides the same as bytecast's reader of the pyc."""
    from bytecast.place.sourceless import SourcelessLayout

    (target,) = resolve([require(version)])
    tree = tmp_path / "in"
    _write(tree / "pkg" / "__init__.py", "")
    _write(tree / "pkg" / "helper.py", "X = 1\n")
    _write(tree / "pkg" / "data.py", "Y = 2\n")
    _write(tree / "pkg" / "uses.py", "import linecache, glob, os\n\n\ndef f():\n"
           "    class C:\n        def g(self):\n            return u'helper.py', glob.glob(u'*.py')\n"
           "    return os.path.join(os.path.dirname(__file__), u'data.py'), __file__.endswith(u'.py')\n")
    _write(tree / "pkg" / "bytes_only.py", "import inspect\nN = b'helper.py'\nG = inspect.getsource\n")
    fast = sourceless.convert(tree, target=target, dry_run=True)
    monkeypatch.delattr(SourcelessLayout, "accept_checked")  # the engine falls back to accept
    slow = sourceless.convert(tree, target=target, dry_run=True)
    assert fast.ok and fast.as_dict() == slow.as_dict()
    assert set(fast.kept) == {"pkg/helper.py", "pkg/data.py"}
    assert {Path(w.path).name for w in fast.warnings} == {"uses.py", "bytes_only.py"}


def _same_baked(relpath: str) -> str:
    return f"<app/{relpath}>"


def test_memory_mode_makes_what_a_run_in_place_writes(app: Path, tmp_path: Path) -> None:
    """The tree a wheel is made from (``memory``): the same report, pycs and RECORD as a run in
    place, and nothing of the tree written or removed."""
    _write(app / "demo-1.0.dist-info" / "RECORD",
           "pkg/mod.py,sha256=old,10\npkg/__pycache__/mod.cpython-311.pyc,,\nsingle.py,,\nsingle.pyc,,\n"
           "pkg/data.txt,sha256=x,5\ndemo-1.0.dist-info/RECORD,,\n")
    copy = tmp_path / "copy"
    shutil.copytree(app, copy, symlinks=True)
    before = _files(app)
    tree = sourceless.Tree(app, target=current(), baked=_same_baked, mode="memory")
    sourceless.compile_trees([tree])
    report = tree.finish()
    assert _files(app) == before
    in_place = sourceless.convert(copy, target=current(), baked=_same_baked)
    assert report.ok and in_place.ok
    strip = {"warnings": None, "problems": None}
    assert {**report.as_dict(), **strip} == {**in_place.as_dict(), **strip}
    assert [(Path(w.path).relative_to(app), w.kind) for w in report.warnings] == \
        [(Path(w.path).relative_to(copy), w.kind) for w in in_place.warnings]
    after = _files(copy)
    assert tree.pycs_made == {rel: data for rel, data in after.items() if rel.endswith(".pyc")}
    assert len(tree.pycs_made) == len(report.compiled) > 3
    assert tree.records_made == {"demo-1.0.dist-info/RECORD": after["demo-1.0.dist-info/RECORD"]}
    assert b"pkg/mod.pyc,sha256=" in tree.records_made["demo-1.0.dist-info/RECORD"]


def test_trees_of_two_targets_compile_in_one_run(tmp_path: Path, compile_runs: list[int]) -> None:
    """One run of the workers for every tree, whatever its target; each tree gets its own
    target's bytes and only its own problems."""
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    (second,) = resolve([require(other)])
    trees = []
    for name, target in (("a", current()), ("b", second), ("c", current())):
        root = tmp_path / name
        _write(root / "pkg" / "__init__.py", f"NAME = {name!r}\n")
        _write(root / "pkg" / "mod.py", "def f():\n    return 1\n" if name != "c" else "def (:\n")
        trees.append(sourceless.Tree(root, target=target, mode="write"))
    sourceless.compile_trees(trees, jobs=2)
    a, b, c = (tree.finish() for tree in trees)
    assert compile_runs == [1]
    assert a.ok and b.ok and a.compiled == b.compiled == ["pkg/__init__.py", "pkg/mod.py"]
    assert (tmp_path / "a" / "pkg" / "mod.pyc").read_bytes()[:4] == current().magic
    assert (tmp_path / "b" / "pkg" / "mod.pyc").read_bytes()[:4] == second.magic
    assert [(Path(p.path).name, p.kind) for p in c.problems] == [("mod.py", "SyntaxError")]
    assert sorted(p.name for p in (tmp_path / "c" / "pkg").iterdir()) == ["__init__.py", "mod.py"]


def test_python_2_sourceless_is_level_0(tmp_path: Path) -> None:
    (target,) = resolve([require("2.7")])
    _write(tmp_path / "in" / "m.py", "X = 1\n")
    with pytest.raises(UsageError, match="level 0 only"):
        sourceless.build([tmp_path / "in"], tmp_path / "out", target=target, optimize=1)
    assert not (tmp_path / "out").exists()


def test_prefix_and_name_are_baked(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("sourceless", str(app), "-o", str(out), "--prefix", "/opt/app/lib").returncode == 0
    done = _run(sys.executable, out, "import pkg; pkg.boom()")
    assert 'File "/opt/app/lib/pkg/mod.py", line 5' in done.stderr
    other = tmp_path / "other"
    assert run_cli("sourceless", str(app), "-o", str(other), "--name", "myapp").returncode == 0
    assert 'File "<myapp/pkg/mod.py>"' in _run(sys.executable, other, "import pkg; pkg.boom()").stderr
    relative = run_cli("sourceless", str(app), "-o", str(tmp_path / "x"), "--prefix", "lib")
    assert relative.returncode == 2 and "not an absolute path" in relative.stderr
    assert not (tmp_path / "x").exists()


def test_same_inputs_same_bytes(app: Path, tmp_path: Path) -> None:
    baked = sourceless.default_baked("app")
    sourceless.build([app], tmp_path / "a", target=current(), baked=baked)
    os.utime(app / "pkg" / "mod.py", (1, 1))  # a new mtime changes nothing: no mtime is recorded
    sourceless.build([app], tmp_path / "b", target=current(), baked=baked, jobs=1)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b and any(n.endswith(".pyc") for n in a)


def test_a_syntax_error_makes_no_out(app: Path, tmp_path: Path) -> None:
    _write(app / "pkg" / "broken.py", "def f(:\n")
    out = tmp_path / "out"
    done = run_cli("sourceless", str(app), "-o", str(out))
    assert done.returncode == 1
    assert f"{app / 'pkg' / 'broken.py'}:1:" in done.stderr and "SyntaxError" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ghost.py", "in"]


def test_interrupted_build_leaves_no_out(app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> list[str]:
        raise KeyboardInterrupt  # midway: sources removed in staging, RECORD not yet written

    monkeypatch.setattr(sourceless, "_rewrite_records", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sourceless.build([app], tmp_path / "out", target=current())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ghost.py", "in"]
    assert (app / "pkg" / "mod.py").exists()


def test_existing_out_is_refused_or_replaced_whole(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write(out / "old.txt", "old\n")
    done = run_cli("sourceless", str(app), "-o", str(out))
    assert done.returncode == 2 and "not empty" in done.stderr and done.stderr.count("\n") == 1
    assert _files(out) == {"old.txt": b"old\n"}
    assert run_cli("sourceless", str(app), "-o", str(out), "--force", "-q").returncode == 0
    assert "old.txt" not in _files(out) and (out / "pkg" / "mod.pyc").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("sourceless", str(app), "-o", str(empty), "-q").returncode == 0
    assert (empty / "single.pyc").exists()


def test_keep_glob_and_several_sources(app: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    _write(extra / "plugin.py", "NAME = 'plugin'\n")
    report = sourceless.build([app, extra], tmp_path / "out", target=current(), keep=["pkg/mod.py"])
    assert report.kept["pkg/mod.py"] == "matches --keep"
    assert (tmp_path / "out" / "pkg" / "mod.py").exists() and not (tmp_path / "out" / "pkg" / "mod.pyc").exists()
    assert (tmp_path / "out" / "plugin.pyc").exists()
    _write(extra / "single.py", "CLASH = 1\n")
    with pytest.raises(UsageError, match="same name"):
        sourceless.build([app, extra], tmp_path / "out2", target=current())
    assert not (tmp_path / "out2").exists()


def test_optimize_two_warns_and_strips(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli("sourceless", str(app), "-o", str(out), "-O", "2")
    assert done.returncode == 0
    assert "-O" in done.stderr and "docstrings" in done.stderr
    ran = _run(sys.executable, out, "import pkg; print(repr(pkg.__doc__))")
    assert ran.stdout.strip() == "None"


def test_usage_errors(app: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o")
    for argv, words in [
        (["--in-place", "-o", out], "one of them"),
        ([], "one of them"),
        (["-o", out, "--name", "a", "--prefix", "/x"], "cannot be used together"),
        (["-o", out, "-O", "3"], "invalid choice"),
    ]:
        done = run_cli("sourceless", str(app), *argv)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert words in done.stderr
    assert not (tmp_path / "o").exists()
    missing = run_cli("sourceless", str(tmp_path / "nope"), "-o", out)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_several_targets_are_a_usage_error(app: Path, tmp_path: Path) -> None:
    other = require("3.12")
    done = run_cli("sourceless", str(app), "-o", str(tmp_path / "o"), "--target", "current", "--target", other)
    assert done.returncode == 2 and "one target" in done.stderr and done.stderr.count("\n") == 1


def test_json(app: Path, tmp_path: Path) -> None:
    done = run_cli("sourceless", str(app), "-o", str(tmp_path / "out"), "--json")
    assert done.returncode == 0
    doc = json.loads(done.stdout)
    assert doc["command"] == "sourceless" and doc["ok"] and doc["target"] == current().label
    tree = doc["trees"][0]
    assert {k["path"] for k in tree["kept"]} == {"pkg/helper.py", "tool.py", "bin/run.py"}
    assert "pkg/mod.py" in tree["compiled"]
    assert {w["kind"] for w in tree["warnings"]} == {"GhostModule", "NeedsSource"}


# --- in place -------------------------------------------------------------------------------------


def test_in_place_with_a_bad_file_changes_nothing(app: Path) -> None:
    _write(app / "pkg" / "broken.py", "x = (\n")
    before = _files(app)
    done = run_cli("sourceless", "--in-place", str(app))
    assert done.returncode == 1 and "broken.py" in done.stderr
    assert _files(app) == before


def test_interrupted_in_place_leaves_the_tree_as_it_was(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(app)
    calls = []
    real = sourceless._check_written

    def interrupted(path: str, data: bytes, target: Target) -> None:
        calls.append(path)
        if len(calls) == 3:  # midway through reading the pycs back
            raise KeyboardInterrupt
        real(path, data, target)

    monkeypatch.setattr(sourceless, "_check_written", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sourceless.convert(app, target=current(), drop_ghosts=False)
    assert _files(app) == before and len(calls) == 3


def test_a_pyc_changed_between_write_and_read_back_is_caught(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bytecast.place import atomic

    before = _files(app)
    real = atomic.write_atomic

    def corrupting(path: str, data: bytes, mode: int = 0o644) -> None:
        real(path, data, mode)
        if path.endswith("mod.pyc.bytecast-new"):  # the disk, or another process, changed it
            with open(path, "r+b") as f:
                f.seek(len(data) - 1)
                f.write(bytes([data[-1] ^ 1]))

    monkeypatch.setattr(atomic, "write_atomic", corrupting)
    report = sourceless.convert(app, target=current(), drop_ghosts=False)
    assert [(Path(p.path).name, p.kind) for p in report.problems] == [("mod.py", "BadBytecode")]
    assert "not the" in report.problems[0].message
    assert _files(app) == before


def test_bytes_from_a_worker_that_are_no_code_are_caught(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bytecast.place.sourceless import SourcelessLayout

    before = _files(app)
    real = SourcelessLayout.accept_checked

    def truncating(self: SourcelessLayout, job: object, data: bytes, facts: object) -> None:
        real(self, job, data[:-3] if str(job.cfile).endswith("mod.pyc.bytecast-new") else data, facts)  # type: ignore[attr-defined, arg-type]

    monkeypatch.setattr(SourcelessLayout, "accept_checked", truncating)
    report = sourceless.convert(app, target=current(), drop_ghosts=False)
    assert [(Path(p.path).name, p.kind) for p in report.problems] == [("mod.py", "BadBytecode")]
    assert "no code object" in report.problems[0].message
    assert _files(app) == before


def test_dry_run_writes_nothing_and_says_what_a_run_does(app: Path, tmp_path: Path) -> None:
    info = app / "pkg-1.0.dist-info"
    rows = [f"{p.relative_to(app).as_posix()},sha256=x,1" for p in sorted(app.rglob("*")) if p.is_file()]
    _write(info / "RECORD", "\n".join(rows + ["pkg-1.0.dist-info/RECORD,,"]) + "\n")
    before = {p: p.stat().st_mtime_ns for p in app.rglob("*")}
    done = run_cli("sourceless", "--in-place", str(app), "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert {p: p.stat().st_mtime_ns for p in app.rglob("*")} == before
    dry = json.loads(done.stdout)["trees"][0]
    assert dry["changed"] is False
    out = run_cli("sourceless", str(app), "-o", str(tmp_path / "o"), "--dry-run")
    assert out.returncode == 0 and not (tmp_path / "o").exists()
    assert "dry run, nothing written" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ghost.py", "in"]
    real = json.loads(run_cli("sourceless", "--in-place", str(app), "--json").stdout)["trees"][0]
    assert real["changed"] is True
    for key in ("compiled", "kept", "removed", "records", "warnings"):
        assert dry[key] == real[key], key
    assert real["records"] == ["pkg-1.0.dist-info/RECORD"] and "pkg/__pycache__" in real["removed"]
    record = (info / "RECORD").read_text()
    assert "pkg/mod.pyc,sha256=" in record and "pkg/mod.py," not in record and "__pycache__" not in record


def test_in_place_leaves_ghosts(app: Path) -> None:
    done = run_cli("sourceless", "--in-place", str(app))
    assert done.returncode == 0, done.stderr
    assert (app / "ghost.pyc").exists() and "GhostModule" in done.stderr
    assert not (app / "pkg" / "mod.py").exists() and (app / "pkg" / "mod.pyc").exists()
    assert not (app / "pkg" / "__pycache__").exists()


# --- check --------------------------------------------------------------------------------------


def test_check_sourceless(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sourceless.build([app], out, target=current())
    done = run_cli("check", "--sourceless", str(out), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["sourceless"] and doc["summary"]["pycs"] == 5 and all(f["ok"] for f in doc["files"])
    # broken: a truncated pyc, a pyc of another Python
    data = (out / "pkg" / "mod.pyc").read_bytes()
    (out / "pkg" / "mod.pyc").write_bytes(data[: len(data) // 2])
    (out / "single.pyc").write_bytes(b"\x00\x00\r\n" + data[4:])
    done = run_cli("check", "--sourceless", str(out))
    assert done.returncode == 1
    *lines, summary = done.stderr.splitlines()
    assert len(lines) == 2 and all("BadBytecode" in line for line in lines)
    assert str(out / "pkg" / "mod.pyc") in lines[0] and str(out / "single.pyc") in lines[1]
    assert summary.startswith("checked 5 sourceless pycs for ") and summary.endswith(" s") and "3 valid" in summary
    # nothing to check is not a pass
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_cli("check", "--sourceless", str(empty))
    assert nothing.returncode == 1 and "NoBytecode" in nothing.stderr


def test_check_sourceless_names_a_pyc_with_its_source_beside_it(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    _legacy_pyc(_write(tree / "m.py", "X = 1\n"), tree / "m.pyc")
    done = run_cli("check", "--sourceless", str(tree))
    assert done.returncode == 1 and "NotSourceless" in done.stderr and str(tree / "m.pyc") in done.stderr


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_read_code_of_any_bytes_is_a_record_or_one_error(data: bytes) -> None:
    from bytecast.errors import DataError

    target = current()
    for blob in (data, target.magic + b"\x01\x00\x00\x00" + b"\x00" * 8 + data):
        try:
            sourceless.read_code(blob, target, "x.pyc")
        except DataError as exc:
            assert str(exc) and "\n" not in str(exc).strip()


def test_check_is_sourceless_by_itself_when_there_are_no_sources(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    _write(tree / "m.py", "X = 1\n")
    sourceless.build([tree], tmp_path / "out", target=current())
    assert run_cli("check", str(tmp_path / "out")).returncode == 0
    (tmp_path / "out" / "m.pyc").write_bytes(b"\x03\xf3\r\n" + b"\x00" * 12 + b"c")  # 2.7's magic
    done = run_cli("check", str(tmp_path / "out"))
    assert done.returncode == 1 and "bytecode of Python 2.7" in done.stderr


def test_check_for_another_target(app: Path, tmp_path: Path) -> None:
    other = require("3.12")
    out = tmp_path / "out"
    sourceless.build([app], out, target=current())
    done = run_cli("check", "--sourceless", "--target", other, str(out))
    assert done.returncode == 1 and done.stderr.count("BadBytecode") == 5
    assert "expected cpython-3.12" in done.stderr


# --- real packages ---------------------------------------------------------------------------------

REQUIREMENTS = ("attrs", "requests", "virtualenv", "pyproject_hooks", "pip")


@pytest.fixture(scope="session")
def wheels(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pure wheels of real packages and their dependencies, downloaded once (pytest's cache;
    with the cache plugin off, once per session)."""
    store = getattr(request.config, "cache", None)
    cache = Path(store.mkdir("sourceless-wheels")) if store is not None else tmp_path_factory.mktemp("wheels")
    if len(list(cache.glob("*.whl"))) < len(REQUIREMENTS):
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(cache),
                               "--only-binary=:all:", *REQUIREMENTS], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            pytest.skip(f"cannot download wheels from PyPI: {done.stderr.strip().splitlines()[-1:]}")
    return cache


@pytest.fixture(scope="session")
def installed(wheels: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site-packages folder: the real packages installed by pip (RECORD and all); never modify."""
    dest = tmp_path_factory.mktemp("site") / "site-packages"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels),
                           "--target", str(dest), "--no-compile", *REQUIREMENTS],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dest


USE = """
import attr, requests, virtualenv, pyproject_hooks, urllib3, idna, charset_normalizer, certifi
@attr.s
class P:
    x = attr.ib()
assert P(1) == P(1) and P(2).x == 2
assert requests.Request("GET", "http://example.invalid/a b").prepare().url == "http://example.invalid/a%20b"
assert idna.encode("b\\u00fccher.example") == b"xn--bcher-kva.example"
assert charset_normalizer.from_bytes("h\\u00e9llo w\\u00f6rld".encode("latin-1")).best() is not None
assert virtualenv.__version__
from virtualenv.activation.python import PythonActivator
import os
loaders = {type(m.__loader__).__name__ for m in (attr, requests, urllib3, virtualenv)}
assert loaders == {"SourcelessFileLoader"}, loaders
print("used", requests.__file__)
try:
    requests.get("example.invalid/path")
except requests.exceptions.MissingSchema:
    import traceback, sys
    print(traceback.extract_tb(sys.exc_info()[2])[-1].filename)
"""


def _without_pip(installed: Path, dest: Path) -> Path:
    """A copy of the installed packages minus pip (the largest: what it adds is tested once)."""
    shutil.copytree(installed, dest, symlinks=True,
                    ignore=lambda folder, names: {n for n in names if folder == str(installed) and n.startswith("pip")})
    return dest


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_real_packages_run_sourceless(installed: Path, tmp_path: Path, version: str) -> None:
    python = require(version)
    (target,) = resolve([python])
    with_pip = version == "3.11"
    source = installed if with_pip else _without_pip(installed, tmp_path / "input")
    out = tmp_path / "site"
    report = sourceless.build([source], out, target=target)
    assert report.ok, report.problems
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.py"))
    assert left == sorted(report.kept)
    needed = ["virtualenv/activation/python/activate_this.py", "pyproject_hooks/_in_process/_in_process.py"]
    if with_pip:
        needed += ["pip/__pip-runner__.py", "pip/_vendor/pyproject_hooks/_in_process/_in_process.py"]
    for name in needed:
        assert name in report.kept, sorted(report.kept)
    assert len(report.compiled) > (500 if with_pip else 150) and not list(out.rglob("__pycache__"))
    done = _run(python, out, USE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"used {out / 'requests' / '__init__.pyc'}"
    assert done.stdout.splitlines()[1].startswith("<site/requests/")
    _check_records(out)


def _check_records(site: Path) -> None:
    """Every RECORD row names a file that exists with that hash and size; every file of each
    distribution's folders is in a RECORD (checked here, independently of bytecast)."""
    listed: set[str] = set()
    for record in sorted(site.glob("*.dist-info/RECORD")):
        rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
        for row in rows:
            name, digest, size = row
            path = os.path.normpath(site / name)
            if not path.startswith(str(site) + os.sep):
                continue  # a script pip put outside the folder (bin/)
            listed.add(os.path.relpath(path, site).replace(os.sep, "/"))
            if name.endswith("/RECORD") and not digest:
                continue
            data = Path(path).read_bytes()
            algo, _, value = digest.partition("=")
            assert algo == "sha256"
            assert value == base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), name
            assert int(size) == len(data), name
        assert not any(r[0].endswith(".py") and r[0][:-3] + ".pyc" in {x[0] for x in rows} for r in rows)
    every = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert every - listed <= {p for p in every if p.startswith("bin/")}, sorted(every - listed)[:10]
    assert listed - every == set()


def test_in_place_keeps_record_valid(installed: Path, tmp_path: Path) -> None:
    site = _without_pip(installed, tmp_path / "site-packages")
    # installed the usual way: with __pycache__ listed in RECORD
    cached = subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "attr")], capture_output=True)
    assert cached.returncode == 0
    record = next(site.glob("attrs-*.dist-info/RECORD"))
    with record.open("a", encoding="utf-8") as f:
        for pyc in sorted((site / "attr").rglob("__pycache__/*.pyc")):
            f.write(f"{pyc.relative_to(site).as_posix()},,\n")
    rows_before = record.read_text().count("\n")
    assert main(["sourceless", "--in-place", str(site), "-q"]) == 0
    assert not list(site.rglob("__pycache__"))
    py_left = {p.relative_to(site).as_posix() for p in site.rglob("*.py")}
    assert "virtualenv/activation/python/activate_this.py" in py_left and "attr/_make.py" not in py_left
    _check_records(site)
    assert record.read_text().count("\n") < rows_before  # the __pycache__ rows went
    assert record.stat().st_mtime_ns >= max(p.stat().st_mtime_ns for p in (site / "attr").rglob("*.pyc"))
    done = _run(sys.executable, site, USE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("<site-packages/requests/")
