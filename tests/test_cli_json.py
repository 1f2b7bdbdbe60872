"""Every command's ``--json``: one document on stdout, of the shape docs/json.md documents.

The schema is data (:mod:`json_schema`); each command's real output is checked against it, and
so are the field tables and the examples of docs/json.md, so code, schema and page agree.
A problem has one shape everywhere (:meth:`bytecast.problem.Problem.to_json`).
"""

from __future__ import annotations

import json
import py_compile
import re
from pathlib import Path
from typing import Any

import pytest

from bytecast.cli import main
from json_schema import PROBLEM, SCHEMAS, errors, rows

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json.md"


def assert_problem(doc: Any) -> None:
    assert errors(doc, PROBLEM) == [], doc


def run_json(capsys: pytest.CaptureFixture[str], *argv: str, schema: str | None = None) -> tuple[int, Any]:
    """Run a command with --json: its status and document, checked against its schema (by
    default the command's own) and against the envelope's promises."""
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert errors(doc, SCHEMAS[schema or {"magic": "magic-query"}.get(argv[0], argv[0])]) == []
    assert doc["schema"] == 1 and doc["command"] == argv[0]
    assert doc["ok"] is (status == 0), (status, doc["ok"])
    return status, doc


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.py").write_text("import os\nx = 1\n")
    (tmp_path / "pkg" / "bad.py").write_text("def (\n")
    return tmp_path


def test_compile_and_check(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "compile", str(tree / "pkg"))
    assert status == 1
    assert doc["summary"] == {"sources": 2, "pycs": 2, "fresh": 0, "compiled": 1, "linked": 0, "failed": 1,
                              "problems": 1, "warnings": 0}
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
    assert doc["dry_run"] is True and len(doc["removed"]) == 1 and doc["problems"] == []


def test_magic_query_file_and_bad_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "magic", "3.11")
    assert status == 0 and doc["query"] == "3.11" and [e["number"] for e in doc["entries"]] == [3495]
    pyc = py_compile.compile(str(tree / "pkg" / "good.py"), doraise=True)
    assert pyc is not None
    status, doc = run_json(capsys, "magic", pyc, schema="magic-file")
    assert status == 0 and doc["path"] == pyc and doc["header"]["magic"] == 3495 and doc["problems"] == []
    bad = tree / "bad.pyc"
    bad.write_bytes(b"\xa7\r\r")
    status, doc = run_json(capsys, "magic", str(bad), schema="magic-file")
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
    assert [f["path"] for f in doc["files"]] == [str(bad), pyc, str(tree / "gone.pyc")]
    assert set(doc["files"][0]) == {"path", "error"} and str(bad) in doc["files"][0]["error"]
    assert doc["files"][1]["tree"]["kind"] == "module" and doc["files"][1]["fresh"] is True
    assert len(doc["problems"]) == 2
    for problem in doc["problems"]:
        assert_problem(problem)
    assert [p["path"] for p in doc["problems"]] == [str(bad), str(tree / "gone.pyc")]


