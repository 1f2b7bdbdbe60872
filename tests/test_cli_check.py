"""``bytecast check``, the CI gate: each reason says what was recorded and what was found; a pyc
importlib accepts passes unless a mode is asked; a gate that checks nothing fails."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import interpreters
from bytecast.cli import main

TAG = __import__("sys").implementation.cache_tag


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "pkg" / f"{name}.py").write_text(f"{name} = 1\n")
        os.utime(tmp_path / "pkg" / f"{name}.py", (1_796_000_000, 1_796_000_000))
    return tmp_path


def pyc(tree: Path, name: str) -> Path:
    return tree / "pkg" / "__pycache__" / f"{name}.{TAG}.pyc"


def test_each_reason_names_recorded_and_found(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "-q", "pkg"]) == 0
    assert check(capsys, "pkg")[0] == 0
    os.utime(tree / "pkg" / "a.py", (1_700_000_000, 1_700_000_000))  # mtime went back
    (tree / "pkg" / "b.py").write_text("b = 100\n")  # only the size changed
    os.utime(tree / "pkg" / "b.py", (1_796_000_000, 1_796_000_000))
    status, out, _ = check(capsys, "pkg")
    assert status == 1
    lines = sorted(out.splitlines())
    assert lines == [
        f"pkg/a.py: stale: source mtime 2023-11-14 22:13:20 UTC differs from the 2026-11-30 00:53:20 UTC "
        f"recorded (pkg/__pycache__/a.{TAG}.pyc)",
        f"pkg/b.py: stale: source size 8 bytes, 6 recorded (pkg/__pycache__/b.{TAG}.pyc)",
    ]
    status, out, _ = check(capsys, "--json", "pkg")
    files = {Path(f["source"]).name: f for f in json.loads(out)["files"]}
    assert files["a.py"]["state"] == "stale" and files["a.py"]["field"] == "mtime"
    assert (files["a.py"]["recorded"], files["a.py"]["found"]) == (1_796_000_000, 1_700_000_000)
    assert (files["b.py"]["field"], files["b.py"]["recorded"], files["b.py"]["found"]) == ("size", 6, 8)
    assert "reason" not in files["c.py"] and files["c.py"]["state"] == "fresh"


def test_hash_differs_and_another_pythons_pyc(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "-q", "--invalidation-mode", "checked-hash", "pkg"]) == 0
    (tree / "pkg" / "a.py").write_text("a = 2\n")
    exe = interpreters.require("3.12" if TAG != "cpython-312" else "3.13")
    # another Python's pyc where this one's should be
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)",
                    str(tree / "pkg" / "b.py"), str(pyc(tree, "b"))], check=True, timeout=60)
    status, out, _ = check(capsys, "pkg")
    assert status == 1
    a_line, b_line = sorted(out.splitlines())
    assert a_line.startswith("pkg/a.py: stale: source hash ") and " differs from the recorded " in a_line
    theirs = int.from_bytes(pyc(tree, "b").read_bytes()[:2], "little")
    ours = int.from_bytes(__import__("importlib.util").util.MAGIC_NUMBER[:2], "little")
    assert b_line.startswith(f"pkg/b.py: invalid: wrong magic {theirs} (Python 3.1")
    assert f"for {TAG} ({ours})" in b_line and "another Python" not in b_line


def test_source_date_epoch_then_plain_check_and_compile(tree: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["compile", "-q", "pkg"]) == 0
    assert pyc(tree, "a").read_bytes()[4] == 3  # checked-hash
    assert check(capsys, "pkg")[0] == 0
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    status, out, _ = check(capsys, "pkg")
    assert (status, out) == (0, "")  # importlib accepts them: fresh
    before = {n: pyc(tree, n).stat() for n in "abc"}
    assert main(["compile", "-q", "pkg"]) == 0
    for n, st in before.items():
        now = pyc(tree, n).stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)  # not rewritten
    # a mode asked for explicitly still judges the mode
    status, out, _ = check(capsys, "--invalidation-mode", "timestamp", "pkg")
    assert status == 1 and out.count(": mode: checked-hash pyc, timestamp asked") == 3
    # and SOURCE_DATE_EPOCH asks for checked-hash: timestamp pycs are then of the wrong mode
    assert main(["compile", "-q", "-f", "pkg"]) == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    status, out, _ = check(capsys, "pkg")
    assert status == 1 and out.count(": mode: timestamp pyc, checked-hash asked") == 3


@pytest.mark.parametrize("args", [["empty"], ["-x", "*.py", "pkg"]], ids=["empty folder", "all excluded"])
def test_a_gate_that_checks_nothing_fails(tree: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    (tree / "empty").mkdir()
    where = args[-1]
    status, out, err = check(capsys, *args)
    assert (status, out, err) == (1, "", f"nothing to check: no Python sources under {where}\n")
    status, out, err = check(capsys, "--json", *args)
    doc = json.loads(out)
    assert status == 1 and doc["ok"] is False and err == ""
    assert [(p["kind"], p["message"]) for p in doc["problems"]] == [
        ("NothingToCheck", f"nothing to check: no Python sources under {where}")]
