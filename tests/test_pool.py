"""The scheduler, without processes: fake workers answer through a pipe of their own."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence

import pytest

from bytecast.compiler.pool import Lane, PoolConfig, _Queue, run_feed, run_lanes
from bytecast.compiler.protocol import Failure, Outcome, Unit
from bytecast.errors import WorkerError


class FakeWorker:
    """Answers each unit at once, in order; ``script`` decides per unit: "ok", "crash", "hang"."""

    started: list[FakeWorker] = []

    def __init__(self, lane: str, script: dict[int, str] | None = None) -> None:
        self.lane = lane
        self.script = script or {}
        self.r, self.w = os.pipe()
        self.ready: list[Outcome] = []
        self.sent: list[list[int]] = []
        self.closed = self.killed = False
        self.dead = False
        FakeWorker.started.append(self)

    def fileno(self) -> int:
        return self.r

    def send(self, units: Sequence[Unit]) -> None:
        self.sent.append([u.uid for u in units])
        for unit in units:
            what = self.script.get(unit.uid, "ok")
            if what == "hang" or self.dead:
                self.dead = self.dead or what == "hang"
                break  # never answers this unit nor any after it
            if what == "crash":
                self.dead = True
                if self.ready:
                    os.write(self.w, b"x")  # what it answered before it died arrives first
                os.close(self.w)
                self.w = -1
                return
            self.ready.append(Outcome(unit.uid, written=1))
        if self.ready and self.w >= 0:
            os.write(self.w, b"x")

    def receive(self) -> list[Outcome] | None:
        if not os.read(self.r, 1 << 16):
            return None
        out, self.ready = self.ready, []
        return out

    def close(self) -> None:
        self.closed = True
        self._shut()

    def kill(self) -> str:
        self.killed = True
        self._shut()
        return "was killed by the test"

    def _shut(self) -> None:
        for fd in (self.r, self.w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.r = self.w = -1


def units(first: int, n: int) -> list[Unit]:
    return [Unit(i, f"m{i}.py", f"m{i}.py", 0, False, ((0, f"m{i}.pyc"),)) for i in range(first, first + n)]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    FakeWorker.started = []
    yield


def test_every_unit_gets_one_outcome_and_every_worker_is_stopped() -> None:
    outcomes: list[Outcome] = []
    run_lanes([Lane(lambda: FakeWorker("a"), units(0, 500), [(i * 7919) % 5000 for i in range(500)])],
              3, outcomes.append)
    assert sorted(o.uid for o in outcomes) == list(range(500))
    assert all(o.failure is None for o in outcomes)
    assert 1 <= len(FakeWorker.started) <= 3
    assert all(w.closed or w.killed for w in FakeWorker.started)


def test_a_crash_and_a_hang_fail_their_unit_only_and_the_worker_is_replaced() -> None:
    script = {7: "crash", 19: "hang", 23: "crash"}
    outcomes: dict[int, Outcome] = {}
    start = time.monotonic()
    run_lanes([Lane(lambda: FakeWorker("a", script), units(0, 30), [1] * 30)], 2,
              lambda o: outcomes.__setitem__(o.uid, o), timeout=0.3)
    assert sorted(outcomes) == list(range(30))
    failed = {uid: o.failure for uid, o in outcomes.items() if o.failure is not None}
    assert set(failed) == {7, 19, 23}
    assert failed[7] == Failure("WorkerCrash", "the compile worker was killed by the test")
    assert failed[19] is not None and failed[19].kind == "Timeout"
    assert len(FakeWorker.started) > 2
    assert time.monotonic() - start < 5  # a timed-out worker is killed, not waited for
    hung = [w for w in FakeWorker.started if 19 in sum(w.sent, [])]
    assert hung and all(w.killed for w in hung)


def test_lanes_share_the_slots_and_a_lane_that_cannot_start_fails_its_units() -> None:
    def refuse() -> FakeWorker:
        raise WorkerError("cannot start /nope/python: No such file or directory")

    outcomes: dict[int, Outcome] = {}
    run_lanes([Lane(lambda: FakeWorker("a"), units(0, 40), [1] * 40), Lane(refuse, units(100, 5), [1] * 5),
               Lane(lambda: FakeWorker("c"), units(200, 40), [1] * 40)], 2, lambda o: outcomes.__setitem__(o.uid, o))
    assert sorted(outcomes) == list(range(40)) + list(range(100, 105)) + list(range(200, 240))
    for uid in range(100, 105):
        failure = outcomes[uid].failure
        assert failure is not None and failure.kind == "WorkerError" and "/nope/python" in failure.message
    assert all(outcomes[u].failure is None for u in list(range(40)) + list(range(200, 240)))
    assert {w.lane for w in FakeWorker.started} == {"a", "c"}


def test_a_lane_that_cannot_start_more_workers_goes_on_with_those_it_has() -> None:
    count = [0]

    def second_refused() -> FakeWorker:
        count[0] += 1
        if count[0] > 1:
            raise WorkerError("cannot start python: Resource temporarily unavailable")
        return FakeWorker("a")

    outcomes: list[Outcome] = []
    run_lanes([Lane(second_refused, units(0, 50), [1] * 50)], 4, outcomes.append)
    assert sorted(o.uid for o in outcomes) == list(range(50))
    assert all(o.failure is None for o in outcomes)
    assert len(FakeWorker.started) == 1


def test_the_feed_is_read_as_workers_need_it() -> None:
    pulled: list[int] = []

    def feed() -> Iterator[list[tuple[int, Unit, int]]]:
        for c in range(40):
            pulled.append(c)
            yield [(0, u, 100) for u in units(c * 100, 100)]

    answered: list[int] = []

    def on_outcome(o: Outcome) -> None:
        answered.append(o.uid)
        assert pulled[-1] - o.uid // 100 <= 4, (pulled[-1], o.uid)  # a few chunks ahead at most

    run_feed([lambda: FakeWorker("a")], feed(), 2, on_outcome, config=PoolConfig(low_units=200, max_units=400))
    assert sorted(answered) == list(range(4000))


def test_batches_put_large_sources_first_shrink_at_the_end_and_cover_everything() -> None:
    queue = _Queue(PoolConfig())
    sizes = [(i * 7919) % 100_000 for i in range(500)]
    for unit, size in zip(units(0, 500), sizes):
        queue.add(unit, size)
    out = []
    while queue:
        out.append(queue.take(last=True))
    flat = [u.uid for b in out for u in b]
    assert sorted(flat) == list(range(500))
    assert sizes[flat[0]] == max(sizes)
    firsts = [sizes[b[0].uid] for b in out]
    assert firsts == sorted(firsts, reverse=True)
    weights = [sum(sizes[u.uid] for u in b) for b in out]
    assert max(weights[-5:]) < max(weights[:5])  # the tail is cut in small batches


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        PoolConfig(batch_units=0)
    assert PoolConfig().replace(chunk=8).chunk == 8
