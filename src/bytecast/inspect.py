"""Look inside a .pyc without running it: header, freshness, loadability, code tree.

:func:`inspect_pyc` reads the header with :mod:`bytecast.header`, names the Python that wrote
the file with :mod:`bytecast.magic`, checks it against its source with *that* Python's rule
(mtime and size, or a SipHash of the source keyed by the magic number: SipHash-2-4 before
3.11, SipHash-1-3 since), and reads the code with the bounded reader of
:mod:`bytecast.unmarshal` — never with ``marshal.loads``.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bytecast._safeio import read_regular
from bytecast.coderecord import CodeRecord
from bytecast.errors import PycFormatError, UnmarshalError
from bytecast.safetext import escape, show_int
from bytecast.unmarshal import DEFAULT_LIMITS, Limits, loads

__all__ = ["CodeNode", "PycInfo", "code_tree", "inspect_pyc", "source_for", "source_hash",
           "tree_lines"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

_CO_NEWLOCALS = 0x2
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


@dataclass(**_DC_OPTS)
class CodeNode:
    """One code object in the tree of a module."""

    kind: str
    """"module", "class", "function", "generator", "coroutine", "async generator", "lambda",
    or a comprehension ("listcomp", "genexpr", ...)."""
    name: str
    """``co_name``."""
    qualname: str
    """Dotted path from the module (``co_qualname`` on 3.11+, rebuilt the same way before)."""
    firstlineno: int
    """First source line."""
    children: tuple[CodeNode, ...]
    """Nested code objects, in constant order."""


@dataclass(**_DC_OPTS)
class PycInfo:
    """Everything :func:`inspect_pyc` learned about one file."""

    path: str
    """The .pyc inspected."""
    magic: int
    """The 16-bit magic number."""
    python: str
    """The minor version that uses this magic ("3.11"), or "" when unknown."""
    versions: str
    """The releases that wrote this magic ("3.11b4-3.11"), or ""."""
    header_size: int
    """Bytes of header: 8, 12 or 16."""
    mode: str
    """"timestamp", "checked-hash" or "unchecked-hash"."""
    flags: int | None
    """The flags word (3.7+ headers), else None."""
    mtime: int | None
    """Source mtime recorded (timestamp pycs)."""
    source_size: int | None
    """Source size recorded (timestamp pycs, 3.3+)."""
    source_hash: str | None
    """Source hash recorded, hex (hash-based pycs)."""
    source: str | None
    """The source file this pyc belongs to, when found."""
    fresh: bool | None
    """True/False against the source by the writing Python's rule; None if not decidable."""
    freshness: str
    """Why :attr:`fresh` is what it is."""
    loadable: bool
    """True when the running interpreter would accept this pyc's magic number."""
    code: CodeRecord | None
    """The module's code (None with ``read_code=False``)."""
    tree: CodeNode | None
    """The code tree (None with ``read_code=False``)."""


def source_for(pyc: str) -> str | None:
    """The source a pyc belongs to: ``pkg/__pycache__/m.TAG[.opt-N].pyc`` -> ``pkg/m.py``, a
    legacy ``m.pyc`` -> ``m.py`` beside it; None when that file does not exist."""
    folder, name = os.path.split(pyc)
    if os.path.basename(folder) == "__pycache__":
        stem = name.split(".", 1)[0]
        candidate = os.path.join(os.path.dirname(folder), stem + ".py")
    elif name.endswith((".pyc", ".pyo")):
        candidate = os.path.join(folder, name[:-1])
    else:
        return None
    return candidate if os.path.isfile(candidate) else None


# --- SipHash, as CPython's _imp.source_hash computes it -------------------------------------

_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def _siphash(c_rounds: int, d_rounds: int, k0: int, k1: int, data: bytes) -> int:
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    n = len(data)
    end = n - n % 8
    for (m,) in struct.iter_unpack("<Q", data[:end]):
        v3 ^= m
        rounds(c_rounds)
        v0 ^= m
    last = int.from_bytes(data[end:], "little") | ((n & 0xFF) << 56)
    v3 ^= last
    rounds(c_rounds)
    v0 ^= last
    v2 ^= 0xFF
    rounds(d_rounds)
    return v0 ^ v1 ^ v2 ^ v3


def source_hash(source: bytes, magic: int, python: str) -> bytes:
    """The 8-byte source hash Python ``python`` writes in a hash-based pyc with ``magic``."""
    key = magic | (0x0A0D << 16)  # the raw little-endian magic word, as importlib uses it
    major, minor = (int(p) for p in python.split(".")[:2])
    c, d = (1, 3) if (major, minor) >= (3, 11) else (2, 4)
    return _siphash(c, d, key, 0, source).to_bytes(8, "little")


# --- code tree --------------------------------------------------------------------------------


def _kind(code: CodeRecord, root: bool) -> str:
    if root:
        return "module"
    if code.name.startswith("<") and code.name.endswith(">"):
        return code.name[1:-1]
    if not code.flags & _CO_NEWLOCALS:
        return "class"
    if code.flags & _CO_ASYNC_GENERATOR:
        return "async generator"
    if code.flags & _CO_COROUTINE:
        return "coroutine"
    if code.flags & _CO_GENERATOR:
        return "generator"
    return "function"


