"""Tests for bytecast.magic and the ``bytecast magic`` command."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import pickle
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bytecast
import interpreters
from bytecast.cli import main
from bytecast.errors import PycFormatError, UsageError
from bytecast.magic import (
    MagicEntry,
    entries,
    for_version,
    from_bytes,
    header_size_for,
    lookup,
    parse_query,
)

SRC_DIR = str(Path(bytecast.__file__).resolve().parent.parent)

# The release magic of every minor, from CPython's list of known values; an independent
# copy of what the table must say.
FINAL_MAGIC = {
    "1.5": 20121, "1.6": 50428, "2.0": 50823, "2.1": 60202, "2.2": 60717, "2.3": 62011,
    "2.4": 62061, "2.5": 62131, "2.6": 62161, "2.7": 62211, "3.0": 3131, "3.1": 3151,
    "3.2": 3180, "3.3": 3230, "3.4": 3310, "3.5": 3351, "3.6": 3379, "3.7": 3394,
    "3.8": 3413, "3.9": 3425, "3.10": 3439, "3.11": 3495, "3.12": 3531, "3.13": 3571,
    "3.14": 3627,
}


def _layout(minor: str) -> int:
    major, minor_number = (int(part) for part in minor.split("."))
    if (major, minor_number) < (3, 3):
        return 8
    return 12 if (major, minor_number) < (3, 7) else 16


# --- interpreters on this machine -------------------------------------------------------------

INTERPRETER_MINORS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]

_ASK_MAGIC = """\
import sys, binascii
try:
    from importlib.util import MAGIC_NUMBER as m
except ImportError:
    import imp
    m = imp.get_magic()
