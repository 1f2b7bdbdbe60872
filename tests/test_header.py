"""Tests for bytecast.header: real pycs from every installed interpreter, samples, properties."""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from importlib import _bootstrap_external
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import interpreters
from bytecast.errors import PycFormatError, UsageError
from bytecast.header import Header, pack_header, parse_header, read_header
from bytecast.magic import entries, for_version, header_size_for

DATA = Path(__file__).resolve().parent / "data" / "pyc"
MAGIC = importlib.util.MAGIC_NUMBER
NUMBER = int.from_bytes(MAGIC[:2], "little")
U32 = 0xFFFFFFFF


# --- interpreters on this machine -------------------------------------------------------------

INTERPRETER_MINORS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]


# Runs under every target (2.7 syntax): compile argv[1] to argv[2] in mode argv[3], print
# the interpreter's magic and, for 3.7+, the source hash importlib computes.
_COMPILE = """\
import binascii, py_compile, sys
source, target, mode = sys.argv[1:4]
try:
    import importlib.util as util
    magic = util.MAGIC_NUMBER
except (ImportError, AttributeError):
    import imp
    util = None
    magic = imp.get_magic()
kwargs = {}
if mode != "legacy":
    kwargs["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, mode)
py_compile.compile(source, cfile=target, doraise=True, **kwargs)
digest = b""
if hasattr(util, "source_hash"):
    with open(source, "rb") as f:
        digest = util.source_hash(f.read())
sys.stdout.write(binascii.hexlify(magic).decode() + " " + (binascii.hexlify(digest).decode() or "-"))
"""


