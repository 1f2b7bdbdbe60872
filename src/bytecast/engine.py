"""The orchestrator: discover -> plan -> compile -> place, for ``compile`` and ``check``.

Each stage lives in its own module; this one only connects them and gathers results. The
library never prints: progress goes to an optional callback, results come back as records,
and per-file failures are collected, never raised.
"""

from __future__ import annotations

import os
from itertools import chain, islice

from bytecast._frozen import Frozen, init
from bytecast.discover import Source, walk
from bytecast.errors import UsageError
from bytecast.options import DEFAULT_CONFIG, RECORDS, Options
from bytecast.plan import Planner, flags_for
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from typing import Callable

    from bytecast.compiler.pool import Spawn
    from bytecast.compiler.protocol import Outcome, Unit
    from bytecast.discover import Kind
    from bytecast.freshness import Verdict
    from bytecast.options import Mode, PoolConfig, RecordPolicy
    from bytecast.place import Layout
    from bytecast.plan import Job
    from bytecast.targets import Target

    Chunks = Iterator[tuple[int, list[Job]]]  # planned work as it streams: (sources, their jobs)
    Progress = Callable[[int, int], None]

__all__ = ["Options", "Report", "TargetCounts", "RECORDS", "NOTHING_TO_CHECK", "compile_tree", "check_tree",
           "compile_jobs", "compile_chunks", "usable_cpus"]

NOTHING_TO_CHECK = "NothingToCheck"
"""The kind of the problem of a check that found no source to check."""


class TargetCounts:
    """What a run planned and did for one target (counted while it runs)."""

    __slots__ = ("target", "pycs", "fresh", "compiled", "linked", "failed")

    def __init__(self, target: Target) -> None:
        self.target = target
        """The interpreter counted."""
        self.pycs = 0
        """.pyc files planned for it."""
        self.fresh = 0
        """Of those, already fresh."""
        self.compiled = 0
        """Files written."""
        self.linked = 0
        """Files hard-linked to an equal file of a lower level."""
        self.failed = 0
        """.pyc files not written because their compile failed."""