sys.stdout.write("%d.%d.%d %s" % (sys.version_info[:3] + (binascii.hexlify(m).decode(),)))
"""


@functools.cache
def _ask(exe: str) -> tuple[str, bytes]:
    out = subprocess.run(
        [exe, "-E", "-c", _ASK_MAGIC], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    version, magic_hex = out.split()
    return version, bytes.fromhex(magic_hex)


@pytest.mark.parametrize("minor", INTERPRETER_MINORS)
def test_installed_interpreter_magic_is_its_release_row(minor: str) -> None:
    version, magic = _ask(interpreters.require(minor))
    number = from_bytes(magic)
    entry = lookup(number)
    assert entry is not None, f"Python {version} writes {number}, missing from the table"
    assert entry.python == minor
    assert entry.release
    assert entry.header_size == _layout(minor)
    assert entry.magic_bytes == magic
    assert for_version(minor) == entry
    assert for_version(version) == entry
    assert parse_query(version) == [entry]


def test_running_interpreter() -> None:
    number = from_bytes(importlib.util.MAGIC_NUMBER)
    entry = for_version(".".join(map(str, sys.version_info[:3])))
    assert entry.number == number
    assert entry.magic_bytes == importlib.util.MAGIC_NUMBER


# --- the table --------------------------------------------------------------------------------


def test_release_magic_of_every_minor() -> None:
    for minor, number in FINAL_MAGIC.items():
        entry = for_version(minor)
        assert entry.number == number, minor
        assert entry.python == minor
        assert entry.release
        assert entry.header_size == _layout(minor)
        assert "release" in entry.notes


def test_every_minor_has_exactly_one_release_row_except_35() -> None:
    releases: dict[str, list[int]] = {}
    for entry in entries():
        if entry.release:
            releases.setdefault(entry.python, []).append(entry.number)
    assert set(releases) == set(FINAL_MAGIC)
    assert releases.pop("3.5") == [3350, 3351]
    assert all(len(numbers) == 1 for numbers in releases.values()), releases


def test_rows_are_consistent() -> None:
    rows = entries()
    assert len({e.number for e in rows}) == len(rows)
    assert rows == entries()  # built once, same objects
    for entry in rows:
        assert lookup(entry.number) is entry
        assert entry.header_size == header_size_for(entry.number)
        assert entry.magic_bytes == entry.number.to_bytes(2, "little") + b"\r\n"
        assert re.fullmatch(r"\d\.\d+", entry.python)
        assert entry.versions.startswith(entry.python)
        assert entry.notes
        first = entry.versions.split("\u2013")[0]
        assert re.fullmatch(r"\d\.\d+((a|b|c|rc)\d+|\.\d+)?( \(py3k development\))?", first)
        if entry.release:
            assert entry.versions in (entry.python, f"{first}\u2013{entry.python}") or entry.number == 3350
    # within 3.x, numbers only grow and minors never go back
    py3 = [e for e in rows if e.python.startswith("3.")]
    assert [e.number for e in py3] == sorted(e.number for e in py3)
    minors = [tuple(int(p) for p in e.python.split(".")) for e in py3]
    assert minors == sorted(minors)


def test_header_layout_boundaries() -> None:
    assert header_size_for(3200) == 8  # 3.3a1 before the size field
    assert header_size_for(3210) == 12  # 3.3a1 added the source size
    assert header_size_for(3391) == 12  # 3.7a2
    assert header_size_for(3392) == 16  # 3.7a4, PEP 552
    assert lookup(3391) is not None and lookup(3391).header_size == 12  # type: ignore[union-attr]
    # numbers not in the table fall back by range
    assert header_size_for(3650) == 16  # 3.15
    assert header_size_for(4999) == 16
    assert header_size_for(3001) == 8
    assert header_size_for(62212) == 8  # 2.7 under -U
    assert header_size_for(5892) == 8  # 1.4b1
    assert header_size_for(0) == 8


def test_known_special_cases() -> None:
    assert lookup(3131).python == "3.0"  # type: ignore[union-attr]
    assert lookup(3130) is None  # 3.0 always wrote MAGIC + 1
    assert lookup(62021).python == "2.3" and not lookup(62021).release  # type: ignore[union-attr]
    assert for_version("3.5.0").number == 3350
    assert for_version("3.5.1").number == 3350
    assert for_version("3.5.2").number == 3351
    assert for_version("3.5").number == 3351
    assert for_version("1.5.2").number == 20121
    assert for_version(" 3.14 ").number == 3627


@pytest.mark.parametrize("bad", ["", "three", "3", "3.11.x", "3.11a1", "py3.11"])
def test_for_version_rejects_non_versions(bad: str) -> None:
    with pytest.raises(UsageError, match="not a Python version"):
        for_version(bad)


@pytest.mark.parametrize("unknown", ["3.15", "4.0", "1.4", "0.9"])
def test_for_version_unknown(unknown: str) -> None:
    with pytest.raises(UsageError, match=f"no known magic number for Python {unknown}"):
        for_version(unknown)


def test_from_bytes() -> None:
    assert from_bytes(b"\xa7\r\r\n") == 3495
    assert from_bytes(b"\x03\xf3\r\n") == 62211
    assert from_bytes(b"\xa7\r\r\n\x00\x00\x00\x00") == 3495
    with pytest.raises(PycFormatError, match="magic is 3 bytes, expected 4"):
        from_bytes(b"\xa7\r\r")
    with pytest.raises(PycFormatError, match="bad magic a70d0a0d"):
        from_bytes(b"\xa7\r\n\r")


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("3495", [3495]),
        (" 3495\n", [3495]),
        ("a70d0d0a", [3495]),
        ("0xA70D0D0A", [3495]),
        ("3.11", [3495]),
        ("3.11.7", [3495]),
        ("3.5", [3350, 3351]),
        ("3.5.1", [3350]),
        ("2.7", [62211]),
        ("2.7.18", [62211]),
        ("1.5", [20121]),
        ("3.11b4", [3495]),
        ("3.11a7", [3492, 3493, 3494]),
        ("3.14rc3", [3627]),
        ("2.5c2", [62131]),
        ("9999", []),
        ("3.15", []),
        ("3.15a1", []),
    ],
)
def test_parse_query(query: str, numbers: list[int]) -> None:
    assert [e.number for e in parse_query(query)] == numbers


@pytest.mark.parametrize("bad", ["", "banana", "3.11.7.1", "-1", "a70d0a0d"])
def test_parse_query_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_query(bad)


def test_entry_is_immutable_hashable_picklable() -> None:
    entry = for_version("3.11")
    with pytest.raises(AttributeError):
        entry.number = 1
    with pytest.raises(AttributeError):
        del entry.notes
    copy = MagicEntry(entry.number, entry.versions, entry.python, entry.header_size,
                      entry.release, entry.notes)
    assert copy == entry and hash(copy) == hash(entry) and copy is not entry
    assert copy != for_version("3.12")
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert "number=3495" in repr(entry)


def test_import_is_cheap() -> None:
    """Importing the table pulls in nothing heavy (no dataclasses, no re)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); before = set(sys.modules); "
        "import bytecast.magic; print(' '.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, SRC_DIR], capture_output=True, text=True, check=True
    ).stdout.split()
    # bytecast._frozen builds the frozen row type
    assert set(out) <= {"__future__", "bytecast", "bytecast.errors", "bytecast.magic", "bytecast.header", "bytecast._frozen"}


