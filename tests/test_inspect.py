"""inspect: header, freshness by the writing Python's rule, code tree, safe failures."""

from __future__ import annotations

import json
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

import interpreters
from bytecast.cli import main
from bytecast.errors import PycFormatError, UnmarshalError
from bytecast.inspect import inspect_pyc, source_for

SOURCE = '''
import os
class A:
    def m(self):
        return [x for x in ()]
async def co():
    pass
def gen():
    yield lambda: 1
'''


def _compile(tmp_path: Path, mode: py_compile.PycInvalidationMode) -> Path:
    src = tmp_path / "mod.py"
    src.write_text(SOURCE)
    pyc = py_compile.compile(str(src), doraise=True, invalidation_mode=mode)
    assert pyc is not None
    return Path(pyc)


@pytest.mark.parametrize("mode", list(py_compile.PycInvalidationMode))
def test_fresh_then_stale(tmp_path: Path, mode: py_compile.PycInvalidationMode) -> None:
    pyc = _compile(tmp_path, mode)
    info = inspect_pyc(pyc)
    assert info.python == f"{sys.version_info[0]}.{sys.version_info[1]}" and info.loadable
    assert info.source == str(tmp_path / "mod.py")
    assert info.mode == mode.name.lower().replace("_", "-")
    if mode is py_compile.PycInvalidationMode.UNCHECKED_HASH:
        assert info.fresh is None
    else:
        assert info.fresh is True
        (tmp_path / "mod.py").write_text(SOURCE + "# changed\n")
        assert inspect_pyc(pyc).fresh is False


def test_code_tree(tmp_path: Path) -> None:
    info = inspect_pyc(_compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP))
    assert info.tree is not None
    kinds = {(c.kind, c.qualname) for c in info.tree.children}
    assert ("class", "A") in kinds and ("coroutine", "co") in kinds
    assert ("generator", "gen") in kinds
    cls = next(c for c in info.tree.children if c.kind == "class")
    assert cls.children[0].qualname == "A.m"


@pytest.mark.parametrize("version", ["3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_checked_hash_of_other_pythons(version: str, tmp_path: Path) -> None:
    exe = interpreters.interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    src = tmp_path / "m.py"
    src.write_text("x = 1\n")
    pyc = tmp_path / "m.pyc"
    subprocess.run([exe, "-c", ("import py_compile, sys; py_compile.compile(sys.argv[1], "
                    "cfile=sys.argv[2], doraise=True, "
                    "invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)"),
                    str(src), str(pyc)], check=True)
    info = inspect_pyc(pyc)
    assert info.python == version and info.mode == "checked-hash"
    assert info.fresh is True, info.freshness
    src.write_text("x = 2\n")
    assert inspect_pyc(pyc).fresh is False


def test_python27_pyc(tmp_path: Path) -> None:
    exe = interpreters.interpreter("2.7")
    if exe is None:
        pytest.skip("Python 2.7 is not installed")
    src = tmp_path / "old.py"
    src.write_text("def f():\n    return 1\n")
    subprocess.run([exe, "-m", "py_compile", str(src)], check=True)
    info = inspect_pyc(tmp_path / "old.pyc")
    assert info.python == "2.7" and info.header_size == 8 and info.fresh is True
    assert not info.loadable
    assert info.tree is not None and info.tree.children[0].qualname == "f"


def test_source_for(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    assert source_for(str(tmp_path / "__pycache__" / "a.cpython-311.opt-1.pyc")) == str(
        tmp_path / "a.py")
    assert source_for(str(tmp_path / "a.pyc")) == str(tmp_path / "a.py")
    assert source_for(str(tmp_path / "b.pyc")) is None


def test_corrupt_files(tmp_path: Path) -> None:
    import importlib.util

    bad_magic = tmp_path / "x.pyc"
    bad_magic.write_bytes(b"\x00\x01\x02\x03" + b"\x00" * 12)
    with pytest.raises(PycFormatError):
        inspect_pyc(bad_magic)
    huge = tmp_path / "huge.pyc"
    huge.write_bytes(importlib.util.MAGIC_NUMBER + b"\x00" * 12 + b"(\xff\xff\xff\x7f")
    with pytest.raises(UnmarshalError) as info:
        inspect_pyc(huge)
    assert info.value.offset == 17


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyc = _compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP)
    assert main(["inspect", str(pyc)]) == 0
    out = capsys.readouterr().out
    assert "timestamp" in out and "class A" in out
    assert main(["inspect", str(pyc), "--dis"]) == 0  # the listing alone, as dis prints it
    out = capsys.readouterr().out
    assert "IMPORT_NAME" in out and "timestamp" not in out
    assert main(["inspect", str(pyc), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["fresh"] is True and doc["files"][0]["tree"]["kind"] == "module"
    junk = tmp_path / "junk.pyc"
    junk.write_bytes(pyc.read_bytes()[:40])
    assert main(["inspect", str(junk), str(pyc)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert str(junk) in captured.err and "truncated" in captured.err
    assert main(["inspect", str(tmp_path / "missing.pyc")]) == 2  # a named path that is not there
    assert "no such file" in capsys.readouterr().err


def test_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """/dev/zero and FIFOs are refused at once (no blocking, no endless read)."""
    import os
    import time

    fifo = tmp_path / "f.pyc"
    os.mkfifo(fifo)
    start = time.perf_counter()
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        for read_code in (True, False):
            with pytest.raises(OSError, match=f"not a regular file \\({kind}\\)"):
                inspect_pyc(path, read_code=read_code)
    with pytest.raises(IsADirectoryError):
        inspect_pyc(tmp_path)
    assert time.perf_counter() - start < 1.0


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    from bytecast.errors import DataError
    from bytecast.unmarshal import Limits

    pyc = _compile(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP)
    size = pyc.stat().st_size
    with pytest.raises(DataError, match=f"file is {size} bytes, more than the limit of 100"):
        inspect_pyc(pyc, limits=Limits(max_size=100))
    assert inspect_pyc(pyc, read_code=False, limits=Limits(max_size=100)).code is None
