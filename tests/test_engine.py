"""The orchestrator (compile_tree, check_tree) and the compile command on real trees: exact bytes, incremental, atomic, one line per bad file."""

from __future__ import annotations

import json
import marshal
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bytecast.engine import Options, Report, check_tree, compile_tree
from bytecast.place.pycache import cache_path
from bytecast.targets import current
from conftest import env, pyc_files, run_cli

ORACLE = textwrap.dedent(
    """
    import json, py_compile, sys
    for src, cfile, dfile, opt, mode in json.load(sys.stdin):
        try:
            py_compile.compile(src, cfile=cfile, dfile=dfile, optimize=opt, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode[mode])
        except py_compile.PyCompileError:
            print(src)
    """
)

if TYPE_CHECKING:
    from bytecast.options import Mode


def py_compile_reference(items: list[tuple[str, str, str, int, str]]) -> set[str]:
    """Compile with CPython's own py_compile in a fresh interpreter; returns the failures."""
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", ORACLE],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
        env=env(),
    )
    return set(out.stdout.split())


def compare_with_py_compile(tree: Path, ref: Path, levels: tuple[int, ...], mode: Mode) -> tuple[int, int]:
    report = compile_tree([str(tree)], Options(optimize=levels, invalidation_mode=mode, force=True))
    items = []
    for job in report.jobs:
        rel = os.path.relpath(job.cfile, tree)
        items.append((job.source.path, str(ref / rel), job.dfile, job.optimize, mode.upper().replace("-", "_")))
    failed_ref = py_compile_reference(items)
    assert failed_ref == set(report.failures), "bytecast and py_compile disagree on which files fail"
    identical = 0
    for job in report.jobs:
        if job.source.path in failed_ref:
            assert not os.path.exists(job.cfile)
            continue
        ours = Path(job.cfile).read_bytes()
        theirs = (ref / os.path.relpath(job.cfile, tree)).read_bytes()
        assert ours[:16] == theirs[:16], job.cfile
        if ours != theirs:  # equal code objects, other bytes: counted below as not identical
            assert marshal.loads(ours[16:]) == marshal.loads(theirs[16:]), job.cfile
        identical += ours == theirs
    return identical, len(report.jobs) - len(report.failures) * len(levels)


def test_whole_stdlib_is_byte_identical_to_py_compile(stdlib_tree: Path, tmp_path: Path) -> None:
    identical, total = compare_with_py_compile(stdlib_tree, tmp_path / "ref", (0,), "timestamp")
    assert total > 1500
    assert identical == total


@pytest.mark.parametrize("mode", ["timestamp", "checked-hash", "unchecked-hash"])
def test_every_level_and_mode_matches_py_compile(small_tree: Path, tmp_path: Path, mode: Mode) -> None:
    identical, total = compare_with_py_compile(small_tree, tmp_path / "ref", (0, 1, 2), mode)
    assert total > 300
    assert identical == total


