"""Compile: turn planned jobs into .pyc files with a pool of worker processes.

Work goes to workers in batches of *units* (one source and the .pyc files to write for it,
see :mod:`bytecast._worker`); each worker answers one outcome per unit, in order. So the pool
always knows which unit a worker is on: when a worker dies (a compiler crash) or stays on one
unit longer than the timeout, that unit is reported as failed, the worker is replaced, and
the rest of its batch goes back in the queue. One bad file never stops the others.

Every worker is a fresh interpreter running :mod:`bytecast._worker` as a script, the
running interpreter's as well as the others': the bytes marshal writes depend on the state
of the process (which strings are interned), so compiling in a fork of a busy process, or
in this one, would make the output depend on what ran before. Fresh workers make it
depend on the inputs only.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from heapq import heappop, heappush

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator, Sequence
    from dataclasses import dataclass
    from typing import Any, Callable, Protocol

    Unit = Sequence[Any]  # (unit_id, path, dfile, flags, hardlink, ((optimize, cfile), ...))
    Outcome = list[Any]  # [unit_id, written, linked, error]

    class Worker(Protocol):
        """A process that compiles units; the pool drives it through these methods."""

        def fileno(self) -> int: ...
        def send(self, units: Sequence[Unit]) -> None: ...
        def receive(self) -> list[Outcome] | None:
            """Outcomes available now; None when the worker has exited."""
        def kill(self) -> str:
            """Stop the worker; returns how it ended (``killed by signal 11``...)."""
else:
    from bytecast._record import dataclass

__all__ = ["run_feed", "run_units", "run_lanes", "Lane", "ProcessWorker", "Child", "isolated_command",
           "DEFAULT_TIMEOUT", "WORKER_SCRIPT"]

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
"""The script every worker runs (:mod:`bytecast._worker`; found, never imported, here)."""

DEFAULT_TIMEOUT = 60.0
"""Seconds one unit may take before its worker is stopped and the unit reported."""

_BATCH_BYTES = 128 * 1024
_BATCH_MIN_BYTES = 4 * 1024
_BATCH_SHARE = 16  # once the feed is done, a batch takes at most 1/16 of the source left
_BATCH_UNITS = 64
_IN_FLIGHT = 2  # batches queued at each worker, so it never waits for the next one
_GATHER = 0.01  # seconds to let outcomes gather while every worker has work queued
_LOW_UNITS = 1024  # take more from the feed when fewer units than this are queued
_MAX_UNITS = 32768  # ... and, to keep a busy lane fed, until this many are


@dataclass(frozen=True)
class Lane:
    """Units that one kind of worker compiles (one target, for instance)."""

    spawn: Callable[[], Worker]
    """Starts a worker of this lane."""
    units: Sequence[Unit]
    """The units; their ids must be unique across every lane of a run."""
    sizes: Sequence[int]
    """Source size of each unit (schedules the big ones first)."""


def run_units(
    units: Sequence[Unit],
    sizes: Sequence[int],
    jobs: int,
    on_outcome: Callable[[Outcome], None],
    *,
    spawn: Callable[[], Worker] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Compile ``units`` with up to ``jobs`` workers, calling ``on_outcome`` for each unit.

    ``spawn`` makes a worker (default: a fresh running interpreter). Outcomes arrive in no fixed
    order; the files written do not depend on it.
    """
    run_lanes([Lane(spawn or ProcessWorker, units, sizes)], jobs, on_outcome, timeout=timeout)


