"""Engine glue for the drop-in :mod:`bytecast.compileall` and :mod:`bytecast.py_compile`.

The standard library compiles in the calling process, one file at a time. The drop-ins
hand the same work to bytecast's pool of fresh worker interpreters (see
:mod:`bytecast.compiler`), so the bytes do not depend on what the caller's process did before.

Callers such as pip call ``compile_file`` once per file; starting an interpreter for each
call would cost more than the compile. So workers that finish their work cleanly are kept,
idle, and lent to the next call. They end when this process ends (``atexit``), or on their
own when its pipes close.
"""

from __future__ import annotations

import os
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    from bytecast.compiler import Outcome, ProcessWorker, Unit
    from bytecast.compiler.protocol import Warned

__all__ = ["run", "run_one", "absolute", "cpus", "optimize_level", "replay", "TIMEOUT", "LOST"]

LOST = ("WorkerCrash", "Timeout")
"""Error kinds of a unit whose worker died or hung: not to be repeated in this process."""

TIMEOUT = 600.0
"""Seconds one file may take. The stdlib has no limit; a compile this slow is a hung one."""

_lock = threading.Lock()
_idle: list[ProcessWorker] = []
_owner = os.getpid()
_MAX_IDLE = max(2, os.cpu_count() or 1)


class _Lease:
    """A pooled worker lent to one :func:`bytecast.compiler.run_lanes` call.

    The pool closes a worker it is done with (and kills one that died or hangs). A closed
    worker that answered everything it was sent goes back to the idle list instead; one that
    died or still owes answers is really stopped.
    """

    __slots__ = ("worker", "owed", "dead")

    def __init__(self, worker: ProcessWorker) -> None:
        self.worker = worker
        self.owed = 0
        self.dead = False

    def fileno(self) -> int:
        return self.worker.fileno()

    def send(self, units: Sequence[Unit]) -> None:
        self.owed += len(units)
        self.worker.send(units)

    def receive(self) -> list[Outcome] | None:
        outcomes = self.worker.receive()
        if outcomes is None:
            self.dead = True
        else:
            self.owed -= len(outcomes)
        return outcomes

    def close(self) -> None:
        if self.dead or self.owed or not _give_back(self.worker):
            self.worker.close()

    def kill(self) -> str:
        return self.worker.kill()


def _take() -> _Lease:
    from bytecast.compiler import ProcessWorker

    global _owner
    with _lock:
        if os.getpid() != _owner:  # a forked child must not share its parent's workers
            _orphans.extend(_idle)
            _idle.clear()
            _owner = os.getpid()
        while _idle:
            worker = _idle.pop()
            if worker.proc.poll() is None:
                return _Lease(worker)
            worker.kill()
    return _Lease(ProcessWorker())


def _give_back(worker: ProcessWorker) -> bool:
    with _lock:
        if os.getpid() != _owner or len(_idle) >= _MAX_IDLE:
            return False
        _idle.append(worker)
        return True


_orphans: list[ProcessWorker] = []  # a parent's workers seen from a fork: never touched


def _shutdown() -> None:
    with _lock:
        workers = list(_idle) if os.getpid() == _owner else []
        _idle.clear()
    for worker in workers:
        worker.close()


import atexit

atexit.register(_shutdown)


def run(
    units: Sequence[Unit], sizes: Sequence[int], jobs: int, on_outcome: Callable[[Outcome], None]
) -> None:
    """Compile ``units`` with up to ``jobs`` pooled workers; see :func:`bytecast.compiler.run_lanes`."""
    from bytecast.compiler import Lane, run_lanes

    run_lanes([Lane(_take, units, sizes)], jobs, on_outcome, timeout=TIMEOUT)


def run_one(unit: Unit, size: int) -> Outcome:
    """Compile one unit in a pooled worker and return its outcome."""
    box: list[Outcome] = []
    run([unit], [size], 1, box.append)
    return box[0]


def absolute(path: str) -> str:
    """``path`` made absolute without resolving ``..`` or links: workers may have another cwd."""
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


def cpus() -> int:
    """Worker processes for ``workers=0``: every CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def optimize_level(level: int) -> int:
    """The level ``compile(optimize=level)`` uses here; workers run without ``-O``."""
    if level == -1:
        return min(sys.flags.optimize, 2)
    return level


def replay(warned: Sequence[Warned], filename: str) -> None:
    """Hand the compiler warnings a worker recorded to this process's warnings machinery, as a
    compile here would have: same category, message, file name and line, so this process's
    filters (``-W``, ``PYTHONWARNINGS``, ``warnings.filterwarnings``) and its ``showwarning``
    decide what is printed, exactly as for the standard library.

    When the filters make one of them an error, nothing is shown and that warning is raised
    (a compile here would have failed: the caller compiles here to get the standard library's
    error).
    """
    if not warned:
        return
    import builtins
    import warnings

    # record=True keeps the filters: they judge each one; nothing is shown before all passed.
    with warnings.catch_warnings(record=True) as shown:
        for w in warned:
            category = getattr(builtins, w.category, None)
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category = SyntaxWarning  # not a builtin category: the compiler's own kind
            warnings.warn_explicit(w.message, category, filename, w.line)
    show = getattr(warnings, "_showwarnmsg", None)  # what warn_explicit calls once filters passed
    for message in shown:
        if show is not None:
            show(message)
        else:  # pragma: no cover - every supported Python has it
            warnings.showwarning(message.message, message.category, message.filename, message.lineno)
