"""The orchestrator: discover -> plan -> compile -> place, for ``compile`` and ``check``.

Each stage lives in its own module; this one only connects them and gathers results.
The library never prints: progress goes to an optional callback, results come back as
records, and per-file failures are collected, never raised.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass
    from typing import Callable, Iterable, Sequence

    from bytecast.targets import Target
else:
    from bytecast._record import dataclass

from bytecast.discover import Problem, Source, discover
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
    # One unit per (target, source): the source is read once for all its levels.
    groups: dict[Target, dict[str, list[Job]]] = {}
    for job in jobs:
        if job.state != "fresh":
            groups.setdefault(job.target, {}).setdefault(job.source.path, []).append(job)
    total = sum(len(g) for g in groups.values())
    failures: dict[str, Problem] = {}
    counts = [0, 0, 0]  # done, written, linked
    jobs_n = options.jobs or usable_cpus()

    for target, by_source in groups.items():
        flags = FLAGS[mode] if target.version >= (3, 7) else 0
        units: list[list[object]] = []
        sizes: list[int] = []
        sources: list[Source] = []
        for uid, group in enumerate(by_source.values()):
            src = group[0].source
            outputs = [[j.optimize, j.cfile] for j in group]
            units.append([uid, src.path, group[0].dfile, flags, options.hardlink_dupes, outputs])
            sizes.append(src.size)
            sources.append(src)

        def on_outcome(outcome: list[object], sources: list[Source] = sources) -> None:
            uid, written, linked, error = outcome
            counts[0] += 1
            counts[1] += written  # type: ignore[operator]
            counts[2] += linked  # type: ignore[operator]
            if error is not None:
                kind, message, line, col = error  # type: ignore[misc]
                path = sources[uid].path  # type: ignore[index]
                failures[path] = Problem(path, kind, message, line or 0, col or 0)
            if progress is not None:
                progress(counts[0], total)

        from bytecast.compiler import run_units

        spawn = None if target.is_current else _foreign_spawner(target)
        run_units(units, sizes, jobs_n, on_outcome, spawn=spawn, timeout=options.timeout)  # type: ignore[arg-type]

    all_problems = sorted(problems + list(failures.values()), key=lambda p: p.path)
    return Report(jobs, failures, all_problems, counts[1], counts[2])


def _foreign_spawner(target: Target) -> Callable[[], object]:
    from bytecast.errors import TargetError

    raise TargetError(f"compiling for {target.label} is not supported yet")
