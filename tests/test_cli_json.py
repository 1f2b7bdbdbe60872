"""Every command's ``--json``: one document on stdout, of the shape its type declares.

A problem has one shape everywhere (:meth:`bytecast.problem.Problem.to_json`).
"""

from __future__ import annotations

import json
import py_compile
from pathlib import Path
from typing import Any

import pytest

from bytecast.cli import main

PROBLEM: dict[str, type | tuple[type, ...]] = {"path": str, "line": int, "column": int, "kind": str, "message": str, "target": (str, type(None))}


def assert_problem(doc: Any) -> None:
    assert set(doc) == set(PROBLEM), doc
    for key, kind in PROBLEM.items():
        assert isinstance(doc[key], kind), (key, doc)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.py").write_text("import os\nx = 1\n")
    (tmp_path / "pkg" / "bad.py").write_text("def (\n")
    return tmp_path


def test_compile_and_check(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "compile", str(tree / "pkg"))
    assert status == 1
    assert set(doc) == {"command", "ok", "elapsed", "summary", "problems", "files"}
    assert doc["command"] == "compile" and doc["ok"] is False and isinstance(doc["elapsed"], float)
    assert set(doc["summary"]) == {"sources", "pycs", "fresh", "compiled", "linked", "failed", "problems",
                                   "warnings"}
    assert all(isinstance(v, int) for v in doc["summary"].values())
    assert len(doc["problems"]) == 1
    assert_problem(doc["problems"][0])
    assert doc["problems"][0]["kind"] == "SyntaxError" and doc["problems"][0]["line"] == 1
    failed = [f for f in doc["files"] if f["outcome"] == "failed"]
    assert len(failed) == 1 and failed[0]["source"].endswith("bad.py")
    assert_problem(failed[0]["error"])
    for f in doc["files"]:
        assert {"source", "target", "optimize", "pyc", "state", "outcome"} <= set(f)
    (tree / "pkg" / "bad.py").write_text("y = 2\n")
    status, doc = run_json(capsys, "check", str(tree / "pkg"))
    assert status == 1 and doc["command"] == "check"
    assert {f["state"] for f in doc["files"]} == {"fresh", "missing"}  # bad.py never got a pyc
    assert all("outcome" not in f for f in doc["files"])


def test_clean(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["compile", "-q", str(tree / "pkg" / "good.py")])
    capsys.readouterr()
    status, doc = run_json(capsys, "clean", "-n", str(tree / "pkg"))
    assert status == 0
    assert set(doc) == {"command", "ok", "dry_run", "removed", "folders_removed", "kept_sourceless", "problems"}
    assert doc["dry_run"] is True and len(doc["removed"]) == 1 and doc["problems"] == []


def test_magic_query_file_and_bad_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "magic", "3.11")
    assert status == 0 and set(doc) == {"query", "entries"}
    assert set(doc["entries"][0]) == {"number", "magic_bytes", "python", "versions", "header_size", "release",
                                      "notes"}
    pyc = py_compile.compile(str(tree / "pkg" / "good.py"), doraise=True)
    assert pyc is not None
    status, doc = run_json(capsys, "magic", pyc)
    assert status == 0 and set(doc) == {"path", "entry", "header", "problems"} and doc["problems"] == []
    bad = tree / "bad.pyc"
    bad.write_bytes(b"\xa7\r\r")
    status, doc = run_json(capsys, "magic", str(bad))
    assert status == 1 and doc["header"] is None and doc["entry"] is None
    (problem,) = doc["problems"]
    assert_problem(problem)
    assert problem["path"] == str(bad) and problem["kind"] == "PycFormatError"
    assert problem["message"] == "header is 3 bytes, expected 16"


def test_inspect(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyc = py_compile.compile(str(tree / "pkg" / "good.py"), doraise=True)
    assert pyc is not None
    bad = tree / "bad.pyc"
    bad.write_bytes(b"garbage!" * 4)
    status, doc = run_json(capsys, "inspect", str(bad), pyc, str(tree / "gone.pyc"))
    assert status == 2
    assert set(doc) == {"files", "problems"}
    assert [f["path"] for f in doc["files"]] == [str(bad), pyc, str(tree / "gone.pyc")]
    assert set(doc["files"][0]) == {"path", "error"} and str(bad) in doc["files"][0]["error"]
    assert doc["files"][1]["tree"]["kind"] == "module" and doc["files"][1]["fresh"] is True
    assert len(doc["problems"]) == 2
    for problem in doc["problems"]:
        assert_problem(problem)
    assert [p["path"] for p in doc["problems"]] == [str(bad), str(tree / "gone.pyc")]


def test_imports_problems_have_the_problem_shape(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    py_compile.compile(str(tree / "pkg" / "good.py"), cfile=str(tree / "pkg" / "good.pyc"), doraise=True)
    (tree / "pkg" / "broken.pyc").write_bytes(b"garbage!" * 4)
    (tree / "pkg" / "bad.py").unlink()
    status, doc = run_json(capsys, "imports", str(tree / "pkg"))
    assert status == 1
    assert set(doc) == {"files", "pythons", "problems", "modules"}
    (problem,) = doc["problems"]
    assert_problem(problem)
    assert problem["path"].endswith("broken.pyc") and problem["kind"] == "PycFormatError"
    assert not problem["message"].startswith(problem["path"])
    assert any(m["name"] == "os" and m["kind"] == "stdlib" for m in doc["modules"])
    site = next(m for m in doc["modules"] if m["name"] == "os")["sites"][0]
    assert set(site) == {"file", "line", "scope", "guarded", "how", "implicit_relative"}


def test_targets(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_python = tree / "not-python"
    not_python.write_text("#!/bin/sh\nexit 3\n")
    not_python.chmod(0o755)
    status, doc = run_json(capsys, "targets", str(not_python))
    assert status == 2  # a named path that is not an interpreter; the document is still printed
    assert set(doc) == {"targets", "problems"}
    assert any(t["current"] for t in doc["targets"])
    assert set(doc["targets"][0]) == {"version", "implementation", "cache_tag", "magic", "magic_bytes",
                                      "executable", "current"}
    mine = [p for p in doc["problems"] if p["path"] == str(not_python)]
    assert len(mine) == 1
    for problem in doc["problems"]:
        assert_problem(problem)
