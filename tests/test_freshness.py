"""Tests for bytecast.freshness: Rule.state against importlib's own rules and real interpreters.

The oracle is the running interpreter's importlib (``_classify_pyc``, ``_validate_timestamp_pyc``,
``_validate_hash_pyc``, combined as ``SourceLoader.get_code`` combines them), on headers
hypothesis makes. One deliberate difference: importlib never looks at the hash of an
*unchecked*-hash pyc (unless run with ``--check-hash-based-pycs always``); bytecast compares
it, so that a compile does not keep bytecode of a changed source. The oracle below therefore
validates unchecked-hash pycs as importlib does under ``always``.
"""

from __future__ import annotations

import os
import py_compile
import subprocess
import sys
from importlib import _bootstrap_external
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import interpreters
from bytecast.freshness import STATES, Rule, stamp
from bytecast.hashing import hash_bytes
from bytecast.magic import for_version

bootstrap: Any = _bootstrap_external  # its private helpers have no stubs
MAGIC = bytes(bootstrap.MAGIC_NUMBER)
VERSION = (sys.version_info[0], sys.version_info[1])
U32 = 0xFFFFFFFF


def importlib_verdict(data: bytes, mtime: float, size: int, source_hash: bytes) -> str:
    """``invalid`` when importlib refuses the header itself, else ``fresh`` or ``stale``."""
    try:
        flags = bootstrap._classify_pyc(data, "m", {})
    except (ImportError, EOFError):
        return "invalid"
    try:
        if flags & 0b1:
            # checked-hash: importlib's own rule; unchecked-hash: importlib's rule under
            # --check-hash-based-pycs always (bytecast compares the hash of both).
            bootstrap._validate_hash_pyc(data, source_hash, "m", {})
        else:
            # SourceLoader.get_code passes int(st_mtime)
            bootstrap._validate_timestamp_pyc(data, int(mtime), size, "m", {})
    except ImportError:
        return "stale"
    return "fresh"


def u32(n: int) -> bytes:
    return (n & U32).to_bytes(4, "little")


@st.composite
def cases(draw: st.DrawFn) -> tuple[bytes, float, int, bytes]:
    """A pyc head and the source's mtime, size and hash it is judged against."""
    mtime = draw(st.floats(min_value=0, max_value=2.0**40, allow_nan=False) | st.integers(0, 2**40))
    size = draw(st.integers(0, 2**40))
    source_hash = draw(st.binary(min_size=8, max_size=8))
    # mostly this interpreter's magic and small flags: the cases where the rules have work to do
    near = [MAGIC[:2] + b"\n\r", MAGIC[:3] + b"\0", for_version("3.9").magic_bytes]
    magic = draw(st.sampled_from([MAGIC] * 6 + near) | st.binary(min_size=4, max_size=4))
    flags = draw(st.integers(0, 7) | st.integers(0, 7) | st.integers(0, U32))
    whole = int(mtime)
    body = draw(st.sampled_from([
        u32(whole) + u32(size),                 # matching stamp
        u32(whole + 1) + u32(size),             # mtime off by one
        u32(whole - 1) + u32(size),
        u32(whole) + u32(size + 1),             # size off by one
        u32(whole) + u32(size - 1),
        source_hash,                            # matching hash
        bytes(b ^ 1 for b in source_hash),      # another hash
    ]) | st.binary(min_size=8, max_size=8))
    head = magic + u32(flags) + body
    cut = draw(st.sampled_from([16, 16, 16, 15, 8, 4, 0]))
    return head[:cut] + draw(st.binary(max_size=8)) if cut == 16 else head[:cut], mtime, size, source_hash


@settings(max_examples=1000)
@given(cases())
def test_state_agrees_with_importlib(case: tuple[bytes, float, int, bytes]) -> None:
    head, mtime, size, source_hash = case
    calls: list[int] = []

    def hasher() -> bytes:
        calls.append(1)
        return source_hash

    got = Rule(MAGIC, None).state(head, stamp(mtime, size), hasher)
    expected = importlib_verdict(head, mtime, size, source_hash)
    assert got == expected
    assert got in STATES
    if calls:  # the hash is computed only for a hash-based pyc, and once
        assert calls == [1]
        assert int.from_bytes(head[4:8], "little") & 1


def test_stamp_is_importlibs_packing() -> None:
    for mtime, size in [(0, 0), (1.9, 5), (2**32 + 7.5, 2**32 + 3), (1_700_000_000.25, 12345)]:
        assert stamp(mtime, size) == bootstrap._pack_uint32(mtime) + bootstrap._pack_uint32(size)


# --- real pycs of the running interpreter ------------------------------------------------------

