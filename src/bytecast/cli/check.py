"""``bytecast check``: exit 1 when a source lacks fresh bytecode (a CI gate)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_selection

    p = sub.add_parser("check", help="report sources whose bytecode is missing or stale",
                       description="Exit 1 if any source under PATHs lacks fresh bytecode (a CI gate).")
    add_selection(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; the exit status says it")


def run(args: argparse.Namespace) -> int:
    import time

    from bytecast import config
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, err, print_json, problem_line, report_json
    from bytecast.cli._parser import selection_flags
    from bytecast.engine import NOTHING_TO_CHECK, check_tree
    from bytecast.plan import STATES
    from bytecast.safetext import escape

    options = config.merge(selection_flags(args), config.load())
    start = time.perf_counter()
    report = check_tree(args.paths or ["."], options,
                        record="all" if args.json else "changed")
    elapsed = time.perf_counter() - start
    not_fresh = [j for j in report.jobs if j.state != "fresh"]
    if args.json:
        print_json(report_json("check", report, elapsed))
    elif not args.quiet:
        for problem in report.problems:
            err(problem.message if problem.kind == NOTHING_TO_CHECK else problem_line(problem))
        for job in not_fresh:
            verdict = report.reasons.get(job.cfile)
            why = verdict.detail if verdict is not None else STATES[job.state]
            sys.stdout.write(escape(f"{job.source.path}: {job.state}: {why} ({job.cfile})") + "\n")
        if sys.stdout.isatty():
            sys.stdout.write(f"{count(report.sources, 'source')}, {report.pycs} pyc: "
                             f"{report.fresh} fresh, {len(not_fresh)} not\n")
    return EXIT_OK if report.ok and not not_fresh else EXIT_PROBLEMS