class Report(Frozen):
    """What a compile or check run found and did."""

    __slots__ = ("jobs", "failures", "problems", "compiled", "linked", "failed_pycs", "sources", "pycs", "fresh",
                 "by_target", "warnings", "reasons")

    jobs: list[Job]
    """The planned .pyc files with their state before the run (``fresh``, ``missing``, ...):
    every one, only those not fresh, or none, as the run's ``record`` asked."""
    failures: dict[str, Problem]
    """Problems by source path: files that could not be compiled (for one target or more)."""
    problems: list[Problem]
    """Every problem: paths the walk could not read, compile and placement failures, by path."""
    compiled: int
    """Files written."""
    linked: int
    """Files hard-linked to an equal file of a lower optimization level."""
    failed_pycs: frozenset[str]
    """The .pyc paths not written because their compile failed."""
    sources: int
    """Sources found."""
    pycs: int
    """.pyc files planned (sources x targets x levels)."""
    fresh: int
    """Planned .pyc files that were already fresh."""
    by_target: tuple[TargetCounts, ...]
    """The counts of each target, in the order of the run's targets."""

    warnings: list[Problem]
    """Compiler warnings of the files compiled (kind ``warning``, the message starting with the
    category: ``SyntaxWarning: invalid escape sequence '\\d'``), by path; they fail nothing."""
    reasons: dict[str, Verdict]
    """For a check: why each recorded job that is not fresh is not, by its .pyc path."""

    def __init__(self, jobs: list[Job], failures: dict[str, Problem], problems: list[Problem], compiled: int = 0,
                 linked: int = 0, failed_pycs: frozenset[str] = frozenset(), sources: int = 0, pycs: int = 0,
                 fresh: int = 0, by_target: Iterable[TargetCounts] = (), warnings: list[Problem] | None = None,
                 reasons: dict[str, Verdict] | None = None) -> None:
        init(self, "jobs", jobs)
        init(self, "failures", failures)
        init(self, "problems", problems)
        init(self, "compiled", compiled)
        init(self, "linked", linked)
        init(self, "failed_pycs", failed_pycs)
        init(self, "sources", sources)
        init(self, "pycs", pycs)
        init(self, "fresh", fresh)
        init(self, "by_target", tuple(by_target))
        init(self, "warnings", warnings or [])
        init(self, "reasons", reasons or {})

    @property
    def ok(self) -> bool:
        return not self.problems

    def outcome(self, job: Job) -> str:
        """``fresh``, ``compiled`` or ``failed`` for a compile run."""
        if job.state == "fresh":
            return "fresh"
        return "failed" if job.cfile in self.failed_pycs else "compiled"


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Tally:
    """Counts the planned jobs as they stream by, and keeps those the report records."""

    __slots__ = ("record", "jobs", "sources", "pycs", "fresh", "per_target")

    def __init__(self, record: RecordPolicy) -> None:
        if record not in RECORDS:
            raise UsageError(f"unknown record policy {record!r}, expected one of {', '.join(RECORDS)}", "record")
        self.record = record
        self.jobs: list[Job] = []
        self.sources = self.pycs = self.fresh = 0
        self.per_target: dict[str, TargetCounts] = {}

    def track(self, planner: Planner) -> None:
        """Count per target of ``planner``'s lanes."""
        self.per_target = {lane.target.cache_tag: TargetCounts(lane.target) for lane in planner.lanes}

    def add(self, sources: int, jobs: list[Job]) -> None:
        self.sources += sources
        self.pycs += len(jobs)
        fresh = sum(1 for job in jobs if job.state == "fresh")
        self.fresh += fresh
        per = self.per_target
        if len(per) == 1:  # the common run: no per-job work
            only = next(iter(per.values()))
            only.pycs += len(jobs)
            only.fresh += fresh
        elif per:
            for job in jobs:
                counts = per[job.target.cache_tag]
                counts.pycs += 1
                if job.state == "fresh":
                    counts.fresh += 1
        if self.record == "all":
            self.jobs.extend(jobs)
        elif self.record == "changed" and fresh < len(jobs):
            self.jobs.extend(job for job in jobs if job.state != "fresh")

    def report(self, problems: list[Problem], failed: Sequence[Problem] = (), compiled: int = 0,
               linked: int = 0, failed_pycs: frozenset[str] = frozenset(), warnings: Sequence[Problem] = (),
               reasons: dict[str, Verdict] | None = None) -> Report:
        failed = list(dict.fromkeys(failed))  # Python 2's .pyc and .pyo lanes fail alike
        failures: dict[str, Problem] = {}
        for problem in failed:
            failures.setdefault(problem.path, problem)
        all_problems = sorted(problems + failed, key=lambda p: p.path)
        # by path, each file's in the order its compiler gave them (outcomes come in any order)
        ordered = sorted(dict.fromkeys(warnings), key=lambda p: p.path)  # Python 2's levels warn alike
        return Report(self.jobs, failures, all_problems, compiled, linked, failed_pycs,
                      self.sources, self.pycs, self.fresh, self.per_target.values(), ordered, reasons)


def _planner(paths: Iterable[str], options: Options, problems: list[Problem],
             layout: Layout | None, tuning: PoolConfig) -> tuple[Planner, Chunks]:
    """Check the options, then walk and plan lazily, a chunk of sources at a time."""
    planner = Planner(options, layout)  # bad options fail here, before any work
    kinds: tuple[Kind, ...] = ("source", "file") if planner.layout.takes_files else ("source",)
    found = walk(paths, problems, excludes=options.excludes, max_depth=options.max_depth,
                 links=options.links, kinds=kinds, ignore=not options.no_ignore)
    copy = planner.layout.copy
    first, later = tuning.first_chunk, tuning.chunk

    def chunks() -> Chunks:
        size = first  # a small first chunk: workers start as soon as there is work
        while True:
            taken = list(islice(found, size))
            if not taken:
                return
            if kinds == ("source",):
                sources: list[Source] = taken  # type: ignore[assignment]
            else:  # the layout takes the other files as they come
                sources = []
                for item in taken:
                    if isinstance(item, Source):
                        sources.append(item)
                    else:
                        copy(item)
            if sources:
                yield len(sources), planner.plan(sources)
            size = later

    return planner, chunks()


