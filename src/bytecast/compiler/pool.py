"""The pool: keep every core busy compiling units, whatever the workers are.

Work goes to workers in batches of units (see :mod:`bytecast.compiler.protocol`); each worker
answers one outcome per unit, in order. So the pool always knows which unit a worker is on:
when a worker dies (a compiler crash) or stays on one unit longer than the timeout, that unit
is reported as failed, the worker is replaced, and the rest of its batch goes back in the
queue. One bad file never stops the others. A lane whose workers cannot be started at all
fails its units, one outcome each.

The pool knows workers only through the small :class:`Worker` protocol (a descriptor to wait
on, send, receive, close, kill), so it is tested without processes; its tuning lives in one
:class:`PoolConfig`.
"""

from __future__ import annotations

import time
from collections import deque
from heapq import heappop, heappush

from bytecast._frozen import Frozen, init
from bytecast.compiler.protocol import Failure, Outcome
from bytecast.errors import WorkerError
from bytecast.options import DEFAULT_CONFIG, DEFAULT_TIMEOUT, PoolConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Callable, Protocol

    from bytecast.compiler.protocol import Unit

    class Worker(Protocol):
        """A process that compiles units; the pool drives it through these methods."""

        def fileno(self) -> int:
            """A descriptor that is readable when outcomes (or the end) arrive."""
        def send(self, units: Sequence[Unit]) -> None: ...
        def receive(self) -> list[Outcome] | None:
            """Outcomes available now; None when the worker has exited."""
        def close(self) -> None:
            """End an idle worker's input: it exits by itself."""
        def kill(self) -> str:
            """Stop the worker at once; returns how it ended (``was killed by signal 11``...)."""

    Spawn = Callable[[], Worker]
    Feed = Iterator[Sequence[tuple[int, Unit, int]]]

__all__ = ["PoolConfig", "DEFAULT_CONFIG", "Lane", "run_feed", "run_lanes", "DEFAULT_TIMEOUT"]


class Lane(Frozen):
    """Units that one kind of worker compiles (one target, for instance)."""

    __slots__ = ("spawn", "units", "sizes")

    spawn: Spawn
    """Starts a worker of this lane."""
    units: Sequence[Unit]
    """The units; their ids must be unique across every lane of a run."""
    sizes: Sequence[int]
    """Source size of each unit (schedules the big ones first)."""

    def __init__(self, spawn: Spawn, units: Sequence[Unit], sizes: Sequence[int]) -> None:
        init(self, "spawn", spawn)
        init(self, "units", units)
        init(self, "sizes", sizes)


def run_lanes(lanes: Sequence[Lane], jobs: int, on_outcome: Callable[[Outcome], None], *,
              timeout: float = DEFAULT_TIMEOUT, config: PoolConfig = DEFAULT_CONFIG) -> None:
    """Compile the units of every lane, all known in advance; see :func:`run_feed`."""
    chunk = [(i, unit, size) for i, lane in enumerate(lanes) for unit, size in zip(lane.units, lane.sizes)]
    run_feed([lane.spawn for lane in lanes], iter([chunk]), jobs, on_outcome, timeout=timeout, config=config)


def run_feed(spawns: Sequence[Spawn], feed: Feed, jobs: int, on_outcome: Callable[[Outcome], None], *,
             timeout: float = DEFAULT_TIMEOUT, config: PoolConfig = DEFAULT_CONFIG) -> None:
    """Compile units as ``feed`` yields them, with at most ``jobs`` workers busy at a time.

    ``feed`` yields chunks of ``(lane, unit, source size)``; ``spawns[lane]`` starts a worker
    for that lane. The feed is read only as the workers need more work, so a caller that plans
    its units lazily (a tree walk) never holds more than a few chunks in memory.

    All lanes share the ``jobs`` slots: a slot whose lane runs dry is handed to the lane with
    the most work queued per worker (its worker is started then, so an interpreter with nothing
    to do is never started). No slot idles while any lane has work queued.
    """
    _Pool(spawns, feed, max(1, jobs), timeout, on_outcome, config).run()


