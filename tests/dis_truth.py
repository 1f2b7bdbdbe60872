"""What an interpreter's own dis sees in pycs: the ground truth for bytecast's disassembler
and import analysis.

Run by the tests under every installed interpreter (2.7, 3.6+): standalone, stdlib-only, in
syntax 2.7 accepts. Reads pyc paths (one per line) on stdin; for each prints

    F <path>
    I <code qualname-ish> <offset> <opname> <arg> <line> <argval if a name/jump/str>
    M <line> <name> <level> <fromlist>     (one per IMPORT_NAME)

or, with ``--text``, the text of dis.dis and dis.code_info (see main_text).

2.7's dis has no get_instructions, so its loop decodes with 2.7's own opcode tables exactly
as 2.7's dis.disassemble does.
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP028, UP031

import binascii
import dis
import marshal
import sys

PY = sys.version_info[:2]
HSIZE = 16 if PY >= (3, 7) else 12 if PY >= (3, 3) else 8
CODE_TYPE = type((lambda: 0).__code__)
try:
    text_type = unicode
    int_types = (int, long)
except NameError:
    text_type = str
    int_types = (int,)


def _lines(co):
    """[(start, end, line)] using the interpreter's own line table logic."""
    if hasattr(co, "co_lines"):
        return [(s, e, ln) for s, e, ln in co.co_lines()]
    starts = list(dis.findlinestarts(co))
    out = []
    for k, (begin, line) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else max(len(co.co_code), begin)
        out.append((begin, end, line))
    return out


def _line_at(lines, offset):
    for s, e, ln in lines:
        if s <= offset < e:
            return ln
    return None


def _name(raw):
    """Python 2 names are byte strings; bytecast shows them as text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _instructions_27(co):
    code = co.co_code
    n = len(code)
    i = 0
    ext = 0
    free = None
    while i < n:
        op = ord(code[i])
        offset = i
        i += 1
        arg = None
        argval = None
        if op >= dis.HAVE_ARGUMENT:
            arg = ord(code[i]) + ord(code[i + 1]) * 256 + ext
            ext = 0
            i += 2
            if op == dis.EXTENDED_ARG:
                ext = arg * 65536
                continue
            if op in dis.hasconst:
                argval = co.co_consts[arg]
            elif op in dis.hasname:
                argval = _name(co.co_names[arg])
            elif op in dis.hasjrel:
                argval = i + arg
            elif op in dis.hasjabs:
                argval = arg
            elif op in dis.haslocal:
                argval = _name(co.co_varnames[arg])
            elif op in dis.hascompare:
                argval = _name(dis.cmp_op[arg])
            elif op in dis.hasfree:
                if free is None:
                    free = co.co_cellvars + co.co_freevars
                argval = _name(free[arg])
        yield offset, dis.opname[op], arg, argval


def _instructions(co):
    if PY < (3, 4):
        for item in _instructions_27(co):
            yield item
        return
    kwargs = {"adaptive": False} if PY >= (3, 12) else {}
    for ins in dis.get_instructions(co, **kwargs):
        if ins.opname == "EXTENDED_ARG":
            continue
        yield ins.offset, ins.opname, ins.arg, ins.argval


def _show(value):
    """Names, strings and numbers the same way on every version: hex of the UTF-8 text."""
    if isinstance(value, bool):
        return "-"
    if isinstance(value, int_types):
        return "i%d" % value
    if isinstance(value, text_type):
        try:
            raw = value.encode("utf-8", "surrogatepass")
        except LookupError:  # Python 2 has no surrogatepass and needs none
            raw = value.encode("utf-8")
        return "u" + binascii.hexlify(raw).decode("ascii")
    if isinstance(value, bytes):
        return "b" + binascii.hexlify(value).decode("ascii")
    return "-"


RESOLVED = set()
for _group in ("hasconst", "hasname", "hasjrel", "hasjabs", "haslocal", "hasfree", "hascompare"):
    RESOLVED.update(dis.opname[op] for op in getattr(dis, _group, ()))


def _walk(co, path):
    lines = _lines(co)
    recent = []
    for offset, opname, arg, argval in _instructions(co):
        sys.stdout.write("I %s %d %s %s %s %s\n" % (
            path, offset, opname, arg, _line_at(lines, offset),
            _show(argval) if opname in RESOLVED else "-"))
        if opname == "IMPORT_NAME":
            level = recent[-2] if len(recent) >= 2 else None
            fromlist = recent[-1] if recent else None
            if isinstance(fromlist, tuple) and fromlist:
                shown = ",".join(_show(_name(x) if PY < (3, 0) else x) for x in fromlist)
            else:
                shown = "-"
            sys.stdout.write("M %s %s %s %s %s\n" % (
                path, _line_at(lines, offset), _show(argval), _show(level), shown))
        if opname == "LOAD_CONST":
            recent.append(argval)
        else:
            recent = []
    for const in co.co_consts:
        if isinstance(const, CODE_TYPE):
            _walk(const, path + "/" + const.co_name)


def _all_codes(co):
    out = [co]
    for const in co.co_consts:
        if isinstance(const, CODE_TYPE):
            out.extend(_all_codes(const))
    return out


def _emit(kind, path, text):
    data = text.encode("utf-8", "backslashreplace")
    sys.stdout.write("%s %d %s\n" % (kind, len(data), path))
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def main_text():
    """``--text`` (3.x only): for each pyc, ``T <bytes> <path>`` then the text dis.dis prints
    for its code, and ``C <bytes> <path>`` then dis.code_info of every code object in it,
    depth first, separated by blank lines. The texts are exactly the interpreter's own; the
    test normalises them."""
    import io

    for raw in sys.stdin:
        path = raw.strip()
        if not path:
            continue
        with open(path, "rb") as f:
            data = f.read()
        code = marshal.loads(data[HSIZE:])
        out = io.StringIO()
        dis.dis(code, file=out)
        _emit("T", path, out.getvalue())
        _emit("C", path, "\n\n".join(dis.code_info(c) for c in _all_codes(code)))


def main():
    if sys.argv[1:] == ["--text"]:
        main_text()
        return
    for raw in sys.stdin:
        path = raw.strip()
        if not path:
            continue
        with open(path, "rb") as f:
            data = f.read()
        sys.stdout.write("F %s\n" % path)
        _walk(marshal.loads(data[HSIZE:]), "")


if __name__ == "__main__":
    main()
