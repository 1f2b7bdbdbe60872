"""Processes: starting interpreters with pipes, cheaply, and stopping them.

What the compile stage, the source-hash helpers and target discovery need of a child process:
a pipe to its stdin, one from its stdout, its exit status, and a way to end it at once.
:class:`Child` does it with ``os.posix_spawn`` and without importing :mod:`subprocess`
(locale, re, signal and threading come with that import: some 15 ms before the first worker
could start). :func:`isolated_command` is the one rule for running bytecast's own scripts
(:mod:`bytecast.remote`) in an interpreter so that nothing of the user's environment changes
what they do.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Sequence

    from bytecast.targets import Target

from bytecast.errors import WorkerError

__all__ = ["Child", "Helper", "helper", "close_helpers", "isolated_command", "worker_command", "stop_process",
           "read_exact", "write_all", "exit_description"]


def isolated_command(
    executable: str, version: tuple[int, int], script: Sequence[str], flags: Sequence[str] = ()
) -> tuple[list[str], dict[str, str] | None]:
    """The command (argv, environment) that runs ``script`` (a path, or ``-c`` and a program:
    :func:`bytecast.remote.script_argv`) in the interpreter ``executable``
    of ``version``, isolated from the user's environment (``None``: inherit it).

    Nothing from the environment or site-packages runs: ``-I -S`` (3.11+), ``-E -s -S`` (2.7).
    Python 3.3 to 3.10 need one more thing for reproducible bytes: marshal writes a frozenset
    constant (``x in {"a", "b"}``) in its iteration order, which follows the hash seed, random
    in every process. ``-I`` and ``-E`` would ignore the seed, so these interpreters get
    ``-s -S`` and an environment without any ``PYTHON*`` variable but ``PYTHONHASHSEED=0``
    (the worker script drops its own folder from ``sys.path``, which ``-I`` would have done).
    3.11 and later write frozensets in a fixed order; 2.7 hashes strings without a seed.
    """
    if version >= (3, 11):
        return [executable, "-I", "-S", *flags, *script], None
    if version < (3, 3):
        return [executable, "-E", "-s", "-S", *flags, *script], None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return [executable, "-s", "-S", *flags, *script], env


def worker_command(target: Target | None = None, optimize: int = 0,
                   args: Sequence[str] = ()) -> tuple[list[str], dict[str, str] | None]:
    """The command (argv, environment) of a worker of ``target`` (default: the running
    interpreter), isolated from the user's environment (see :func:`isolated_command`).

    ``optimize`` adds ``-O``/``-OO``: only Python 2 needs it, its compiler takes the level from
    the process, not from ``compile()``. ``args`` go to the script (``hash``: the source-hash
    service).
    """
    from bytecast.remote import script_argv

    executable = sys.executable if target is None else target.executable
    version = sys.version_info[:2] if target is None else target.version
    flags = ["-" + "O" * optimize] if optimize else []
    argv, env = isolated_command(executable, (version[0], version[1]), script_argv("worker"), flags)
    return argv + list(args), env


class Child:
    """A child process with a pipe to its stdin and one from its stdout: what a worker needs
    of ``subprocess.Popen``, without importing subprocess (locale, re, signal and threading
    come with it; that import alone would delay the first worker by some 15 ms).

    Started by ``os.posix_spawn`` with every file descriptor this process inherited closed,
    as ``close_fds=True`` does; through subprocess where posix_spawn is missing (Windows).
    ``stdin`` and ``stdout`` are the parent's ends, as raw file descriptors.
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.returncode: int | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        # A pipe end numbered 0-2 (this process was started without them) would be overwritten
        # by the child's own 0 and 1 before it is moved there: subprocess knows that dance.
        closing = _inherited_closing() if min(down_r, down_w, up_r, up_w) > 2 else None
        if closing is None:  # pragma: no cover - no posix_spawn, or this process lacks fd 0-2
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            self._start_popen(argv, env)
            return
        actions = [(os.POSIX_SPAWN_DUP2, down_r, 0), (os.POSIX_SPAWN_DUP2, up_w, 1), *closing]
        try:
            self.pid = os.posix_spawn(argv[0], list(argv), os.environ if env is None else env,
                                      file_actions=actions)
        except BaseException as exc:
            for fd in (down_w, up_r):
                os.close(fd)
            if isinstance(exc, OSError):  # no such binary, the process limit reached (EAGAIN)...
                raise WorkerError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
            raise
        finally:
            os.close(down_r)
            os.close(up_w)
        self.stdin, self.stdout = down_w, up_r

    def _start_popen(self, argv: Sequence[str], env: dict[str, str] | None) -> None:  # pragma: no cover
        import subprocess

        try:
            popen = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                     close_fds=True, env=env)
        except OSError as exc:
            raise WorkerError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
        assert popen.stdin is not None and popen.stdout is not None
        self._popen, self.pid = popen, popen.pid
        self.stdin, self.stdout = popen.stdin.fileno(), popen.stdout.fileno()

    def close_pipes(self) -> None:
        """Close this side of both pipes (a worker exits when its input ends)."""
        if self._popen is not None:  # pragma: no cover
            for stream in (self._popen.stdin, self._popen.stdout):
                if stream is not None:
                    stream.close()
            return
        for fd in (self.stdin, self.stdout):
            try:
                os.close(fd)
            except OSError:
                pass
        self.stdin = self.stdout = -1

    def poll(self) -> int | None:
        """The exit status if the child has ended (negative: the signal that ended it), else None."""
        return self.wait(0.0)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the child to end, at most ``timeout`` seconds; its exit status, or None."""
        if self.returncode is not None:
            return self.returncode
        if self._popen is not None:  # pragma: no cover
            try:
                self.returncode = self._popen.wait(timeout)
            except Exception:  # subprocess.TimeoutExpired
                return None
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while True:
            try:
                pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its status is lost, as subprocess says 0
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                return self.returncode
            remaining = deadline - time.monotonic()  # type: ignore[operator]
            if remaining <= 0:
                return None
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    def kill(self) -> None:
        if self.returncode is None:
            if self._popen is not None:  # pragma: no cover
                self._popen.kill()
                return
            try:
                os.kill(self.pid, 9)  # SIGKILL, 9 on every POSIX system (signal would import enum)
            except ProcessLookupError:
                pass


def _inherited_closing() -> list[tuple[int, int]] | None:
    """posix_spawn actions that close every descriptor a child would inherit besides 0-2 (only
    those this process inherited: Python opens its own non-inheritable); None when posix_spawn
    or a listing of open descriptors is missing."""
    if not hasattr(os, "posix_spawn"):  # pragma: no cover - Windows
        return None
    closefrom = getattr(os, "POSIX_SPAWN_CLOSEFROM", None)  # Python 3.13+
    if closefrom is not None:
        return [(closefrom, 3)]
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(listing)
        except OSError:
            continue
        actions = []
        for name in names:
            fd = int(name)
            try:
                if fd > 2 and os.get_inheritable(fd):
                    actions.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:  # the listing's own descriptor, closed by now
                pass
        return actions
    return None  # pragma: no cover


def stop_process(proc: Child, grace: float) -> int:
    """Close a child's pipes (a worker exits on end of input), kill it after ``grace`` seconds
    (at once for 0).

    Returns its exit status (negative: the signal that ended it).
    """
    proc.close_pipes()
    code = proc.wait(grace) if grace > 0 else proc.poll()
    if code is None:
        proc.kill()
        code = proc.wait()
    assert code is not None
    return code


def read_exact(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``, or fewer if it ends first."""
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def exit_description(code: int) -> str:
    """``exited with status 3`` or ``was killed by signal 11 (SIGSEGV)``."""
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"was killed by signal {-code} ({name})"
    return f"exited with status {code}"