def test_compiled_tree_imports_without_sources(small_tree: Path, tmp_path: Path) -> None:
    """The bytecode is real: importlib runs the cached modules, never their sources.

    importlib ignores a ``__pycache__`` pyc whose source is gone, so the sources stay but are
    made unusable: each is overwritten with code that fails, of the same size and with the same
    mtime (the pyc still matches it). A garbage or stale pyc would make importlib compile the
    source instead, and the import would fail.
    """
    compile_tree([str(small_tree)])
    for source in (small_tree / "json").rglob("*.py"):
        st = source.stat()
        poison = b"raise SystemExit('the source was run, not its bytecode')\n"
        source.write_bytes(poison + b"#" * (st.st_size - len(poison)) if st.st_size > len(poison) else b"#" * st.st_size)
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(small_tree)!r}); sys.dont_write_bytecode = True
        for name in list(sys.modules):
            if name == "json" or name.startswith("json."):
                del sys.modules[name]
        import json, json.decoder
        assert json.__spec__.cached.startswith({str(small_tree)!r}), json.__spec__.cached
        print(json.dumps({{"a": [1, 2]}}), json.loads('[3]'))
        """
    )
    out = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '{"a": [1, 2]} [3]'


def test_no_op_compiles_nothing_and_change_is_seen(small_tree: Path) -> None:
    first = compile_tree([str(small_tree)])
    assert first.compiled == len(first.jobs) > 100 and first.ok
    again = compile_tree([str(small_tree)])
    assert again.compiled == 0 and again.fresh == len(again.jobs)

    target = small_tree / "json" / "decoder.py"
    st = target.stat()
    os.utime(target, (st.st_atime, st.st_mtime + 10))
    bigger = small_tree / "json" / "encoder.py"
    mtime = bigger.stat().st_mtime
    bigger.write_text(bigger.read_text() + "\n# more\n")
    os.utime(bigger, (mtime, mtime))  # same mtime, other size: still stale
    third = compile_tree([str(small_tree)])
    assert third.compiled == 2
    assert {j.source.path for j in third.jobs if j.state == "stale"} == {str(target), str(bigger)}


def _peak(run, *args: object, **kw: object) -> tuple[int, Report]:  # type: ignore[no-untyped-def]
    """Peak bytes Python allocated in this process during ``run(*args, **kw)``, and its result."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = run(*args, **kw)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_tree_grows(small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four times the tree, not four times the memory: the stages stream chunk by chunk.

    The chunks and queues are scaled down to the size of this tree (a few hundred sources
    instead of the thousands a real run holds at most); the mechanism is the same.
    """
    from bytecast.compiler import PoolConfig

    tuning = PoolConfig(chunk=16, low_units=32, batch_units=8)
    trees = {}
    for copies in (2, 8):
        root = tmp_path / f"x{copies}"
        for i in range(copies):
            shutil.copytree(small_tree, root / f"c{i}")
        trees[copies] = root
    compile_tree([str(small_tree)], record="none")  # imports and caches of a first run
    peaks = {}
    for copies, root in trees.items():
        planned, report = _peak(check_tree, [str(root)], record="none", tuning=tuning)
        assert report.pycs == report.sources > 100 * copies and report.fresh == 0 and report.jobs == []
        compiled, report = _peak(compile_tree, [str(root)], record="none", tuning=tuning)
        assert report.compiled == report.sources and report.ok and report.jobs == []
        peaks[copies] = (planned, compiled)
    for stage in (0, 1):  # a held tree would take 4x; allow for the fixed costs of a run
        assert peaks[8][stage] < 2 * peaks[2][stage], peaks
    # the records a report keeps are the ones asked for
    changed = check_tree([str(small_tree / "json")], record="changed")
    assert changed.jobs == [] and changed.fresh == changed.pycs > 0
    assert len(check_tree([str(small_tree / "json")]).jobs) == changed.pycs


def test_hash_modes_see_content_changes_that_timestamps_miss(small_tree: Path) -> None:
    opts = Options(invalidation_mode="checked-hash")
    compile_tree([str(small_tree)], opts)
    assert compile_tree([str(small_tree)], opts).compiled == 0

    victim = small_tree / "json" / "scanner.py"
    st = victim.stat()
    data = victim.read_bytes()
    victim.write_bytes(data.replace(b"NUMBER_RE", b"NUMBER_XX"))  # same size
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    report = compile_tree([str(small_tree)], opts)
    assert [j.source.path for j in report.jobs if j.state == "stale"] == [str(victim)]
    assert report.compiled == 1

    # A pyc of another invalidation mode than asked for is rewritten.
    switched = compile_tree([str(small_tree)], Options(invalidation_mode="timestamp"))
    assert {j.state for j in switched.jobs} == {"mode"}
    assert switched.compiled == len(switched.jobs)


def test_source_date_epoch_defaults_to_checked_hash(small_tree: Path) -> None:
    result = run_cli("compile", str(small_tree / "json"), env={**env(), "SOURCE_DATE_EPOCH": "1"})
    assert result.returncode == 0, result.stderr
    pyc = Path(cache_path(str(small_tree / "json" / "decoder.py"), current()))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def test_bad_files_give_one_line_each_and_the_rest_compile(small_tree: Path) -> None:
    bad = small_tree / "bad"
    write(bad / "syntax.py", "def f(:\n    pass\n")
    write(bad / "undecodable.py", b"x = '\xff\xfe\xfa'\n")
    write(bad / "nul.py", b"x = 1\x00\n")
    write(bad / "deep.py", "x = " + "(" * 300 + ")" * 300 + "\n")
    write(bad / "deeper.py", "x = " + "-" * 200000 + "1\n")
    os.symlink("loop.py", bad / "loop.py")
    result = run_cli("compile", str(small_tree))
    assert result.returncode == 1
    *lines, summary = result.stderr.splitlines()
    assert summary.endswith("(5 failed)"), result.stderr
    assert len(lines) == 6, result.stderr
    names = sorted(line.split(":", 1)[0].rsplit(os.sep, 1)[-1] for line in lines)
    assert names == ["deep.py", "deeper.py", "loop.py", "nul.py", "syntax.py", "undecodable.py"]
    for line in lines:
        path, lineno, col, rest = line.split(":", 3)
        assert lineno.isdigit() and col.isdigit() and rest.startswith(" ") and ": " in rest[1:], line
        assert "Traceback" not in line
    assert any(line.endswith(": SymlinkLoop: Too many levels of symbolic links") for line in lines)
    assert any(":1:7: SyntaxError:" in line for line in lines if "syntax.py" in line)
    report = check_tree([str(small_tree / "json")])
    assert report.fresh == len(report.jobs) > 0


def test_source_removed_after_planning_is_reported(small_tree: Path) -> None:
    from bytecast.engine import compile_jobs

    planned = check_tree([str(small_tree / "json")])
    jobs = planned.jobs
    gone = jobs[0].source.path
    os.unlink(gone)
    report = compile_jobs(jobs, planned.problems, Options())
    assert list(report.failures) == [gone]
    assert report.failures[gone].kind == "FileNotFoundError"
    assert report.compiled == len(jobs) - 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(small_tree: Path) -> None:  # pragma: no cover - CI runs as root
    victim = small_tree / "json" / "tool.py"
    victim.chmod(0)
    result = run_cli("compile", str(small_tree))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "PermissionError" in result.stderr


def test_reproducible_whatever_jobs(small_tree: Path) -> None:
    compile_tree([str(small_tree)], Options(jobs=1, optimize=(0, 1)))
    one = pyc_files(small_tree)
    compile_tree([str(small_tree)], Options(jobs=2, optimize=(0, 1), force=True))
    assert pyc_files(small_tree) == one
    compile_tree([str(small_tree)], Options(jobs=7, optimize=(0, 1), force=True))
    assert pyc_files(small_tree) == one


def test_hardlink_dupes(small_tree: Path) -> None:
    report = compile_tree([str(small_tree)], Options(optimize=(0, 1, 2), hardlink_dupes=True))
    assert report.linked > 0
    tree = small_tree / "json"
    linked = [p for p in tree.rglob("*.opt-1.pyc") if p.stat().st_nlink > 1]
    assert linked
    for p in linked:
        base = p.with_name(p.name.replace(".opt-1", ""))
        assert base.read_bytes() == p.read_bytes()
        assert os.path.samefile(base, p)


def test_pyc_mode_follows_importlib(small_tree: Path) -> None:
    src = small_tree / "json" / "tool.py"
    src.chmod(0o640)
    compile_tree([str(src)])
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(os.stat(cache_path(str(src), current())).st_mode)
    assert mode == (0o640 | 0o200) & 0o666 & ~umask


def test_refuses_to_write_through_a_symlink(tmp_path: Path) -> None:
    src = write(tmp_path / "m.py", "x = 1\n")
    elsewhere = write(tmp_path / "elsewhere.bin", b"keep me")
    cfile = Path(cache_path(str(src), current()))
    cfile.parent.mkdir()
    os.symlink(elsewhere, cfile)
    report = compile_tree([str(src)])
    assert report.failures[str(src)].kind == "FileExistsError"
    assert elsewhere.read_bytes() == b"keep me"


def test_symlink_policy(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "ext.py", "y = 2\n")
    tree = tmp_path / "tree"
    write(tree / "a.py", "x = 1\n")
    os.symlink(outside, tree / "link_out.py")
    os.symlink(tree / "a.py", tree / "link_in.py")
    os.symlink(outside.parent, tree / "dir_out")

    def found(**kw: str) -> list[str]:
        return sorted(j.source.relpath for j in check_tree([str(tree)], Options(**kw)).jobs)  # type: ignore[arg-type]

    assert found() == ["a.py", "link_in.py"]
    assert found(links="none") == ["a.py"]
    assert found(links="all") == ["a.py", os.path.join("dir_out", "ext.py"), "link_in.py", "link_out.py"]


def test_folder_link_loop_is_reported(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree / "sub" / "m.py", "x = 1\n")
    os.symlink("..", tree / "sub" / "up")
    report = check_tree([str(tree)], Options(links="all"))
    assert [p.kind for p in report.problems] == ["SymlinkLoop"]
    assert [j.source.relpath for j in report.jobs] == [os.path.join("sub", "m.py")]


def test_excludes_and_depth(small_tree: Path) -> None:
    def rels(**kw: object) -> set[str]:
        return {j.source.relpath for j in check_tree([str(small_tree)], Options(**kw)).jobs}  # type: ignore[arg-type]

    everything = rels()
    assert not any(r.startswith("email") for r in rels(excludes=("email/",)))
    assert not any(r.endswith("__init__.py") for r in rels(excludes=("__init__.py",)))
    no_tests = rels(excludes=("**/test_*.py", "json/tool.py"))
    assert os.path.join("json", "tool.py") not in no_tests and no_tests < everything
    assert rels(max_depth=0) == {r for r in everything if os.sep not in r}
    assert rels(max_depth=1) == {r for r in everything if r.count(os.sep) <= 1}


def test_baked_paths_match_compileall(small_tree: Path, tmp_path: Path) -> None:
    """--ddir / --strip-prefix / --prepend-prefix bake what compileall bakes."""
    import shutil

    pkg = small_tree / "json"
    for flags in (["-d", "/opt/app/json"], ["-s", str(small_tree)], ["-p", "/prefix"], ["-s", str(small_tree), "-p", "/opt"]):
        ref = tmp_path / "ref"
        shutil.rmtree(ref, ignore_errors=True)
        shutil.copytree(pkg, ref / "json")
        ours = {"-d": "--ddir", "-s": "--strip-prefix", "-p": "--prepend-prefix"}
        run_cli("clean", str(pkg))
        subprocess.run([sys.executable, "-m", "compileall", "-q", *flags, str(pkg)], check=True)
        expected = pyc_files(pkg)
        run_cli("clean", str(pkg))
        args = [ours.get(f, f) for f in flags]
        result = run_cli("compile", *args, str(pkg))
        assert result.returncode == 0, result.stderr
        assert pyc_files(pkg) == expected, flags


def test_json_document(small_tree: Path) -> None:
    write(small_tree / "bad.py", "def (\n")
    result = run_cli("compile", "--json", str(small_tree))
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["command"] == "compile" and doc["ok"] is False
    assert doc["summary"]["failed"] == 1 and doc["summary"]["compiled"] == doc["summary"]["pycs"] - 1
    outcomes = {f["source"]: f["outcome"] for f in doc["files"]}
    assert outcomes[str(small_tree / "bad.py")] == "failed"
    assert set(outcomes.values()) == {"compiled", "failed"}
    again = json.loads(run_cli("compile", "--json", str(small_tree)).stdout)
    assert {f["outcome"] for f in again["files"] if not f["source"].endswith("bad.py")} == {"fresh"}


@pytest.mark.parametrize(
    "args",
    [
        ["compile", "/nonexistent/path"],
        ["compile", "-O", "3", "."],
        ["compile", "--invalidation-mode", "sometimes", "."],
        ["compile", "--jobs", "-1", "."],
        ["compile", "--ddir", "x", "--strip-prefix", "y", "."],
        ["check", "--max-depth", "-2", "."],
        ["clean", "/nonexistent/path"],
        ["compile", "--no-such-flag"],
        ["compile", "--timeout", "0", "."],
        ["compile", "--timeout", "-1", "."],
        ["compile", "-x", "[z-a]", "."],
        ["check", "-x", "[z-a]", "."],
        ["clean", "-x", "[z-a]", "."],
        ["compile", "-q", "-v", "."],
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("bytecast"), result.stderr


def test_main_is_callable_directly(small_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bytecast.cli import main

    assert main(["compile", "-q", str(small_tree / "json")]) == 0
    assert main(["check", str(small_tree / "json")]) == 0
    (small_tree / "json" / "new.py").write_text("z = 3\n")
    assert main(["check", str(small_tree / "json")]) == 1
    assert "new.py: missing" in capsys.readouterr().out


def test_kill_at_random_instants_leaves_every_pyc_complete_or_absent(small_tree: Path) -> None:
    rng = random.Random(1234)
    compile_tree([str(small_tree)], Options(optimize=(0, 1)))
    good = pyc_files(small_tree)
    for attempt in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bytecast", "compile", "-f", "-q", "-O0", "-O1", str(small_tree)],
            env=env(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 1.5))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        now = pyc_files(small_tree)
        assert set(now) <= set(good)
        for rel, data in now.items():
            assert data == good[rel], f"attempt {attempt}: {rel} is not complete"
    # leftovers of interrupted writes are never .pyc files, and clean removes them
    run_cli("clean", str(small_tree))
    assert not list(small_tree.rglob("*.tmp")) and not list(small_tree.rglob("__pycache__"))


def test_concurrent_compiles_corrupt_nothing(small_tree: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-m", "bytecast", "compile", "-f", "-q", str(small_tree)], env=env())
        for _ in range(4)
    ]
    assert [p.wait(timeout=600) for p in procs] == [0, 0, 0, 0]
    ours = pyc_files(small_tree)
    compile_tree([str(small_tree)], Options(force=True, jobs=1))
    assert pyc_files(small_tree) == ours
    assert not list(small_tree.rglob("*.tmp"))


def test_start_up_imports_nothing_heavy(small_tree: Path) -> None:
    compile_tree([str(small_tree)])
    script = (
        "import sys; from bytecast.cli import main; rc = main(['compile', '-q', sys.argv[1]]);"
        "print(rc, sorted(m for m in ('rich', 'json', 'dataclasses', 'typing', 'inspect', 'subprocess',"
        " 'bytecast.compiler', 'selectors') "
        " if m in sys.modules))"
    )
    # -S: site-packages .pth files of the machine may import anything; measure bytecast alone
    out = subprocess.run([sys.executable, "-S", "-c", script, str(small_tree)], capture_output=True, text=True, env=env())
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr
    # A compile that reports a bad file renders its problem line without the readers' imports.
    (small_tree / "json" / "bad.py").write_text("def f(:\n")
    heavy = script.replace("'bytecast.compiler', 'selectors'", "'bytecast.coderecord'")
    out = subprocess.run([sys.executable, "-S", "-c", heavy, str(small_tree)], capture_output=True, text=True, env=env())
    assert out.stdout.strip() == "1 []" and "bad.py:1:7: SyntaxError" in out.stderr, out.stdout + out.stderr


def test_piped_output_is_errors_and_the_summary_line(small_tree: Path) -> None:
    tag = sys.implementation.cache_tag
    result = run_cli("compile", str(small_tree))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith(f"compiled {len(list(small_tree.rglob('*.py')))} files for {tag} in ")
    assert result.stderr.count("\n") == 1
    result = run_cli("check", str(small_tree))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith("checked ") and result.stderr.endswith(": all fresh\n")
    assert result.stderr.count("\n") == 1
    result = run_cli("check", "-q", str(small_tree))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_progress_bar_on_a_terminal(stdlib_tree: Path) -> None:
    import pty

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bytecast", "compile", "-x", "/test/", "-x", "/lib2to3/tests/data/", str(stdlib_tree)],
        stdin=child_fd, stdout=child_fd, stderr=child_fd, env={**env(), "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=600) == 0
    os.close(main_fd)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "compiling" in screen and "━" in screen  # rich's bar
    summary = screen.rsplit("compiled ", 1)[-1]  # the summary line, after the bar is gone
    assert summary.split(" ", 1)[0].isdigit() and f" files for {sys.implementation.cache_tag} in " in summary


def test_public_api_loads_on_first_use(small_tree: Path) -> None:
    script = (
        "import sys, bytecast\n"
        "assert 'bytecast.engine' not in sys.modules\n"
        "report = bytecast.compile_tree([sys.argv[1]], bytecast.Options(optimize=(1,)))\n"
        "assert report.ok and report.compiled == len(report.jobs) > 0\n"
        "assert not bytecast.check_tree([sys.argv[1]], bytecast.Options(optimize=(1,))).problems\n"
        "pyc = report.jobs[0].cfile\n"
        "assert bytecast.read_header(pyc).mode == 'timestamp'\n"
        "assert bytecast.lookup_magic(bytecast.read_header(pyc).magic) is not None\n"
        "assert bytecast.inspect_pyc(pyc) is not None\n"
        "assert set(bytecast.__all__) <= set(dir(bytecast))\n"
        "for name in bytecast.__all__: getattr(bytecast, name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(small_tree / "json")], capture_output=True, text=True, env=env())
    assert out.stdout.strip() == "ok", out.stderr


def test_workers_that_cannot_start_give_one_line_per_file(small_tree: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from bytecast.cli import main

    def refuse(*args: object, **kwargs: object) -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # the process limit

    monkeypatch.setattr(os, "posix_spawn", refuse)
    assert main(["compile", "-q", str(small_tree / "json")]) == 1
    err = capsys.readouterr().err
    sources = sorted((small_tree / "json").rglob("*.py"))
    assert len(err.splitlines()) == len(sources) and "Traceback" not in err
    assert all(": WorkerError: cannot start " in line and "Resource temporarily unavailable" in line
               for line in err.splitlines())


def test_an_interrupted_compile_says_it_once(stdlib_tree: Path) -> None:
    """Ctrl-C reaches bytecast and every worker: one line, no traceback from anyone."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "bytecast", "compile", "-q", str(stdlib_tree)], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(1.5)  # workers are compiling by now
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "bytecast: interrupted\n", err