@pytest.mark.parametrize("mode", list(py_compile.PycInvalidationMode))
def test_real_pyc_fresh_then_stale(tmp_path: Path, mode: py_compile.PycInvalidationMode) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    os.utime(source, (1_600_000_000, 1_600_000_000))
    cfile = tmp_path / "m.pyc"
    py_compile.compile(str(source), str(cfile), invalidation_mode=mode, doraise=True)

    def state(flags: int | None = None) -> str:
        st_ = source.stat()
        return Rule(MAGIC, flags).state(cfile.read_bytes()[:16], stamp(st_.st_mtime, st_.st_size),
                                        lambda: hash_bytes(source.read_bytes(), MAGIC, VERSION))

    flags = {"TIMESTAMP": 0, "UNCHECKED_HASH": 1, "CHECKED_HASH": 3}[mode.name]
    assert state() == "fresh"
    assert state(flags) == "fresh"
    for other in {0, 1, 3} - {flags}:
        assert state(other) == "mode"
    source.write_text("x = 2\n")  # same size, new content
    os.utime(source, (1_600_000_000, 1_600_000_000))
    expected_after = "fresh" if flags == 0 else "stale"  # a timestamp pyc cannot tell
    assert state() == expected_after
    os.utime(source, (1_600_000_001, 1_600_000_001))
    assert state() == "stale"


@pytest.mark.parametrize("wanted", [0, 1, 3])
@pytest.mark.parametrize("flags", [0, 1, 2, 3])
def test_mode_mismatch(wanted: int, flags: int) -> None:
    source_hash = b"h" * 8
    body = source_hash if flags & 1 else stamp(5, 6)
    head = MAGIC + u32(flags) + body
    got = Rule(MAGIC, wanted).state(head, stamp(5, 6), lambda: source_hash)

    def kind(f: int) -> int:
        return f if f & 1 else 0  # 0b10 alone is read as a timestamp pyc

    assert got == ("fresh" if kind(flags) == kind(wanted) else "mode")


@pytest.mark.parametrize("wanted", [None, 0, 1, 3])
def test_undefined_flags_invalid_whatever_is_wanted(wanted: int | None) -> None:
    for flags in (4, 5, 7, 8, U32):
        head = MAGIC + u32(flags) + stamp(5, 6)
        assert Rule(MAGIC, wanted).state(head, stamp(5, 6), lambda: stamp(5, 6)) == "invalid"


# --- 8- and 12-byte layouts --------------------------------------------------------------------

@pytest.mark.parametrize("wanted", [None, 0, 1, 3])
def test_python27_layout(wanted: int | None) -> None:
    magic = for_version("2.7").magic_bytes
    rule = Rule(magic, wanted)
    assert rule.size == 8
    src = stamp(1000, 77)

    def never() -> bytes:
        raise AssertionError("a pre-3.7 pyc has no hash")

    assert rule.state(magic + u32(1000), src, never) == "fresh"
    assert rule.state(magic + u32(1000) + b"code", src, never) == "fresh"  # size is not recorded
    assert rule.state(magic + u32(1001), src, never) == "stale"
    assert rule.state(magic + u32(999), src, never) == "stale"
    assert rule.state(magic + u32(1000)[:3], src, never) == "invalid"
    assert rule.state(MAGIC + u32(1000), src, never) == "invalid"


@pytest.mark.parametrize("wanted", [None, 0, 1, 3])
def test_python36_layout(wanted: int | None) -> None:
    magic = for_version("3.6").magic_bytes
    rule = Rule(magic, wanted)
    assert rule.size == 12
    src = stamp(1000, 77)

    def never() -> bytes:
        raise AssertionError("a pre-3.7 pyc has no hash")

    assert rule.state(magic + src, src, never) == "fresh"
    assert rule.state(magic + stamp(1000, 78), src, never) == "stale"
    assert rule.state(magic + stamp(1001, 77), src, never) == "stale"
    assert rule.state(magic + src[:7], src, never) == "invalid"
    assert rule.state(for_version("3.5").magic_bytes + src, src, never) == "invalid"


_COMPILE = """\
import py_compile, sys
py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)
"""


@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_real_old_pycs(tmp_path: Path, version: str) -> None:
    exe = interpreters.require(version)
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    os.utime(source, (1_600_000_000, 1_600_000_000))
    cfile = tmp_path / "m.pyc"
    subprocess.run([exe, "-c", _COMPILE, str(source), str(cfile)], check=True, timeout=60,
                   capture_output=True)
    data = cfile.read_bytes()
    rule = Rule(for_version(version).magic_bytes, None)

    def state() -> str:
        st_ = source.stat()
        return rule.state(data, stamp(st_.st_mtime, st_.st_size), lambda: b"")

    assert data[:4] == for_version(version).magic_bytes
    assert state() == "fresh"
    os.utime(source, (1_600_000_001, 1_600_000_001))
    assert state() == "stale"
    os.utime(source, (1_600_000_000, 1_600_000_000))
    source.write_text("x = 12\n")  # a size change only 3.6 records
    os.utime(source, (1_600_000_000, 1_600_000_000))
    assert state() == ("fresh" if version == "2.7" else "stale")


# --- explain: what was recorded, what was found ------------------------------------------------

