"""The disassembler agrees with each installed interpreter's own dis on its own pycs."""

from __future__ import annotations

import ast
import binascii
import dis
import marshal
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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
    assert text.count("Disassembly of") == len(code.children)
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


# --- the listing against each interpreter's own dis ---------------------------------------------

DIS_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
FEATURES = """\
import os


def many(x):
    values = [{names}]
    return values[x]


def calls(path):
    try:
        return os.path.join(path, "x").upper()
    except (TypeError, ValueError) as exc:
        raise RuntimeError(path) from exc
    finally:
        del path


def loop(items):
    total = 0
    for item in items:
        if item in {{"a", "b"}} and item != "c":
            total += len(f"{{item!r:>3}}")
        while total > 10:
            total -= 1
    return total


class Path:
    def resolve(self, strict=False):
        return super().resolve() if strict else [c for c in str(self) if c]
""".format(names=", ".join(f"x + {i}.5" for i in range(300)))
"""A module that has every feature the listing must show: EXTENDED_ARG (300 constants), jumps
and jump targets, calls of globals and methods (NULL), exception tables, comprehensions, a
class with a method, f-strings, a set constant."""


def _sorted_set(text: str, start: int) -> tuple[str, int] | None:
    """The set display whose items begin at ``text[start]`` with its items sorted by repr,
    and where it ends; None when it is not a literal."""
    end = start
    while True:
        end = text.find("})", end)
        if end < 0:
            return None
        try:
            items = ast.literal_eval("{" + text[start:end] + "}")
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            end += 1
            continue
        if not isinstance(items, set):
            return None
        return ", ".join(sorted(repr(i) for i in items)), end


def normalise(text: str) -> str:
    """What both listings go through before they are compared: memory addresses of code
    objects removed (``<code object f at 0x7f..., file ...>`` becomes ``<code object f, file
    ...>``, as bytecast writes it), and the items of every ``frozenset({...})`` put in sorted
    order of their reprs (a live set's order depends on the hash seed of the process that made
    it). Nothing else is changed."""
    text = ADDRESS.sub("", text)
    out = []
    pos = 0
    for match in re.finditer(r"frozenset\(\{", text):
        if match.start() < pos:
            continue
        fixed = _sorted_set(text, match.end())
        if fixed is None:
            continue
        out.append(text[pos:match.end()])
        out.append(fixed[0])
        pos = fixed[1]
    out.append(text[pos:])
    return "".join(out)


def test_normalise() -> None:
    assert normalise("(frozenset({'b', '})', 'a'}))\n<code object f at 0xdead, file") == \
        "(frozenset({'a', 'b', '})'}))\n<code object f, file"
    assert normalise("frozenset({3, 1}) frozenset({2, 1})") == "frozenset({1, 3}) frozenset({1, 2})"


def oracle_texts(exe: str, paths: list[str]) -> Iterator[tuple[str, str, str]]:
    """``(kind, path, text)`` as dis_truth.py --text prints them under ``exe``, read as they
    come (the oracle runs while the caller compares)."""
    proc = subprocess.Popen([exe, str(HERE / "dis_truth.py"), "--text"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    feeder = threading.Thread(target=_feed, args=(proc.stdin, paths))
    feeder.start()
    try:
        while True:
            head = proc.stdout.readline()
            if not head:
                break
            kind, size, path = head.decode().rstrip("\n").split(" ", 2)
            yield kind, path, proc.stdout.read(int(size)).decode()
    finally:
        feeder.join()
        proc.stdout.close()
        assert proc.wait(timeout=600) == 0


def _feed(pipe: IO[bytes], paths: list[str]) -> None:
    with pipe:
        pipe.write("\n".join(paths).encode())


def _depth_first(code: CodeRecord) -> list[CodeRecord]:
    out = [code]
    for child in code.children:
        out.extend(_depth_first(child))
    return out


def _compare(version: str, paths: list[str]) -> tuple[int, list[str]]:
    exe = interpreters.require(version)
    ver = (int(version.split(".")[0]), int(version.split(".")[1]))
    problems = []
    compared = 0
    code: CodeRecord | None = None
    for kind, path, truth in oracle_texts(exe, paths):
        if kind == "T":
            code = loads(_pyc_payload(path), ver)
            mine = disasm.disassemble(code)
        else:
            assert code is not None
            mine = "\n\n".join(disasm.code_info(c) for c in _depth_first(code))
        compared += 1
        mine, truth = normalise(mine), normalise(truth)
        if mine != truth:
            a, b = mine.splitlines(), truth.splitlines()
            first = next((f"line {k + 1}: {x[:200]!r} != {y[:200]!r}"
                          for k, (x, y) in enumerate(zip(a, b)) if x != y),
                         f"{len(a)} != {len(b)} lines")
            problems.append(f"{path} ({kind}): {first}")
    return compared, problems


def _features_pyc(exe: str, tmp_path: Path) -> str:
    source = tmp_path / "features.py"
    source.write_text(FEATURES)
    pyc = tmp_path / "features.pyc"
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], "
                    "cfile=sys.argv[2], doraise=True)", str(source), str(pyc)],
                   check=True, timeout=60)
    return str(pyc)


