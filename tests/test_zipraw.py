"""The hand-written zip writer and member reader agree with zipfile: the same bytes for the same
members, the same verdicts on damaged archives; a deflate stream is copied only when whole."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from bytecast.place import zipraw
from bytecast.place.archive import ReproducibleZip
from bytecast.place.zipraw import MemberError, deflate, fits, read_member
from conftest import member_stream

STAMP = (2024, 5, 6, 7, 8, 10)


def _real_members() -> dict[str, bytes]:
    """Files of this checkout and of the standard library: text, bytecode-sized, a native library."""
    here = Path(__file__).resolve().parent.parent / "src" / "bytecast"
    members = {f"bytecast/{p.relative_to(here).as_posix()}": p.read_bytes() for p in sorted(here.rglob("*.py"))}
    native = sorted((Path(os.__file__).parent / "lib-dynload").glob("*.so"))[:3]
    members.update({f"lib/{p.name}": p.read_bytes() for p in native})
    members.update({
        "empty.txt": b"",
        "données/é.txt": b"non-ASCII name\n",  # the UTF-8 flag
        "random.bin": os.urandom(70_000),  # incompressible: deflate's stored blocks
        "zeros.bin": bytes(300_000),
        "bin/run": b"#!/bin/sh\necho hi\n",
    })
    return members


@pytest.mark.parametrize("prefix", [b"", b"#!/usr/bin/env python3\n"])
def test_the_hand_written_archive_is_zipfiles_byte_for_byte(prefix: bytes) -> None:
    members = _real_members()
    archive = ReproducibleZip(prefix)
    for name, data in members.items():
        archive.add(name, data, executable=name == "bin/run")
    names = sorted(members)
    by_hand, by_zipfile = io.BytesIO(), io.BytesIO()
    for out, write in ((by_hand, archive._write_by_hand), (by_zipfile, archive._write_with_zipfile)):
        out.write(prefix)
        write(out, names, STAMP)
    assert len(members) > 50
    assert by_hand.getvalue() == by_zipfile.getvalue()
    with zipfile.ZipFile(by_hand) as zf:
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in zf.infolist()} == members


def _archive(path: Path, members: dict[str, tuple[bytes, int, int]]) -> Path:
    """A zip of ``name -> (data, method, level)``, as any tool might have written it."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, (data, method, level) in members.items():
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = method
            zf.writestr(info, data, compresslevel=level)
    return path


def test_a_deflate_stream_is_copied_as_it_is(tmp_path: Path) -> None:
    text = b"".join(b"line %d of a data file\n" % i for i in range(5000))
    source = _archive(tmp_path / "in.zip", {"fast.txt": (text, zipfile.ZIP_DEFLATED, 1),
                                            "stored.txt": (text, zipfile.ZIP_STORED, 0)})
    assert member_stream(source, "fast.txt") != deflate(text)  # level 1: not what bytecast writes
    found = {}
    with zipfile.ZipFile(source) as zf, open(source, "rb") as f:
        for info in zf.infolist():
            read = read_member(f, info)
            assert read is not None
            found[info.filename] = read
    assert found["fast.txt"] == (text, member_stream(source, "fast.txt"))
    assert found["stored.txt"] == (text, None)  # stored: deflated when written
    archive = ReproducibleZip()
    for name, (data, stream) in found.items():
        archive.add(name, data, stream=stream)
    out = tmp_path / "out.zip"
    archive.write(str(out))
    assert member_stream(out, "fast.txt") == member_stream(source, "fast.txt")
    assert member_stream(out, "stored.txt") == deflate(text)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert [i.compress_type for i in zf.infolist()] == [zipfile.ZIP_DEFLATED] * 2
        assert zf.read("fast.txt") == zf.read("stored.txt") == text


def _damaged(tmp_path: Path, how: str) -> Path:
    data = b"the contents of a member\n" * 40
    path = _archive(tmp_path / f"{how}.zip", {"a.txt": (data, zipfile.ZIP_DEFLATED, 6)})
    raw = bytearray(path.read_bytes())
    stream = deflate(data)
    at = raw.index(stream)
    if how == "crc":  # the directory and the local header record another CRC-32
        struct.pack_into("<L", raw, 14, zlib.crc32(data) ^ 1)
        struct.pack_into("<L", raw, raw.index(b"PK\x01\x02") + 16, zlib.crc32(data) ^ 1)
    elif how == "name":
        raw[30:35] = b"b.txt"  # the local header's name, not the directory's
    elif how == "truncated":
        del raw[at + 10:]
    elif how == "corrupt":
        raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["crc", "name", "truncated", "corrupt"])
def test_a_damaged_member_is_refused_as_zipfile_refuses_it(tmp_path: Path, how: str) -> None:
    path = _damaged(tmp_path, how)
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.infolist()[0]
            with pytest.raises(Exception):  # noqa: B017 - zipfile raises BadZipFile, zlib.error or EOFError
                zf.read(info)
            with open(path, "rb") as f, pytest.raises(MemberError):
                read_member(f, info)
    except zipfile.BadZipFile:
        assert how == "truncated"  # no directory left: neither reader gets that far


def test_a_stream_with_bytes_after_its_end_is_read_but_not_copied(tmp_path: Path) -> None:
    data = b"contents\n" * 100
    stream = deflate(data)
    path = _archive(tmp_path / "tail.zip", {"a.txt": (data, zipfile.ZIP_DEFLATED, 6)})
    raw = path.read_bytes()
    at = raw.index(stream)
    # the stream and three bytes more, with the sizes in both headers made to say so
    grown = bytearray(raw[:at] + stream + b"xyz" + raw[at + len(stream):])
    struct.pack_into("<L", grown, 18, len(stream) + 3)
    central = grown.index(b"PK\x01\x02")
    struct.pack_into("<L", grown, central + 20, len(stream) + 3)
    end = grown.index(b"PK\x05\x06")
    struct.pack_into("<L", grown, end + 16, central)
    path.write_bytes(bytes(grown))
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        info = zf.infolist()[0]
        assert zf.read(info) == data  # zipfile takes it
        assert read_member(f, info) == (data, None)  # so does bytecast, and deflates it again


def test_an_archive_past_zip_limits_goes_to_zipfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fits([("a", b"x")] * 1000)
    assert not fits([("a", b"")] * 0xFFFF)  # ZIP64's member count
    used: list[str] = []
    by_zipfile = ReproducibleZip._write_with_zipfile

    def recorded(self: ReproducibleZip, *args: Any) -> None:
        used.append("zipfile")
        by_zipfile(self, *args)

    monkeypatch.setattr(ReproducibleZip, "_write_with_zipfile", recorded)
    monkeypatch.setattr(zipraw, "fits", lambda members: False)
    archive = ReproducibleZip()
    archive.add("a.txt", b"text\n" * 100, stream=deflate(b"text\n" * 100))
    archive.write(str(tmp_path / "big.zip"))
    assert used == ["zipfile"]
    with zipfile.ZipFile(tmp_path / "big.zip") as zf:
        assert zf.read("a.txt") == b"text\n" * 100