def check_tree(paths: Iterable[str], options: Options = Options(), *, record: RecordPolicy = "all",
               tuning: PoolConfig | None = None) -> Report:
    """Plan only: every job and whether its .pyc is fresh. Writes nothing.

    ``record`` says which jobs the report keeps (``all``, ``changed``, ``none``); the counts
    are always there, and each recorded job that is not fresh has its reason in
    ``Report.reasons``. A check that finds no source at all is a problem (``NothingToCheck``):
    a gate that checks nothing must not pass.
    """
    tally = _Tally(record)
    problems: list[Problem] = []
    paths = list(paths)
    planner, chunks = _planner(paths, options, problems, None, tuning or DEFAULT_CONFIG)
    tally.track(planner)
    for count, jobs in chunks:
        tally.add(count, jobs)
    if not tally.sources:
        where = ", ".join(paths)
        problems.append(Problem(where, NOTHING_TO_CHECK, f"nothing to check: no Python sources under {where}"))
    reasons = {job.cfile: planner.explain(job) for job in tally.jobs if job.state != "fresh"}
    return tally.report(problems, reasons=reasons)


def compile_tree(
    paths: Iterable[str],
    options: Options = Options(),
    progress: Progress | None = None,
    *,
    record: RecordPolicy = "all",
    layout: Layout | None = None,
    tuning: PoolConfig | None = None,
) -> Report:
    """Compile every source under ``paths`` whose bytecode is not fresh, into ``layout``
    (default: ``__pycache__`` beside each source).

    The tree streams through the stages: it is walked, planned and compiled a chunk at a
    time, so memory does not grow with it (unless ``record="all"`` keeps every job).
    ``progress(done, total)`` is called as sources finish (``total`` grows while the walk goes
    on). Failures (syntax errors, unreadable files, crashed or timed-out compiles, files a
    layout could not place) are collected in the report. ``tuning`` sets how the run streams
    and schedules (:class:`~bytecast.compiler.pool.PoolConfig`; the defaults are measured).
    """
    tally = _Tally(record)
    problems: list[Problem] = []
    tuning = tuning or DEFAULT_CONFIG
    planner, chunks = _planner(paths, options, problems, layout, tuning)
    return _compile(chunks, tally, problems, planner, options, progress, tuning)


def compile_jobs(jobs: list[Job], problems: list[Problem], options: Options,
                 progress: Progress | None = None, layout: Layout | None = None) -> Report:
    """Compile jobs planned in advance (all of them in memory); see :func:`compile_tree`."""
    return compile_chunks([jobs], options, progress, layout, problems)


def compile_chunks(chunks: Iterable[list[Job]], options: Options, progress: Progress | None = None,
                   layout: Layout | None = None, problems: Sequence[Problem] = ()) -> Report:
    """:func:`compile_jobs` of jobs planned a list at a time: each list is taken only when the
    workers need more work, so a caller prepares the next while the first compile."""
    planner = Planner(options, layout)
    counted = ((len({job.source.path for job in chunk}), chunk) for chunk in chunks)
    return _compile(counted, _Tally("all"), list(problems), planner, options, progress, DEFAULT_CONFIG)


