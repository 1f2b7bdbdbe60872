"""The core of the bounded marshal reader: primitives, scalars and containers.

:mod:`bytecast.unmarshal` composes the dispatch tables of each marshal version from the
``r_*`` methods here and the code object reader of :mod:`bytecast.marshal_code`. Every
length is checked against the bytes left before it is allocated; depth, container slots,
hashing work and the total size of code objects are bounded by :class:`Limits`.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from bytecast._bigint import digits_to_int
from bytecast.coderecord import CodeRecord, PyVersion
from bytecast.errors import UnmarshalError

__all__ = ["DEFAULT_LIMITS", "Limits", "NULL", "RESERVED", "ReaderCore", "describe"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True


@dataclass(**_DC_OPTS)
class Limits:
    """Bounds that keep reading hostile data cheap."""

    max_depth: int = 200
    """Deepest nesting of containers and code objects (CPython allows 2000; real code < 30)."""
    max_slots: int = 20_000_000
    """Total container elements (tuple/list/set/dict slots) the whole read may create."""
    max_size: int = 256 * 1024 * 1024
    """Largest input accepted, in bytes."""
    max_hash_size: int = 1_000_000
    """Largest expanded size of a tuple used as a set element or dict key."""
    max_hash_work: int = 1_000_000
    """Total objects hashing and comparing set elements and dict keys may walk in one read
    (each tuple, frozenset or slice key costs its expanded size, and more when its hash
    collides with an earlier key's): many keys sharing one large tuple stay cheap to store
    but cost its size each to hash."""
    max_code_ratio: int = 2
    """The lengths of the fields of all code objects read (bytecode, line and exception
    tables, constants, names) may add up to this many times the input size, plus 1 MiB.
    Without sharing they add up to less than the input; with it, every walk over the code
    (disassembly, import search) would repeat the shared part."""


DEFAULT_LIMITS = Limits()


class _Reserved:
    """Placeholder for a reference slot whose object is still being built."""

    __slots__ = ()


RESERVED = _Reserved()
_RESERVED = RESERVED
NULL = object()
"""TYPE_NULL: ends a dict; an error anywhere else."""
_NULL = NULL
FLAG_REF = 0x80
_FLAG_REF = FLAG_REF

_unpack_i = struct.Struct("<i").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_unpack_dd = struct.Struct("<dd").unpack_from

_FLOAT_CHARS = frozenset(b"0123456789.eE+-infatyINFATY")


def describe(value: Any) -> str:
    """A value's kind, for messages."""
    if isinstance(value, CodeRecord):
        return "a code object"
    if value is _NULL:
        return "NULL"
    return type(value).__name__


Handler = Optional[Callable[[Any, int, int], Any]]
"""A dispatch table entry: called with the reader, the reference flag and the start offset."""


class ReaderCore:
    """One read of one marshal payload: primitives, budgets and scalar types (containers
    are in :mod:`bytecast.marshal_containers`)."""

    __slots__ = (
        "code_budget",
        "costs",
        "data",
        "depth",
        "dispatch",
        "end",
        "hash_work",
        "interned",
        "limits",
        "pos",
        "py2",
        "refs",
        "slots",
        "version",
    )

    def __init__(self, data: bytes, version: PyVersion, limits: Limits,
                 dispatch: Sequence[Handler], start: int = 0) -> None:
        self.data = data
        self.pos = start
        self.end = len(data)
        self.refs: list[Any] = []
        self.depth = 0
        self.slots = 0
        self.limits = limits
        self.version = version
        self.py2 = version[0] == 2
        self.interned: list[bytes] = []
        self.costs: dict[int, tuple[Any, int]] = {}
        self.hash_work = 0
        self.code_budget = limits.max_code_ratio * (self.end - start) + (1 << 18)
        self.dispatch = dispatch

    # --- primitives ---------------------------------------------------------------------------

    def fail(self, message: str, offset: int | None = None) -> UnmarshalError:
        return UnmarshalError(message, self.pos if offset is None else offset)

    def truncated(self, what: str, need: int) -> UnmarshalError:
        left = self.end - self.pos
        return self.fail(f"truncated {what}: expected {need} more bytes, found {left}")

    def take(self, n: int, what: str) -> bytes:
        pos = self.pos
        end = pos + n
        if end > self.end:
            raise self.truncated(what, n)
        self.pos = end
        return self.data[pos:end]

    def int32(self, what: str) -> int:
        pos = self.pos
        if pos + 4 > self.end:
            raise self.truncated(what, 4)
        self.pos = pos + 4
        return _unpack_i(self.data, pos)[0]  # type: ignore[no-any-return]

    def length(self, what: str, unit: int = 1) -> int:
        """Read a declared length and check it against the bytes actually left."""
        start = self.pos
        n = self.int32(what + " length")
        if n < 0:
            raise self.fail(f"{what} length must not be negative, found {n}", start)
        if n * unit > self.end - self.pos:
            raise self.fail(
                f"{what} declares {n} items needing at least {n * unit} bytes, "
                f"but only {self.end - self.pos} bytes are left", start)
        return n

    def charge_code(self, size: int, start: int) -> None:
        """Count ``size`` toward the total size of the code objects read."""
        self.code_budget -= size
        if self.code_budget < 0:
            raise self.fail(
                f"code objects add up to more than {self.limits.max_code_ratio} times the "
                "size of the data (their fields are shared through references)", start)

    def grow(self, n: int, start: int) -> None:
        self.slots += n
        if self.slots > self.limits.max_slots:
            raise self.fail(f"more than {self.limits.max_slots} container slots", start)

    # --- objects ------------------------------------------------------------------------------

    def read(self) -> Any:
        pos = self.pos
        if pos >= self.end:
            raise self.fail("truncated data: expected a type code, found end of data")
        code = self.data[pos]
        self.pos = pos + 1
        handler = self.dispatch[code]
        if handler is None:
            raise self.fail(f"unknown type code {chr(code & 0x7F)!r} (0x{code:02x}) for "
                            f"Python {self.version[0]}.{self.version[1]}", pos)
        return handler(self, code & _FLAG_REF, pos)

    def read_item(self, what: str) -> Any:
        value = self.read()
        if value is _NULL:
            raise self.fail(f"expected {what}, found NULL", self.pos - 1)
        return value

    def enter(self, start: int) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise self.fail(f"nesting deeper than {self.limits.max_depth}", start)

    def reserve(self, flag: int) -> int:
        if flag:
            self.refs.append(_RESERVED)
            return len(self.refs) - 1
        return -1

    # Singletons are never registered as references, as in CPython.
    def r_null(self, flag: int, start: int) -> Any:
        return _NULL

    def r_none(self, flag: int, start: int) -> Any:
        return None

    def r_false(self, flag: int, start: int) -> Any:
        return False

    def r_true(self, flag: int, start: int) -> Any:
        return True

    def r_stopiter(self, flag: int, start: int) -> Any:
        return StopIteration

    def r_ellipsis(self, flag: int, start: int) -> Any:
        return Ellipsis

    def r_int(self, flag: int, start: int) -> Any:
        pos = self.pos
        if pos + 4 > self.end:
            raise self.truncated("int", 4)
        self.pos = pos + 4
        v = _unpack_i(self.data, pos)[0]
        if flag:
            self.refs.append(v)
        return v

    def r_int64(self, flag: int, start: int) -> Any:
        v = _unpack_q(self.take(8, "int64"))[0]
        if flag:
            self.refs.append(v)
        return v

    def r_long(self, flag: int, start: int) -> Any:
        n = self.int32("long digit count")
        size = -n if n < 0 else n
        if 2 * size > self.end - self.pos:
            raise self.fail(
                f"long declares {size} digits needing {2 * size} bytes, "
                f"but only {self.end - self.pos} bytes are left", start)
        raw = self.take(2 * size, "long digits")
        try:
            v = digits_to_int(raw)
        except ValueError:
            raise self.fail("long digit out of range (must be below 2**15)", start) from None
        if size and raw[-2:] == b"\x00\x00":
            raise self.fail("unnormalized long: top digit is zero", start)
        if n < 0:
            v = -v
        if flag:
            self.refs.append(v)
        return v

    def _float_text(self, what: str) -> float:
        n = self.take(1, what + " length")[0]
        raw = self.take(n, what)
        if not raw or not _FLOAT_CHARS.issuperset(raw):
            raise self.fail(f"{what} is not a number: {raw!r}", self.pos - n - 1)
        try:
            return float(raw.decode("ascii"))
        except ValueError:
            raise self.fail(f"{what} is not a number: {raw!r}", self.pos - n - 1) from None

    def r_float(self, flag: int, start: int) -> Any:
        v = self._float_text("float")
        if flag:
            self.refs.append(v)
        return v

    def r_binary_float(self, flag: int, start: int) -> Any:
        v = _unpack_d(self.take(8, "binary float"))[0]
        if flag:
            self.refs.append(v)
        return v

    def r_complex(self, flag: int, start: int) -> Any:
        real = self._float_text("complex real part")
        v = complex(real, self._float_text("complex imaginary part"))
        if flag:
            self.refs.append(v)
        return v

    def r_binary_complex(self, flag: int, start: int) -> Any:
        real, imag = _unpack_dd(self.take(16, "binary complex"))
        v = complex(real, imag)
        if flag:
            self.refs.append(v)
        return v

    def r_bytes(self, flag: int, start: int) -> Any:
        n = self.length("bytes")
        pos = self.pos
        self.pos = pos + n
        v = self.data[pos:pos + n]
        if flag:
            self.refs.append(v)
        return v

    def r_py2_interned(self, flag: int, start: int) -> Any:
        v = self.r_bytes(flag, start)
        self.interned.append(v)
        return v

    def r_py2_stringref(self, flag: int, start: int) -> Any:
        i = self.int32("string reference")
        if not 0 <= i < len(self.interned):
            raise self.fail(f"string reference {i} out of range "
                            f"({len(self.interned)} interned strings so far)", start)
        return self.interned[i]

    def r_unicode(self, flag: int, start: int) -> Any:
        n = self.length("str")
        pos = self.pos
        self.pos = pos + n
        try:
            v = self.data[pos:pos + n].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise self.fail(f"str is not UTF-8: {exc.reason} at byte {exc.start} of it",
                            start) from None
        if flag:
            self.refs.append(v)
        return v

    def r_ascii(self, flag: int, start: int) -> Any:
        n = self.length("ascii str")
        pos = self.pos
        self.pos = pos + n
        # CPython builds these as 1-byte-kind strings without checking for ASCII.
        v = self.data[pos:pos + n].decode("latin-1")
        if flag:
            self.refs.append(v)
        return v

    def r_short_ascii(self, flag: int, start: int) -> Any:
        pos = self.pos
        if pos >= self.end:
            raise self.truncated("short str length", 1)
        n = self.data[pos]
        end = pos + 1 + n
        if end > self.end:
            raise self.fail(f"short str declares {n} bytes, "
                            f"but only {self.end - pos - 1} are left", start)
        self.pos = end
        v = self.data[pos + 1:end].decode("latin-1")
        if flag:
            self.refs.append(v)
        return v
