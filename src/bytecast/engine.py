"""The orchestrator: discover -> plan -> compile -> place, for ``compile`` and ``check``.

Each stage lives in its own module; this one only connects them and gathers results.
The library never prints: progress goes to an optional callback, results come back as
records, and per-file failures are collected, never raised.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from dataclasses import dataclass
    from typing import Any, Callable

    from bytecast.compiler import Worker
    from bytecast.targets import Target
else:
    from bytecast._record import dataclass

from bytecast.discover import Problem, discover
from bytecast.plan import FLAGS, Job, default_invalidation_mode, plan

__all__ = ["Options", "Report", "compile_tree", "check_tree", "usable_cpus"]


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
    """Every planned .pyc with its state before the run (``fresh``, ``missing``, ...)."""
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

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fresh(self) -> int:
        return sum(1 for j in self.jobs if j.state == "fresh")

    @property
    def sources(self) -> int:
        return len({j.source.path for j in self.jobs})

    def outcome(self, job: Job) -> str:
        """``fresh``, ``compiled`` or ``failed`` for a compile run; the state for a check."""
        if job.state == "fresh":
            return "fresh"
        if self.failed_pycs:
            return "failed" if job.cfile in self.failed_pycs else "compiled"
        return "failed" if job.source.path in self.failures else "compiled"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _plan(paths: Iterable[str], options: Options) -> tuple[list[Job], list[Problem], str, tuple[Target, ...]]:
    found = discover(paths, excludes=options.excludes, max_depth=options.max_depth, links=options.links)
    targets = options.resolved_targets()
    mode = options.resolved_mode()
    jobs = plan(
        found.sources,
        targets,
        options.resolved_levels(),
        mode,
        force=options.force,
        ddir=options.ddir,
        stripdir=options.strip_prefix,
        prependdir=options.prepend_prefix,
    )
    return jobs, found.problems, mode, targets


def check_tree(paths: Iterable[str], options: Options = Options()) -> Report:
    """Plan only: every job and whether its .pyc is fresh. Writes nothing."""
    jobs, problems, _, _ = _plan(paths, options)
    return Report(jobs, {}, problems)


def compile_tree(
    paths: Iterable[str],
    options: Options = Options(),
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Compile every source under ``paths`` whose bytecode is not fresh.

    ``progress(done, total)`` is called as sources finish. Failures (syntax errors,
    unreadable files, crashed or timed-out compiles) are collected in the report.
    """
    jobs, problems, mode, targets = _plan(paths, options)
    return compile_jobs(jobs, problems, mode, options, progress)


def compile_jobs(
    jobs: list[Job],
    problems: list[Problem],
    mode: str,
    options: Options,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Compile the planned jobs that are not fresh; the compile and place stages."""
    # One unit per (lane, source): the source is read once for all the levels of a target.
    # A lane is a target, or for Python 2 a target and a level: its compiler takes the level
    # from the process (-O), so each level needs its own workers.
    groups: dict[tuple[Target, int], dict[str, list[Job]]] = {}
    for job in jobs:
        if job.state != "fresh":
            lane_key = (job.target, job.optimize if job.target.legacy else -1)
            groups.setdefault(lane_key, {}).setdefault(job.source.path, []).append(job)
    total = sum(len(g) for g in groups.values())
    failures: dict[str, Problem] = {}
    failed: list[Problem] = []
    failed_pycs: set[str] = set()
    counts = [0, 0, 0]  # done, written, linked
    if groups:
        _compile_groups(groups, mode, options, failed, failed_pycs, counts, total, progress)
    failed = list(dict.fromkeys(failed))  # Python 2's .pyc and .pyo lanes fail alike
    for problem in failed:
        failures.setdefault(problem.path, problem)
    all_problems = sorted(problems + failed, key=lambda p: p.path)
    return Report(jobs, failures, all_problems, counts[1], counts[2], frozenset(failed_pycs))


def _compile_groups(
    groups: dict[tuple[Target, int], dict[str, list[Job]]],
    mode: str,
    options: Options,
    failed: list[Problem],
    failed_pycs: set[str],
    counts: list[int],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    from bytecast.compiler import Lane, run_lanes

    jobs_n = options.jobs or usable_cpus()
    # Memory stays flat as the tree grows: units are tuples, each unit's jobs are kept once
    # (units_by_id, to report failures), and the grouping dicts go as soon as units exist.
    units_by_id: list[tuple[Job, ...]] = []  # across every lane
    lanes: list[Lane] = []
    several = len({target for target, _ in groups}) > 1
    for (target, level), by_source in list(groups.items()):
        flags = FLAGS[mode] if target.version >= (3, 7) else 0
        units: list[tuple[object, ...]] = []
        sizes: list[int] = []
        for group in by_source.values():
            src = group[0].source
            outputs = tuple((j.optimize, j.cfile) for j in group)
            units.append((len(units_by_id), src.path, group[0].dfile, flags, options.hardlink_dupes, outputs))
            sizes.append(src.size)
            units_by_id.append(tuple(group))
        del groups[(target, level)]
        lanes.append(Lane(_spawner(target, max(level, 0)), units, sizes))

    def on_outcome(outcome: list[Any]) -> None:
        uid, written, linked, error = outcome
        counts[0] += 1
        counts[1] += written
        counts[2] += linked
        if error is not None:
            kind, message, line, col = error
            group = units_by_id[uid]
            src, target, cfiles = group[0].source, group[0].target, [j.cfile for j in group]
            if several:  # the same file may compile for one target and fail for another
                message = f"{message} (for {target.label})"
            failed.append(Problem(src.path, kind, message, line or 0, col or 0))
            failed_pycs.update(cfiles)
        if progress is not None:
            progress(counts[0], total)

    run_lanes(lanes, jobs_n, on_outcome, timeout=options.timeout)


def _spawner(target: Target, optimize: int) -> Callable[[], Worker]:
    """Starts a worker of ``target``: the same script and protocol for every interpreter."""
    from bytecast import _worker
    from bytecast.compiler import ProcessWorker
    from bytecast.targets import worker_argv

    argv = worker_argv(target, _worker.__file__, optimize)
    return lambda: ProcessWorker(argv)
