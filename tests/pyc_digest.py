"""Digest the marshalled code of a stdlib's pycs, as the interpreter running this script sees it.

Run by tests/test_unmarshal.py under every installed interpreter (2.7 and 3.6+), so it is
standalone, stdlib-only and in syntax 2.7 accepts. It is also imported by the tests, which
apply :func:`digest` to what bytecast's reader returns: both sides go through the same
canonical form, so equal digests mean equal values.

Usage: python pyc_digest.py LIBDIR TMPDIR [--skip-tests] [--every N] [--paths-only] [--fresh]
Prints one line per pyc: "PATH<TAB>DIGEST" (or "PATH<TAB>!ERROR ..."). For each source under
LIBDIR (site-packages excluded) it uses the interpreter's own cached pyc when there is one,
and otherwise (always, with --fresh) compiles one into TMPDIR, never writing into LIBDIR.
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP031, UP036

import binascii
import hashlib
import marshal
import os
import sys

try:
    text_type = unicode
    int_types = (int, long)
except NameError:
    text_type = str
    int_types = (int,)

CODE_FIELDS = (
    "argcount", "posonlyargcount", "kwonlyargcount", "nlocals", "stacksize", "flags", "code",
    "consts", "names", "varnames", "freevars", "cellvars", "filename", "name", "qualname",
    "firstlineno", "linetable", "exceptiontable",
)
TEXT_FIELDS = frozenset(["filename", "name", "qualname"])
NAME_FIELDS = frozenset(["names", "varnames", "freevars", "cellvars"])


def _code_type():
    return type(_code_type.__code__)


CODE_TYPE = _code_type()


def _live_field(co, field):
    if field == "posonlyargcount":
        return getattr(co, "co_posonlyargcount", 0)
    if field == "kwonlyargcount":
        return getattr(co, "co_kwonlyargcount", 0)
    if field == "qualname":
        return getattr(co, "co_qualname", co.co_name)
    if field == "linetable":
        if sys.version_info >= (3, 10):
            return co.co_linetable
        return co.co_lnotab
    if field == "exceptiontable":
        return getattr(co, "co_exceptiontable", b"")
    return getattr(co, "co_" + field)


def _text(value):
    if not isinstance(value, text_type):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    if sys.version_info[0] >= 3:
        raw = value.encode("utf-8", "surrogatepass")
    else:
        raw = value.encode("utf-8")
    return "u" + binascii.hexlify(raw).decode("ascii")


def canon(obj, out):
    """Append the canonical form of ``obj`` to the list ``out``."""
    if obj is None:
        out.append("N")
    elif obj is True:
        out.append("T")
    elif obj is False:
        out.append("F")
    elif obj is Ellipsis:
        out.append(".")
    elif obj is StopIteration:
        out.append("S")
    elif isinstance(obj, int_types):
        out.append("i%x" % obj if obj >= 0 else "i-%x" % -obj)
    elif isinstance(obj, float):
        out.append("f" + obj.hex())
    elif isinstance(obj, complex):
        out.append("c" + obj.real.hex() + "," + obj.imag.hex())
    elif isinstance(obj, text_type):
        out.append(_text(obj))
    elif isinstance(obj, bytes):
        out.append("b" + binascii.hexlify(obj).decode("ascii"))
    elif isinstance(obj, tuple):
        out.append("(%d" % len(obj))
        for item in obj:
            canon(item, out)
        out.append(")")
    elif isinstance(obj, list):
        out.append("[%d" % len(obj))
        for item in obj:
            canon(item, out)
        out.append("]")
    elif isinstance(obj, (set, frozenset)):
        parts = []
        for item in obj:
            sub = []
            canon(item, sub)
            parts.append("".join(sub))
        out.append(("<" if isinstance(obj, set) else ">") + "%d" % len(obj))
        out.extend(sorted(parts))
        out.append("|")
    elif isinstance(obj, dict):
        parts = []
        for key, value in obj.items():
            sub = []
            canon(key, sub)
            sub.append(":")
            canon(value, sub)
            parts.append("".join(sub))
        out.append("{%d" % len(obj))
        out.extend(sorted(parts))
        out.append("}")
    elif isinstance(obj, CODE_TYPE) or hasattr(obj, "localspluskinds"):
        live = isinstance(obj, CODE_TYPE)
        out.append("C")
        for field in CODE_FIELDS:
            value = _live_field(obj, field) if live else getattr(obj, field)
            if field in TEXT_FIELDS:
                out.append(_text(value))
            elif field in NAME_FIELDS:
                out.append("(%d" % len(value))
                out.extend([_text(v) for v in value])
                out.append(")")
            else:
                canon(value, out)
        out.append("c")
    else:
        raise TypeError("no canonical form for %r" % (type(obj),))


def digest(obj):
    out = []
    canon(obj, out)
    return hashlib.md5("\n".join(out).encode("ascii")).hexdigest()


def _header_size():
    if sys.version_info >= (3, 7):
        return 16
    if sys.version_info >= (3, 3):
        return 12
    return 8


def _cached_pyc(source):
    if sys.version_info[0] >= 3:
        import importlib.util
        return importlib.util.cache_from_source(source)
    return source + "c"


def _magic():
    if sys.version_info[0] >= 3:
        import importlib.util
        return importlib.util.MAGIC_NUMBER
    import imp
    return imp.get_magic()


def main(argv):
    import py_compile
    libdir, tmpdir = argv[0], argv[1]
    skip_tests = "--skip-tests" in argv[2:]
    paths_only = "--paths-only" in argv[2:]
    fresh = "--fresh" in argv[2:]
    every = int(argv[argv.index("--every") + 1]) if "--every" in argv else 1
    seen = 0
    magic = _magic()
    hsize = _header_size()
    count = 0
    for root, dirs, files in os.walk(libdir):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__")
                         and not (skip_tests and d in ("test", "tests")))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            seen += 1
            if seen % every:
                continue
            source = os.path.join(root, name)
            pyc = _cached_pyc(source)
            data = None
            if not fresh and os.path.exists(pyc):
                with open(pyc, "rb") as f:
                    data = f.read()
                if data[:4] != magic:
                    data = None
            if data is None:
                count += 1
                pyc = os.path.join(tmpdir, "%d.pyc" % count)
                try:
                    py_compile.compile(source, cfile=pyc, doraise=True)
                except Exception:  # sources that do not compile (test data) have no pyc
                    continue
                with open(pyc, "rb") as f:
                    data = f.read()
            if paths_only:
                sys.stdout.write("%s\n" % pyc)
                continue
            try:
                line = digest(marshal.loads(data[hsize:]))
            except Exception as exc:
                line = "!ERROR %s" % (exc,)
            sys.stdout.write("%s\t%s\n" % (pyc, line))


if __name__ == "__main__":
    main(sys.argv[1:])
