"""bytecast.compileall and bytecast.py_compile: drop-in for the standard library's.

The proof of the drop-in is CPython's own test suite (tests/stdlib_runner.py), run here for the
running interpreter and one other; the tests below cover what bytecast does differently.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bytecast.compileall as bc_compileall
import bytecast.py_compile as bc_py_compile
import interpreters
from bytecast import _dropin
from conftest import SRC, env

RUNNER = Path(__file__).resolve().parent / "stdlib_runner.py"


def _run_stdlib_suite(python: str) -> None:
    e = env()
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([python, str(RUNNER)], env=e, capture_output=True, text=True, timeout=900)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report[-6000:]
    summary = report.strip().splitlines()[-1]
    assert "failures 0, errors 0" in summary, summary
    # the inapplicable tests were found and skipped, not silently absent
    assert "bytecast: asserts that concurrent.futures.ProcessPoolExecutor is used" in report


@pytest.mark.slow
def test_stdlib_suite_on_running_interpreter() -> None:
    """CPython's test_compileall and test_py_compile pass against bytecast's modules."""
    _run_stdlib_suite(sys.executable)


@pytest.mark.slow
def test_stdlib_suite_on_another_interpreter() -> None:
    """The same on another installed interpreter (its own stdlib tests, its own rules)."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = interpreters.installed()
    for minor in ("3.12", "3.10", "3.13", "3.9"):
        if minor != running and minor in found:
            if not (Path(found[minor]).parent.parent / "lib" / f"python{minor}" / "test"
                    / "test_compileall.py").exists():
                continue
            _run_stdlib_suite(found[minor])
            return
    pytest.skip("no other CPython 3.9-3.13 with its Lib/test installed (pyenv, uv or PATH)")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "pkg" / "bad.py").write_text("x (\n")
    (root / "pkg" / "sub" / "b.py").write_text("'doc'\nassert x\n")
    (root / "pkg" / "sub" / "c.py").write_text("b'\u20ac'\n")
    (root / "pkg" / "data.txt").write_text("not python")
    return root


def _cli(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    e = env()
    e["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workers", ["1", "2", "0"])
def test_output_and_status_match_the_stdlib(tree: Path, tmp_path: Path, workers: str) -> None:
    """Same messages, in the same order, and the same exit status; parallel or not."""
    other = tmp_path / "copy"
    shutil.copytree(tree, other)
    ours = _cli("bytecast.compileall", "-j", workers, "pkg", cwd=tree)
    theirs = _cli("compileall", "pkg", cwd=other)  # one by one: the order we keep
    assert ours.stdout == theirs.stdout
    assert "SyntaxError" in ours.stdout and "Listing 'pkg/sub'" in ours.stdout
    assert ours.returncode == theirs.returncode == 1
    assert sorted(p.name for p in tree.rglob("*.pyc")) == sorted(p.name for p in other.rglob("*.pyc"))


def test_files_named_on_the_command_line_compile_together(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-j with a file list: one parallel run (the stdlib compiles them one by one)."""
    calls: list[tuple[int, int]] = []
    real = _dropin.run

    def spy(units, sizes, jobs, on_outcome):  # type: ignore[no-untyped-def]
        calls.append((len(units), jobs))
        real(units, sizes, jobs, on_outcome)

    monkeypatch.setattr(_dropin, "run", spy)
    listing = tree / "list.txt"
    names = [str(tree / "pkg" / n) for n in ("a.py", "__init__.py")]
    listing.write_text("\n".join(names) + "\n")
    monkeypatch.setattr(sys, "argv", ["compileall", "-q", "-j", "2", "-i", str(listing),
                                      str(tree / "pkg" / "sub" / "b.py")])
    assert bc_compileall.main() is True
    assert calls == [(3, 2)]


def test_workers_zero_means_every_cpu(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[int] = []
    monkeypatch.setattr(_dropin, "run", lambda units, sizes, n, cb: jobs.append(n))
    bc_compileall.compile_dir(str(tree), quiet=2, workers=0)
    assert jobs == [_dropin.cpus()]


def test_up_to_date_hash_pycs_are_not_recompiled(tree: Path) -> None:
    """The one deliberate difference (cpython#121577): fresh hash-based pycs are kept."""
    pkg = tree / "pkg"
    (pkg / "bad.py").unlink()
    (pkg / "sub" / "c.py").unlink()
    args = ("-j", "2", "--invalidation-mode", "checked-hash", "pkg")
    first = _cli("bytecast.compileall", *args, cwd=tree)
    assert first.returncode == 0 and "Compiling" in first.stdout
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*.pyc")}
    second = _cli("bytecast.compileall", *args, cwd=tree)
    assert second.returncode == 0 and "Compiling" not in second.stdout
    assert {p: p.stat().st_mtime_ns for p in tree.rglob("*.pyc")} == before
    (pkg / "a.py").write_text("x = 2\n")  # same size, maybe same mtime: the hash tells
    third = _cli("bytecast.compileall", *args, cwd=tree)
    assert third.stdout.count("Compiling") == 1 and "a.py" in third.stdout


def test_pooled_worker_is_reused_and_follows_chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compile_file per file (as pip does) reuses one worker; relative paths stay right."""
    for d in ("one", "two"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(f"name = {d!r}\n")
    monkeypatch.chdir(tmp_path / "one")
    assert bc_compileall.compile_file("m.py", quiet=2)
    idle = list(_dropin._idle)
    assert idle, "the worker went back to the pool"
    monkeypatch.chdir(tmp_path / "two")
    assert bc_compileall.compile_file("m.py", quiet=2)
    assert list(_dropin._idle) == idle
    for d in ("one", "two"):
        assert (tmp_path / d / "__pycache__" / f"m.{sys.implementation.cache_tag}.pyc").exists()


def test_bytes_equal_py_compile_in_a_fresh_interpreter(tree: Path, tmp_path: Path) -> None:
    src = tree / "pkg" / "sub" / "b.py"
    ours = tmp_path / "ours.pyc"
    theirs = tmp_path / "theirs.pyc"
    assert bc_py_compile.compile(str(src), str(ours), optimize=1) == str(ours)
    subprocess.run([sys.executable, "-I", "-S", "-c",
                    "import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[2], optimize=1)",
                    str(src), str(theirs)], check=True)
    assert ours.read_bytes() == theirs.read_bytes()


def test_py_compile_errors_are_the_stdlib_errors(tree: Path) -> None:
    bad = str(tree / "pkg" / "bad.py")
    with pytest.raises(bc_py_compile.PyCompileError) as info:
        bc_py_compile.compile(bad, doraise=True)
    import py_compile

    assert info.type is py_compile.PyCompileError
    with pytest.raises(py_compile.PyCompileError) as stdlib:
        py_compile.compile(bad, doraise=True)
    assert stdlib.value.msg == info.value.msg
    with pytest.raises(FileNotFoundError):
        bc_py_compile.compile(str(tree / "missing.py"), doraise=True)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert bc_py_compile.compile(bad) is None
    assert "SyntaxError" in stderr.getvalue()


def test_import_is_cheap() -> None:
    """Importing the drop-in loads no heavy module (the CLI, rich, the engine)."""
    code = ("import sys, bytecast.compileall; "
            "print(sorted(m for m in sys.modules if m.startswith(('bytecast.', 'rich'))))")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {SRC!r}); {code}"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bytecast._dropin', 'bytecast.compileall', 'bytecast.py_compile']"