@pytest.mark.parametrize("version", DIS_VERSIONS)
def test_listing_equals_dis_sample(version: str, tmp_path: Path) -> None:
    """bytecast's listing and code_info equal the interpreter's own dis.dis and dis.code_info
    (both through :func:`normalise`) on a module made to have every feature, and on every
    25th module of its standard library, compiled fresh."""
    exe = interpreters.require(version)
    features = _features_pyc(exe, tmp_path)
    paths = [features] + interpreters.stdlib_pycs(exe, str(tmp_path), every=25, fresh=True)
    assert len(paths) > 25
    compared, problems = _compare(version, paths)
    assert problems == []
    assert compared == 2 * len(paths)
    ver = (int(version.split(".")[0]), int(version.split(".")[1]))
    text = disasm.disassemble(loads(_pyc_payload(features), ver))
    assert "EXTENDED_ARG" in text and "Disassembly of <code object resolve, file" in text
    assert (" L1:" in text) if ver >= (3, 13) else (">>" in text)
    if ver >= (3, 11):
        assert "ExceptionTable:" in text
        assert ("join + NULL|self" in text if ver >= (3, 13) else
                "NULL|self + join" in text if ver >= (3, 12) else "NULL + RuntimeError" in text)
    if ver >= (3, 13):
        assert "\n  --" in text


@pytest.mark.slow
@pytest.mark.parametrize("version", DIS_VERSIONS)
def test_listing_equals_dis_whole_stdlib(version: str, tmp_path: Path) -> None:
    """As the sample test, on every module of the interpreter's standard library (tests
    excluded), compiled fresh; both sides through :func:`normalise`."""
    exe = interpreters.require(version)
    paths = interpreters.stdlib_pycs(exe, str(tmp_path), fresh=True)
    assert len(paths) > 500
    compared, problems = _compare(version, paths)
    assert problems[:5] == []
    assert compared == 2 * len(paths)


def test_constants_are_cut_and_stable() -> None:
    """Reprs are the interpreter's own up to the cut; sets are ordered the same in every run;
    a constant shared many times over is cut, not expanded."""
    value = ("a", 1, (2,), b"x", None, 1.5, 2j, ...)
    assert disasm.const_repr(value) == repr(value)
    assert disasm.const_repr(frozenset({"b", "a", 10, 9})) == "frozenset({9, 10, 'a', 'b'})"
    assert disasm.const_repr("x" * 50, limit=10) == repr("x" * 11)[:10] + "..."
    nested: tuple[object, ...] = ("leaf",)
    for _ in range(40):  # 2**40 leaves if expanded
        nested = (nested, nested)
    text = disasm.const_repr(nested, limit=1000)
    assert len(text) <= 1003 and text.endswith("...")
    assert disasm.const_repr(1 << 100_000) == "<int of 100001 bits>"
