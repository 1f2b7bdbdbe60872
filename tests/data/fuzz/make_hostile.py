"""Regenerate the hostile pycs and payloads in tests/data/fuzz/hostile.

Each is written byte by byte (no interpreter's marshal is needed, so it runs on any Python 3):

- ``*.pyc``: whole files of the 3.11+ code layout whose names, numbers and tables would break
  text output: integers past CPython's 4,300-digit str() limit in instruction arguments
  (EXTENDED_ARG chains), jump targets, line and exception tables and constants; control
  characters, ANSI escapes and lone surrogates in names and import names.
- ``*.bin``: marshal payloads (no header) that cost far more to read than their size says:
  sets of tuples sharing one large tuple (each costs its expanded size to hash), keys whose
  hashes all collide, and code objects that share one large bytecode through references.

    python tests/data/fuzz/make_hostile.py
"""

from __future__ import annotations

import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
MAGIC = {"3.11": 3495, "3.12": 3531, "3.13": 3571}
P61 = (1 << 61) - 1  # CPython hashes ints modulo this prime


def i32(n: int) -> bytes:
    return struct.pack("<i", n)


def bytes_(b: bytes) -> bytes:
    return b"s" + i32(len(b)) + b


def text(s: str) -> bytes:
    raw = s.encode("utf-8", "surrogatepass")
    return b"u" + i32(len(raw)) + raw


def tup(*items: bytes) -> bytes:
    return b"(" + i32(len(items)) + b"".join(items)


def long_(n: int) -> bytes:
    sign = -1 if n < 0 else 1
    n = abs(n)
    digits = []
    while n:
        digits.append(n & 0x7FFF)
        n >>= 15
    return b"l" + i32(sign * len(digits)) + b"".join(struct.pack("<H", d) for d in digits)


def code(co_code: bytes, consts: bytes = b"(\x00\x00\x00\x00", names: tuple[str, ...] = (),
         locals_: tuple[str, ...] = (), filename: str = "hostile.py", name: str = "<module>",
         qualname: str = "<module>", linetable: bytes = b"", exctable: bytes = b"") -> bytes:
    """A 3.11-3.13 code object: argcount, posonly, kwonly, stacksize, flags, then objects."""
    return (b"c" + i32(0) * 3 + i32(8) + i32(0) + bytes_(co_code) + consts
            + tup(*(text(n) for n in names)) + tup(*(text(n) for n in locals_))
            + bytes_(b"\x20" * len(locals_)) + text(filename) + text(name) + text(qualname)
            + i32(1) + bytes_(linetable) + bytes_(exctable))


def pyc(version: str, payload: bytes) -> bytes:
    return struct.pack("<H", MAGIC[version]) + b"\r\n" + i32(0) * 3 + payload


def varint(n: int, signed: bool = False) -> bytes:
    """The 6-bit varint of line and exception tables (bit 6: more follow)."""
    if signed:
        n = (-n << 1) | 1 if n < 0 else n << 1
    out = bytearray()
    while True:
        chunk = n & 63
        n >>= 6
        if n:
            out.append(chunk | 64)
        else:
            out.append(chunk)
            return bytes(out)


HUGE = 1 << 20000  # 6,021 digits: str() refuses it


def huge_arguments() -> bytes:
    ext = bytes([144, 0xFF]) * 2600  # 2,600 EXTENDED_ARGs: an argument of 20,808 bits
    co = (bytes([151, 0]) + ext + bytes([100, 0xFF]) + ext + bytes([108, 1]) + ext
          + bytes([110, 3]) + ext + bytes([124, 7]) + bytes([1, 0, 100, 0, 83, 0]))
    consts = tup(long_(HUGE), long_(-HUGE), tup(long_(HUGE), b"N"))
    # one 3.11 location entry (code 13: line only) moving the line by HUGE, then one more
    lines = bytes([0x80 | (13 << 3) | 7]) + varint(HUGE, signed=True) + bytes([0x80 | (15 << 3) | 7])
    table = varint(HUGE) + varint(HUGE) + varint(HUGE) + varint(HUGE)
    return code(co, consts, names=("os",), linetable=lines, exctable=table)


EVIL = "evil\x1b[2J\x1b[31m\ud800\x07\r\n"


def evil_names(version: str) -> bytes:
    load_const, import_name, pop_top, ret = (
        (83, 75, 32, 36) if version == "3.13" else (100, 108, 1, 83))
    body = bytes([load_const, 0, load_const, 1, import_name, 0, pop_top, 0,
                  load_const, 1, ret, 0])
    inner = code(bytes([load_const, 0, ret, 0]), tup(b"N"), name=EVIL, qualname=EVIL + ".q",
                 filename=EVIL)
    return code(body, tup(b"i" + i32(0), b"N", inner), names=(EVIL + ".mod",), filename=EVIL,
                qualname=EVIL)


def hash_bomb() -> bytes:
    """A set of 3,000 tuples (T, k): T is 990 references to one tuple of 1,000 Nones, so
    each element is 10 bytes and costs about a million objects to hash."""
    inner = b"\xa8" + i32(1000) + b"N" * 1000  # reference 1
    big = b"\xa8" + i32(990) + inner + (b"r" + i32(1)) * 989  # reference 0
    first = tup(big, b"i" + i32(0))
    rest = b"".join(tup(b"r" + i32(0), b"i" + i32(k)) for k in range(1, 3000))
    return b"<" + i32(3000) + first + rest


def colliding_ints() -> bytes:
    """A frozenset of 30,000 distinct ints that all hash to 1 (a probe chain per insert)."""
    items = b"".join(long_(1 + k * P61) for k in range(30000))
    return b">" + i32(30000) + items


def colliding_tuples() -> bytes:
    """Dict keys (k * P61 + 1, None): distinct tuples with one hash."""
    keys = b"".join(tup(long_(1 + k * P61), b"N") + b"N" for k in range(20000))
    return b"{" + keys + b"0"


def shared_bytecode() -> bytes:
    """3,000 code objects whose co_code is one 40 KB bytes object, shared by reference."""
    body = bytes([9, 0]) * 20000  # NOP
    first = code(body)
    # 3.11 layout: the first child's co_code is the first object flagged for reference
    first = first.replace(b"c" + i32(0) * 3 + i32(8) + i32(0) + b"s",
                          b"c" + i32(0) * 3 + i32(8) + i32(0) + b"\xf3", 1)
    rest = []
    for _ in range(2999):
        child = code(b"")
        rest.append(child.replace(bytes_(b""), b"r" + i32(0), 1))
    return code(bytes([100, 0, 83, 0]), tup(first, *rest))


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    files = {
        "3.11-huge-arguments.pyc": pyc("3.11", huge_arguments()),
        "3.12-evil-names.pyc": pyc("3.12", evil_names("3.12")),
        "3.13-evil-names.pyc": pyc("3.13", evil_names("3.13")),
        "3.11-hash-bomb.bin": hash_bomb(),
        "3.11-colliding-ints.bin": colliding_ints(),
        "3.11-colliding-tuples.bin": colliding_tuples(),
        "3.11-shared-bytecode.bin": shared_bytecode(),
    }
    for name, data in sorted(files.items()):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
