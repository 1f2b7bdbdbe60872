"""The orchestrator: discover -> plan -> compile -> place, for ``compile`` and ``check``.

Each stage lives in its own module; this one only connects them and gathers results.
The library never prints: progress goes to an optional callback, results come back as
records, and per-file failures are collected, never raised.
"""

from __future__ import annotations

import os
from itertools import chain, islice

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from dataclasses import dataclass
    from typing import Any, Callable

    from bytecast.compiler import Worker
    from bytecast.discover import Source
    from bytecast.plan import Job
    from bytecast.targets import Target

    Chunks = Iterator[tuple[int, list[Job]]]  # planned work as it streams: (sources, their jobs)
else:
    from bytecast._record import dataclass

from bytecast.discover import Problem, walk
from bytecast.plan import FLAGS, Job, default_invalidation_mode, legacy_levels, plan

__all__ = ["Options", "Report", "RECORDS", "compile_tree", "check_tree", "compile_jobs", "usable_cpus"]


@dataclass(frozen=True)
class Options:
    """Everything that decides which files are compiled and what bytes they get."""

    optimize: tuple[int, ...] = ()
    """Optimization levels (0, 1, 2); empty means the running interpreter's ``-O`` level."""
    invalidation_mode: str | None = None
    """``timestamp``, ``checked-hash`` or ``unchecked-hash``; None means py_compile's default."""
    force: bool = False
    """Compile even what is fresh."""
    jobs: int = 0
    """Worker processes; 0 means every usable CPU."""
    excludes: tuple[str, ...] = ()
    """gitignore-style patterns of files and folders to leave out."""
    max_depth: int | None = None
    """How many folder levels below each path to enter; None for no limit."""
    links: str = "inside"
    """Which symbolic links to follow: ``inside`` the tree, ``all`` or ``none``."""
    ddir: str | None = None
    """Replace the walked root with this in the path baked into code objects."""
    strip_prefix: str | None = None
    """Remove this leading path from the baked path (compileall ``-s``)."""
    prepend_prefix: str | None = None
    """Add this before the baked path (compileall ``-p``)."""
    hardlink_dupes: bool = False
    """Hard-link the .pyc of a level to the previous level's when the bytes are equal."""
    timeout: float = 60.0
    """Seconds one file may take to compile before it is reported and skipped."""
    targets: tuple[Target, ...] = ()
    """Interpreters to compile for; empty means the running one."""

    def resolved_levels(self) -> tuple[int, ...]:
        if self.optimize:
            return tuple(sorted(set(self.optimize)))
        import sys

        return (sys.flags.optimize if sys.flags.optimize <= 2 else 2,)

    def resolved_mode(self) -> str:
        return self.invalidation_mode or default_invalidation_mode()

    def resolved_targets(self) -> tuple[Target, ...]:
        if self.targets:
            return self.targets
        from bytecast.targets import current

        return (current(),)


