"""``bytecast compile``: compile every source whose bytecode is missing or stale."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.options import RecordPolicy

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_selection, add_verbosity

    p = sub.add_parser("compile", help="compile sources to bytecode (__pycache__)",
                       description="Compile every .py file under PATHs whose bytecode is missing or stale.")
    add_selection(p)
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default 0: every usable CPU)")
    p.add_argument("-f", "--force", action="store_true", help="recompile even fresh bytecode")
    p.add_argument("--hardlink-dupes", action="store_true", default=None,
                   help="hard-link equal .pyc files of different optimization levels")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="give up on a file whose compile takes longer (default 60)")
    p.add_argument("--warnings", choices=("ignore", "show", "error"), default=None,
                   help="compiler warnings (SyntaxWarning...): show them (default), ignore them, or make "
                        "each an error of its file, which then gets no pyc (as python -W error)")
    add_verbosity(p, "compiled")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def run(args: argparse.Namespace) -> int:
    import time

    from bytecast import config
    from bytecast.cli import _output
    from bytecast.cli._output import (
        EXIT_OK,
        EXIT_PROBLEMS,
        Progress,
        count,
        err,
        print_json,
        problem_line,
        report_json,
        warning_line,
    )
    from bytecast.cli._parser import check_verbosity, selection_flags, settings_of
    from bytecast.engine import compile_tree

    check_verbosity(args)
    paths = args.paths or ["."]
    flags = selection_flags(args)
    flags.update(jobs=args.jobs, force=args.force or None, hardlink_dupes=args.hardlink_dupes,
                 timeout=args.timeout, warnings=args.warnings)
    options = config.merge(flags, settings_of(args), paths)
    show = not (args.quiet or args.json or args.no_progress) and sys.stderr.isatty()
    progress = Progress("compiling", show)
    start = time.perf_counter()
    try:
        # Per-file records only when they are printed: without them memory stays flat.
        record: RecordPolicy = "all" if args.json else "changed" if args.verbose else "none"
        report = compile_tree(paths, options, progress, record=record)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    if args.json:
        print_json(report_json("compile", report, elapsed))
    else:
        for problem in sorted(report.problems + report.warnings, key=lambda p: p.path):
            err(warning_line(problem) if problem.kind == "warning" else problem_line(problem))
        if args.verbose:
            for job in report.jobs:
                if job.state != "fresh" and job.source.path not in report.failures:
                    sys.stdout.write(f"{job.cfile}\n")
        if not args.quiet:
            for counts in report.by_target:
                notes = [f"{n} {word}" for n, word in ((counts.linked, "linked"), (counts.fresh, "fresh"),
                                                       (counts.failed, "failed")) if n]
                warned = sum(1 for w in report.warnings if w.target in (None, counts.target.label))
                if warned:
                    notes.append(count(warned, "warning"))
                extra = f" ({', '.join(notes)})" if notes else ""
                _output.summary(f"compiled {count(counts.compiled, 'file')} for {counts.target.cache_tag} "
                                f"in {_output.seconds(elapsed)}{extra}")
    return EXIT_OK if report.ok else EXIT_PROBLEMS
