"""Tests for bytecast.hashing: source hashes against the running interpreter's ``_imp`` and
against real 3.9 and 3.10 interpreters (the other SipHash family)."""

from __future__ import annotations

import _imp
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import interpreters
from bytecast import hashing, process
from bytecast.errors import TargetError
from bytecast.hashing import hash_bytes, siphash, source_hash
from bytecast.magic import for_version
from bytecast.targets import Target, resolve
from conftest import SRC, STDLIB

RUNNING = (sys.version_info[0], sys.version_info[1])
SAME_FAMILY = [v for v in [(3, 7), (3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]
               if (v >= (3, 11)) == (RUNNING >= (3, 11))]
OTHER = ["3.9", "3.10"] if RUNNING >= (3, 11) else ["3.11", "3.12"]
"""Interpreters of the other hash family than the running one."""

SOURCES = [
    b"",
    b"x",
    b"1234567",
    b"12345678",
    b"123456789",
    b"x = 1\n",
    "s = 'h\u00e9llo w\u00f6rld \u2603'\n".encode(),
    bytes(range(256)) * 3,
    (STDLIB / "os.py").read_bytes(),
]

magics = st.binary(min_size=2, max_size=2).map(lambda b: b + b"\r\n")


@given(st.binary(max_size=300), magics, st.sampled_from(SAME_FAMILY))
def test_same_family_is_imp_source_hash(data: bytes, magic: bytes, version: tuple[int, int]) -> None:
    key = int.from_bytes(magic, "little")
    assert hash_bytes(data, magic, version) == _imp.source_hash(key, data)


@given(st.binary(max_size=300), st.integers(0, 2**32 - 1))
def test_pure_siphash_matches_c_for_running_family(data: bytes, key: int) -> None:
    c, d = (1, 3) if RUNNING >= (3, 11) else (2, 4)
    assert siphash(c, d, key, 0, data).to_bytes(8, "little") == _imp.source_hash(key, data)


def test_running_magic_is_importlib_util() -> None:
    import importlib.util

    for data in SOURCES:
        assert hash_bytes(data, importlib.util.MAGIC_NUMBER, RUNNING) == importlib.util.source_hash(data)


# Runs in a real interpreter of the other family: for each hex line of input, the hash its own
# importlib.util.source_hash (its own magic as the key) gives those bytes.
_ORACLE = textwrap.dedent("""\
    import binascii, importlib.util, sys
    for line in sys.stdin.read().split():
        data = binascii.unhexlify(line)
        print(binascii.hexlify(importlib.util.source_hash(data)).decode())
""")


def real_hashes(exe: str, sources: list[bytes]) -> list[bytes]:
    out = subprocess.run([exe, "-I", "-c", _ORACLE], input="\n".join(s.hex() for s in sources),
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert len(out) == len(sources)
    return [bytes.fromhex(h) for h in out]


@pytest.mark.parametrize("version", OTHER)
def test_other_family_equals_real_interpreter(version: str) -> None:
    exe = interpreters.require(version)
    # "" would vanish in the line split: hash the empty source separately below
    sources = [s for s in SOURCES if s]
    major, minor = (int(x) for x in version.split("."))
    magic = for_version(version).magic_bytes
    assert [hash_bytes(s, magic, (major, minor)) for s in sources] == real_hashes(exe, sources)
    empty = subprocess.run(
        [exe, "-I", "-c", "import binascii, importlib.util; "
                          "print(binascii.hexlify(importlib.util.source_hash(b'')).decode())"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert hash_bytes(b"", magic, (major, minor)).hex() == empty


# --- source_hash with a real target --------------------------------------------------------------

def target_of(version: str) -> Target:
    interpreters.require(version)
    try:
        (target,) = resolve([version], cache=False)
    except TargetError as exc:
        pytest.skip(str(exc))
    assert target.version == tuple(int(x) for x in version.split("."))
    assert not target.is_current
    return target


@pytest.fixture
def helpers() -> Iterator[None]:
    hashing.close_helpers()
    yield
    hashing.close_helpers()


@pytest.mark.usefixtures("helpers")
@pytest.mark.parametrize("version", OTHER)
def test_source_hash_with_target_uses_its_helper(tmp_path: Path, version: str) -> None:
    target = target_of(version)
    files = []
    for i, data in enumerate(SOURCES):
        path = tmp_path / f"m{i}.py"
        path.write_bytes(data)
        files.append(path)
    expected = [hash_bytes(data, target.magic, target.version) for data in SOURCES]
    got = [source_hash(str(p), target.magic, target.version, target) for p in files]
    assert (target, "hash") in process._helpers  # the target itself hashed, in its helper process
    helper = process._helpers[(target, "hash")]
    assert got == expected
    assert [source_hash(str(p), target.magic, target.version) for p in files] == expected
    assert process._helpers[(target, "hash")] is helper  # one long-lived helper per target
    with pytest.raises(FileNotFoundError):
        source_hash(str(tmp_path / "absent.py"), target.magic, target.version, target)
    # the helper still serves after a file it could not read
    assert source_hash(str(files[5]), target.magic, target.version, target) == expected[5]


@pytest.mark.usefixtures("helpers")
def test_same_family_target_needs_no_helper(tmp_path: Path) -> None:
    version = next((v for v in ("3.12", "3.13", "3.11") if v != f"{RUNNING[0]}.{RUNNING[1]}"
                    and (tuple(map(int, v.split("."))) >= (3, 11)) == (RUNNING >= (3, 11))), None)
    assert version is not None
    target = target_of(version)
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n")
    assert source_hash(str(path), target.magic, target.version, target) == \
        _imp.source_hash(int.from_bytes(target.magic, "little"), b"x = 1\n")
    assert (target, "hash") not in process._helpers


# A FIFO or a folder: OSError at once, never a wait for a writer. Run in a child with a
# timeout, so that a regression fails the test instead of hanging the run.
_NOT_A_FILE = textwrap.dedent("""\
    import sys
    from bytecast.hashing import close_helpers, source_hash
    from bytecast.targets import resolve
    path, version = sys.argv[1:3]
    if version == "none":
        target = None
        magic, numbers = b"a\\r\\r\\n", (3, 9)
    else:
        (target,) = resolve([version], cache=False)
        magic, numbers = target.magic, target.version
    try:
        source_hash(path, magic, numbers, target)
    except OSError as exc:
        print("OSError", type(exc).__name__)
    else:
        print("no error")
    close_helpers()
""")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
@pytest.mark.parametrize("version", ["none", *OTHER])
def test_fifo_or_folder_raises_at_once(tmp_path: Path, kind: str, version: str) -> None:
    if version != "none":
        target_of(version)
    path = tmp_path / "m.py"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    environ = dict(os.environ, PYTHONPATH=SRC)
    log = tmp_path / "log"
    with open(log, "w") as out:  # a file, not a pipe: a helper left behind cannot hold it open
        proc = subprocess.run([sys.executable, "-c", _NOT_A_FILE, str(path), version], env=environ,
                              stdout=out, stderr=subprocess.STDOUT, timeout=60)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert text.startswith("OSError"), text