@dataclass(frozen=True)
class Report:
    """What a compile or check run found and did."""

    jobs: list[Job]
    """The planned .pyc files with their state before the run (``fresh``, ``missing``, ...):
    every one, only those not fresh, or none, as the run's ``record`` asked."""
    failures: dict[str, Problem]
    """Problems by source path: files that could not be compiled."""
    problems: list[Problem]
    """Paths the walk could not read (and every compile failure, in path order)."""
    compiled: int = 0
    """Files written."""
    linked: int = 0
    """Files hard-linked to an equal file of a lower optimization level."""
    failed_pycs: frozenset[str] = frozenset()
    """The .pyc paths not written because their compile failed (for one target or more)."""
    sources: int = 0
    """Sources found."""
    pycs: int = 0
    """.pyc files planned (sources x targets x levels)."""
    fresh: int = 0
    """Planned .pyc files that were already fresh."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def outcome(self, job: Job) -> str:
        """``fresh``, ``compiled`` or ``failed`` for a compile run; the state for a check."""
        if job.state == "fresh":
            return "fresh"
        if self.failed_pycs:
            return "failed" if job.cfile in self.failed_pycs else "compiled"
        return "failed" if job.source.path in self.failures else "compiled"


RECORDS = ("all", "changed", "none")
"""Which jobs a report keeps: every one, those not fresh, or none (counts only)."""

_CHUNK = 256
"""Sources planned at a time: the run holds a few chunks in memory, never the whole tree."""
_FIRST_CHUNK = 16


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Tally:
    """Counts the planned jobs as they stream by, and keeps those the report records."""

    __slots__ = ("record", "jobs", "sources", "pycs", "fresh")

    def __init__(self, record: str) -> None:
        if record not in RECORDS:
            from bytecast.errors import UsageError

            raise UsageError(f"unknown record policy {record!r}, expected one of {', '.join(RECORDS)}")
        self.record = record
        self.jobs: list[Job] = []
        self.sources = self.pycs = self.fresh = 0

    def add(self, sources: int, jobs: list[Job]) -> None:
        self.sources += sources
        self.pycs += len(jobs)
        fresh = sum(1 for job in jobs if job.state == "fresh")
        self.fresh += fresh
        if self.record == "all":
            self.jobs.extend(jobs)
        elif self.record == "changed" and fresh < len(jobs):
            self.jobs.extend(job for job in jobs if job.state != "fresh")

    def report(self, problems: list[Problem], failed: Sequence[Problem] = (), compiled: int = 0,
               linked: int = 0, failed_pycs: frozenset[str] = frozenset()) -> Report:
        failed = list(dict.fromkeys(failed))  # Python 2's .pyc and .pyo lanes fail alike
        failures: dict[str, Problem] = {}
        for problem in failed:
            failures.setdefault(problem.path, problem)
        all_problems = sorted(problems + failed, key=lambda p: p.path)
        return Report(self.jobs, failures, all_problems, compiled, linked, failed_pycs,
                      self.sources, self.pycs, self.fresh)


def _planner(paths: Iterable[str], options: Options, problems: list[Problem]) -> tuple[str, Chunks]:
    """Check the options, then walk and plan lazily, a chunk of sources at a time."""
    targets = options.resolved_targets()
    mode = options.resolved_mode()
    levels = options.resolved_levels()

    def plan_chunk(sources: list[Source]) -> list[Job]:
        return plan(sources, targets, levels, mode, force=options.force, ddir=options.ddir,
                    stripdir=options.strip_prefix, prependdir=options.prepend_prefix)

    plan_chunk([])  # bad options fail here, before any work
    found = walk(paths, problems, excludes=options.excludes, max_depth=options.max_depth, links=options.links)

    def chunks() -> Chunks:
        size = _FIRST_CHUNK  # a small first chunk: workers start as soon as there is work
        while True:
            sources = list(islice(found, size))
            if not sources:
                return
            yield len(sources), plan_chunk(sources)
            size = _CHUNK

    return mode, chunks()


def check_tree(paths: Iterable[str], options: Options = Options(), *, record: str = "all") -> Report:
    """Plan only: every job and whether its .pyc is fresh. Writes nothing.

    ``record`` says which jobs the report keeps (:data:`RECORDS`); the counts are always there.
    """
    tally = _Tally(record)
    problems: list[Problem] = []
    _, chunks = _planner(paths, options, problems)
    for count, jobs in chunks:
        tally.add(count, jobs)
    return tally.report(problems)


def compile_tree(
    paths: Iterable[str],
    options: Options = Options(),
    progress: Callable[[int, int], None] | None = None,
    *,
    record: str = "all",
) -> Report:
    """Compile every source under ``paths`` whose bytecode is not fresh.

    The tree streams through the stages: it is walked, planned and compiled a chunk at a
    time, so memory does not grow with it (unless ``record="all"`` keeps every job).
    ``progress(done, total)`` is called as sources finish (``total`` grows while the walk goes
    on). Failures (syntax errors, unreadable files, crashed or timed-out compiles) are
    collected in the report.
    """
    tally = _Tally(record)
    problems: list[Problem] = []
    mode, chunks = _planner(paths, options, problems)
    return _compile(chunks, tally, problems, mode, options, progress)


def compile_jobs(
    jobs: list[Job],
    problems: list[Problem],
    mode: str,
    options: Options,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Compile jobs planned in advance (all of them in memory); see :func:`compile_tree`."""
    sources = len({job.source.path for job in jobs})
    return _compile(iter([(sources, jobs)]), _Tally("all"), list(problems), mode, options, progress)


