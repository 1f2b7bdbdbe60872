"""Read and write the header of a .pyc file: the bytes before the marshalled code.

Three layouts, chosen by the magic number (see :mod:`bytecast.magic`):

- 8 bytes, before 3.3: magic, mtime.
- 12 bytes, 3.3 to 3.6: magic, mtime, source size.
- 16 bytes, 3.7 and later (PEP 552): magic, flags, then either mtime and source size
  (flags 0, a timestamp pyc) or the 8-byte SipHash of the source (flag bit 0 set, a
  hash-based pyc; bit 1 set means importlib checks the hash against the source).

All fields are unsigned 32-bit little-endian. Reading never looks past the header.

Flags ``0b10`` (check_source without hash-based) are accepted as a timestamp pyc: that is
what importlib does (``_classify_pyc`` only rejects bits above bit 1, and ``get_code`` only
looks at bit 1 when bit 0 is set). The raw value stays in :attr:`Header.flags`, and
:func:`pack_header` never writes it.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init
from bytecast.errors import PycFormatError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

    from bytecast.magic import MagicEntry

__all__ = ["Header", "header_size_for", "pack_header", "parse_header", "read_header"]

FLAG_HASH_BASED = 0b01
FLAG_CHECK_SOURCE = 0b10
_KNOWN_FLAGS = FLAG_HASH_BASED | FLAG_CHECK_SOURCE
_LAYOUTS = (8, 12, 16)
_MAX_HEADER = 16


class Header(Frozen):
    """A parsed .pyc header. Immutable; fields a layout lacks are None."""

    __slots__ = ("magic", "flags", "mtime", "source_size", "source_hash", "size")

    magic: int
    """The 16-bit magic number."""
    flags: int | None
    """The PEP 552 flags word (16-byte layout only)."""
    mtime: int | None
    """Source modification time, seconds mod 2**32 (timestamp pycs)."""
    source_size: int | None
    """Source size in bytes mod 2**32 (timestamp pycs from 3.3 on)."""
    source_hash: bytes | None
    """The 8-byte source hash (hash-based pycs)."""
    size: int
    """Header length in bytes: 8, 12 or 16; the marshalled code starts here."""

    def __init__(self, magic: int, flags: int | None, mtime: int | None, source_size: int | None,
                 source_hash: bytes | None, size: int) -> None:
        init(self, "magic", magic)
        init(self, "flags", flags)
        init(self, "mtime", mtime)
        init(self, "source_size", source_size)
        init(self, "source_hash", source_hash)
        init(self, "size", size)

    @property
    def mode(self) -> str:
        """How importlib validates this pyc: timestamp, checked-hash or unchecked-hash."""
        flags = self.flags or 0
        if not flags & FLAG_HASH_BASED:
            return "timestamp"
        return "checked-hash" if flags & FLAG_CHECK_SOURCE else "unchecked-hash"

    @property
    def entry(self) -> MagicEntry | None:
        """The magic table row for :attr:`magic`, or None if the number is unknown."""
        from bytecast.magic import lookup

        return lookup(self.magic)


def header_size_for(number: int) -> int:
    """The header size a magic number implies: 8, 12 or 16 bytes.

    Exact for every number in the table; for other numbers it goes by range. 3000–4999 is the
    3.x series (3.n starts at 2900 + 50n since 3.11): 8 bytes below 3210, 12 below 3392, 16
    from there. Everything else (1.x and 2.x, 20121–62211, and older) used 8 bytes.
    """
    if 3000 <= number < 5000:
        if number < 3210:
            return 8
        if number < 3392:
            return 12
        return 16
    return 8


def _u32(data: bytes | bytearray, offset: int) -> int:
    return int.from_bytes(data[offset:offset + 4], "little")


def _bytes(n: int) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def parse_header(data: bytes | bytearray, name: str = "<pyc>") -> Header:
    """Parse the header at the start of ``data`` (the header alone or a whole .pyc).

    The layout comes from the magic number (by range when the number is unknown). Raises
    :class:`~bytecast.errors.PycFormatError`, naming ``name``, when the magic does not end in
    ``b"\\r\\n"``, the data is shorter than the layout, or the flags have undefined bits set.
    """
    n = len(data)
    if n >= 2 and data[2:4] != b"\r\n"[: n - 2]:
        raise PycFormatError(
            f"{name}: not a .pyc file: magic {data[:4].hex()} does not end in 0d0a (\\r\\n)"
        )
    if n < 2:
        raise PycFormatError(f"{name}: header is {_bytes(n)}, expected at least 8")
    number = int.from_bytes(data[:2], "little")
    size = header_size_for(number)
    if n < size:
        raise PycFormatError(f"{name}: header is {_bytes(n)}, expected {size}")
    if size == 8:
        return Header(number, None, _u32(data, 4), None, None, 8)
    if size == 12:
        return Header(number, None, _u32(data, 4), _u32(data, 8), None, 12)
    flags = _u32(data, 4)
    if flags & ~_KNOWN_FLAGS:
        raise PycFormatError(
            f"{name}: unknown flags 0x{flags:08x} in header (only bits 0 and 1 are defined)"
        )
    if flags & FLAG_HASH_BASED:
        return Header(number, flags, None, None, bytes(data[8:16]), 16)
    return Header(number, flags, _u32(data, 8), _u32(data, 12), None, 16)


def read_header(path: str | PathLike[str]) -> Header:
    """Read and parse the header of the .pyc at ``path``; reads at most 16 bytes.

    Never blocks: a FIFO, a device or a folder is refused with OSError (``not a regular file``),
    as any OSError from opening or reading passes through; a bad header raises
    :class:`~bytecast.errors.PycFormatError` naming ``path``.
    """
    import os  # here: importing the table (magic -> header) must stay this cheap

    from bytecast.fileio import read_regular

    name = os.fspath(path)
    return parse_header(read_regular(name, prefix=_MAX_HEADER), name)


def pack_header(
    magic: int | bytes,
    *,
    mtime: int | None = None,
    source_size: int | None = None,
    source_hash: bytes | None = None,
    checked: bool = True,
    size: int | None = None,
) -> bytes:
    """The header CPython writes for a pyc with this magic, byte for byte.

    ``magic`` is the 16-bit number or the 4 magic bytes. The layout follows the magic unless
    ``size`` (8, 12 or 16) forces one. With ``source_hash`` (8 bytes, 16-byte layout only)
    the pyc is hash-based, checked or not; otherwise ``mtime`` (and, from the 12-byte layout
    on, ``source_size``) is required and stored mod 2**32, as importlib does. The 8-byte
    layout has no size field, so ``source_size`` is ignored there: callers packing for many
    targets can pass the same arguments to each. Raises
    :class:`~bytecast.errors.UsageError` for arguments no layout can hold.
    """
    if isinstance(magic, (bytes, bytearray)):
        from bytecast.magic import from_bytes

        number = from_bytes(bytes(magic))
    else:
        number = int(magic)
        if not 0 <= number <= 0xFFFF:
            raise UsageError(f"magic number {number} does not fit in 16 bits")
    layout = header_size_for(number) if size is None else size
    if layout not in _LAYOUTS:
        raise UsageError(f"header size {layout} is not one of 8, 12, 16")
    head = number.to_bytes(2, "little") + b"\r\n"
    if source_hash is not None:
        if layout != 16:
            raise UsageError(f"hash-based pycs need the 16-byte header, not {layout}")
        if len(source_hash) != 8:
            raise UsageError(f"source hash is {_bytes(len(source_hash))}, expected 8")
        if mtime is not None or source_size is not None:
            raise UsageError("a hash-based pyc has no mtime or source size")
        flags = FLAG_HASH_BASED | (FLAG_CHECK_SOURCE if checked else 0)
        return head + _pack_u32(flags) + bytes(source_hash)
    if mtime is None:
        raise UsageError("a timestamp pyc needs mtime (or pass source_hash)")
    if layout == 8:
        return head + _pack_u32(mtime)
    if source_size is None:
        raise UsageError(f"a {layout}-byte timestamp header needs source_size")
    body = _pack_u32(mtime) + _pack_u32(source_size)
    return head + body if layout == 12 else head + _pack_u32(0) + body


def _pack_u32(value: int) -> bytes:
    # int() first, as importlib's _pack_uint32 does: an os.stat float mtime truncates.
    return (int(value) & 0xFFFFFFFF).to_bytes(4, "little")
