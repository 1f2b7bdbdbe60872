"""The zip format by hand, for what :mod:`zipfile` cannot do: write a member from compressed bytes
made already, and give back a member's compressed bytes with its contents.

A pyc-only wheel holds the input's members that do not change (native libraries, data, the
wheels virtualenv bundles: 9.3 MB of the 16 MB the wheel benchmark writes). Inflating them
is needed anyway (RECORD hashes what they hold); deflating them again is not: their input
streams are copied. That took 0.35 s of deflate of a conversion's 2.7 s of CPU.

:func:`write_zip` writes the bytes :mod:`zipfile` writes for the same members (a test compares
them, member for member): local header, data, central directory, end record; sizes known in
advance, so no data descriptor; no extra fields, no comments. It writes no ZIP64 records, so
:func:`fits` says when an archive needs :mod:`zipfile` instead. :func:`read_member` reads a
member as ``ZipFile.read`` does (the local header's name must be the directory's, the size
and CRC-32 must be what the directory says) and also returns its stream when that stream
can be copied into another archive: one complete deflate stream with nothing after it.
"""

from __future__ import annotations

import struct
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import BinaryIO
    from zipfile import ZipInfo

__all__ = ["MemberError", "Stream", "deflate", "fits", "read_member", "write_zip"]

STORED, DEFLATED = 0, 8  # the methods read; every member written is deflated
_LIMIT = (1 << 31) - 1  # zipfile's ZIP64_LIMIT: past it, it writes ZIP64 records
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_VERSION = 20  # version needed to extract: deflate (zipfile's DEFAULT_VERSION)
_UTF8 = 0x800  # flag: the name is UTF-8

Stream = bytes
"""A member's deflate stream as an archive holds it (raw deflate, no zlib header)."""


def deflate(data: bytes) -> bytes:
    """``data`` deflated as zipfile deflates at level 6 (raw deflate, no zlib header)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def fits(members: Sequence[tuple[str, bytes]]) -> bool:
    """Whether an archive of ``members`` (name, contents) needs no ZIP64 record, whatever their
    compressed size (deflate adds at most 5 bytes a 16 KB block): :func:`write_zip` can write it."""
    if len(members) >= 0xFFFF:
        return False
    total = 0
    for name, data in members:
        if len(data) * 1.05 > _LIMIT:  # zipfile's own test, made before it compresses
            return False
        total += len(data) + len(data) // 1000 + 2 * len(name) + 256
    return total <= _LIMIT


def _name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8


def write_zip(fp: BinaryIO, members: Sequence[tuple[str, bytes, int, Stream | None]],
              date_time: tuple[int, int, int, int, int, int], start: int = 0) -> None:
    """Write the archive of ``members``, in order, to ``fp``, whose position is ``start`` (bytes
    before the archive count in its offsets). Each member is ``(name, contents, external
    attributes, stream)``, every one deflated: ``stream`` is the contents' deflate stream when
    there is one already, else they are deflated here. Every member gets ``date_time`` and a
    Unix creator; :func:`fits` must hold."""
    dt = date_time
    dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
    dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
    central: list[bytes] = []
    offset = start
    for name, data, attributes, stream in members:
        raw = stream if stream is not None else deflate(data)
        crc = zlib.crc32(data)
        encoded, flags = _name(name)
        header = _LOCAL.pack(b"PK\x03\x04", _VERSION, 0, flags, DEFLATED, dostime, dosdate, crc, len(raw), len(data),
                             len(encoded), 0)
        fp.write(header + encoded)
        fp.write(raw)
        central.append(_CENTRAL.pack(b"PK\x01\x02", _VERSION, 3, _VERSION, 0, flags, DEFLATED, dostime, dosdate, crc,
                                     len(raw), len(data), len(encoded), 0, 0, 0, 0, attributes, offset) + encoded)
        offset += len(header) + len(encoded) + len(raw)
    if offset > _LIMIT:
        raise ValueError("the archive outgrew what a zip without ZIP64 records holds (fits() was not asked)")
    directory = b"".join(central)
    fp.write(directory)
    fp.write(_END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset, 0))


class MemberError(ValueError):
    """A member whose bytes are not what the archive's directory says (the message says how)."""


def read_member(fp: BinaryIO, info: ZipInfo) -> tuple[bytes, Stream | None] | None:
    """The contents of the member ``info`` (from ``zipfile.ZipFile.infolist``) of the archive open
    as ``fp``, and its deflate stream when another archive can hold it as it is (a stored
    member has none: its output is deflated); None for a method other than stored or deflate
    (read it with ``ZipFile.read``). MemberError when the member is not what the directory
    says: another name in its local header, bytes missing, another size or CRC-32. Never
    inflates more than the declared size."""
    if info.compress_type not in (STORED, DEFLATED):
        return None
    fp.seek(info.header_offset)
    head = fp.read(_LOCAL.size)
    if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
        raise MemberError("no local header where the directory points")
    name_size, extra_size = struct.unpack_from("<HH", head, 26)
    name = fp.read(name_size)
    if name.decode("utf-8" if info.flag_bits & _UTF8 else "cp437", "replace") != info.orig_filename:
        raise MemberError("its local header names another file")
    if extra_size:
        fp.seek(extra_size, 1)
    raw = fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise MemberError("the archive ends inside it")
    clean = True
    if info.compress_type == DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as exc:
            raise MemberError(f"its deflate stream is corrupt ({exc})") from None
        # zipfile takes a stream that stops early or has bytes after its end when the contents
        # are right; only a whole stream with nothing after it is copied as it is
        clean = inflater.eof and not inflater.unused_data and not inflater.unconsumed_tail
    else:
        data = raw
    if len(data) != info.file_size:
        raise MemberError(f"holds {len(data)} bytes, its directory says {info.file_size}")
    if zlib.crc32(data) != info.CRC:
        raise MemberError("its CRC-32 is not the one its directory records")
    return data, (raw if clean and info.compress_type == DEFLATED else None)
