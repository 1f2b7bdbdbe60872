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


# --- the listing against each interpreter's own dis ---------------------------------------------

DIS_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
"""The versions whose whole standard library the slow test compares; the quick one also
covers 3.6-3.8."""
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


@pytest.mark.parametrize("version", ("3.6", "3.7", "3.8") + DIS_VERSIONS)
def test_listing_equals_dis_sample(version: str, tmp_path: Path) -> None:
    """bytecast's listing and code_info equal the interpreter's own dis.dis and dis.code_info
    (both through :func:`normalise`) on a module made to have every feature, and on every
    40th module of its standard library, compiled fresh."""
    exe = interpreters.require(version)
    features = _features_pyc(exe, tmp_path)
    paths = [features] + interpreters.stdlib_pycs(exe, str(tmp_path), every=40, fresh=True)
    assert len(paths) > 15
    compared, problems = _compare(version, paths)
    assert problems == []
    assert compared == 2 * len(paths)
    ver = (int(version.split(".")[0]), int(version.split(".")[1]))
    code = loads(_pyc_payload(features), ver)
    # 3.6's dis.dis shows the module's own code only (the equality above holds it to that)
    assert ("Disassembly of" in disasm.disassemble(code)) == (ver >= (3, 7))
    text = disasm.disassemble(code, recursive=True)
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


# --- the command line ------------------------------------------------------------------------

LINE = re.compile(r"^\s*(\d+)?\s+(>>)?\s+(\d+) (\S+)\s*(-?\d+)?(?: \((.*)\))?$")


def _oracle_one(exe: str, pyc: str) -> tuple[str, list[str]]:
    texts = {kind: text for kind, _, text in oracle_texts(exe, [pyc])}
    return texts["T"], texts["C"].split("\n\n")


def _section(text: str, name: str) -> str:
    """The listing of the nested code object ``name`` in a dis.dis text."""
    head = re.search(rf"\nDisassembly of <code object {name} [^\n]*>:\n", text)
    assert head is not None
    rest = text[head.end():]
    end = rest.find("\nDisassembly of ")
    return rest if end < 0 else rest[:end]


def test_cli_text_equals_dis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``inspect --dis``, ``--info`` and ``--function`` print what the pyc's own Python's
    dis.dis and dis.code_info print (both through :func:`normalise`)."""
    from bytecast.cli import main

    exe = interpreters.require("3.12")
    pyc = _features_pyc(exe, tmp_path)
    listing, infos = _oracle_one(exe, pyc)
    assert main(["inspect", pyc, "--dis"]) == 0
    assert normalise(capsys.readouterr().out) == normalise(listing)
    assert main(["inspect", pyc, "--dis", "--function", "calls"]) == 0
    assert normalise(capsys.readouterr().out) == normalise(_section(listing, "calls"))
    assert main(["inspect", pyc, "--info"]) == 0
    assert normalise(capsys.readouterr().out) == normalise(infos[0]) + "\n"
    assert main(["inspect", pyc, "--info", "--function", "calls"]) == 0
    assert capsys.readouterr().out == infos[2] + "\n"  # module, many, calls, ...
    assert main(["inspect", pyc, "--function", "Path.resolve"]) == 0  # implies --dis
    out = capsys.readouterr().out
    assert out.startswith(normalise(_section(listing, "resolve")).split("\nDisassembly of")[0])


def test_cli_json_dis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--json --dis`` instructions agree with the lines of the interpreter's own dis text:
    offset, opname, arg, argrepr, jump-target mark, line starts."""
    import json

    from bytecast.cli import main

    exe = interpreters.require("3.12")
    pyc = _features_pyc(exe, tmp_path)
    listing, _ = _oracle_one(exe, pyc)
    assert main(["inspect", pyc, "--json", "--dis", "--info"]) == 0
    doc = json.loads(capsys.readouterr().out)
    top = doc["files"][0]["dis"][0]
    assert [c["qualname"] for c in top["children"]] == ["many", "calls", "loop", "Path"]
    assert top["children"][3]["children"][0]["qualname"] == "Path.resolve"
    assert doc["files"][0]["info"][0]["names"][0] == "os"
    calls = top["children"][1]
    theirs = []
    for text in _section(listing, "calls").splitlines():
        m = LINE.match(text)
        if m is None:
            continue
        line, mark, offset, opname, arg, argrepr = m.groups()
        theirs.append((int(offset), opname, None if arg is None else int(arg), argrepr or "",
                       bool(mark), line is not None, int(line) if line else None))
    ours = [(i["offset"], i["opname"], i["arg"], i["argrepr"], i["is_jump_target"],
             i["starts_line"], i["line"] if i["starts_line"] else None)
            for i in calls["instructions"]]
    assert len(theirs) > 30 and ours == theirs
    assert calls["exception_table"] and all(e["end"] > e["start"] for e in calls["exception_table"])
    jumps = [i for i in calls["instructions"] if i["jump_target"] is not None]
    offsets = {i["offset"] for i in calls["instructions"]}
    assert jumps and all(i["jump_target"] in offsets for i in jumps)


