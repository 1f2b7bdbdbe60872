"""Reading code objects: the one part of marshal whose layout changes between versions.

The fields were added, removed and reordered in 3.0 (kwonlyargcount), 3.8 (posonlyargcount)
and 3.11 (localsplusnames and kinds in place of varnames, freevars and cellvars; qualname;
the exception table). Whatever the version, the result is the same :class:`CodeRecord`.
"""

from __future__ import annotations

from typing import Any

from bytecast.coderecord import CodeRecord
from bytecast.marshal_containers import Reader
from bytecast.marshal_reader import describe

__all__ = ["read_code"]

# Bits of co_localspluskinds (3.11+).
_CO_FAST_LOCAL = 0x20
_CO_FAST_CELL = 0x40
_CO_FAST_FREE = 0x80


def decode_py2_text(raw: bytes) -> str:
    """A Python 2 byte string as text: UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_code(reader: Reader, flag: int, start: int) -> Any:
    """Read a code object (the type code is already consumed) into a CodeRecord."""
    idx = reader.reserve(flag)
    reader.enter(start)
    ver = reader.version
    int32 = reader.int32
    argcount = int32("code argcount")
    posonly = int32("code posonlyargcount") if ver >= (3, 8) else 0
    kwonly = int32("code kwonlyargcount") if ver >= (3, 0) else 0
    nlocals = int32("code nlocals") if ver < (3, 11) else -1
    stacksize = int32("code stacksize")
    flags = int32("code flags")
    read = reader.read
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
    reader.depth -= 1

    for label, value in (("code", code), ("linetable", linetable),
                         ("exceptiontable", exceptiontable)):
        if not isinstance(value, bytes):
            raise reader.fail(f"code {label} must be bytes, found {describe(value)}", start)
    if not isinstance(consts, tuple):
        raise reader.fail(f"code consts must be a tuple, found {describe(consts)}", start)
    names_t = _code_names(reader, names, "names", start)
    if ver >= (3, 11):
        plus = _code_names(reader, plus_names, "localsplusnames", start)
        if not isinstance(kinds, bytes) or len(kinds) != len(plus):
            raise reader.fail(
                f"code localspluskinds must be bytes as long as localsplusnames "
                f"({len(plus)}), found {describe(kinds)}"
                + (f" of length {len(kinds)}" if isinstance(kinds, bytes) else ""), start)
        varnames = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_LOCAL)
        cellvars = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_CELL)
        freevars = tuple(n for n, k in zip(plus, kinds) if k & _CO_FAST_FREE)
        nlocals = len(varnames)
    else:
        varnames = _code_names(reader, raw_varnames, "varnames", start)
        freevars = _code_names(reader, raw_freevars, "freevars", start)
        cellvars = _code_names(reader, raw_cellvars, "cellvars", start)
    # what every later walk over this record reads (see Limits.max_code_ratio)
    reader.charge_code(len(code) + len(linetable) + len(exceptiontable) + len(consts)
                       + len(names_t) + len(plus) + len(varnames) + len(freevars)
                       + len(cellvars), start)
    v = CodeRecord(
        python=ver, argcount=argcount, posonlyargcount=posonly, kwonlyargcount=kwonly,
        nlocals=nlocals, stacksize=stacksize, flags=flags, code=code,
        consts=consts, names=names_t, varnames=varnames, freevars=freevars,
        cellvars=cellvars, filename=_code_text(reader, filename, "filename"),
        name=_code_text(reader, name, "name"), qualname=_code_text(reader, qualname, "qualname"),
        firstlineno=firstlineno, linetable=linetable, exceptiontable=exceptiontable, localsplusnames=plus, localspluskinds=kinds)
    if flag:
        reader.refs[idx] = v
    return v

def _code_text(reader: Reader, value: Any, label: str) -> str:
    if isinstance(value, str):
        return value
    if reader.py2 and isinstance(value, bytes):
        return decode_py2_text(value)
    raise reader.fail(f"code {label} must be a string, found {describe(value)}")

def _code_names(reader: Reader, value: Any, label: str, start: int) -> tuple[str, ...]:
    if not isinstance(value, tuple):
        raise reader.fail(f"code {label} must be a tuple of strings, "
                        f"found {describe(value)}", start)
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif reader.py2 and isinstance(item, bytes):
            out.append(decode_py2_text(item))
        else:
            raise reader.fail(f"code {label} must hold only strings, "
                            f"found {describe(item)}", start)
    return tuple(out)