def _compile(chunks: Chunks, tally: _Tally, problems: list[Problem], planner: Planner, options: Options,
             progress: Progress | None, tuning: PoolConfig) -> Report:
    """The compile and place stages, fed by the planner as the workers need work."""
    layout = planner.layout
    tally.track(planner)
    per_target = tally.per_target
    # One worker lane per target; a Python 2 target has one per level of its own: its compiler
    # takes the level from the process (-O), so each level needs its own workers.
    keys = [(lane.target, level) for lane in planner.lanes
            for level in (lane.levels if lane.target.legacy else (-1,))]
    lane_of = {key: i for i, key in enumerate(keys)}
    several = len(planner.lanes) > 1
    give_back = not layout.in_worker
    # a layout that takes bytes their worker checked, with what their code names (sourceless)
    accept_checked = getattr(layout, "accept_checked", None) if give_back else None
    # a layout told of each job that failed as it fails (a wheel is written once its last module is in)
    on_failed = getattr(layout, "failed", None) if give_back else None
    inflight: dict[int, tuple[Job, ...]] = {}  # unit id -> its jobs, until its outcome arrives
    failed: list[Problem] = []
    warned: list[Problem] = []
    warning_policy = options.warnings
    failed_pycs: set[str] = set()
    counts = [0, 0, 0, 0]  # done, written, linked, total so far
    mode: Mode = planner.mode

    def feed() -> Iterator[list[tuple[int, Unit, int]]]:
        uid = 0
        for count, jobs in chunks:
            tally.add(count, jobs)
            # One unit per (lane, source): the source is read once for all the levels of a target.
            groups: dict[int, dict[str, list[Job]]] = {}
            for job in jobs:
                if job.state != "fresh":
                    lane = lane_of[(job.target, job.optimize if job.target.legacy else -1)]
                    groups.setdefault(lane, {}).setdefault(job.source.path, []).append(job)
            out: list[tuple[int, Unit, int]] = []
            if groups:  # the compile stage is imported only when there is something to compile
                from bytecast.compiler.protocol import Unit
            for lane, by_source in groups.items():
                flags = flags_for(keys[lane][0], mode)
                for group in by_source.values():
                    src = group[0].source
                    outputs = tuple((j.optimize, "" if give_back else j.cfile) for j in group)
                    unit = Unit(uid, src.path, group[0].dfile, flags, options.hardlink_dupes, outputs, give_back,
                                warning_policy, accept_checked is not None)
                    out.append((lane, unit, src.size))
                    inflight[uid] = tuple(group)
                    uid += 1
            if out:
                counts[3] += len(out)
                yield out

    def on_outcome(outcome: Outcome) -> None:
        group = inflight.pop(outcome.uid)
        counts[0] += 1
        counts[1] += outcome.written
        counts[2] += outcome.linked
        mine = per_target[group[0].target.cache_tag]
        mine.compiled += outcome.written
        mine.linked += outcome.linked
        failure = outcome.failure
        if outcome.warnings:
            path, label = group[0].source.path, group[0].target.label if several else None
            warned.extend(Problem(path, "warning", f"{w.category}: {w.message}", w.line, w.column, label)
                          for w in outcome.warnings)
        if failure is not None:
            mine.failed += len(group)
            src, target = group[0].source, group[0].target
            # the same file may compile for one target and fail for another: say for which
            failed.append(Problem(src.path, failure.kind, failure.message, failure.line, failure.column,
                                  target.label if several else None))
            failed_pycs.update(j.cfile for j in group)
            if on_failed is not None:
                for job in group:
                    on_failed(job, failed[-1])
        elif give_back:
            if accept_checked is not None and len(outcome.facts) == len(outcome.blobs):
                for job, (_, data), facts in zip(group, outcome.blobs, outcome.facts):
                    accept_checked(job, data, facts)
            else:
                for job, (_, data) in zip(group, outcome.blobs):
                    layout.accept(job, data)
            counts[1] += len(outcome.blobs)
            mine.compiled += len(outcome.blobs)
        if progress is not None:
            progress(counts[0], counts[3])

    work = feed()
    first = next(work, None)  # plan until there is something to compile: a no-op starts no worker
    if first is not None:
        from bytecast.compiler.pool import run_feed
        from bytecast.compiler.workers import spawner

        spawns: list[Spawn] = [spawner(target, max(level, 0)) for target, level in keys]
        run_feed(spawns, chain([first], work), options.jobs or usable_cpus(), on_outcome, timeout=options.timeout,
                 config=tuning)
    problems.extend(layout.finish())
    return tally.report(problems, failed, counts[1], counts[2], frozenset(failed_pycs), warned)