def run_lanes(
    lanes: Sequence[Lane],
    jobs: int,
    on_outcome: Callable[[Outcome], None],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Compile the units of every lane, all known in advance; see :func:`run_feed`."""
    chunk = [(i, unit, size) for i, lane in enumerate(lanes) for unit, size in zip(lane.units, lane.sizes)]
    run_feed([lane.spawn for lane in lanes], iter([chunk]), jobs, on_outcome, timeout=timeout)


def run_feed(
    spawns: Sequence[Callable[[], Worker]],
    feed: Iterator[Sequence[tuple[int, Unit, int]]],
    jobs: int,
    on_outcome: Callable[[Outcome], None],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Compile units as ``feed`` yields them, with at most ``jobs`` workers busy at a time.

    ``feed`` yields chunks of ``(lane, unit, source size)``; ``spawns[lane]`` starts a worker
    for that lane. The feed is read only as the workers need more work, so a caller that plans
    its units lazily (a tree walk) never holds more than a few chunks in memory.

    All lanes share the ``jobs`` slots: a slot whose lane runs dry is handed to the lane with
    the most work queued per worker (its worker is started then, so an interpreter with nothing
    to do is never started). No slot idles while any lane has work queued.
    """
    _Pool(spawns, feed, max(1, jobs), timeout, on_outcome).run()


class _Queue:
    """The units of one lane that wait for a worker, largest first.

    Largest first keeps the tail of the run short, and so does the shrinking: once the feed
    is done, a batch holds at most a 16th of the source still queued, so the last batches are
    small and no worker is left holding a big one while the others idle. The order is over
    everything queued (a heap), not chunk by chunk: a big file planned late still goes before
    the small ones queued with it.
    """

    __slots__ = ("heap", "retry", "size", "seq")

    def __init__(self) -> None:
        self.heap: list[tuple[int, int, Unit]] = []  # (-size, arrival, unit)
        self.retry: deque[Unit] = deque()  # after a lost worker: one unit a batch
        self.size = 0  # bytes of source queued
        self.seq = 0

    def __len__(self) -> int:
        return len(self.heap) + len(self.retry)

    def add(self, unit: Unit, size: int) -> None:
        heappush(self.heap, (-size, self.seq, unit))  # seq: arrival order among equal sizes
        self.seq += 1
        self.size += size

    def take(self, last: bool) -> list[Unit]:
        """The next batch; ``last`` when the feed has nothing more to add."""
        if self.retry:
            return [self.retry.popleft()]
        limit = max(_BATCH_MIN_BYTES, min(_BATCH_BYTES, self.size // _BATCH_SHARE)) if last else _BATCH_BYTES
        heap = self.heap
        batch: list[Unit] = []
        weight = 0
        while heap and weight < limit and len(batch) < _BATCH_UNITS:
            negative, _, unit = heappop(heap)
            batch.append(unit)
            weight -= negative
        self.size -= weight
        return batch


class _Slot:
    """What the pool knows of one worker: the units it holds, in the order it answers them."""

    __slots__ = ("lane", "pending", "ends", "since")

    def __init__(self, lane: int) -> None:
        self.lane = lane
        self.pending: deque[Unit] = deque()
        self.ends: deque[int] = deque()  # id of the last unit of each batch sent
        self.since = time.monotonic()  # when the worker last answered (or got work while idle)


class _Pool:
    def __init__(
        self,
        spawns: Sequence[Callable[[], Worker]],
        feed: Iterator[Sequence[tuple[int, Unit, int]]],
        count: int,
        timeout: float,
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        self.spawns = spawns
        self.feed: Iterator[Sequence[tuple[int, Unit, int]]] | None = feed
        self.queues = [_Queue() for _ in spawns]
        self.queued = 0  # units in every queue
        self.count = count
        self.timeout = timeout
        self.on_outcome = on_outcome
        self.slots: dict[Worker, _Slot] = {}

    def run(self) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        self.sel = sel
        try:
            self._fill()
            while any(slot.pending for slot in self.slots.values()):
                busy = [(w, s) for w, s in self.slots.items() if s.pending]
                deadline = min(s.since for _, s in busy) + self.timeout
                for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                    w = key.data
                    if w not in self.slots:
                        continue  # retired or replaced during this round
                    outcomes = w.receive()
                    if outcomes is None:
                        self._lost(w, "WorkerCrash", f"the compiler worker {w.kill()}")
                    else:
                        self._accept(w, outcomes)
                        self._feed(w)
                        if not self.slots[w].pending:
                            self._retire(w)
                now = time.monotonic()
                for w, s in busy:
                    if w in self.slots and s.pending and now - s.since > self.timeout:
                        w.kill()
                        self._lost(w, "Timeout", f"compiling took longer than {self.timeout:g} s")
                self._fill()
                if all(len(s.ends) >= _IN_FLIGHT for s in self.slots.values()):
                    # every worker holds a batch after the current one: let outcomes gather
                    # rather than wake for each (fewer wake-ups taking a core from a worker)
                    time.sleep(_GATHER)
        finally:
            for w in list(self.slots):
                w.kill()
            sel.close()

    def _pull(self, lane: int | None = None, low: int | None = None) -> None:
        """Take chunks from the feed while fewer than ``low`` units (default ``_LOW_UNITS``)
        are queued, or ``lane``'s queue is empty."""
        low = _LOW_UNITS if low is None else low
        queues = self.queues
        while self.feed is not None and (
            self.queued < low or (lane is not None and not queues[lane] and self.queued < _MAX_UNITS)
        ):
            chunk = next(self.feed, None)
            if chunk is None:
                self.feed = None
                break
            for i, unit, size in chunk:
                queues[i].add(unit, size)
            self.queued += len(chunk)

    def _pick(self) -> int | None:
        """The lane a free slot should serve: the most queued units per worker it has."""
        workers = [0] * len(self.queues)
        for slot in self.slots.values():
            workers[slot.lane] += 1
        best, score = None, -1.0
        for i, queue in enumerate(self.queues):
            if queue:
                s = len(queue) / (workers[i] + 1)
                if s > score:
                    best, score = i, s
        return best

    def _fill(self) -> None:
        """Start a worker for every free slot while there is work, then top up the queues.

        A new worker gets one batch at once, and planning ahead waits until every slot is
        busy: at start-up no worker waits for the walk to get far.
        """
        while len(self.slots) < self.count:
            if self._pick() is None:
                self._pull(low=1)
            if not self._hire():
                break
        self._pull()
        for w in list(self.slots):
            self._feed(w)

    def _hire(self) -> bool:
        """Start a worker for the lane that needs one most; False when no work is queued."""
        import selectors

        lane = self._pick()
        if lane is None:
            return False
        w = self.spawns[lane]()
        self.slots[w] = _Slot(lane)
        self.sel.register(w.fileno(), selectors.EVENT_READ, w)
        self._feed(w, 1)
        return True

    def _retire(self, w: Worker) -> None:
        """An idle worker whose lane has nothing queued: stop it and give its slot away."""
        self.sel.unregister(w.fileno())
        del self.slots[w]
        w.kill()

    def _feed(self, w: Worker, depth: int | None = None) -> None:
        """Send ``w`` batches until it holds ``depth`` of them (default ``_IN_FLIGHT``), or
        its lane has no more work."""
        depth = _IN_FLIGHT if depth is None else depth
        slot = self.slots[w]
        queue = self.queues[slot.lane]
        while len(slot.ends) < depth:
            if not queue:
                self._pull(slot.lane)
                if not queue:
                    break
            batch = queue.take(self.feed is None)
            self.queued -= len(batch)
            if not slot.pending:
                slot.since = time.monotonic()
            slot.pending.extend(batch)
            slot.ends.append(batch[-1][0])
            w.send(batch)

    def _accept(self, w: Worker, outcomes: list[Outcome]) -> None:
        slot = self.slots[w]
        for outcome in outcomes:
            unit = slot.pending.popleft()
            if unit[0] != outcome[0]:  # pragma: no cover - a protocol bug, never bad input
                raise RuntimeError(f"worker answered unit {outcome[0]}, expected {unit[0]}")
            if slot.ends and slot.ends[0] == unit[0]:
                slot.ends.popleft()
            self.on_outcome(outcome)
        slot.since = time.monotonic()

    def _lost(self, w: Worker, kind: str, message: str) -> None:
        """A worker died or timed out: fail its current unit, requeue the rest, replace it."""
        self.sel.unregister(w.fileno())
        slot = self.slots.pop(w)
        if slot.pending:
            culprit = slot.pending.popleft()
            self.on_outcome([culprit[0], 0, 0, [kind, message, 0, 0]])
            # one unit a batch from now on: the next failure must name its own file
            self.queues[slot.lane].retry.extendleft(reversed(slot.pending))
            self.queued += len(slot.pending)


def isolated_command(
    executable: str, version: tuple[int, int], script: str, flags: Sequence[str] = ()
) -> tuple[list[str], dict[str, str] | None]:
    """The command (argv, environment) that runs ``script`` in the interpreter ``executable``
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
        return [executable, "-I", "-S", *flags, script], None
    if version < (3, 3):
        return [executable, "-E", "-s", "-S", *flags, script], None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return [executable, "-s", "-S", *flags, script], env


class ProcessWorker:
    """A fresh interpreter running :mod:`bytecast._worker` as a script.

    Messages are length-prefixed ``marshal`` data (version 2, readable by every target).
    The interpreter runs isolated (:func:`isolated_command`): nothing from the environment or
    site-packages runs in a worker, so its state, and so its bytes, are the same every run.
    """

    def __init__(self, argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> None:
        if argv is None:
            argv, env = isolated_command(sys.executable, sys.version_info[:2], WORKER_SCRIPT)
        self.proc = Child(argv, env)
        self._down = self.proc.stdin
        self._up = self.proc.stdout
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self._up

    def send(self, units: Sequence[Unit]) -> None:
        import marshal

        payload = marshal.dumps(list(units), 2)
        try:
            write_all(self._down, len(payload).to_bytes(4, "little") + payload)
        except BrokenPipeError:
            pass  # the worker died; the pool learns it from the closed pipe

    def receive(self) -> list[Outcome] | None:
        import marshal

        chunk = os.read(self._up, 1 << 16)
        if not chunk:
            return None
        buf = self._buffer
        buf += chunk
        out: list[Outcome] = []
        while len(buf) >= 4:
            size = int.from_bytes(buf[:4], "little")
            if len(buf) < 4 + size:
                break
            out.append(marshal.loads(bytes(buf[4 : 4 + size])))
            del buf[: 4 + size]
        return out

    def kill(self) -> str:
        code = stop_process(self.proc, grace=1.0)
        if code < 0:
            import signal

            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"was killed by signal {-code} ({name})"
        return f"exited with status {code}"


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
        except BaseException:
            for fd in (down_w, up_r):
                os.close(fd)
            raise
        finally:
            os.close(down_r)
            os.close(up_w)
        self.stdin, self.stdout = down_w, up_r

    def _start_popen(self, argv: Sequence[str], env: dict[str, str] | None) -> None:  # pragma: no cover
        import subprocess

        popen = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                 close_fds=True, env=env)
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
    """Close a worker's pipes (it exits on end of input), kill it after ``grace`` seconds.

    Returns its exit status (negative: the signal that ended it).
    """
    proc.close_pipes()
    code = proc.wait(grace)
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