def test_inspect_dis_and_info(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyc = py_compile.compile(str(tree / "pkg" / "good.py"), doraise=True)
    assert pyc is not None
    status, doc = run_json(capsys, "inspect", "--dis", "--info", pyc, str(tree / "pkg" / "good.py"))
    assert status == 0
    compiled, source = doc["files"]
    assert compiled["dis"][0]["kind"] == "module" and compiled["dis"][0]["instructions"]
    assert compiled["info"][0]["name"] == "<module>"
    assert set(source) == {"path", "python", "dis", "info"}  # a .py compiled by the target's worker
    assert [i["opname"] for i in source["dis"][0]["instructions"]] == \
        [i["opname"] for i in compiled["dis"][0]["instructions"]]


def test_imports_problems_have_the_problem_shape(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    py_compile.compile(str(tree / "pkg" / "good.py"), cfile=str(tree / "pkg" / "good.pyc"), doraise=True)
    (tree / "pkg" / "broken.pyc").write_bytes(b"garbage!" * 4)
    (tree / "pkg" / "bad.py").unlink()
    status, doc = run_json(capsys, "imports", str(tree / "pkg"))
    assert status == 1
    assert doc["summary"] == {"files": 2, "modules": 1, "missing": 0}
    (problem,) = doc["problems"]
    assert_problem(problem)
    assert problem["path"].endswith("broken.pyc") and problem["kind"] == "PycFormatError"
    assert not problem["message"].startswith(problem["path"])
    assert any(m["name"] == "os" and m["kind"] == "stdlib" for m in doc["modules"])
    site = next(m for m in doc["modules"] if m["name"] == "os")["sites"][0]
    assert set(site) == {"file", "line", "scope", "guarded", "how", "implicit_relative", "typing_only", "guard"}


def test_targets(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_python = tree / "not-python"
    not_python.write_text("#!/bin/sh\nexit 3\n")
    not_python.chmod(0o755)
    status, doc = run_json(capsys, "targets", str(not_python))
    assert status == 2  # a named path that is not an interpreter; the document is still printed
    assert any(t["current"] for t in doc["targets"])
    assert set(doc["targets"][0]) == {"version", "implementation", "cache_tag", "magic", "magic_bytes",
                                      "executable", "current"}
    mine = [p for p in doc["problems"] if p["path"] == str(not_python)]
    assert len(mine) == 1
    for problem in doc["problems"]:
        assert_problem(problem)


def test_check_is_ok_only_when_everything_is_fresh(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pkg" / "bad.py").unlink()
    status, doc = run_json(capsys, "check", str(tree / "pkg"))
    assert status == 1 and doc["ok"] is False and doc["problems"] == []  # not fresh is not a problem record
    assert main(["compile", "-q", str(tree / "pkg")]) == 0
    status, doc = run_json(capsys, "check", str(tree / "pkg"))
    assert status == 0 and doc["ok"] is True and [f["state"] for f in doc["files"]] == ["fresh"]


def test_magic_all_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    from bytecast.magic import entries

    status, doc = run_json(capsys, "magic", "--all")
    assert status == 0 and doc["query"] is None
    assert [e["number"] for e in doc["entries"]] == [e.number for e in entries()]
    assert len(doc["entries"]) > 200
    status, doc = run_json(capsys, "magic", "9999")
    assert status == 1 and doc["entries"] == []
    (problem,) = doc["problems"]
    assert problem["path"] == "9999" and problem["kind"] == "UnknownMagic"


def test_clean_says_why_a_named_pyc_stays(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sourceless = tree / "pkg" / "gone.pyc"
    py_compile.compile(str(tree / "pkg" / "good.py"), cfile=str(sourceless), doraise=True)
    status, doc = run_json(capsys, "clean", str(sourceless))
    assert status == 0 and doc["removed"] == [] and doc["kept_sourceless"] == 1
    assert doc["kept"] == [{"path": str(sourceless), "reason": "a sourceless module, no gone.py beside it "
                                                               "(see --sourceless)"}]
    assert sourceless.exists()


def test_every_command_has_a_schema() -> None:
    from bytecast.cli._parser import COMMANDS

    named = {name.split("-")[0] for name in SCHEMAS}
    assert set(COMMANDS) <= named, set(COMMANDS) - named


def _marked(kind: str) -> dict[str, str]:
    """The text after each ``<!-- KIND: NAME -->`` of docs/json.md, up to the next heading or mark."""
    text = DOCS.read_text()
    found = {}
    for match in re.finditer(rf"<!-- {kind}: ([\w-]+) -->\n(.*?)(?=\n<!--|\n#|\Z)", text, re.S):
        found[match.group(1)] = match.group(2)
    return found


def test_the_field_tables_of_the_docs_are_the_schema() -> None:
    tables = _marked("schema")
    assert set(tables) == set(SCHEMAS)
    for name, table in tables.items():
        documented = dict(re.findall(r"^\| `([^`]+)` \| ([^|]+?) \|$", table, re.M))
        assert documented == rows(SCHEMAS[name]), name


def test_the_examples_of_the_docs_follow_the_schema() -> None:
    examples = _marked("example")
    assert set(examples) == set(SCHEMAS) - {"problem"}
    for name, block in examples.items():
        body = block.strip().removeprefix("```json").removesuffix("```")
        doc = json.loads(body)
        assert errors(doc, SCHEMAS[name]) == [], name
        assert doc["schema"] == 1 and doc["command"] == name.split("-")[0]
