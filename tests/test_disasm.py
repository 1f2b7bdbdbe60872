"""The disassembler agrees with each installed interpreter's own dis on its own pycs."""

from __future__ import annotations

import binascii
import dis
import marshal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import interpreters
from bytecast import disasm
from bytecast.errors import DataError
from bytecast.magic import header_size_for
from bytecast.unmarshal import CodeRecord, loads

HERE = Path(__file__).parent
RUNNING = (sys.version_info[0], sys.version_info[1])


def _pyc_payload(path: str) -> bytes:
    data = Path(path).read_bytes()
    return data[header_size_for(int.from_bytes(data[:2], "little")):]


def show(value: Any) -> str:
    """The same rendering as dis_truth.py's."""
    if isinstance(value, bool):
        return "-"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, str):
        return "u" + binascii.hexlify(value.encode("utf-8", "surrogatepass")).decode()
    if isinstance(value, bytes):
        return "b" + binascii.hexlify(value).decode()
    return "-"


def our_listing(code: CodeRecord, path: str = "") -> list[str]:
    groups = disasm.opcode_table(code.python).groups
    resolved = frozenset().union(*groups.values())
    out = []
    for ins in disasm.instructions(code):
        value = show(ins.argval) if ins.opcode in resolved else "-"
        out.append(f"I {path} {ins.offset} {ins.opname} {ins.arg} {ins.line} {value}")
    for child in code.children:
        out.extend(our_listing(child, path + "/" + child.name))
    return out


@pytest.mark.parametrize("version", interpreters.VERSIONS)
def test_matches_interpreters_own_dis(version: str, tmp_path: Path) -> None:
    exe = interpreters.interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    major, minor = (int(p) for p in version.split("."))
    ver = (major, minor)
    paths = interpreters.stdlib_pycs(exe, str(tmp_path), every=40)
    assert len(paths) > 15
    out = subprocess.run([exe, str(HERE / "dis_truth.py")], input="\n".join(paths),
                         capture_output=True, text=True, check=True, timeout=600).stdout
    truth: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("F "):
            current = line[2:]
            truth[current] = []
        elif line.startswith("I "):
            truth[current].append(line)
    problems = []
    for path in paths:
        code = loads(_pyc_payload(path), ver)
        ours = our_listing(code)
        if ours != truth[path]:
            first = next((f"{a} != {b}" for a, b in zip(ours, truth[path]) if a != b),
                         f"{len(ours)} != {len(truth[path])} instructions")
            problems.append(f"{path}: {first}")
    assert problems == []


def test_tables_present() -> None:
    versions = disasm.available_versions()
    for v in ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"):
        assert v in versions
    table = disasm.opcode_table((3, 11))
    assert table.names[table.extended_arg] == "EXTENDED_ARG"
    with pytest.raises(DataError, match="no opcode table for Python 3.5"):
        disasm.opcode_table((3, 5))


def sample(a, b=2, *args, **kw):  # type: ignore[no-untyped-def]
    try:
        import os.path as p
    except ImportError:
        p = None  # type: ignore[assignment]
    for i in range(a):
        b += i * 2
    return [x for x in args if x], p, kw, lambda: b


def test_running_interpreter_listing() -> None:
    code = loads(marshal.dumps(sample.__code__))
    ours = [(i.offset, i.opname, i.arg) for i in disasm.instructions(code)]
    theirs = [(i.offset, i.opname, i.arg) for i in dis.get_instructions(sample)
              if i.opname != "EXTENDED_ARG"]
    assert ours == theirs
    text = disasm.disassemble(code)
    assert "IMPORT_NAME" in text and "os.path" in text
    assert text.count("Disassembly of") == 1 + len(code.children)
    if RUNNING >= (3, 11):
        assert "ExceptionTable:" in text
        assert disasm.exception_entries(code)


def test_garbage_bytecode_never_raises() -> None:
    code = loads(marshal.dumps(sample.__code__))
    import dataclasses

    for junk in (b"\xff" * 7, bytes(range(256)), b"d\xff" * 10, b"\x90\xff" * 4 + b"d\x01"):
        bad = dataclasses.replace(code, code=junk, linetable=junk, exceptiontable=junk)
        disasm.disassemble(bad)
        disasm.line_ranges(bad)


_EXC_TRUTH = """\
import dis, marshal, sys
code = marshal.loads(open(sys.argv[1], "rb").read()[16:])
todo = [code]
while todo:
    c = todo.pop(0)
    for e in dis._parse_exception_table(c):
        print(c.co_name, e.start, e.end, e.target, e.depth, int(e.lasti))
    todo.extend(k for k in c.co_consts if hasattr(k, "co_code"))
"""


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_exception_table_matches_dis_past_one_chunk(version: str, tmp_path: Path) -> None:
    """Exception-table numbers are varints most significant chunk first: offsets past 126 bytes
    (two chunks) decode as the interpreter's own dis reads them."""
    exe = interpreters.require(version)
    src = tmp_path / "m.py"
    src.write_text("x = 1\n" * 80 + "try:\n    import a\nexcept ImportError:\n    a = None\n"
                   "def f():\n" + "    y = 1\n" * 200 + "    try:\n        return g()\n"
                   "    except (KeyError, ValueError):\n        return 2\n")
    pyc = tmp_path / "m.pyc"
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                    "doraise=True)", str(src), str(pyc)], check=True)
    truth = subprocess.run([exe, "-c", _EXC_TRUTH, str(pyc)], capture_output=True, text=True, check=True
                           ).stdout.split("\n")[:-1]
    major, minor = (int(p) for p in version.split("."))
    code = loads(_pyc_payload(str(pyc)), (major, minor))
    ours = []
    todo = [code]
    while todo:
        c = todo.pop(0)
        ours += [f"{c.name} {e.start} {e.end} {e.target} {e.depth} {int(e.lasti)}"
                 for e in disasm.exception_entries(c)]
        todo.extend(c.children)
    assert len(truth) >= 4 and max(int(t.split()[1]) for t in truth) > 126
    assert ours == truth