def test_cli_source_file_and_source_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .py is compiled by the target's worker and listed as that Python's dis lists the pyc
    py_compile makes of it; ``--source`` puts each line's text before its instructions, and
    shows none when the source changed."""
    from bytecast.cli import main

    exe = interpreters.require("3.13")
    pyc = _features_pyc(exe, tmp_path)
    listing, _ = _oracle_one(exe, pyc)
    source = str(tmp_path / "features.py")
    assert main(["inspect", source, "--target", exe]) == 0
    assert normalise(capsys.readouterr().out) == normalise(listing)
    assert main(["inspect", pyc, "--source", "--function", "calls"]) == 0
    out = capsys.readouterr().out
    assert "# def calls(path):\n" in out and '#         return os.path.join(path, "x").upper()\n' in out
    plain = "".join(line for line in out.splitlines(True) if not line.startswith("# "))
    assert normalise(plain) == normalise(_section(listing, "calls"))
    Path(source).write_text(FEATURES + "\n# changed\n")
    assert main(["inspect", pyc, "--source"]) == 0
    captured = capsys.readouterr()
    assert "# def calls" not in captured.out and "has changed" in captured.err


def test_cli_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bytecast.cli import main

    exe = interpreters.require("3.12")
    pyc = _features_pyc(exe, tmp_path)
    assert main(["inspect", pyc, "--function", "nope"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "no code object named nope" in captured.err and "many, calls" in captured.err
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    assert main(["inspect", str(broken), pyc, "--dis"]) == 1  # the other file is still shown
    captured = capsys.readouterr()
    assert captured.err == f"{broken}:1:7: SyntaxError: invalid syntax\n"
    assert "Disassembly of <code object many" in captured.out
    assert main(["inspect", pyc, "--dis", "--header-only"]) == 2
    assert "cannot be used with" in capsys.readouterr().err
    assert main(["inspect", str(broken), "--target", "2.5"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_many_huge_constants_stay_bounded() -> None:
    """A crafted module whose 3,000 constants each hold a tuple shared 2**40 times over lists
    in bounded time and text: the first constants in full up to the budget, the rest cut."""
    import dataclasses
    import time

    code = loads(marshal.dumps(compile("\n".join(f"x{i} = {i}.5" for i in range(3000)), "m", "exec")))
    big: tuple[object, ...] = ("leaf",)
    for _ in range(40):
        big = (big, big)
    consts = tuple((i, big) if isinstance(c, float) else c for i, c in enumerate(code.consts))
    crafted = dataclasses.replace(code, consts=consts)
    began = time.process_time()
    text = disasm.disassemble(crafted)
    took = time.process_time() - began
    assert text.count("LOAD_CONST") >= 3000 and text.count("...)") >= 2900
    assert len(text) < 10_000_000 and took < 10  # about 1 s on this machine