@settings(max_examples=500)
@given(cases())
def test_explain_agrees_with_state_on_any_header(case: tuple[bytes, float, int, bytes]) -> None:
    head, mtime, size, source_hash = case
    for flags in (None, 0, 1, 3):
        rule = Rule(MAGIC, flags)
        verdict = rule.explain(head, mtime, size, "cpython-3x", lambda: source_hash)
        assert verdict.state == rule.state(head, stamp(mtime, size), lambda: source_hash)
        assert verdict.detail and "\n" not in verdict.detail
        assert (verdict.field is None) == (verdict.state == "fresh")


def _real(tmp_path: Path, mode: py_compile.PycInvalidationMode = py_compile.PycInvalidationMode.TIMESTAMP,
          ) -> tuple[Path, bytes]:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    os.utime(source, (1_796_000_000, 1_796_000_000))  # 2026-11-30 ...
    cfile = tmp_path / "m.pyc"
    py_compile.compile(str(source), str(cfile), invalidation_mode=mode, doraise=True)
    return source, cfile.read_bytes()[:16]


def _explain(source: Path, head: bytes, flags: int | None = None) -> Any:
    st_ = source.stat()
    return Rule(MAGIC, flags).explain(head, st_.st_mtime, st_.st_size, "cpython-here",
                                      lambda: hash_bytes(source.read_bytes(), MAGIC, VERSION))


def test_explain_mtime_gone_back_names_both_times(tmp_path: Path) -> None:
    source, head = _real(tmp_path)
    os.utime(source, (1_700_000_000, 1_700_000_000))  # older than the pyc records
    verdict = _explain(source, head)
    assert verdict.state == "stale" and verdict.field == "mtime"
    assert verdict.recorded == 1_796_000_000 and verdict.found == 1_700_000_000
    assert verdict.detail == ("source mtime 2023-11-14 22:13:20 UTC differs from the "
                              "2026-11-30 00:53:20 UTC recorded")
    assert "older" not in verdict.detail


def test_explain_size_only(tmp_path: Path) -> None:
    source, head = _real(tmp_path)
    source.write_text("x = 1000\n")
    os.utime(source, (1_796_000_000, 1_796_000_000))
    verdict = _explain(source, head)
    assert (verdict.state, verdict.field, verdict.recorded, verdict.found) == ("stale", "size", 6, 9)
    assert verdict.detail == "source size 9 bytes, 6 recorded"
    big = head[:12] + (1180).to_bytes(4, "little")
    source.write_text("#" * 1203 + "\n")
    os.utime(source, (1_796_000_000, 1_796_000_000))
    assert _explain(source, big).detail == "source size 1,204 bytes, 1,180 recorded"


def test_explain_hash_differs(tmp_path: Path) -> None:
    source, head = _real(tmp_path, py_compile.PycInvalidationMode.CHECKED_HASH)
    source.write_text("x = 2\n")
    now = hash_bytes(b"x = 2\n", MAGIC, VERSION).hex()
    verdict = _explain(source, head)
    assert verdict.state == "stale" and verdict.field == "hash"
    assert verdict.detail == f"source hash {now} differs from the recorded {head[8:16].hex()}"
    assert verdict.recorded != verdict.found == now


def test_explain_mode_names_both_modes(tmp_path: Path) -> None:
    source, head = _real(tmp_path, py_compile.PycInvalidationMode.CHECKED_HASH)
    verdict = _explain(source, head, 0)
    assert (verdict.state, verdict.detail) == ("mode", "checked-hash pyc, timestamp asked")


@pytest.mark.parametrize("version", ["3.8", "3.11", "3.12", "3.13"])
def test_explain_another_pythons_magic(tmp_path: Path, version: str) -> None:
    exe = interpreters.require(version)
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)",
                    str(source), str(tmp_path / "m.pyc")], check=True, timeout=60)
    head = (tmp_path / "m.pyc").read_bytes()[:16]
    theirs = int.from_bytes(head[:2], "little")
    ours = int.from_bytes(MAGIC[:2], "little")
    if theirs == ours:
        pytest.skip(f"Python {version} is the running one")
    verdict = _explain(source, head)
    assert verdict.state == "invalid" and verdict.field == "magic"
    assert verdict.detail == f"wrong magic {theirs} (Python {version}) for cpython-here ({ours})"


def test_explain_not_a_pyc() -> None:
    rule = Rule(MAGIC)
    assert rule.explain(b"", 0, 0, "t", bytes).detail == "empty file, not a pyc"
    assert rule.explain(b"garbage!" * 2, 0, 0, "t", bytes).detail.startswith("not a pyc: starts with 67617262")
    assert rule.explain(MAGIC + b"\0" * 4, 0, 0, "t", bytes).detail == "header is 8 bytes, expected 16"
    assert rule.explain(MAGIC + u32(8) + b"\0" * 8, 0, 0, "t", bytes).detail.startswith("undefined flags 0x8")