def _lanes(targets: Iterable[Target], levels: Sequence[int]) -> list[tuple[Target, int]]:
    """One lane per target; a Python 2 target has one per level: its compiler takes the level
    from the process (-O), so each level needs its own workers."""
    out: list[tuple[Target, int]] = []
    for target in targets:
        if target.legacy:
            out.extend((target, level) for level in legacy_levels(levels))
        else:
            out.append((target, -1))
    return out


def _compile(
    chunks: Chunks,
    tally: _Tally,
    problems: list[Problem],
    mode: str,
    options: Options,
    progress: Callable[[int, int], None] | None,
) -> Report:
    """The compile and place stages, fed by the planner as the workers need work."""
    targets = options.resolved_targets()
    keys = _lanes(targets, options.resolved_levels())
    lane_of = {key: i for i, key in enumerate(keys)}
    several = len(targets) > 1
    inflight: dict[int, tuple[Job, ...]] = {}  # unit id -> its jobs, until its outcome arrives
    failed: list[Problem] = []
    failed_pycs: set[str] = set()
    counts = [0, 0, 0, 0]  # done, written, linked, total so far

    def feed() -> Iterator[list[tuple[int, tuple[object, ...], int]]]:
        uid = 0
        for count, jobs in chunks:
            tally.add(count, jobs)
            # One unit per (lane, source): the source is read once for all the levels of a target.
            groups: dict[int, dict[str, list[Job]]] = {}
            for job in jobs:
                if job.state != "fresh":
                    lane = lane_of[(job.target, job.optimize if job.target.legacy else -1)]
                    groups.setdefault(lane, {}).setdefault(job.source.path, []).append(job)
            out: list[tuple[int, tuple[object, ...], int]] = []
            for lane, by_source in groups.items():
                target = keys[lane][0]
                flags = FLAGS[mode] if target.version >= (3, 7) else 0
                for group in by_source.values():
                    src = group[0].source
                    outputs = tuple((j.optimize, j.cfile) for j in group)
                    out.append((lane, (uid, src.path, group[0].dfile, flags, options.hardlink_dupes, outputs), src.size))
                    inflight[uid] = tuple(group)
                    uid += 1
            if out:
                counts[3] += len(out)
                yield out

    def on_outcome(outcome: list[Any]) -> None:
        uid, written, linked, error = outcome
        group = inflight.pop(uid)
        counts[0] += 1
        counts[1] += written
        counts[2] += linked
        if error is not None:
            kind, message, line, col = error
            src, target = group[0].source, group[0].target
            if several:  # the same file may compile for one target and fail for another
                message = f"{message} (for {target.label})"
            failed.append(Problem(src.path, kind, message, line or 0, col or 0))
            failed_pycs.update(j.cfile for j in group)
        if progress is not None:
            progress(counts[0], counts[3])

    work = feed()
    first = next(work, None)  # plan until there is something to compile: a no-op starts no worker
    if first is not None:
        from bytecast.compiler import run_feed

        spawns = [_spawner(target, max(level, 0)) for target, level in keys]
        run_feed(spawns, chain([first], work), options.jobs or usable_cpus(), on_outcome, timeout=options.timeout)
    return tally.report(problems, failed, counts[1], counts[2], frozenset(failed_pycs))


def _spawner(target: Target, optimize: int) -> Callable[[], Worker]:
    """Starts a worker of ``target``: the same script and protocol for every interpreter."""
    from bytecast.compiler import WORKER_SCRIPT, ProcessWorker
    from bytecast.targets import worker_command

    argv, env = worker_command(target, WORKER_SCRIPT, optimize)
    return lambda: ProcessWorker(argv, env)
