"""``bytecast sourceless``: a tree of ``NAME.pyc`` files where the ``NAME.py`` files were."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.problem import Problem
    from bytecast.sourceless import Report

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_target, add_verbosity

    p = sub.add_parser(
        "sourceless", help="make a tree of NAME.pyc files without sources",
        description="Compile every module under SOURCE into a fresh tree OUT with NAME.pyc where NAME.py was "
        "(the layout importlib loads without sources), every other file copied as it is. OUT is built beside "
        "itself and renamed into place: complete or absent. With --in-place, each SOURCE tree is slimmed "
        "itself: every pyc is written and read back before any source is removed, and the RECORD of each "
        "installed distribution is rewritten.")
    p.add_argument("paths", nargs="+", metavar="SOURCE", help="folders (their contents are merged) or files")
    p.add_argument("-o", "--output", default=None, metavar="OUT", help="the tree to make (must not exist, "
                   "or be empty)")
    p.add_argument("--in-place", action="store_true", help="convert each SOURCE tree itself (no OUT)")
    p.add_argument("--force", action="store_true", help="replace an existing, non-empty OUT whole")
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="compile and check everything, say what would be done, write nothing")
    p.add_argument("-O", "--optimize", type=int, choices=(0, 1, 2), default=None, metavar="LEVEL",
                   help="optimization level 0 (default), 1 or 2: one per tree (a sourceless module "
                   "ignores the interpreter's -O)")
    p.add_argument("--keep", action="append", default=[], metavar="GLOB",
                   help="keep matching .py files as source (gitignore-style; repeatable)")
    p.add_argument("--name", default=None, metavar="NAME",
                   help="baked paths are <NAME/rel/path.py> (default NAME: the OUT folder's name)")
    p.add_argument("--prefix", default=None, metavar="DIR",
                   help="bake DIR/rel/path.py instead: the absolute folder the tree is installed in")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default 0: every usable CPU)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_target(p)
    add_verbosity(p, "compiled")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def _baked(args: Any, name: str) -> Any:
    from bytecast.cli._parser import FlagError
    from bytecast.sourceless import default_baked, prefix_baked

    if args.name is not None and args.prefix is not None:
        raise FlagError("--name and --prefix cannot be used together")
    if args.prefix is not None:
        return prefix_baked(args.prefix)
    return default_baked(args.name or name)


def run(args: argparse.Namespace) -> int:
    import os
    import time

    from bytecast import config
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, Progress, count, err, print_json, problem_line
    from bytecast.cli._parser import FlagError, check_verbosity
    from bytecast.sourceless import build, convert

    check_verbosity(args)
    if args.in_place == (args.output is not None):
        raise FlagError("give -o/--output OUT, or --in-place (one of them)")
    if args.in_place and args.force:
        raise FlagError("--force replaces an OUT; --in-place has none")
    if args.jobs is not None and args.jobs < 0:
        raise FlagError(f"-j/--jobs must be 0 or more, not {args.jobs}")
    flags: dict[str, Any] = {"targets": args.target or None, "jobs": args.jobs,
                             "optimize": [args.optimize] if args.optimize is not None else None}
    options = config.merge(flags, config.load_for(args.paths), args.paths)
    targets = options.resolved_targets()
    if len(targets) != 1:
        raise FlagError(f"a sourceless tree is for one target, not {len(targets)} "
                        f"({', '.join(t.label for t in targets)}): give one --target")
    target = targets[0]
    levels = options.resolved_levels() if options.optimize else (0,)
    if len(levels) != 1:
        raise FlagError("a sourceless tree has one optimization level: give one -O")
    optimize = levels[0]
    jobs = options.jobs or None
    start = time.perf_counter()
    reports: list[tuple[str, Report]] = []
    show = not (args.quiet or args.json or args.no_progress) and sys.stderr.isatty()
    progress = Progress("compiling", show)
    try:
        if args.in_place:
            for path in args.paths:
                if not os.path.isdir(path):
                    raise FlagError(f"{path}: --in-place takes folders")
            for path in args.paths:
                baked = _baked(args, os.path.basename(os.path.abspath(path)))
                reports.append((path, convert(path, target=target, optimize=optimize, keep=args.keep, baked=baked,
                                              jobs=jobs, drop_ghosts=False, dry_run=args.dry_run,
                                              progress=progress)))
        else:
            out = args.output
            baked = _baked(args, os.path.basename(os.path.abspath(out)))
            reports.append((out, build(args.paths, out, target=target, optimize=optimize, keep=args.keep,
                                       baked=baked, jobs=jobs, force=args.force, dry_run=args.dry_run,
                                       progress=progress)))
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    ok = all(r.ok for _, r in reports)
    if args.json:
        from bytecast.cli._output import document

        print_json(document(
            "sourceless", ok, [p for _, r in reports for p in r.problems],
            elapsed=round(elapsed, 4),
            target=target.label,
            optimize=optimize,
            in_place=bool(args.in_place),
            dry_run=bool(args.dry_run),
            trees=[_tree_json(where, r, bool(args.dry_run)) for where, r in reports],
        ))
        return EXIT_OK if ok else EXIT_PROBLEMS
    for where, report in reports:
        for problem in report.problems:
            err(problem_line(problem))
        if not args.quiet:
            for warning in report.warnings:
                err("warning: " + problem_line(warning))
            for rel, why in report.kept.items():
                sys.stdout.write(f"{_safe(os.path.join(where, rel))}: kept as source: {_safe(why)}\n")
        if args.verbose or args.dry_run:
            for rel in report.compiled:
                sys.stdout.write(f"{_safe(os.path.join(where, rel))}c\n")
            for rel in report.removed:
                sys.stdout.write(f"{_safe(os.path.join(where, rel))}: removed\n")
            for rel in report.records:
                sys.stdout.write(f"{_safe(os.path.join(where, rel))}: rewritten\n")
        if not args.quiet:
            if args.dry_run:
                made = "dry run, nothing written"
            elif not report.ok:
                made = "unchanged" if args.in_place else "not made"
            else:
                made = "done"
            sys.stdout.write(
                f"{_safe(where)}: {count(len(report.compiled), 'module')} compiled for {target.label}, "
                f"{len(report.kept)} kept as source, {count(len(report.warnings), 'warning')}, "
                f"{count(len(report.problems), 'problem')}: {made} ({elapsed:.2f} s)\n")
    return EXIT_OK if ok else EXIT_PROBLEMS


def _safe(text: str) -> str:
    from bytecast.safetext import escape

    return escape(text)


def _tree_json(where: str, report: Report, dry_run: bool) -> dict[str, Any]:
    from bytecast.cli._output import problem_json

    def problems(items: list[Problem]) -> list[Any]:
        return [problem_json(p) for p in items]

    return {
        "path": where,
        "changed": report.ok and not dry_run,
        "compiled": report.compiled,
        "kept": [{"path": rel, "reason": why} for rel, why in report.kept.items()],
        "warnings": problems(report.warnings),
        "problems": problems(report.problems),
        "removed": report.removed,
        "records": report.records,
    }