def _compile_with(exe: str, source: Path, target: Path, mode: str) -> tuple[bytes, bytes | None]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    done = subprocess.run(
        [exe, "-E", "-c", _COMPILE, str(source), str(target), mode],
        check=False, capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    magic_hex, hash_hex = done.stdout.split()
    return bytes.fromhex(magic_hex), None if hash_hex == "-" else bytes.fromhex(hash_hex)


def _modes(minor: str) -> list[str]:
    if tuple(int(p) for p in minor.split(".")) < (3, 7):
        return ["legacy"]
    return ["TIMESTAMP", "CHECKED_HASH", "UNCHECKED_HASH"]


# mtimes past 2**32 are stored mod 2**32 by every version
MTIMES = [1_700_000_000, 2**32 + 12345]


@pytest.mark.parametrize("mtime", MTIMES, ids=["mtime", "mtime-past-2**32"])
@pytest.mark.parametrize("minor", INTERPRETER_MINORS)
def test_pycs_written_by_each_interpreter(minor: str, mtime: int, tmp_path: Path) -> None:
    exe = interpreters.require(minor)
    source = tmp_path / "mod.py"
    source.write_bytes(b"# -*- coding: utf-8 -*-\nx = [1, 2, 3]\n" + b"y = 'z'\n" * 50)
    os.utime(source, (mtime, mtime))
    st_ = os.stat(source)
    if int(st_.st_mtime) != mtime:
        pytest.skip(f"this file system cannot store mtime {mtime}")
    for mode in _modes(minor):
        target = tmp_path / f"mod-{mode}.pyc"
        magic, digest = _compile_with(exe, source, target, mode)
        raw = target.read_bytes()
        header = read_header(target)
        assert header == parse_header(raw, str(target))
        assert header.magic == int.from_bytes(magic[:2], "little")
        entry = header.entry
        assert entry is not None and entry.python == minor
        assert header.size == entry.header_size
        if mode in ("legacy", "TIMESTAMP"):
            assert header.mode == "timestamp"
            assert header.mtime == mtime & U32
            assert header.source_hash is None
            expected = pack_header(magic, mtime=mtime, source_size=st_.st_size)
            if header.size == 8:
                assert header.source_size is None and header.flags is None
            else:
                assert header.source_size == st_.st_size
                assert header.flags == (0 if header.size == 16 else None)
        else:
            checked = mode == "CHECKED_HASH"
            assert header.mode == ("checked-hash" if checked else "unchecked-hash")
            assert header.flags == (0b11 if checked else 0b01)
            assert header.mtime is None and header.source_size is None
            assert header.source_hash == digest
            assert digest is not None
            expected = pack_header(magic, source_hash=digest, checked=checked)
        assert raw[: header.size] == expected
        # the number alone gives the same bytes as the magic bytes
        assert expected == _repack(header)


def _repack(header: Header) -> bytes:
    if header.source_hash is not None:
        return pack_header(header.magic, source_hash=header.source_hash,
                           checked=header.mode == "checked-hash")
    return pack_header(header.magic, mtime=header.mtime, source_size=header.source_size)


@pytest.mark.parametrize(
    ("mtime", "size"), [(0, 0), (1_700_000_000, 123), (2**32 + 7, 2**32 + 9), (-1, 5)]
)
def test_timestamp_header_equals_importlib(mtime: int, size: int) -> None:
    code = compile("x = 1", "<m>", "exec")
    expected = _bootstrap_external._code_to_timestamp_pyc(  # type: ignore[attr-defined]
        code, mtime, size
    )[:16]
    assert pack_header(NUMBER, mtime=mtime, source_size=size) == expected
    assert pack_header(MAGIC, mtime=mtime, source_size=size) == expected


@pytest.mark.parametrize("checked", [True, False])
def test_hash_header_equals_importlib(checked: bool) -> None:
    code = compile("x = 1", "<m>", "exec")
    digest = importlib.util.source_hash(b"x = 1")
    expected = _bootstrap_external._code_to_hash_pyc(  # type: ignore[attr-defined]
        code, digest, checked
    )[:16]
    assert pack_header(MAGIC, source_hash=digest, checked=checked) == expected


# --- samples in tests/data/pyc (made by tests/data/make_pyc_samples.py) -------------------------


def test_valid_samples() -> None:
    hash_ = bytes(range(1, 9))
    expected = {
        "py15.pyc": Header(20121, None, 1_700_000_000, None, None, 8),
        "py27.pyc": Header(62211, None, 1_700_000_000, None, None, 8),
        "py36.pyc": Header(3379, None, 1_700_000_000, 1234, None, 12),
        "py311-timestamp.pyc": Header(3495, 0, 1_700_000_000, 1234, None, 16),
        "py311-checked-hash.pyc": Header(3495, 0b11, None, None, hash_, 16),
        "py311-unchecked-hash.pyc": Header(3495, 0b01, None, None, hash_, 16),
        "py311-flags-0b10.pyc": Header(3495, 0b10, 1_700_000_000, 1234, None, 16),
        "unknown-3999.pyc": Header(3999, 0, 1_700_000_000, 1234, None, 16),
    }
    for name, header in expected.items():
        assert read_header(DATA / name) == header, name
    assert read_header(DATA / "py311-flags-0b10.pyc").mode == "timestamp"
    assert read_header(DATA / "unknown-3999.pyc").entry is None
    assert read_header(DATA / "py36.pyc").entry == for_version("3.6")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.pyc", "header is 0 bytes, expected at least 8"),
        ("truncated-3.pyc", "header is 3 bytes, expected 16"),
        ("truncated-12.pyc", "header is 12 bytes, expected 16"),
        ("truncated-py36-8.pyc", "header is 8 bytes, expected 12"),
        ("bad-trailer.pyc", "not a .pyc file: magic a70d0a0d does not end in 0d0a"),
        ("text.pyc", "not a .pyc file: magic 7072696e does not end in 0d0a"),
        ("unknown-flags.pyc", "unknown flags 0x00000004 in header"),
    ],
)
def test_broken_samples(name: str, message: str) -> None:
    path = DATA / name
    with pytest.raises(PycFormatError) as info:
        read_header(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_parse_errors_name_the_file() -> None:
    with pytest.raises(PycFormatError, match=r"^pkg/m\.pyc: header is 12 bytes, expected 16$"):
        parse_header(MAGIC + bytes(8), "pkg/m.pyc")
    with pytest.raises(PycFormatError, match=r"^<pyc>: header is 1 byte, expected at least 8$"):
        parse_header(b"\xa7")
    with pytest.raises(PycFormatError, match="does not end in"):
        parse_header(b"\xa7\r\x00")
    with pytest.raises(PycFormatError, match=r"unknown flags 0x80000000"):
        parse_header(MAGIC + (0x80000000).to_bytes(4, "little") + bytes(8), "m.pyc")


def test_parse_reads_only_the_header() -> None:
    raw = pack_header(NUMBER, mtime=5, source_size=6) + b"\xff" * 100
    assert parse_header(raw) == Header(NUMBER, 0, 5, 6, None, 16)
    assert parse_header(bytearray(raw)) == parse_header(memoryview(raw).tobytes())


def test_read_header_oserror_passes_through(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "missing.pyc")
    with pytest.raises(IsADirectoryError):
        read_header(tmp_path)
    fifo = tmp_path / "pipe.pyc"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_header(fifo)  # at once: a FIFO with no writer is never waited on


# --- pack_header arguments --------------------------------------------------------------------


def test_pack_layouts() -> None:
    assert pack_header(62211, mtime=1, source_size=99) == b"\x03\xf3\r\n\x01\x00\x00\x00"
    assert pack_header(3379, mtime=1, source_size=2) == b"3\r\r\n\x01\x00\x00\x00\x02\x00\x00\x00"
    assert pack_header(3495, mtime=1, source_size=2) == (
        b"\xa7\r\r\n" + b"\x00" * 4 + b"\x01\x00\x00\x00\x02\x00\x00\x00"
    )
    assert pack_header(3495, source_hash=b"12345678", checked=False) == (
        b"\xa7\r\r\n\x01\x00\x00\x0012345678"
    )
    assert len(pack_header(3495, mtime=1, source_size=2, size=12)) == 12
    assert len(pack_header(3999, mtime=1, source_size=2)) == 16  # unknown: by range


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"magic": 3379, "source_hash": b"12345678"}, "need the 16-byte header"),
        ({"magic": 3495, "source_hash": b"1234"}, "source hash is 4 bytes, expected 8"),
        ({"magic": 3495, "source_hash": b"12345678", "mtime": 1}, "no mtime or source size"),
        ({"magic": 3495}, "needs mtime"),
        ({"magic": 3495, "mtime": 1}, "needs source_size"),
        ({"magic": 3379, "mtime": 1}, "needs source_size"),
        ({"magic": 3495, "mtime": 1, "source_size": 1, "size": 10}, "not one of 8, 12, 16"),
        ({"magic": 70000, "mtime": 1}, "does not fit in 16 bits"),
        ({"magic": -1, "mtime": 1}, "does not fit in 16 bits"),
    ],
)
def test_pack_rejects(kwargs: dict[str, object], message: str) -> None:
    magic = kwargs.pop("magic")
    with pytest.raises(UsageError, match=message):
        pack_header(magic, **kwargs)  # type: ignore[arg-type]


