"""Compile workers: real interpreters running bytecast.remote.worker, of every version here."""

from __future__ import annotations

import marshal
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bytecast.compiler import Lane, Outcome, ProcessWorker, Unit, run_lanes
from bytecast.place.pycache import cache_path
from bytecast.process import isolated_command
from bytecast.remote import script_argv, script_text
from bytecast.targets import current
from conftest import SRC
from interpreters import VERSIONS, require

SABOTEUR = textwrap.dedent(
    f"""
    import os, signal, sys, time
    sys.path.insert(0, {SRC!r})
    from bytecast.remote import worker
    real = worker.compile_unit
    def compile_unit(unit):
        if "CRASH" in unit[1]:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "HANG" in unit[1]:
            time.sleep(600)
        return real(unit)
    worker.compile_unit = compile_unit
    sys.exit(worker.main())
    """
)


def make_units(tmp_path: Path, names: list[str], give_back: bool = False) -> tuple[list[Unit], list[int]]:
    units = []
    for i, name in enumerate(names):
        src = tmp_path / f"{name}.py"
        src.write_text(f"NAME = {name!r}\n" * (i + 1))
        units.append(Unit(i, str(src), str(src), 0, False, ((0, "" if give_back else cache_path(str(src), current())),),
                          give_back))
    return units, [u.path.__len__() for u in units]


def test_crash_and_timeout_are_reported_for_their_file_only(tmp_path: Path) -> None:
    script = tmp_path / "saboteur.py"
    script.write_text(SABOTEUR)
    names = [f"m{i}" for i in range(30)]
    names[7], names[19], names[23] = "CRASH_one", "HANG_one", "CRASH_two"
    units, sizes = make_units(tmp_path, names)
    outcomes: dict[int, Outcome] = {}
    spawned: list[ProcessWorker] = []

    def spawn() -> ProcessWorker:
        spawned.append(ProcessWorker([sys.executable, str(script)]))
        return spawned[-1]

    start = time.monotonic()
    run_lanes([Lane(spawn, units, sizes)], 2, lambda o: outcomes.__setitem__(o.uid, o), timeout=3.0)
    assert time.monotonic() - start < 20
    assert sorted(outcomes) == list(range(30))
    errors = {names[i]: o.failure for i, o in outcomes.items() if o.failure is not None}
    assert set(errors) == {"CRASH_one", "HANG_one", "CRASH_two"}
    assert errors["CRASH_one"] is not None and errors["CRASH_one"].kind == "WorkerCrash"
    assert "SIGSEGV" in errors["CRASH_one"].message
    assert errors["HANG_one"] is not None and errors["HANG_one"].kind == "Timeout"
    for unit, name in zip(units, names):
        assert os.path.exists(unit.outputs[0][1]) == (name not in errors)
    assert len(spawned) > 2  # a lost worker was replaced while work remained
    for w in spawned:
        assert w.proc.poll() is not None  # no worker left running


def test_given_back_bytes_are_what_the_worker_would_write(tmp_path: Path) -> None:
    names = [f"g{i}" for i in range(20)]
    written, sizes = make_units(tmp_path, names)
    back = [u.replace(uid=u.uid + 100, outputs=((0, ""),), give_back=True) for u in written]
    outcomes: dict[int, Outcome] = {}
    run_lanes([Lane(ProcessWorker, written + back, sizes + sizes)], 2, lambda o: outcomes.__setitem__(o.uid, o))
    for unit in written:
        given = outcomes[unit.uid + 100]
        assert given.failure is None and given.written == 0 and len(given.blobs) == 1
        assert given.blobs[0] == (0, Path(unit.outputs[0][1]).read_bytes())
        assert outcomes[unit.uid].blobs == ()
    assert not list(tmp_path.glob("*.pyc"))  # nothing was written outside __pycache__


def _serve(tmp_path: Path) -> subprocess.Popen[bytes]:
    argv, child_env = isolated_command(sys.executable, sys.version_info[:2], script_argv("worker"))
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env,
                            start_new_session=True)


def _request(units: list[Unit]) -> bytes:
    payload = marshal.dumps([u.encode() for u in units], 2)
    return len(payload).to_bytes(4, "little") + payload


