"""Child processes: pipes only, exit statuses, quick stops, one-line failures to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bytecast.errors import WorkerError
from bytecast.place.pycache import cache_path
from bytecast.process import Child, exit_description, isolated_command, read_exact, stop_process
from bytecast.targets import current
from conftest import env

_OPEN_FDS = "import os, sys; os.write(1, repr(sorted(int(n) for n in os.listdir('/proc/self/fd'))).encode())"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to list open descriptors")
def test_children_inherit_only_their_pipes_and_stderr() -> None:
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
    assert exit_description(-9) == "was killed by signal 9 (SIGKILL)"
    assert exit_description(3) == "exited with status 3"


def test_stopping_with_no_grace_kills_at_once() -> None:
    import time

    stuck = Child([sys.executable, "-S", "-c", "import signal, time; signal.signal(signal.SIGPIPE, signal.SIG_IGN);"
                   "time.sleep(600)"])
    start = time.monotonic()
    assert stop_process(stuck, grace=0.0) == -9
    assert time.monotonic() - start < 0.5


def test_a_child_that_cannot_start_is_one_worker_error(tmp_path: Path) -> None:
    with pytest.raises(WorkerError, match=r"cannot start .*nope: No such file or directory") as info:
        Child([str(tmp_path / "nope")])
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)


def test_the_process_limit_is_one_worker_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork() at RLIMIT_NPROC

    monkeypatch.setattr(os, "posix_spawn", refuse)
    before = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()
    with pytest.raises(WorkerError, match="Resource temporarily unavailable"):
        Child([sys.executable, "-c", "pass"])
    if before:
        assert set(os.listdir("/proc/self/fd")) <= before | {str(n) for n in range(3)}  # no pipe left open


def test_isolated_commands_by_version() -> None:
    assert isolated_command("py", (3, 12), ["w.py"]) == (["py", "-I", "-S", "w.py"], None)
    assert isolated_command("py", (2, 7), ["w.py"], ["-O"]) == (["py", "-E", "-s", "-S", "-O", "w.py"], None)
    argv, child_env = isolated_command("py", (3, 9), ["-c", "pass"])
    assert argv == ["py", "-s", "-S", "-c", "pass"]
    assert child_env is not None and child_env["PYTHONHASHSEED"] == "0"
    assert not any(k.startswith("PYTHON") and k != "PYTHONHASHSEED" for k in child_env)


def test_a_compile_started_without_stdin_and_stdout_still_gives_workers_their_pipes(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    script = ("import os, sys; os.close(0); os.close(1); from bytecast.cli import main;"
              "sys.exit(main(['compile', '-q', sys.argv[1]]))")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env(), stderr=subprocess.PIPE, text=True)
    assert out.returncode == 0, out.stderr
    assert Path(cache_path(str(tmp_path / "mod.py"), current(), 0)).exists()