# --- the command --------------------------------------------------------------------------------


def test_cli_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["magic", "3495"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["MAGIC", "BYTES", "PYTHON", "VERSIONS", "HEADER", "RELEASE",
                                "NOTES"]
    assert lines[1].split()[:6] == ["3495", "a70d0d0a", "3.11", "3.11b4\u20133.11", "16", "yes"]
    assert err == ""


def test_cli_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["magic", "3.5", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["query"] == "3.5"
    assert [e["number"] for e in document["entries"]] == [3350, 3351]
    assert document["entries"][1] == {
        "number": 3351,
        "magic_bytes": "170d0d0a",
        "python": "3.5",
        "versions": "3.5.2\u20133.5",
        "header_size": 12,
        "release": True,
        "notes": for_version("3.5").notes,
    }


def test_cli_unknown_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["magic", "9999"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "bytecast: 9999: unknown magic number or version\n"


def test_cli_bad_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["magic", "banana"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "banana" in err


def test_cli_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.pyc")
    assert main(["magic", missing]) == 2
    assert capsys.readouterr().err == f"bytecast: error: {missing}: no such file or directory\n"


def test_cli_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["magic", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def _compiled(tmp_path: Path, mode: py_compile.PycInvalidationMode) -> Path:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    os.utime(source, (1_700_000_000, 1_700_000_000))
    target = tmp_path / f"m-{mode.name}.pyc"
    py_compile.compile(str(source), cfile=str(target), doraise=True, invalidation_mode=mode)
    return target


def test_cli_file_timestamp(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pyc = _compiled(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP)
    assert main(["magic", str(pyc)]) == 0
    out = capsys.readouterr().out
    fields = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert fields["path"] == str(pyc)
    assert fields["magic"] == f"{from_bytes(importlib.util.MAGIC_NUMBER)} " \
                              f"({importlib.util.MAGIC_NUMBER.hex()})"
    assert fields["header"] == "16 bytes"
    assert fields["mode"] == "timestamp"
    assert fields["mtime"] == "1700000000 (2023-11-14 22:13:20 UTC)"
    assert fields["source size"] == "6"


def test_cli_file_hash_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pyc = _compiled(tmp_path, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert main(["magic", str(pyc), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["path"] == str(pyc)
    assert document["entry"]["python"] == "{}.{}".format(*sys.version_info[:2])
    assert document["header"] == {
        "magic": from_bytes(importlib.util.MAGIC_NUMBER),
        "size": 16,
        "mode": "unchecked-hash",
        "flags": 1,
        "mtime": None,
        "source_size": None,
        "source_hash": importlib.util.source_hash(b"x = 1\n").hex(),
    }


def test_cli_corrupt_header(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pyc = tmp_path / "short.pyc"
    pyc.write_bytes(b"\xa7\r\r")
    assert main(["magic", str(pyc)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"{pyc}: header is 3 bytes, expected 16\n"


def test_cli_unknown_magic_in_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pyc = tmp_path / "future.pyc"
    pyc.write_bytes((3999).to_bytes(2, "little") + b"\r\n" + bytes(12))
    assert main(["magic", str(pyc)]) == 1
    out, err = capsys.readouterr()
    assert "unknown" in out and "16 bytes" in out
    assert err == f"{pyc}: unknown magic number 3999\n"


def _run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=SRC_DIR)
    return subprocess.run(
        [sys.executable, "-m", "bytecast", *args],
        check=False, capture_output=True, text=True, env=env, timeout=60,
    )


def test_module_entry_point() -> None:
    done = _run_module("magic", "3.11", "--json")
    assert done.returncode == 0, done.stderr
    assert [e["number"] for e in json.loads(done.stdout)["entries"]] == [3495]


def test_module_entry_point_errors_have_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pyc"
    bad.write_bytes(b"PK\x03\x04 not a pyc at all")
    for args, code in ((["magic", "9999"], 1), (["magic", str(bad)], 1), (["magic", "?"], 2)):
        done = _run_module(*args)
        assert done.returncode == code, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1
