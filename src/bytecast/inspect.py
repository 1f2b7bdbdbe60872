"""Look inside a .pyc without running it: header, freshness, loadability, code tree.

:func:`inspect_pyc` reads the header with :mod:`bytecast.header`, names the Python that wrote
the file with :mod:`bytecast.magic`, checks it against its source with *that* Python's rule
(mtime and size, or a SipHash of the source keyed by the magic number: SipHash-2-4 before
3.11, SipHash-1-3 since), and reads the code with the bounded reader of
:mod:`bytecast.unmarshal` — never with ``marshal.loads``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bytecast.coderecord import CodeRecord
from bytecast.errors import PycFormatError, UnmarshalError
from bytecast.fileio import read_regular
from bytecast.safetext import escape, show_int
from bytecast.unmarshal import DEFAULT_LIMITS, Limits, loads

__all__ = ["CodeNode", "PycInfo", "code_tree", "compile_source", "find_code", "inspect_pyc",
           "source_for", "source_hash", "source_lines", "tree_lines"]

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
    code: CodeRecord | None = field(default=None, compare=False, repr=False)
    """The code object itself."""


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
    """The source a pyc belongs to (see :func:`bytecast.paths.source_for`)."""
    from bytecast.paths import source_for as find

    return find(pyc)


def source_hash(source: bytes, magic: int, python: str) -> bytes:
    """The 8-byte source hash Python ``python`` writes in a hash-based pyc with ``magic``
    (see :mod:`bytecast.hashing`, the home of that rule)."""
    from bytecast.hashing import hash_bytes

    major, minor = (int(p) for p in python.split(".")[:2])
    return hash_bytes(source, magic.to_bytes(2, "little") + b"\r\n", (major, minor))


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
        return CodeNode(kind, c.name, qualname, c.firstlineno, children, c)

    return build(code, "", True, 0)


def find_code(tree: CodeNode, qualname: str) -> list[CodeNode]:
    """The nodes of ``tree`` whose qualified name is ``qualname`` (``Path.resolve``,
    ``main.<locals>.helper``, ``<module>``), in source order; a name defined twice (a property's
    getter and setter) gives both."""
    out: list[CodeNode] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.qualname == qualname:
            out.append(node)
        stack.extend(reversed(node.children))
    return out


def source_lines(path: str) -> list[str]:
    """The lines of a Python source file, decoded as Python decodes it (its coding cookie or
    UTF-8; undecodable bytes replaced); OSError when it cannot be read."""
    import io
    from tokenize import detect_encoding

    data = read_regular(path)
    try:
        encoding, _ = detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        text = data.decode(encoding, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    return text.splitlines()


def compile_source(path: str | os.PathLike[str], target: Any = None, optimize: int = 0,
                   timeout: float = 120.0) -> CodeRecord:
    """Compile the source at ``path`` in a fresh worker of ``target`` (a
    :class:`~bytecast.targets.Target`; the running interpreter when None) and read the code
    back with bytecast's own reader: the source is never imported or run here.

    Raises :class:`~bytecast.errors.DataError` for a source that does not compile (the message
    says where: ``path:line:col: SyntaxError: ...``), :class:`~bytecast.errors.WorkerError`
    when the worker dies or passes ``timeout``, and OSError when the file cannot be read.
    """
    from bytecast.compiler import Lane, Outcome, Unit, run_lanes
    from bytecast.compiler.workers import spawner
    from bytecast.errors import DataError, WorkerError
    from bytecast.header import parse_header
    from bytecast.targets import current

    name = os.fspath(path)
    st = os.stat(name)
    if not os.path.isfile(name):
        raise DataError(f"{name}: not a regular file")
    target = target or current()
    absolute = name if os.path.isabs(name) else os.path.join(os.getcwd(), name)
    unit = Unit(0, absolute, name, 0, False, ((optimize, ""),), give_back=True)
    box: list[Outcome] = []
    run_lanes([Lane(spawner(target, optimize), [unit], [st.st_size])], 1, box.append,
              timeout=timeout)
    if not box:
        raise WorkerError(f"{name}: the compile worker gave no answer")
    outcome = box[0]
    if outcome.failure is not None:
        fail = outcome.failure
        if fail.kind in ("WorkerCrash", "Timeout", "WorkerError"):
            raise WorkerError(f"{name}: {fail.message}")
        where = f"{name}:{fail.line}:{fail.column}" if fail.line else name
        raise DataError(f"{where}: {fail.kind}: {fail.message}")
    data = outcome.blobs[0][1]
    header = parse_header(data, name)
    value = loads(data, target.version, start=header.size)
    if not isinstance(value, CodeRecord):
        raise UnmarshalError("expected a code object after the header, found "
                             f"{type(value).__name__}", header.size)
    return value


# --- inspect ----------------------------------------------------------------------------------


def _freshness(pyc: str, head: bytes, header: Any, python: str, source: str | None
               ) -> tuple[bool | None, str]:
    """Fresh or not against ``source``, by :mod:`bytecast.freshness`'s rule, and why."""
    from bytecast.freshness import Rule, stamp

    if source is None:
        return None, "no source found"
    mode = header.mode
    if mode != "timestamp" and not python:
        return None, "unknown magic: cannot tell which hash rule applies"
    try:
        st = os.stat(source)
        state = Rule(head[:4]).state(head, stamp(st.st_mtime, st.st_size),
                                     lambda: source_hash(_read_source(source), header.magic, python))
    except OSError as exc:
        return None, f"source cannot be read: {exc.strerror or exc}"
    if mode == "unchecked-hash":
        verdict = "matches" if state == "fresh" else "differs"
        return None, f"unchecked-hash pyc: importlib never compares it with the source (its hash {verdict})"
    if mode == "checked-hash":
        return (True, "source hash matches") if state == "fresh" else (False, "source hash differs")
    if state == "fresh":
        return True, "source mtime and size match" if header.source_size is not None else "source mtime matches"
    mtime = int(st.st_mtime) & 0xFFFFFFFF
    if header.mtime != mtime:
        return False, f"source mtime {mtime} differs from recorded {header.mtime}"
    return False, f"source size {st.st_size} differs from recorded {header.source_size}"


def _read_source(path: str) -> bytes:
    from bytecast.fileio import read_regular

    return read_regular(path)


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
    fresh, why = _freshness(name, bytes(data[:header.size]), header, python, source)
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