class _Queue:
    """The units of one lane that wait for a worker, largest first.

    Largest first keeps the tail of the run short, and so does the shrinking: once the feed
    is done, a batch holds at most a 16th of the source still queued, so the last batches are
    small and no worker is left holding a big one while the others idle. The order is over
    everything queued (a heap), not chunk by chunk: a big file planned late still goes before
    the small ones queued with it.
    """

    __slots__ = ("heap", "retry", "size", "seq", "config")

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
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
        c = self.config
        limit = max(c.batch_min_bytes, min(c.batch_bytes, self.size // c.batch_share)) if last else c.batch_bytes
        heap = self.heap
        batch: list[Unit] = []
        weight = 0
        while heap and weight < limit and len(batch) < c.batch_units:
            negative, _, unit = heappop(heap)
            batch.append(unit)
            weight -= negative
        self.size -= weight
        return batch


class _Slot:
    """What the pool knows of one worker: the units it holds, in the order it answers them."""

    __slots__ = ("lane", "fd", "pending", "ends", "since")

    def __init__(self, lane: int, fd: int) -> None:
        self.lane = lane
        self.fd = fd  # as registered: a killed worker may no longer know it
        self.pending: deque[Unit] = deque()
        self.ends: deque[int] = deque()  # id of the last unit of each batch sent
        self.since = time.monotonic()  # when the worker last answered (or got work while idle)


class _Pool:
    def __init__(self, spawns: Sequence[Spawn], feed: Feed, count: int, timeout: float,
                 on_outcome: Callable[[Outcome], None], config: PoolConfig) -> None:
        self.config = config
        self.spawns = spawns
        self.feed: Feed | None = feed
        self.queues = [_Queue(config) for _ in spawns]
        self.dead: dict[int, str] = {}  # lanes whose workers cannot be started: why
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
                        self._lost(w, "WorkerCrash", f"the compile worker {w.kill()}")
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
                if self.slots and all(len(s.ends) >= self.config.in_flight and not (s.pending and s.pending[0].give_back)
                                      for s in self.slots.values()):
                    # every worker holds a batch after the current one: let outcomes gather
                    # rather than wake for each (fewer wake-ups taking a core from a worker).
                    # Not when outcomes carry the pyc bytes (each has work for the parent, and
                    # a few fill a pipe): flask sourceless took 0.59 s wall with it, 0.47 s without
                    # (median of 15, CPU the same)
                    time.sleep(self.config.gather)
        finally:
            for w, s in list(self.slots.items()):
                if s.pending:
                    w.kill()  # interrupted mid-run: no batch is waited for
                else:
                    w.close()
            sel.close()

    def _pull(self, lane: int | None = None, low: int | None = None) -> None:
        """Take chunks from the feed while fewer than ``low`` units (default: the config's
        ``low_units``) are queued, or ``lane``'s queue is empty."""
        low = self.config.low_units if low is None else low
        queues = self.queues
        while self.feed is not None and (
            self.queued < low or (lane is not None and not queues[lane] and self.queued < self.config.max_units)
        ):
            chunk = next(self.feed, None)
            if chunk is None:
                self.feed = None
                break
            for i, unit, size in chunk:
                if i in self.dead:
                    self._fail(unit, self.dead[i])
                    continue
                queues[i].add(unit, size)
                self.queued += 1

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
        try:
            w = self.spawns[lane]()
        except WorkerError as exc:
            if any(slot.lane == lane for slot in self.slots.values()):
                self.count = len(self.slots)  # the machine gives no more processes: go on with these
                return False
            self._fail_lane(lane, str(exc))
            return True
        fd = w.fileno()
        self.slots[w] = _Slot(lane, fd)
        self.sel.register(fd, selectors.EVENT_READ, w)
        self._feed(w, 1)
        return True

    def _fail_lane(self, lane: int, why: str) -> None:
        """No worker of ``lane`` can be started: fail its units, now and as the feed brings more."""
        self.dead[lane] = why
        queue = self.queues[lane]
        self.queues[lane] = _Queue(self.config)
        units = list(queue.retry) + [unit for _, _, unit in sorted(queue.heap)]
        self.queued -= len(units)
        for unit in units:
            self._fail(unit, why)

    def _fail(self, unit: Unit, why: str) -> None:
        """A unit whose lane cannot start a worker: failed, with why."""
        self.on_outcome(Outcome(unit.uid, failure=Failure("WorkerError", why)))

    def _retire(self, w: Worker) -> None:
        """An idle worker whose lane has nothing queued: stop it and give its slot away."""
        self.sel.unregister(self.slots.pop(w).fd)
        w.close()

    def _feed(self, w: Worker, depth: int | None = None) -> None:
        """Send ``w`` batches until it holds ``depth`` of them (default: the config's ``in_flight``), or
        its lane has no more work."""
        depth = self.config.in_flight if depth is None else depth
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
            slot.ends.append(batch[-1].uid)
            w.send(batch)

    def _accept(self, w: Worker, outcomes: list[Outcome]) -> None:
        slot = self.slots[w]
        for outcome in outcomes:
            unit = slot.pending.popleft()
            if unit.uid != outcome.uid:  # pragma: no cover - a protocol bug, never bad input
                raise RuntimeError(f"worker answered unit {outcome.uid}, expected {unit.uid}")
            if slot.ends and slot.ends[0] == unit.uid:
                slot.ends.popleft()
            self.on_outcome(outcome)
        slot.since = time.monotonic()

    def _lost(self, w: Worker, kind: str, message: str) -> None:
        """A worker died or timed out: fail its current unit, requeue the rest, replace it."""
        slot = self.slots.pop(w)
        self.sel.unregister(slot.fd)
        if slot.pending:
            culprit = slot.pending.popleft()
            self.on_outcome(Outcome(culprit.uid, failure=Failure(kind, message)))
            # one unit a batch from now on: the next failure must name its own file
            self.queues[slot.lane].retry.extendleft(reversed(slot.pending))
            self.queued += len(slot.pending)