class Helper:
    """A long-lived worker of ``target`` serving one of :mod:`bytecast.remote.worker`'s services
    (``hash``: source hashes of paths; ``load``: the check of pyc payloads): a list in, one
    answer per item out, a pipe round trip each call. WorkerError when it fails or answers
    something else."""

    def __init__(self, target: Target, service: str) -> None:
        self.target = target
        self.service = service
        argv, env = worker_command(target, args=[service])
        self.proc = Child(argv, env)

    def close(self) -> None:
        stop_process(self.proc, grace=5.0)

    def ask(self, items: Sequence[object]) -> list[object]:
        import marshal

        proc = self.proc
        payload = marshal.dumps(list(items), 2)
        try:
            write_all(proc.stdin, len(payload).to_bytes(4, "little") + payload)
            head = read_exact(proc.stdout, 4)
            body = read_exact(proc.stdout, int.from_bytes(head, "little")) if len(head) == 4 else b""
            answer = marshal.loads(body)
        except (OSError, EOFError, ValueError) as exc:
            raise WorkerError(f"{self.target.label}: the {self.service} helper failed: {exc}") from None
        if not isinstance(answer, list) or len(answer) != len(items):
            raise WorkerError(f"{self.target.label}: the {self.service} helper answered badly")
        return answer


_helpers: dict[tuple[Target, str], Helper] = {}
_at_exit = False


def helper(target: Target, service: str) -> Helper:
    """The long-lived :class:`Helper` of ``target`` for ``service``, started on first use (OSError
    when it cannot start); stopped by :func:`close_helpers`, or when this process ends."""
    global _at_exit
    h = _helpers.get((target, service))
    if h is None:
        if not _at_exit:
            import atexit

            atexit.register(close_helpers)
            _at_exit = True
        h = _helpers[(target, service)] = Helper(target, service)
    return h


def close_helpers(service: str | None = None, target: Target | None = None) -> None:
    """Stop the helpers started so far: every one, or those of ``service`` (and ``target``)."""
    for key in [k for k in _helpers if service in (None, k[1]) and target in (None, k[0])]:
        _helpers.pop(key).close()
