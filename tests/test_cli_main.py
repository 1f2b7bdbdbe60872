"""``bytecast.cli.main``: one error contract for every command, and a run imports only its own.

Errors are checked through ``python -m bytecast`` (what users run): the exit status, exactly
one line on stderr, never a traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import bytecast.cli
from bytecast.cli import main
from conftest import env, run_cli


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    import os

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_path / "bad.pyc").write_bytes(b"garbage!" * 4)
    (tmp_path / "folder.pyc").mkdir()
    for fifo in ("fifo.pyc", "fifo.py"):  # never opened: a read would wait for a writer forever
        os.mkfifo(tmp_path / fifo)
    return tmp_path


ONE_LINE_ERRORS = [
    # (command line, exit status, text the line must hold)
    (["compile", "--timeout", "0", "pkg"], 2, "bytecast: error: --timeout must be a number of seconds above 0"),
    (["compile", "--timeout", "-1", "pkg"], 2, "--timeout must be"),
    (["compile", "--jobs", "-3", "pkg"], 2, "bytecast: error: --jobs must be 0 or more, not -3"),
    (["compile", "--max-depth", "-1", "pkg"], 2, "--max-depth must be 0 or more, not -1"),
    (["check", "--max-depth", "-1", "pkg"], 2, "(see bytecast check --help)"),
    (["clean", "--max-depth", "-1", "pkg"], 2, "--max-depth must be 0 or more"),
    (["compile", "-x", "[z-a]", "pkg"], 2, "--exclude '[z-a]' is not a valid glob"),
    (["clean", "-x", "[z-a]", "pkg"], 2, "--exclude '[z-a]'"),
    (["compile", "--ddir", "x", "--strip-prefix", "y", "pkg"], 2, "--ddir cannot be combined with --strip-prefix"),
    (["compile", "-q", "-v", "pkg"], 2, "(see bytecast compile --help)"),
    (["clean", "-q", "-v", "pkg"], 2, "-q/--quiet and -v/--verbose"),
    (["compile", "--jobs", "many", "pkg"], 2, "(see bytecast compile --help)"),
    (["compile", "nope"], 2, "bytecast: error: nope: no such file"),
    (["check", "nope"], 2, "bytecast: error: nope: no such file"),
    (["clean", "nope"], 2, "bytecast: error: nope: no such file"),
    (["inspect", "nope.pyc"], 2, "bytecast: error: nope.pyc: no such file"),
    (["magic", "nope/gone.pyc"], 2, "bytecast: error: nope/gone.pyc: no such file"),
    (["imports", "nope/"], 2, "bytecast: error: nope/: no such file"),
    (["inspect", "pkg"], 2, "pkg: is a directory"),
    (["targets", "/bin/ls"], 2, "bytecast: error: /bin/ls"),
    (["targets", "nope/python"], 2, "bytecast: error: nope/python"),
    (["inspect", "bad.pyc"], 1, "bad.pyc: not a .pyc file"),
    (["magic", "bad.pyc"], 1, "bad.pyc: not a .pyc file"),
    (["compile", "--target", "3.1", "pkg"], 2, "target 3.1: no such interpreter"),
    # The rule for a path named on the command line: missing or not a regular file (judged from
    # its type, unread) -> 2, whatever the command; a regular file with bad bytes -> 1 (above).
    (["magic", "folder.pyc"], 2, "folder.pyc: is a directory"),
    (["inspect", "folder.pyc"], 2, "folder.pyc: is a directory"),
    (["inspect", "fifo.pyc"], 2, "bytecast: error: fifo.pyc: not a regular file (a FIFO)"),
    (["magic", "fifo.pyc"], 2, "bytecast: error: fifo.pyc: not a regular file (a FIFO)"),
    (["imports", "fifo.py"], 2, "bytecast: error: fifo.py: not a regular file (a FIFO)"),
    (["imports", "fifo.pyc"], 2, "bytecast: error: fifo.pyc: not a regular file (a FIFO)"),
    (["clean", "fifo.pyc"], 2, "bytecast: error: fifo.pyc: not a regular file"),
    (["compile", "fifo.py"], 2, "bytecast: error: fifo.py: not a file or directory"),
    (["check", "fifo.py"], 2, "bytecast: error: fifo.py: not a file or directory"),
    (["compile", "--bogus", "pkg"], 2, "unrecognized arguments: --bogus (see bytecast compile --help)"),
    (["clean", "--bogus"], 2, "(see bytecast clean --help)"),
    (["check", "-q", "--nope"], 2, "(see bytecast check --help)"),
    (["magic"], 2, "give a QUERY"),
    (["magic", "--all", "3.11"], 2, "--all lists the whole table"),
    (["magic", "3.11.99"], 2, "bytecast: error: Python 3.11.99 does not exist"),
    (["magic", "2.7.19"], 2, "the last 2.7 release is 2.7.18"),
]


@pytest.mark.parametrize(("argv", "status", "text"), ONE_LINE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_errors_are_one_line_with_their_exit_status(tree: Path, argv: list[str], status: int, text: str) -> None:
    result = run_cli(*argv, cwd=tree)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert text in result.stderr, result.stderr
    assert "jobs must" not in result.stderr.replace("--jobs must", "")  # the flag, never the field


def test_a_field_is_never_shown_by_its_own_name(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--max-depth", "-1", str(tree)]) == 2
    err = capsys.readouterr().err
    assert "max depth" not in err and "max_depth" not in err and "--max-depth" in err


def test_corrupt_pyc_is_a_problem_and_the_others_are_still_reported(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import py_compile

    good = py_compile.compile(str(tree / "pkg" / "m.py"), doraise=True)
    assert good is not None
    assert main(["inspect", str(tree / "bad.pyc"), good]) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "bad.pyc" in err
    assert good in out and "loadable" in out
    # a missing file outranks a bad one, and still lets the others be reported
    assert main(["inspect", str(tree / "bad.pyc"), str(tree / "gone.pyc"), good]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 2 and good in out


def test_a_library_error_exits_with_its_own_status(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    from bytecast.errors import WorkerError

    def fail(*args: object, **kwargs: object) -> None:
        raise WorkerError("worker for cpython-3.12 died:\nsecond line")

    monkeypatch.setattr("bytecast.engine.compile_tree", fail)
    assert main(["compile", str(tree / "pkg")]) == 1  # not 2: the work failed, the command ran
    assert capsys.readouterr().err == "bytecast: error: worker for cpython-3.12 died: second line\n"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("bytecast ")
    assert main(["compile", "--help"]) == 0
    assert "--invalidation-mode" in capsys.readouterr().out


def test_a_run_imports_only_its_own_command(tree: Path) -> None:
    script = ("import sys; from bytecast.cli import main; rc = main(sys.argv[2:]);"
              "print(rc, sorted(m for m in sys.modules if m.startswith('bytecast.cli')))")
    for command in ("compile", "check"):
        out = subprocess.run([sys.executable, "-S", "-c", script, "-", command, "-q", str(tree / "pkg")],
                             env=env(), capture_output=True, text=True)
        rc, modules = out.stdout.split(" ", 1)
        assert rc in ("0", "1"), out.stderr
        assert eval(modules) == ["bytecast.cli", "bytecast.cli._output", "bytecast.cli._parser",
                                 f"bytecast.cli.{command}"], out.stdout


def test_every_module_of_the_command_line_stays_small() -> None:
    folder = Path(bytecast.cli.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert set(sizes) >= {"__init__.py", "_output.py", "_parser.py", "_documents.py", "compile.py", "check.py",
                          "clean.py", "magic.py", "inspect.py", "imports.py", "targets.py"}
    assert max(sizes.values()) <= 300, sizes


def test_documents_are_never_imported_at_run_time(tree: Path) -> None:
    script = ("import sys; from bytecast.cli import main;"
              "[main([c, '--json', a]) for c, a in (('compile', sys.argv[1]), ('clean', sys.argv[1]),"
              " ('magic', '3.11'))]; sys.stderr.write(str('bytecast.cli._documents' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script, str(tree / "pkg")], env=env(), capture_output=True,
                         text=True)
    assert out.stderr == "False", out.stderr


def test_version_names_the_python_it_runs_on() -> None:
    import platform

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == (f"bytecast {bytecast.__version__} "
                                      f"({platform.python_implementation()} {platform.python_version()}, {sys.executable})")


def test_counts_agree_with_their_nouns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    tag = sys.implementation.cache_tag
    assert main(["compile", "--target", "current", str(tmp_path)]) == 0
    assert capsys.readouterr().err.startswith(f"compiled 1 file for {tag} in ")
    assert main(["clean", "-v", str(tmp_path)]) == 0
    assert re.fullmatch(r"removed 1 file and 1 __pycache__ folder in \d+\.\d\d s\n", capsys.readouterr().err)
