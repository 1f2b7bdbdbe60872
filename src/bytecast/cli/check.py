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
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing (no summary line); the exit status says it")


def run(args: argparse.Namespace) -> int:
    import time

    from bytecast import config
    from bytecast.cli import _output
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, err, print_json, problem_line, report_json
    from bytecast.cli._parser import selection_flags, settings_of
    from bytecast.engine import check_tree
    from bytecast.plan import STATES

    paths = args.paths or ["."]
    options = config.merge(selection_flags(args), settings_of(args), paths)
    start = time.perf_counter()
    report = check_tree(paths, options, record="all" if args.json else "changed")
    elapsed = time.perf_counter() - start
    not_fresh = [j for j in report.jobs if j.state != "fresh"]
    if args.json:
        print_json(report_json("check", report, elapsed))
    elif not args.quiet:
        for problem in report.problems:
            err(problem_line(problem))
        states: dict[str, dict[str, int]] = {}
        for job in not_fresh:
            sys.stdout.write(f"{job.source.path}: {job.state}: {STATES[job.state]} ({job.cfile})\n")
            by_state = states.setdefault(job.target.cache_tag, {})
            by_state[job.state] = by_state.get(job.state, 0) + 1
        for counts in report.by_target:
            tag = counts.target.cache_tag
            found = states.get(tag)
            verdict = ", ".join(f"{n} {state}" for state, n in sorted(found.items())) if found else "all fresh"
            _output.summary(f"checked {count(counts.pycs, 'file')} for {tag} in {_output.seconds(elapsed)}: {verdict}")
    return EXIT_OK if report.ok and not not_fresh else EXIT_PROBLEMS
