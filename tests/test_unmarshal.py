"""The bounded marshal reader: exact on real pycs of every installed Python, strict on bad data."""

from __future__ import annotations

import marshal
import os
import py_compile
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import interpreters
import pyc_digest
from bytecast.errors import UnmarshalError
from bytecast.magic import header_size_for
from bytecast.unmarshal import (
    CodeRecord,
    Limits,
    code_from_object,
    loads,
    python_for_magic,
    same_code,
    walk_code,
)

HERE = Path(__file__).parent
RUNNING = (sys.version_info[0], sys.version_info[1])
RUNNING_S = f"{RUNNING[0]}.{RUNNING[1]}"
FULL = bool(os.environ.get("BYTECAST_FULL_ORACLE"))


def _header_size(data: bytes) -> int:
    return header_size_for(int.from_bytes(data[:2], "little"))


def _stdlib_pycs(tmp_path: Path) -> list[Path]:
    """Every stdlib pyc of the running interpreter (compiled into tmp_path if missing); the
    test suites' own pycs only with BYTECAST_FULL_ORACLE=1, to keep the default run short."""
    import importlib.util
    import sysconfig

    libdir = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for n, source in enumerate(sorted(libdir.rglob("*.py"))):
        if "site-packages" in source.parts:
            continue
        if not FULL and ("test" in source.parts or "tests" in source.parts):
            continue
        pyc = Path(importlib.util.cache_from_source(str(source)))
        if not pyc.exists() or pyc.read_bytes()[:4] != importlib.util.MAGIC_NUMBER:
            pyc = tmp_path / f"{n}.pyc"
            try:
                py_compile.compile(str(source), cfile=str(pyc), doraise=True)
            except py_compile.PyCompileError:
                continue
        out.append(pyc)
    return out


# --- oracle: real pycs ------------------------------------------------------------------------


def test_running_stdlib_matches_marshal(tmp_path: Path) -> None:
    pycs = _stdlib_pycs(tmp_path)
    assert len(pycs) > 400
    mismatched = []
    for pyc in pycs:
        payload = pyc.read_bytes()[16:]
        ours = pyc_digest.digest(loads(payload, RUNNING))
        theirs = pyc_digest.digest(marshal.loads(payload))
        if ours != theirs:
            mismatched.append(str(pyc))
    assert mismatched == []


def test_records_equal_converted_live_code() -> None:
    import dataclasses
    import json

    def strip(value: object) -> object:
        if isinstance(value, CodeRecord):
            return dataclasses.replace(value, localspluskinds=b"", localsplusnames=(),
                                       consts=tuple(strip(c) for c in value.consts))
        return value

    payload = marshal.dumps(compile(Path(json.__file__).read_text(), json.__file__, "exec"))
    ours = strip(loads(payload, RUNNING))
    theirs = code_from_object(marshal.loads(payload))
    assert same_code(ours, theirs)
    assert not same_code(ours, dataclasses.replace(theirs, firstlineno=theirs.firstlineno + 1))


@pytest.mark.parametrize("version", [v for v in interpreters.VERSIONS if v != RUNNING_S])
def test_other_interpreters_stdlib(version: str, tmp_path: Path) -> None:
    exe = interpreters.interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    cmd = [exe, str(HERE / "pyc_digest.py"), interpreters.stdlib_dir(exe), str(tmp_path)]
    if not FULL:
        cmd.append("--skip-tests")  # BYTECAST_FULL_ORACLE=1 reads the test suites too
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    major, minor = (int(p) for p in version.split("."))
    ver = (major, minor)
    lines = out.splitlines()
    assert len(lines) > 300
    problems = []
    for line in lines:
        path, expected = line.split("\t")
        assert not expected.startswith("!"), line
        try:
            data = Path(path).read_bytes()
            got = pyc_digest.digest(loads(data, ver, start=_header_size(data)))
        except UnmarshalError as exc:
            got = f"error: {exc}"
        if got != expected:
            problems.append(f"{path}: {got}")
    assert problems == []


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, Ellipsis, StopIteration, 0, -1, 2**31 - 1, -2**31, 2**64, -(2**100),
    10**400, -(2**50000), 1.5, -0.0, float("inf"), 1 + 2j, b"", b"\x00\xff", "", "h\xe9",
    "\ud800x", "\U0001f600", (), (1, (2, (3,))), [1, [2]], {"a": 1, 2: (3,)},
    frozenset({1, "a"}), {1, 2}, tuple(range(300)), "x" * 300,
], ids=lambda v: type(v).__name__)
def test_roundtrip_values(value: Any) -> None:
    for version in range(marshal.version + 1):
        assert loads(marshal.dumps(value, version)) == value


def test_nan() -> None:
    assert loads(marshal.dumps(float("nan"))) != loads(marshal.dumps(float("nan")))


def test_shared_references() -> None:
    s = ("shared-" * 3,)
    value = loads(marshal.dumps((s, s)))
    assert value[0] is value[1]


def test_self_referencing_list() -> None:
    # [<ref 0>] with FLAG_REF on the list
    value = loads(b"\xdb\x01\x00\x00\x00r\x00\x00\x00\x00")
    assert value[0] is value


def test_python2_strings() -> None:
    data = b"(\x03\x00\x00\x00t\x02\x00\x00\x00abR\x00\x00\x00\x00u\x01\x00\x00\x00z"
    assert loads(data, "2.7") == (b"ab", b"ab", "z")


