"""Compile workers: fresh interpreters running :mod:`bytecast.remote.worker`.

Every worker is a fresh interpreter of its target, the running one's as well as the others':
the bytes marshal writes depend on the state of the process (which strings are interned), so
compiling in a fork of a busy process, or in this one, would make the output depend on what
ran before. Fresh workers make it depend on the inputs only. Messages are length-prefixed
``marshal`` data (version 2, readable by every target), encoded and decoded only by
:mod:`bytecast.compiler.protocol`.
"""

from __future__ import annotations

import os

from bytecast.compiler.protocol import decode_outcome
from bytecast.process import Child, exit_description, stop_process, worker_command, write_all

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    from bytecast.compiler.protocol import Outcome, Unit
    from bytecast.targets import Target

__all__ = ["ProcessWorker", "spawner"]


def spawner(target: Target | None = None, optimize: int = 0) -> Callable[[], ProcessWorker]:
    """A function that starts a worker of ``target`` (the pool's ``spawn``)."""
    argv, env = worker_command(target, optimize)
    return lambda: ProcessWorker(argv, env)


class ProcessWorker:
    """One worker process; what the pool's ``Worker`` protocol asks of it."""

    def __init__(self, argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> None:
        if argv is None:
            argv, env = worker_command()
        self.proc = Child(argv, env)
        self._down = self.proc.stdin
        self._up = self.proc.stdout
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self._up

    def send(self, units: Sequence[Unit]) -> None:
        import marshal

        payload = marshal.dumps([unit.encode() for unit in units], 2)
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
            out.append(decode_outcome(marshal.loads(bytes(buf[4 : 4 + size]))))
            del buf[: 4 + size]
        return out

    def close(self) -> None:
        """End the worker's input; it exits by itself (killed if it has not within a second)."""
        stop_process(self.proc, grace=1.0)

    def kill(self) -> str:
        """Stop the worker at once (a timeout, a crash, an interrupted run)."""
        return exit_description(stop_process(self.proc, grace=0.0))
