"""Compiler warnings (``SyntaxWarning: invalid escape sequence``, ``"is" with a literal``,
``assertion is always true``): recorded by the workers of every target, shown by ``compile``
one line each, made errors or ignored on request; the drop-in compileall prints exactly what
the standard library's prints.

The oracle is each interpreter itself: ``python -W always -m py_compile`` prints its compiler's
warnings, and ``python -m compileall`` is what the drop-in is compared with.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import interpreters
from bytecast.cli import main
from conftest import SRC, env

WARNED = '''\
import re
pat = re.compile("\\d+")
def f(x):
    if x is "abc":
        return 1
    assert (x, "message")
    return 2
y = 1 is 1
'''
VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
LINE = re.compile(r"^(\S+?):(\d+): (\w+Warning): (.*)$")


def own_warnings(exe: str, folder: Path) -> list[str]:
    """The warnings the interpreter's own compiler gives for ``w.py``, as ``w.py:LINE: Kind: msg``."""
    done = subprocess.run([exe, "-W", "always", "-m", "py_compile", "w.py"], cwd=folder, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    return [line for line in done.stderr.splitlines() if LINE.match(line)]


@pytest.fixture
def warned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.py").write_text(WARNED)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def test_every_target_shows_its_own_compilers_warnings(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    have = {v: interpreters.interpreter(v) for v in VERSIONS}
    found = [v for v, exe in have.items() if exe]
    if len(found) < 2:
        pytest.skip(f"fewer than two of Python {', '.join(VERSIONS)} installed")
    expected = {v: own_warnings(str(have[v]), warned) for v in found}
    assert any("SyntaxWarning" in line for lines in expected.values() for line in lines)
    targets = [arg for v in found for arg in ("--target", str(have[v]))]
    assert main(["compile", "-q", *targets, "w.py", "clean.py"]) == 0
    _, err = capfd.readouterr()
    got: dict[str, list[str]] = {v: [] for v in found}
    for line in err.splitlines():
        text, _, target = line.rpartition(" (for cpython-")
        got[target.rstrip(")")].append(text)
    assert got == expected
    assert "clean.py" not in err
    assert len(list((warned / "__pycache__").glob("w.*.pyc"))) == len(found)


def test_one_target_one_line_each_and_the_pyc_is_written(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    expected = own_warnings(sys.executable, warned)
    assert expected
    assert main(["compile", "-q", "-O", "0", "-O", "1", "w.py"]) == 0  # two levels: each warning once
    _, err = capfd.readouterr()
    assert err.splitlines() == expected
    assert len(list((warned / "__pycache__").glob("w.*.pyc"))) == 2


def test_json_lists_them_as_problems_of_kind_warning(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    expected = own_warnings(sys.executable, warned)
    assert main(["compile", "--json", "w.py"]) == 0
    out, err = capfd.readouterr()
    doc = json.loads(out)
    assert doc["ok"] is True and err == ""
    assert doc["summary"]["warnings"] == len(expected) and doc["summary"]["problems"] == 0
    shown = [f"{p['path']}:{p['line']}: {p['message']}" for p in doc["problems"]]
    assert [p["kind"] for p in doc["problems"]] == ["warning"] * len(expected)
    assert shown == expected


def test_error_fails_the_file_and_writes_no_pyc(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    expected = own_warnings(sys.executable, warned)
    assert main(["compile", "-q", "--warnings", "error", "w.py", "clean.py"]) == 1
    _, err = capfd.readouterr()
    path, line, kind, message = LINE.match(expected[0]).groups()  # type: ignore[union-attr]
    lines = err.splitlines()
    assert lines[0] == f"{path}:{line}:0: {kind}: {message}"  # the failure: the first warning
    assert lines[1:] == expected[1:]  # the others are still shown
    names = sorted(p.name.split(".")[0] for p in (warned / "__pycache__").glob("*.pyc"))
    assert names == ["clean"]


def test_ignore_shows_nothing(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "-q", "--warnings", "ignore", "w.py"]) == 0
    assert capfd.readouterr().err == ""
    assert list((warned / "__pycache__").glob("w.*.pyc"))


def test_the_setting_and_its_bad_value(warned: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (warned / ".git").mkdir()  # the settings search stops here
    (warned / "pyproject.toml").write_text('[tool.bytecast]\nwarnings = "error"\n')
    assert main(["compile", "-q", "w.py"]) == 1
    assert not list(warned.glob("__pycache__/w.*.pyc"))
    assert main(["compile", "-q", "--warnings", "ignore", "w.py"]) == 0  # the flag wins
    capfd.readouterr()
    (warned / "pyproject.toml").write_text('[tool.bytecast]\nwarnings = "loud"\n')
    done = subprocess.run([sys.executable, "-m", "bytecast", "compile", "w.py"], cwd=warned, env=env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "warnings" in done.stderr and "loud" in done.stderr


# --- the drop-in: what the standard library's compileall prints --------------------------------

def _compileall(exe: str, module: str, flags: list[str], folder: Path, *args: str) -> tuple[int, str, str, list[str]]:
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    e = env()
    e["PYTHONPATH"] = SRC
    done = subprocess.run([exe, *flags, "-m", module, *args, "w.py", "clean.py"], cwd=folder, env=e,
                          capture_output=True, text=True, timeout=120)
    pycs = sorted(p.name for p in (folder / "__pycache__").glob("*.pyc"))
    return done.returncode, done.stdout, done.stderr, pycs


@pytest.mark.parametrize("version", ["3.9", "3.12", "3.13"])
@pytest.mark.parametrize("flags", [[], ["-W", "error"], ["-W", "ignore::SyntaxWarning"]],
                         ids=["default", "W-error", "W-ignore"])
def test_dropin_prints_what_the_stdlib_prints(tmp_path: Path, version: str, flags: list[str]) -> None:
    exe = interpreters.require(version)
    (tmp_path / "w.py").write_text(WARNED)
    (tmp_path / "clean.py").write_text("x = 1\n")
    stdlib = _compileall(exe, "compileall", flags, tmp_path)
    ours = _compileall(exe, "bytecast.compileall", flags, tmp_path)
    assert ours == stdlib
    if not flags:
        assert "SyntaxWarning" in stdlib[2]  # the comparison has warnings to compare


@pytest.mark.parametrize("module", ["compileall", "py_compile"])
def test_dropin_in_parallel_and_py_compile_print_what_the_stdlib_prints(tmp_path: Path, module: str) -> None:
    exe = interpreters.require("3.12")
    (tmp_path / "w.py").write_text(WARNED)
    (tmp_path / "clean.py").write_text("x = 1\n")
    (tmp_path / "v.py").write_text(WARNED.replace("is 1", "is 2"))
    args = ("-j", "2", "v.py") if module == "compileall" else ("v.py",)
    for flags in ([], ["-W", "error"]):
        stdlib = _compileall(exe, module, flags, tmp_path, *args)
        ours = _compileall(exe, f"bytecast.{module}", flags, tmp_path, *args)
        assert ours == stdlib
    assert stdlib[0] == 1  # -W error: the files failed, for both
