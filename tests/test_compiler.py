"""The worker pool: a crashed or hung compile is reported for its file; the rest go on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bytecast.compiler import Child, ProcessWorker, _Queue, read_exact, run_feed, run_units, stop_process
from bytecast.plan import cache_path
from bytecast.targets import current
from conftest import SRC, env

SABOTEUR = textwrap.dedent(
    f"""
    import os, signal, sys, time
    sys.path.insert(0, {SRC!r})
    from bytecast import _worker
    real = _worker.compile_unit
    def compile_unit(unit):
        if "CRASH" in unit[1]:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "HANG" in unit[1]:
            time.sleep(600)
        return real(unit)
    _worker.compile_unit = compile_unit
    sys.exit(_worker.main())
    """
)


def make_units(tmp_path: Path, names: list[str]) -> tuple[list[list[object]], list[int]]:
    units: list[list[object]] = []
    for i, name in enumerate(names):
        src = tmp_path / f"{name}.py"
        src.write_text(f"NAME = {name!r}\n" * (i + 1))
        units.append([i, str(src), str(src), 0, False, [[0, cache_path(str(src), current())]]])
    return units, [len(u[1]) for u in units]  # type: ignore[arg-type]


def test_crash_and_timeout_are_reported_for_their_file_only(tmp_path: Path) -> None:
    script = tmp_path / "saboteur.py"
    script.write_text(SABOTEUR)
    names = [f"m{i}" for i in range(30)]
    names[7] = "CRASH_one"
    names[19] = "HANG_one"
    names[23] = "CRASH_two"
    units, sizes = make_units(tmp_path, names)
    outcomes: dict[int, list[object]] = {}
    spawned: list[ProcessWorker] = []

    def spawn() -> ProcessWorker:
        spawned.append(ProcessWorker([sys.executable, str(script)]))
        return spawned[-1]

    run_units(units, sizes, 2, lambda o: outcomes.__setitem__(o[0], o), spawn=spawn, timeout=3.0)  # type: ignore[arg-type,index]
    assert sorted(outcomes) == list(range(30))
    errors = {names[i]: o[3] for i, o in outcomes.items() if o[3] is not None}
    assert set(errors) == {"CRASH_one", "HANG_one", "CRASH_two"}
    assert errors["CRASH_one"][0] == "WorkerCrash" and "SIGSEGV" in errors["CRASH_one"][1]  # type: ignore[index]
    assert errors["HANG_one"][0] == "Timeout"  # type: ignore[index]
    for i, name in enumerate(names):
        assert os.path.exists(units[i][5][0][1]) == (name not in errors)  # type: ignore[index]
    assert len(spawned) > 2  # a lost worker was replaced while work remained
    for w in spawned:
        assert w.proc.poll() is not None  # no worker left running


def test_batches_put_large_sources_first_shrink_at_the_end_and_cover_everything() -> None:
    units = [[i] for i in range(500)]
    sizes = [(i * 7919) % 100_000 for i in range(500)]
    queue = _Queue()
    for unit, size in zip(units, sizes):
        queue.add(unit, size)  # type: ignore[arg-type]
    out = []
    while queue:
        out.append(queue.take(last=True))
    flat = [u[0] for b in out for u in b]
    assert sorted(flat) == list(range(500))
    assert sizes[flat[0]] == max(sizes)
    firsts = [sizes[b[0][0]] for b in out]
    assert firsts == sorted(firsts, reverse=True)
    weights = [sum(sizes[u[0]] for u in b) for b in out]
    assert max(weights[-5:]) < max(weights[:5])  # the tail is cut in small batches


def test_pool_reads_the_feed_as_workers_need_it(tmp_path: Path) -> None:
    """A long feed is read a few chunks ahead of the workers, never all at once."""
    pulled: list[int] = []
    answered: list[int] = []

    def feed():  # type: ignore[no-untyped-def]
        for c in range(40):
            pulled.append(c)
            units = []
            for i in range(c * 100, c * 100 + 100):
                path = tmp_path / f"m{i}.py"
                path.write_text(f"X = {i}\n")
                units.append([i, str(path), None, 0, False, [[0, str(tmp_path / f"m{i}.pyc")]]])
            yield [(0, u, 100) for u in units]

    def on_outcome(o):  # type: ignore[no-untyped-def]
        answered.append(o[0])
        # when a unit of chunk c is answered, the feed is at most a few chunks past it
        assert pulled[-1] - o[0] // 100 <= 16, (pulled[-1], o[0])

    run_feed([ProcessWorker], feed(), 2, on_outcome, timeout=30.0)  # type: ignore[arg-type]
    assert sorted(answered) == list(range(4000))
    assert all(os.path.exists(tmp_path / f"m{i}.pyc") for i in (0, 1999, 3999))


_OPEN_FDS = "import os, sys; os.write(1, repr(sorted(int(n) for n in os.listdir('/proc/self/fd'))).encode())"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to list open descriptors")
def test_workers_inherit_only_their_pipes_and_stderr() -> None:
    r, w = os.pipe()
    os.set_inheritable(w, True)  # as a descriptor bytecast's own parent passed down
    try:
        child = Child([sys.executable, "-S", "-c", _OPEN_FDS])
        out = read_exact(child.stdout, 1 << 16)
        assert stop_process(child, grace=5.0) == 0
    finally:
        os.close(r)
        os.close(w)
    fds = set(eval(out))
    assert {0, 1, 2} <= fds and w not in fds and len(fds) <= 4, fds  # 4: the listing's own


def test_a_child_reports_its_exit_status_and_the_signal_that_ended_it() -> None:
    child = Child([sys.executable, "-S", "-c", "import sys; sys.stdin.read(); sys.exit(3)"])
    assert child.poll() is None
    assert stop_process(child, grace=5.0) == 3  # it exits when its input ends
    stuck = Child([sys.executable, "-S", "-c", "import time; time.sleep(600)"])
    assert stop_process(stuck, grace=0.2) == -9
    assert stuck.poll() == -9


def test_a_compile_started_without_stdin_and_stdout_still_gives_workers_their_pipes(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    script = ("import os, sys; os.close(0); os.close(1); from bytecast.cli import main;"
              "sys.exit(main(['compile', '-q', sys.argv[1]]))")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env(), stderr=subprocess.PIPE, text=True)
    assert out.returncode == 0, out.stderr
    assert Path(cache_path(str(tmp_path / "mod.py"), current(), 0)).exists()
