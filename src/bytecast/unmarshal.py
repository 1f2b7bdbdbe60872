"""A bounded, pure-Python reader for marshalled code of every CPython version.

:func:`loads` reads marshal data written by CPython 2.3-2.7 or 3.0-3.14 (marshal format
versions 0-5) and returns plain values: ``None``, ``bool``, ``int``, ``float``, ``complex``,
``bytes``, ``str``, ``tuple``, ``list``, ``dict``, ``set``, ``frozenset``, ``slice``,
``Ellipsis``, ``StopIteration`` (the class, as marshal stores it) and :class:`CodeRecord` in
place of code objects. It never calls ``marshal.loads``, ``exec`` or ``import`` on its input,
so it is safe on untrusted files.

Every failure is an :class:`~bytecast.errors.UnmarshalError` carrying the byte offset where
reading stopped and a message saying what was expected and what was found. Lengths declared
in the data are checked against the bytes actually left before anything is allocated; nesting
depth, the number of container slots and the input size are bounded by :class:`Limits`.

Which Python wrote the data matters: Python 2 strings are bytes and share an interned table,
and the code object layout changed in 3.0, 3.8, 3.11. :func:`python_for_magic` maps a pyc magic
number to the ``(major, minor)`` whose semantics apply.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, fields
from typing import Any, Callable, Optional

from bytecast.errors import UnmarshalError

__all__ = [
    "DEFAULT_LIMITS",
    "SUPPORTED_PYTHONS",
    "CodeRecord",
    "Limits",
    "code_from_object",
    "loads",
    "python_for_magic",
    "same_code",
    "walk_code",
]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

PyVersion = tuple[int, int]

SUPPORTED_PYTHONS: tuple[PyVersion, ...] = ((2, 7),) + tuple((3, m) for m in range(15))
"""Python versions whose marshal semantics and code layout :func:`loads` understands."""

# Magic number ranges (inclusive) per minor version, from importlib's own list. Numbers used
# only by alphas of a release are read with the final layout of that release.
_MAGIC_RANGES: tuple[tuple[int, int, PyVersion], ...] = (
    (62011, 62021, (2, 3)),
    (62041, 62061, (2, 4)),
    (62071, 62131, (2, 5)),
    (62151, 62161, (2, 6)),
    (62171, 62211, (2, 7)),
    (3000, 3131, (3, 0)),
    (3141, 3151, (3, 1)),
    (3160, 3180, (3, 2)),
    (3190, 3230, (3, 3)),
    (3250, 3310, (3, 4)),
    (3320, 3351, (3, 5)),
    (3360, 3379, (3, 6)),
    (3390, 3399, (3, 7)),
    (3400, 3419, (3, 8)),
    (3420, 3429, (3, 9)),
    (3430, 3449, (3, 10)),
    (3450, 3499, (3, 11)),
    (3500, 3549, (3, 12)),
    (3550, 3599, (3, 13)),
    (3600, 3649, (3, 14)),
)


def python_for_magic(number: int) -> PyVersion | None:
    """The ``(major, minor)`` of the Python that uses pyc magic ``number``, or None."""
    for low, high, version in _MAGIC_RANGES:
        if low <= number <= high:
            return version
    return None


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


DEFAULT_LIMITS = Limits()


@dataclass(eq=False, repr=False, **_DC_OPTS)
class CodeRecord:
    """A code object as plain data, the same shape for every Python version.

    Records compare and hash by identity, and their repr is one line: crafted data can share
    one nested record many times over (a DAG), where field-by-field equality, hashing or
    repr would take exponential time. Compare contents with :func:`same_code`.

    Text fields are ``str`` for every version (Python 2's byte strings are decoded as UTF-8,
    falling back to Latin-1); constants keep their marshalled types.
    """

    python: PyVersion
    """The ``(major, minor)`` whose layout this record was read with."""
    argcount: int
    """Positional parameters, including positional-only ones."""
    posonlyargcount: int
    """Positional-only parameters (0 before 3.8)."""
    kwonlyargcount: int
    """Keyword-only parameters (0 before 3.0)."""
    nlocals: int
    """Local variables (stored before 3.11, counted from the locals kinds since)."""
    stacksize: int
    """Evaluation stack depth the compiler computed."""
    flags: int
    """``co_flags``."""
    code: bytes
    """Raw instruction bytes (``co_code``)."""
    consts: tuple[Any, ...]
    """Constants; nested code objects are CodeRecords."""
    names: tuple[str, ...]
    """Global and attribute names (``co_names``)."""
    varnames: tuple[str, ...]
    """Local variable names, arguments first."""
    freevars: tuple[str, ...]
    """Names of free variables (closures)."""
    cellvars: tuple[str, ...]
    """Names of cell variables used by nested functions."""
    filename: str
    """``co_filename``: the path the compiler was given."""
    name: str
    """``co_name``."""
    qualname: str
    """``co_qualname`` (3.11+); the plain name before 3.11, where it is not stored."""
    firstlineno: int
    """First source line."""
    linetable: bytes
    """Raw line table: ``co_lnotab`` before 3.10, ``co_linetable`` since."""
    exceptiontable: bytes
    """Raw exception table (3.11+; empty before)."""
    localsplusnames: tuple[str, ...]
    """Names of all fast locals, cells and free variables in slot order (3.11+; empty before).
    Local, cell and free instruction arguments index this tuple from 3.11 on."""
    localspluskinds: bytes
    """Raw kinds of ``co_localsplusnames`` (3.11+; empty before)."""

    @property
    def children(self) -> tuple[CodeRecord, ...]:
        """Code objects among the constants (nested functions, classes, comprehensions)."""
        return tuple(c for c in self.consts if isinstance(c, CodeRecord))

    def __repr__(self) -> str:
        return (f"<CodeRecord {self.qualname!r} of Python {self.python[0]}.{self.python[1]}, "
                f"file {self.filename!r}, line {self.firstlineno}>")


def same_code(a: Any, b: Any, _seen: set[tuple[int, int]] | None = None) -> bool:
    """Field-by-field equality of two values that may hold CodeRecords (for tests and tools;
    linear in the distinct objects compared)."""
    if isinstance(a, CodeRecord) and isinstance(b, CodeRecord):
        seen = set() if _seen is None else _seen
        key = (id(a), id(b))
        if key in seen:
            return True
        seen.add(key)
        return all(same_code(getattr(a, f), getattr(b, f), seen) for f in _CODE_FIELDS)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_code(x, y, _seen) for x, y in zip(a, b))
    if isinstance(a, CodeRecord) or isinstance(b, CodeRecord):
        return False
    return type(a) is type(b) and bool(a == b)


_CODE_FIELDS = tuple(f.name for f in fields(CodeRecord))


def walk_code(code: CodeRecord) -> list[CodeRecord]:
    """``code`` and every code object nested in it, depth first, parents before children;
    a record shared by several parents (only crafted data does that) is listed once."""
    out: list[CodeRecord] = []
    seen: set[int] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        stack.extend(reversed(current.children))
    return out


class _Reserved:
    """Placeholder for a reference slot whose object is still being built."""

    __slots__ = ()


_RESERVED = _Reserved()
_NULL = object()  # TYPE_NULL: ends a dict; an error anywhere else
_FLAG_REF = 0x80

_unpack_i = struct.Struct("<i").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_unpack_dd = struct.Struct("<dd").unpack_from

# Bits of co_localspluskinds (3.11+).
_CO_FAST_LOCAL = 0x20
_CO_FAST_CELL = 0x40
_CO_FAST_FREE = 0x80

_FLOAT_CHARS = frozenset(b"0123456789.eE+-infatyINFATY")


def _decode_py2_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _describe(value: Any) -> str:
    if isinstance(value, CodeRecord):
        return "a code object"
    if value is _NULL:
        return "NULL"
    return type(value).__name__


class _Reader:
    __slots__ = (
        "costs",
        "data",
        "depth",
        "dispatch",
        "end",
        "interned",
        "limits",
        "pos",
        "py2",
        "refs",
        "slots",
        "version",
    )

    def __init__(self, data: bytes, version: PyVersion, limits: Limits) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.refs: list[Any] = []
        self.depth = 0
        self.slots = 0
        self.limits = limits
        self.version = version
        self.py2 = version[0] == 2
        self.interned: list[bytes] = []
        self.costs: dict[int, tuple[Any, int]] = {}
        if self.py2:
            self.dispatch = _PY2_DISPATCH
        elif version < (3, 4):
            self.dispatch = _PY30_DISPATCH
        else:
            self.dispatch = _PY34_DISPATCH

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

    def check_hash_cost(self, value: Any, at: int) -> None:
        """Refuse to hash a tuple whose expanded size is huge: tuples shared through
        references can describe an exponentially large tree in a few bytes, and hashing
        (or comparing) one walks every path."""
        if type(value) is not tuple:
            return
        memo = self.costs
        limit = self.limits.max_hash_size
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            item, done = stack.pop()
            if id(item) in memo:
                continue
            if done:
                total = 1 + sum(memo[id(c)][1] if type(c) is tuple else 1 for c in item)
                memo[id(item)] = (item, total)  # the tuple is kept alive, so its id stays
                continue
            stack.append((item, True))
            stack.extend((c, False) for c in item if type(c) is tuple and id(c) not in memo)
        if memo[id(value)][1] > limit:
            raise self.fail(f"set element or dict key expands to more than {limit} objects "
                            "(a tuple shared through references many times over)", at)

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
        digits = struct.unpack(f"<{size}H", raw)
        if size:
            if max(digits) >= 0x8000:
                raise self.fail("long digit out of range (must be below 2**15)", start)
            if digits[-1] == 0:
                raise self.fail("unnormalized long: top digit is zero", start)
        if size <= 4:
            v = 0
            for d in reversed(digits):
                v = (v << 15) | d
        else:  # base-2 text converts in linear time; shifting in a loop would be quadratic
            v = int("".join([format(d, "015b") for d in reversed(digits)]), 2)
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

    def _items(self, n: int, start: int, what: str) -> list[Any]:
        self.grow(n, start)
        self.enter(start)
        read = self.read
        items = [read() for _ in range(n)]
        self.depth -= 1
        if _NULL in items:
            raise self.fail(f"NULL object inside a {what}", start)
        return items

    def r_tuple(self, flag: int, start: int) -> Any:
        n = self.length("tuple")
        idx = self.reserve(flag)
        v = tuple(self._items(n, start, "tuple"))
        if flag:
            self.refs[idx] = v
        return v

    def r_small_tuple(self, flag: int, start: int) -> Any:
        n = self.take(1, "small tuple length")[0]
        if n > self.end - self.pos:
            raise self.fail(f"small tuple declares {n} items, "
                            f"but only {self.end - self.pos} bytes are left", start)
        idx = self.reserve(flag)
        v = tuple(self._items(n, start, "tuple"))
        if flag:
            self.refs[idx] = v
        return v

    def r_list(self, flag: int, start: int) -> Any:
        n = self.length("list")
        v: list[Any] = []
        if flag:
            self.refs.append(v)  # registered first: a list may contain itself
        self.grow(n, start)
        self.enter(start)
        for _ in range(n):
            item = self.read()
            if item is _NULL:
                raise self.fail("NULL object inside a list", start)
            v.append(item)
        self.depth -= 1
        return v

    def r_dict(self, flag: int, start: int) -> Any:
        v: dict[Any, Any] = {}
        if flag:
            self.refs.append(v)
        self.enter(start)
        while True:
            key_at = self.pos
            key = self.read()
            if key is _NULL:
                break
            value = self.read_item("a dict value")
            self.grow(1, start)
            self.check_hash_cost(key, key_at)
            try:
                v[key] = value
            except TypeError:
                raise self.fail(f"dict key is unhashable: {_describe(key)}", key_at) from None
        self.depth -= 1
        return v

    def r_set(self, flag: int, start: int) -> Any:
        n = self.length("set")
        return self._set_items(n, flag, start, set())

    def _set_items(self, n: int, flag: int, start: int, target: Any) -> Any:
        if flag:
            self.refs.append(target)
        self.grow(n, start)
        self.enter(start)
        for _ in range(n):
            at = self.pos
            item = self.read_item("a set element")
            self.check_hash_cost(item, at)
            try:
                target.add(item)
            except TypeError:
                raise self.fail(f"set element is unhashable: {_describe(item)}", at) from None
        self.depth -= 1
        return target

    def r_frozenset(self, flag: int, start: int) -> Any:
        n = self.length("frozenset")
        idx = self.reserve(flag)
        self.grow(n, start)
        self.enter(start)
        items = []
        for _ in range(n):
            at = self.pos
            item = self.read_item("a frozenset element")
            self.check_hash_cost(item, at)
            items.append(item)
        self.depth -= 1
        try:
            v = frozenset(items)
        except TypeError:
            raise self.fail("frozenset element is unhashable", start) from None
        if flag:
            self.refs[idx] = v
        return v

    def r_slice(self, flag: int, start: int) -> Any:
        if self.version < (3, 14):
            raise self.fail(f"slice objects are not marshalled before 3.14 "
                            f"(reading as {self.version[0]}.{self.version[1]})", start)
        idx = self.reserve(flag)
        self.enter(start)
        v = slice(self.read_item("slice start"), self.read_item("slice stop"),
                  self.read_item("slice step"))
        self.depth -= 1
        if flag:
            self.refs[idx] = v
        return v

    def r_ref(self, flag: int, start: int) -> Any:
        i = self.int32("reference")
        refs = self.refs
        if not 0 <= i < len(refs):
            raise self.fail(f"reference {i} out of range ({len(refs)} objects so far)", start)
        v = refs[i]
        if v is _RESERVED:
            raise self.fail(f"reference {i} points to an object still being read", start)
        return v

    def r_unknown(self, flag: int, start: int) -> Any:
        raise self.fail("type code '?' (unknown object) found in data", start)

    # --- code objects -------------------------------------------------------------------------

    def r_code(self, flag: int, start: int) -> Any:
        idx = self.reserve(flag)
        self.enter(start)
        ver = self.version
        int32 = self.int32
        argcount = int32("code argcount")
        posonly = int32("code posonlyargcount") if ver >= (3, 8) else 0
        kwonly = int32("code kwonlyargcount") if ver >= (3, 0) else 0
        nlocals = int32("code nlocals") if ver < (3, 11) else -1
        stacksize = int32("code stacksize")
        flags = int32("code flags")
        read = self.read
        code = read()
        consts = read()
        names = read()
        kinds: Any = b""
        plus_names: Any = ()
        raw_varnames: Any = ()
        raw_freevars: Any = ()
        raw_cellvars: Any = ()
        plus: tuple[str, ...] = ()
        if ver >= (3, 11):
            plus_names = read()
            kinds = read()
        else:
            raw_varnames = read()
            raw_freevars = read()
            raw_cellvars = read()
        filename = read()
        name = read()
        qualname = read() if ver >= (3, 11) else name
        firstlineno = int32("code firstlineno")
        linetable = read()
        exceptiontable = read() if ver >= (3, 11) else b""
        self.depth -= 1

        for label, value in (("code", code), ("linetable", linetable),
                             ("exceptiontable", exceptiontable)):
            if not isinstance(value, bytes):
                raise self.fail(f"code {label} must be bytes, found {_describe(value)}", start)
        if not isinstance(consts, tuple):
            raise self.fail(f"code consts must be a tuple, found {_describe(consts)}", start)
        text: Callable[[Any, str], str] = self._code_text
        names_t = self._code_names(names, "names", start)
        if ver >= (3, 11):
            plus = self._code_names(plus_names, "localsplusnames", start)
            if not isinstance(kinds, bytes) or len(kinds) != len(plus):
                raise self.fail(
                    f"code localspluskinds must be bytes as long as localsplusnames "
                    f"({len(plus)}), found {_describe(kinds)}"
                    + (f" of length {len(kinds)}" if isinstance(kinds, bytes) else ""), start)
            varnames = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_LOCAL)
            cellvars = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_CELL)
            freevars = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_FREE)
            nlocals = len(varnames)
        else:
            varnames = self._code_names(raw_varnames, "varnames", start)
            freevars = self._code_names(raw_freevars, "freevars", start)
            cellvars = self._code_names(raw_cellvars, "cellvars", start)
        v = CodeRecord(
            python=ver, argcount=argcount, posonlyargcount=posonly, kwonlyargcount=kwonly,
            nlocals=nlocals, stacksize=stacksize, flags=flags, code=code,
            consts=consts, names=names_t, varnames=varnames, freevars=freevars,
            cellvars=cellvars, filename=text(filename, "filename"), name=text(name, "name"),
            qualname=text(qualname, "qualname"), firstlineno=firstlineno, linetable=linetable,
            exceptiontable=exceptiontable, localsplusnames=plus, localspluskinds=kinds)
        if flag:
            self.refs[idx] = v
        return v

    def _code_text(self, value: Any, label: str) -> str:
        if isinstance(value, str):
            return value
        if self.py2 and isinstance(value, bytes):
            return _decode_py2_text(value)
        raise self.fail(f"code {label} must be a string, found {_describe(value)}")

    def _code_names(self, value: Any, label: str, start: int) -> tuple[str, ...]:
        if not isinstance(value, tuple):
            raise self.fail(f"code {label} must be a tuple of strings, "
                            f"found {_describe(value)}", start)
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif self.py2 and isinstance(item, bytes):
                out.append(_decode_py2_text(item))
            else:
                raise self.fail(f"code {label} must hold only strings, "
                                f"found {_describe(item)}", start)
        return tuple(out)


_Handler = Optional[Callable[[_Reader, int, int], Any]]


def _table(entries: dict[str, Callable[[_Reader, int, int], Any]], refs: bool) -> list[_Handler]:
    """256 entries: the type code as read; with ``refs``, also the code | FLAG_REF (3.4+)."""
    table: list[_Handler] = [None] * 256
    for char, fn in entries.items():
        table[ord(char)] = fn
        if refs:
            table[ord(char) | _FLAG_REF] = fn
    return table


_COMMON = {
    "0": _Reader.r_null, "N": _Reader.r_none, "F": _Reader.r_false, "T": _Reader.r_true,
    "S": _Reader.r_stopiter, ".": _Reader.r_ellipsis, "i": _Reader.r_int,
    "I": _Reader.r_int64, "f": _Reader.r_float, "g": _Reader.r_binary_float,
    "x": _Reader.r_complex, "y": _Reader.r_binary_complex, "l": _Reader.r_long,
    "s": _Reader.r_bytes, "u": _Reader.r_unicode, "(": _Reader.r_tuple, "[": _Reader.r_list,
    "{": _Reader.r_dict, "<": _Reader.r_set, ">": _Reader.r_frozenset, "c": _Reader.r_code,
    "?": _Reader.r_unknown,
}
_PY2_DISPATCH = _table({**_COMMON, "t": _Reader.r_py2_interned, "R": _Reader.r_py2_stringref},
                       refs=False)
# 3.0-3.3 wrote marshal version 2: no references, no short ASCII strings or tuples.
_PY30_DISPATCH = _table({**_COMMON, "t": _Reader.r_unicode}, refs=False)
_PY34_DISPATCH = _table({
    **_COMMON, "t": _Reader.r_unicode, "r": _Reader.r_ref, "a": _Reader.r_ascii,
    "A": _Reader.r_ascii, "z": _Reader.r_short_ascii, "Z": _Reader.r_short_ascii,
    ")": _Reader.r_small_tuple, ":": _Reader.r_slice,
}, refs=True)


def _parse_version(python: PyVersion | str) -> PyVersion:
    if isinstance(python, str):
        try:
            major, minor = (int(p) for p in python.split(".")[:2])
        except ValueError:
            raise UnmarshalError(f"Python version must look like '3.11', found {python!r}",
                                 -1) from None
        version = (major, minor)
    else:
        version = (int(python[0]), int(python[1]))
    if version not in SUPPORTED_PYTHONS and not (version[0] == 2 and 3 <= version[1] <= 7):
        raise UnmarshalError(f"cannot read marshal data of Python {version[0]}.{version[1]}",
                             -1)
    return version


def loads(data: bytes, python: PyVersion | str = (sys.version_info[0], sys.version_info[1]),
          *, limits: Limits = DEFAULT_LIMITS, allow_trailing: bool = True) -> Any:
    """Read one marshalled object written by ``python`` (``(3, 11)`` or ``"3.11"``).

    ``data`` is the marshal payload only (for a .pyc, what follows the header). Returns plain
    values, with :class:`CodeRecord` for code objects. Raises
    :class:`~bytecast.errors.UnmarshalError` for anything that is not well-formed marshal data
    of that version; trailing bytes after the object are an error unless ``allow_trailing``
    (CPython's own loader ignores them).
    """
    version = _parse_version(python)
    data = bytes(data)
    if len(data) > limits.max_size:
        raise UnmarshalError(f"data is {len(data)} bytes, more than the limit of "
                             f"{limits.max_size}", 0)
    reader = _Reader(data, version, limits)
    try:
        value = reader.read()
    except RecursionError:
        raise UnmarshalError("nesting too deep for the interpreter stack", reader.pos) from None
    except MemoryError:
        raise UnmarshalError("out of memory while reading", reader.pos) from None
    if value is _NULL:
        raise UnmarshalError("expected an object, found NULL", 0)
    if not allow_trailing and reader.pos != reader.end:
        raise UnmarshalError(f"{reader.end - reader.pos} unexpected bytes after the object",
                             reader.pos)
    return value


def code_from_object(obj: Any, python: PyVersion | None = None) -> Any:
    """Convert a value from a *trusted* ``marshal.loads`` of the running interpreter.

    Live code objects become :class:`CodeRecord` (recursively, inside containers too), so the
    result can be compared with what :func:`loads` returns for the same bytes. Python does not
    expose ``co_localsplusnames`` and ``co_localspluskinds``, so those are left empty.
    """
    version = python or (sys.version_info[0], sys.version_info[1])
    if isinstance(obj, type(code_from_object.__code__)):
        co = obj
        linetable = co.co_linetable if version >= (3, 10) else co.co_lnotab
        return CodeRecord(
            python=version, argcount=co.co_argcount,
            posonlyargcount=getattr(co, "co_posonlyargcount", 0),
            kwonlyargcount=co.co_kwonlyargcount, nlocals=co.co_nlocals,
            stacksize=co.co_stacksize, flags=co.co_flags, code=co.co_code,
            consts=tuple(code_from_object(c, version) for c in co.co_consts),
            names=co.co_names, varnames=co.co_varnames, freevars=co.co_freevars,
            cellvars=co.co_cellvars, filename=co.co_filename, name=co.co_name,
            qualname=getattr(co, "co_qualname", co.co_name), firstlineno=co.co_firstlineno,
            linetable=linetable, exceptiontable=getattr(co, "co_exceptiontable", b""),
            localsplusnames=(), localspluskinds=b"")
    if isinstance(obj, tuple):
        return tuple(code_from_object(c, version) for c in obj)
    if isinstance(obj, list):
        return [code_from_object(c, version) for c in obj]
    if isinstance(obj, frozenset):
        return frozenset(code_from_object(c, version) for c in obj)
    return obj