def code_tree(code: CodeRecord) -> CodeNode:
    """The tree of code objects under a module's code, with qualified names."""

    placed = {id(code)}

    def build(c: CodeRecord, prefix: str, root: bool, depth: int) -> CodeNode:
        kind = _kind(c, root)
        if root:
            qualname = "<module>"
        elif c.python >= (3, 11):
            qualname = c.qualname
        else:
            qualname = prefix + c.name
        if root:
            child_prefix = ""
        elif kind == "class":
            child_prefix = qualname + "."
        else:
            child_prefix = qualname + ".<locals>."
        fresh = []
        for ch in c.children:
            if id(ch) not in placed and depth < 100:
                placed.add(id(ch))  # a record shared by several parents appears once
                fresh.append(ch)
        children = tuple(build(ch, child_prefix, False, depth + 1) for ch in fresh)
        return CodeNode(kind, c.name, qualname, c.firstlineno, children)

    return build(code, "", True, 0)


# --- inspect ----------------------------------------------------------------------------------


def _freshness(pyc: str, header: Any, python: str, source: str | None
               ) -> tuple[bool | None, str]:
    if source is None:
        return None, "no source found"
    mode = header.mode
    if mode == "unchecked-hash":
        return None, "unchecked-hash pyc: importlib never compares it with the source"
    if mode == "checked-hash":
        if not python:
            return None, "unknown magic: cannot tell which hash rule applies"
        with open(source, "rb") as f:
            data = f.read()
        if source_hash(data, header.magic, python) == header.source_hash:
            return True, "source hash matches"
        return False, "source hash differs"
    st = os.stat(source)
    mtime = int(st.st_mtime) & 0xFFFFFFFF
    if header.mtime != mtime:
        return False, f"source mtime {mtime} differs from recorded {header.mtime}"
    if header.source_size is not None and header.source_size != st.st_size & 0xFFFFFFFF:
        return False, f"source size {st.st_size} differs from recorded {header.source_size}"
    return True, "source mtime and size match" if header.source_size is not None \
        else "source mtime matches"


@lru_cache(maxsize=1)
def _running_magic() -> int:
    import importlib.util

    return int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")


def inspect_pyc(path: str | os.PathLike[str], read_code: bool = True,
                limits: Limits = DEFAULT_LIMITS) -> PycInfo:
    """Inspect the .pyc at ``path``.

    Raises :class:`~bytecast.errors.PycFormatError` for a bad or unknown header,
    :class:`~bytecast.errors.UnmarshalError` for corrupt code (offsets count from the start
    of the file), :class:`~bytecast.errors.DataError` for a path that is not a regular file
    or a file larger than ``limits.max_size`` (checked before it is read), and OSError when
    the file cannot be read.
    """
    from bytecast import magic as magic_table
    from bytecast.header import parse_header
    from bytecast.unmarshal import python_for_magic

    name = os.fspath(path)
    # header-only: os.open/os.read, a pass over a whole tree is dominated by per-file costs
    data = read_regular(name, limits.max_size, None if read_code else 16)
    header = parse_header(data, name)
    entry = magic_table.lookup(header.magic)
    python = entry.python if entry is not None else ""
    if not python:
        guess = python_for_magic(header.magic)
        python = f"{guess[0]}.{guess[1]}" if guess else ""
    source = source_for(name)
    fresh, why = _freshness(name, header, python, source)
    code: CodeRecord | None = None
    tree: CodeNode | None = None
    if read_code:
        version = python_for_magic(header.magic)
        if version is None:
            raise PycFormatError(f"{name}: magic {header.magic} is not one bytecast can read "
                                 f"code for (Python 2.3-2.7, 3.0-3.14)")
        value = loads(data, version, limits=limits, start=header.size)
        if not isinstance(value, CodeRecord):
            raise UnmarshalError("expected a code object after the header, found "
                                 f"{type(value).__name__}", header.size)
        code = value
        tree = code_tree(code)
    loadable = header.magic == _running_magic()
    return PycInfo(
        path=name, magic=header.magic, python=python,
        versions=entry.versions if entry is not None else "", header_size=header.size,
        mode=header.mode, flags=header.flags, mtime=header.mtime,
        source_size=header.source_size,
        source_hash=header.source_hash.hex() if header.source_hash is not None else None,
        source=source, fresh=fresh, freshness=why, loadable=loadable, code=code, tree=tree)


def tree_lines(node: CodeNode, indent: int = 0) -> list[str]:
    """The tree as indented text lines (for the command line), names escaped: a crafted pyc
    can hold any characters."""
    lines = [f"{'  ' * indent}{escape(node.kind)} {escape(node.qualname)} "
             f"(line {show_int(node.firstlineno)})"]
    for child in node.children:
        lines.extend(tree_lines(child, indent + 1))
    return lines