def test_python2_code_record() -> None:
    data = (b"c" + struct.pack("<4i", 1, 2, 3, 0x43) + b"s\x02\x00\x00\x00d\x00"
            + b"(\x01\x00\x00\x00N" + b"(\x00\x00\x00\x00" + b"(\x02\x00\x00\x00t\x01\x00\x00\x00a"
            + b"t\x01\x00\x00\x00b" + b"(\x00\x00\x00\x00" * 2 + b"s\x04\x00\x00\x00f.py"
            + b"R\x00\x00\x00\x00" + struct.pack("<i", 7) + b"s\x00\x00\x00\x00")
    code = loads(data, (2, 7))
    assert isinstance(code, CodeRecord)
    assert code.varnames == ("a", "b") and code.name == "a" and code.qualname == "a"
    assert code.filename == "f.py" and code.firstlineno == 7 and code.nlocals == 2


def test_code_record_of_running_python() -> None:
    def outer(a, b=1, *args, c, **kw):  # type: ignore[no-untyped-def]
        x = 1

        def inner() -> int:
            return x

        return inner

    code = loads(marshal.dumps(outer.__code__))
    assert isinstance(code, CodeRecord)
    assert code.name == "outer" and code.argcount == 2 and code.kwonlyargcount == 1
    assert code.cellvars == ("x",)
    assert "a" in code.varnames and code.nlocals == outer.__code__.co_nlocals
    inner = code.children[0]
    assert inner.freevars == ("x",) and inner.qualname.endswith("outer.<locals>.inner")
    assert [c.name for c in walk_code(code)] == ["outer", "inner"]


def test_python_for_magic() -> None:
    import importlib.util

    number = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
    assert python_for_magic(number) == RUNNING
    assert python_for_magic(62211) == (2, 7)
    assert python_for_magic(3379) == (3, 6)
    assert python_for_magic(3571) == (3, 13)
    assert python_for_magic(1) is None


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "offset", "words"), [
    (b"", 0, "found end of data"),
    (b"\x07", 0, "unknown type code"),
    (b"i\x01\x00", 1, "expected 4 more bytes, found 2"),
    (b"(\xff\xff\xff\x7fN", 1, "declares 2147483647 items"),
    (b"(\xff\xff\xff\xff", 1, "must not be negative"),
    (b"s\x00\x00\x00\x10abc", 1, "only 3 bytes are left"),
    (b"l\x00\x00\x00\xf0", 0, "only 0 bytes are left"),
    (b"l\x01\x00\x00\x00\x00\x80", 0, "digit out of range"),
    (b"l\x01\x00\x00\x00\x00\x00", 0, "unnormalized"),
    (b"r\x05\x00\x00\x00", 0, "reference 5 out of range (0 objects so far)"),
    (b"\xa8\x01\x00\x00\x00r\x00\x00\x00\x00", 5, "still being read"),
    (b"(\x01\x00\x00\x000", 0, "NULL"),
    (b"u\x01\x00\x00\x00\xff", 0, "not UTF-8"),
    (b"{N", 2, "truncated"),
    (b"<\x01\x00\x00\x00[\x00\x00\x00\x00", 5, "unhashable"),
    (b"f\x03abc", 1, "not a number"),
    (b"0", 0, "NULL"),
    (b":NNN", 0, "before 3.14"),
    (b"?", 0, "unknown object"),
    (b"c" + b"\x00" * 20 + b"N" * 20, 0, "must be bytes"),
])
def test_errors(data: bytes, offset: int, words: str) -> None:
    with pytest.raises(UnmarshalError) as info:
        loads(data, "3.11")
    assert info.value.offset == offset
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_depth_limit() -> None:
    data = b"(\x01\x00\x00\x00" * 1000 + b"N"
    with pytest.raises(UnmarshalError, match="nesting deeper than 200"):
        loads(data)
    assert loads(b"(\x01\x00\x00\x00" * 10 + b"N", limits=Limits(max_depth=10)) is not None


def test_slot_limit() -> None:
    data = b"(\x05\x00\x00\x00" + b"N" * 5
    with pytest.raises(UnmarshalError, match="container slots"):
        loads(data, limits=Limits(max_slots=4))


def test_size_limit_and_trailing() -> None:
    with pytest.raises(UnmarshalError, match="more than the limit"):
        loads(b"N" * 10, limits=Limits(max_size=5))
    assert loads(b"NN") is None
    with pytest.raises(UnmarshalError, match="1 unexpected bytes"):
        loads(b"NN", allow_trailing=False)


def test_unsupported_version() -> None:
    with pytest.raises(UnmarshalError, match="cannot read marshal data of Python 4.0"):
        loads(b"N", "4.0")


def test_python2_rejects_python3_codes() -> None:
    with pytest.raises(UnmarshalError, match="unknown type code"):
        loads(b"z\x01a", "2.7")


def test_reference_flags_only_from_34() -> None:
    flagged = b"\xa9\x01N"  # a small tuple with FLAG_REF
    assert loads(flagged, "3.4") == (None,)
    for version in ("2.7", "3.3"):
        with pytest.raises(UnmarshalError, match="unknown type code"):
            loads(b"\xa8\x01\x00\x00\x00N", version)
    with pytest.raises(UnmarshalError, match="unknown type code"):
        loads(b"r\x00\x00\x00\x00", "3.2")


def test_shared_code_records_stay_linear() -> None:
    """Crafted data can share one nested code object many times over (a DAG): walking,
    comparing, hashing and printing must not follow every path."""
    data = (HERE / "data" / "fuzz" / "3.11-shared-code-dag.bin").read_bytes()
    code = loads(data, "3.11")
    assert isinstance(code, CodeRecord)
    assert len(walk_code(code)) == 41
    assert len(repr(code)) < 200 and hash(code) == hash(code)
    assert same_code(code, loads(data, "3.11"))