def test_a_worker_whose_parent_is_gone_ends_quietly(tmp_path: Path) -> None:
    units, _ = make_units(tmp_path, [f"q{i}" for i in range(200)])
    proc = _serve(tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdout.close()  # the parent died: nobody reads the answers
    proc.stdin.write(_request(units))
    proc.stdin.close()
    assert proc.wait(30) == 0
    assert proc.stderr is not None and proc.stderr.read() == b""
    proc.stderr.close()


def test_an_interrupted_worker_ends_quietly(tmp_path: Path) -> None:
    proc = _serve(tmp_path)
    time.sleep(0.3)  # started and waiting for work
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    assert proc.wait(30) == 130
    assert proc.stderr is not None and proc.stderr.read() == b""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()


def test_a_source_that_is_a_fifo_fails_at_once_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    unit = Unit(0, str(fifo), str(fifo), 0, False, ((0, cache_path(str(fifo), current())),))
    outcomes: list[Outcome] = []
    start = time.monotonic()
    run_lanes([Lane(ProcessWorker, [unit], [1])], 1, outcomes.append, timeout=20)
    assert time.monotonic() - start < 10
    assert outcomes[0].failure is not None and outcomes[0].failure.message == "not a regular file"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_worker_script_runs_on_every_interpreter(version: str, tmp_path: Path) -> None:
    exe = require(version)
    src = tmp_path / "mod.py"
    src.write_text("X = 1\n")
    cfile = tmp_path / "mod.pyc"
    unit = Unit(0, str(src), str(src), 0, False, ((0, str(cfile)),))
    major, minor = (int(p) for p in version.split("."))
    for tail in (script_argv("worker"), ["-c", script_text("worker")]):  # a path, or bytecast zipped
        cfile.unlink(missing_ok=True)
        argv, child_env = isolated_command(exe, (major, minor), tail)
        out = subprocess.run(argv, input=_request([unit]), capture_output=True, env=child_env, timeout=60)
        assert out.returncode == 0 and out.stderr == b"", out.stderr
        answer = marshal.loads(out.stdout[4:])
        assert answer == [0, 1, 0, None, None, None]
        check = subprocess.run([exe, "-c", "import sys, marshal; d = open(sys.argv[1], 'rb').read();"
                                "exec(marshal.loads(d[{}:])); print(X)".format(16 if (major, minor) >= (3, 7)
                                                                           else 12 if major == 3 else 8), str(cfile)],
                               capture_output=True, text=True, timeout=60)
        assert check.stdout.strip() == "1", check.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_the_worker_records_warnings_on_every_interpreter(version: str, tmp_path: Path) -> None:
    exe = require(version)
    src = tmp_path / "mod.py"
    src.write_text("X = 1\nassert (X, 'always')\n")  # a SyntaxWarning on every version since 2.6
    units = [Unit(i, str(src), str(src), 0, False, ((0, str(tmp_path / f"mod{i}.pyc")),), False, policy)
             for i, policy in enumerate(("show", "error"))]
    major, minor = (int(p) for p in version.split("."))
    argv, child_env = isolated_command(exe, (major, minor), script_argv("worker"))
    argv = [argv[0], "-W", "error", *argv[1:]]  # a -W error must not change what the worker does
    out = subprocess.run(argv, input=_request(units), capture_output=True, env=child_env, timeout=60)
    assert out.returncode == 0 and out.stderr == b"", out.stderr
    size = int.from_bytes(out.stdout[:4], "little")
    shown, failed = marshal.loads(out.stdout[4:4 + size]), marshal.loads(out.stdout[8 + size:])
    assert shown[:5] == [0, 1, 0, None, None] and len(shown[5]) == 1
    category, message, line, column = shown[5][0]
    assert (category, line, column) == ("SyntaxWarning", 2, 0) and "always true" in message
    assert failed == [1, 0, 0, shown[5][0], None, None]
    assert (tmp_path / "mod0.pyc").exists() and not (tmp_path / "mod1.pyc").exists()


def test_leftovers_of_killed_writers_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    dead = cache / "old.cpython-311.pyc.2147483646.tmp"  # no such process (past Linux's pid_max)
    live = cache / f"old.cpython-311.pyc.{os.getpid()}.tmp"  # this test's process: at work
    other = cache / "notes.tmp"
    young = cache / "new.cpython-311.pyc.2147483645.tmp"  # a writer this process cannot see, at work
    for path in (dead, live, other, young):
        path.write_bytes(b"partial")
    for path in (dead, live, other):
        os.utime(path, (1, 1))  # long ago
    from bytecast.engine import compile_tree

    assert compile_tree([str(src)]).ok
    assert not dead.exists() and live.exists() and other.exists() and young.exists()


def test_a_hard_link_whose_source_vanished_is_written_as_a_file(tmp_path: Path) -> None:
    from bytecast.remote import worker

    target = tmp_path / "m.opt-1.pyc"
    assert worker._linked(str(tmp_path / "gone.pyc"), str(target)) is False
    assert not target.exists() and not list(tmp_path.iterdir())
    (tmp_path / "here.pyc").write_bytes(b"x")
    assert worker._linked(str(tmp_path / "here.pyc"), str(target)) is True
    assert os.path.samefile(target, tmp_path / "here.pyc")


def test_a_source_changed_while_read_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header must record the stat of the bytes compiled: a file rewritten mid-read is
    read again, from the same descriptor."""
    from bytecast.remote import worker

    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    real_read = os.read
    calls = [0]

    def racing_read(fd: int, n: int) -> bytes:
        calls[0] += 1
        if calls[0] == 1:
            with open(src, "a") as f:
                f.write("Y = 2  # written while bytecast read the file\n")
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", racing_read)
    data, st = worker.read_source(str(src))
    assert data == src.read_bytes() and st.st_size == len(data)
    assert calls[0] > 2  # read twice


def test_python2_compiles_a_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    from bytecast.engine import compile_tree
    from bytecast.options import Options
    from bytecast.targets import resolve

    require("2.7")
    (py27,) = resolve(["2.7"])
    name = os.fsdecode(b"caf\xe9.py")  # a Latin-1 name: a lone surrogate in Python 3's str
    (tmp_path / name).write_text("X = 1\n")
    report = compile_tree([str(tmp_path)], Options(targets=(py27,)))
    assert report.ok and report.compiled == 1, report.problems
    assert (tmp_path / os.fsdecode(b"caf\xe9.pyc")).exists()