def test_pack_rejects_bad_magic_bytes() -> None:
    with pytest.raises(PycFormatError):
        pack_header(b"\xa7\r\n\r", mtime=1, source_size=1)


def test_header_value_semantics() -> None:
    header = Header(3495, 0b11, None, None, b"12345678", 16)
    with pytest.raises(AttributeError):
        header.magic = 1
    with pytest.raises(AttributeError):
        del header.size
    assert header == Header(3495, 0b11, None, None, b"12345678", 16)
    assert hash(header) == hash(Header(3495, 0b11, None, None, b"12345678", 16))
    assert header != Header(3495, 0b01, None, None, b"12345678", 16)
    assert pickle.loads(pickle.dumps(header)) == header
    assert header.mode == "checked-hash"
    assert header.entry == for_version("3.11")
    assert "magic=3495" in repr(header)
    assert Header(62211, None, 0, None, None, 8).mode == "timestamp"


# --- properties -----------------------------------------------------------------------------------

known_numbers = st.sampled_from([e.number for e in entries()])
any_number = st.one_of(known_numbers, st.integers(0, 0xFFFF))
u32 = st.integers(0, U32)


@given(st.binary(max_size=40))
def test_parse_arbitrary_bytes(data: bytes) -> None:
    try:
        header = parse_header(data, "fuzz.pyc")
    except PycFormatError as exc:
        assert str(exc).startswith("fuzz.pyc: ")
        return
    assert header.size in (8, 12, 16) and header.size <= len(data)
    assert header.magic.to_bytes(2, "little") + b"\r\n" == data[:4]


@given(st.binary(min_size=12, max_size=12), any_number)
def test_parse_bytes_after_a_valid_magic(rest: bytes, number: int) -> None:
    data = number.to_bytes(2, "little") + b"\r\n" + rest
    try:
        header = parse_header(data)
    except PycFormatError as exc:
        assert "unknown flags" in str(exc)
        return
    assert header.size == header_size_for(number)
    assert _repack(header) == data[: header.size] or header.flags == 0b10


@given(any_number, st.integers(-(2**40), 2**40), u32)
def test_timestamp_round_trip(number: int, mtime: int, size: int) -> None:
    raw = pack_header(number, mtime=mtime, source_size=size)
    header = parse_header(raw)
    assert len(raw) == header.size == header_size_for(number)
    assert header.magic == number
    assert header.mtime == mtime & U32
    assert header.source_size == (None if header.size == 8 else size)
    assert header.mode == "timestamp"
    assert _repack(header) == raw


@given(any_number.filter(lambda n: header_size_for(n) == 16), st.binary(min_size=8,
       max_size=8), st.booleans())
def test_hash_round_trip(number: int, digest: bytes, checked: bool) -> None:
    raw = pack_header(number, source_hash=digest, checked=checked)
    header = parse_header(raw)
    assert (header.magic, header.source_hash, header.size) == (number, digest, 16)
    assert header.mode == ("checked-hash" if checked else "unchecked-hash")
    assert _repack(header) == raw


def test_running_interpreter_is_a_16_byte_layout() -> None:
    assert sys.version_info >= (3, 7)
    assert header_size_for(NUMBER) == 16