def test_hashed_pycs_whose_source_cannot_be_read_give_one_line(tmp_path: Path) -> None:
    """As an unprivileged user (root reads anything): compile, check and clean --stale meet a
    checked-hash pyc whose source has no read permission; one line for that file, never a
    traceback, and the other files are done."""
    import shutil
    import tempfile

    setpriv = shutil.which("setpriv")
    if setpriv is None or os.getuid() != 0:
        pytest.skip("needs root and setpriv to run bytecast as the user nobody")
    base = tempfile.mkdtemp(prefix="bytecast-perm-")
    try:
        os.chmod(base, 0o777)
        tree = Path(base) / "tree"
        tree.mkdir()
        (tree / "a.py").write_text("A = 1\n")
        (tree / "b.py").write_text("B = 1\n")
        assert compile_tree([str(tree)], Options(invalidation_mode="checked-hash")).ok
        (tree / "b.py").write_text("B = 2\n")  # b is stale and readable
        (tree / "a.py").chmod(0)
        for path in [tree, *tree.rglob("*")]:
            if path.name != "a.py":
                path.chmod(0o777 if path.is_dir() else 0o666)
        nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        spawn_self = "import subprocess, sys, bytecast; subprocess.run([sys.executable, '-c', 'pass'], check=True)"
        python = next((exe for exe in (sys.executable, "/usr/bin/python3")
                       if os.path.exists(exe) and _magic_of(exe) == _magic_of(sys.executable)
                       and subprocess.run([*nobody, exe, "-c", spawn_self], env=env(), capture_output=True).returncode == 0),
                      None)
        if python is None:
            pytest.skip("no Python of this version that the user nobody may run (and start again) here")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*nobody, python, "-m", "bytecast", *args], env=env(), capture_output=True,
                                  text=True, timeout=120)

        done = run("check", "--invalidation-mode", "checked-hash", str(tree))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "a.py" in done.stdout and "b.py" in done.stdout  # neither can be shown fresh
        done = run("compile", "-q", "--invalidation-mode", "checked-hash", str(tree))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        (line,) = done.stderr.splitlines()
        assert "a.py" in line and "PermissionError" in line
        assert compile_tree([str(tree / "b.py")], Options(invalidation_mode="checked-hash")).fresh == 1  # b was compiled
        done = run("clean", "-q", "--stale", "-n", str(tree))
        assert done.returncode == 0 and done.stderr == "", done.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _magic_of(exe: str) -> str:
    return subprocess.run([exe, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
                          capture_output=True, text=True).stdout.strip()
