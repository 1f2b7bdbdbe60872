"""``bytecast check``: exit 1 when a source lacks fresh bytecode (a CI gate)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.discover import Kind

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_selection

    p = sub.add_parser("check", help="report sources whose bytecode is missing or stale",
                       description="Exit 1 if any source under PATHs lacks fresh bytecode (a CI gate).")
    add_selection(p)
    p.add_argument("--sourceless", action="store_true",
                   help="check a sourceless tree: every NAME.pyc is valid bytecode for the one target "
                   "(automatic when PATHs hold no source)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing (no summary line); the exit status says it")


def run(args: argparse.Namespace) -> int:
    import time

    from bytecast import config
    from bytecast.cli import _output
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, err, print_json, problem_line, report_json
    from bytecast.cli._parser import selection_flags, settings_of
    from bytecast.engine import NOTHING_TO_CHECK, check_tree
    from bytecast.plan import STATES
    from bytecast.safetext import escape

    paths = args.paths or ["."]
    options = config.merge(selection_flags(args), settings_of(args), paths)
    start = time.perf_counter()
    if args.sourceless:
        return _sourceless(args, options, start)
    report = check_tree(paths, options, record="all" if args.json else "changed")
    if report.sources == 0 and all(p.kind == NOTHING_TO_CHECK for p in report.problems) and _has_bytecode(paths):
        return _sourceless(args, options, start)  # a tree of NAME.pyc files: check those, not nothing
    elapsed = time.perf_counter() - start
    not_fresh = [j for j in report.jobs if j.state != "fresh"]
    if args.json:
        print_json(report_json("check", report, elapsed))
    elif not args.quiet:
        for problem in report.problems:
            err(problem.message if problem.kind == NOTHING_TO_CHECK else problem_line(problem))
        states: dict[str, dict[str, int]] = {}
        for job in not_fresh:
            verdict = report.reasons.get(job.cfile)
            why = verdict.detail if verdict is not None else STATES[job.state]
            sys.stdout.write(escape(f"{job.source.path}: {job.state}: {why} ({job.cfile})") + "\n")
            by_state = states.setdefault(job.target.cache_tag, {})
            by_state[job.state] = by_state.get(job.state, 0) + 1
        nothing = any(p.kind == NOTHING_TO_CHECK for p in report.problems)  # said: no "all fresh" after it
        for counts in () if nothing else report.by_target:
            tag = counts.target.cache_tag
            found = states.get(tag)
            verdict_text = ", ".join(f"{n} {state}" for state, n in sorted(found.items())) if found else "all fresh"
            _output.summary(f"checked {count(counts.pycs, 'file')} for {tag} in {_output.seconds(elapsed)}: "
                            f"{verdict_text}")
    return EXIT_OK if report.ok and not not_fresh else EXIT_PROBLEMS


def _has_bytecode(paths: list[str]) -> bool:
    from bytecast.discover import walk

    kinds: tuple[Kind, ...] = ("bytecode",)
    return next(iter(walk(paths, [], kinds=kinds)), None) is not None


def _sourceless(args: argparse.Namespace, options: Any, start: float) -> int:
    """``check --sourceless``: every legacy NAME.pyc read back for the one target."""
    import time

    from bytecast.cli._output import (
        EXIT_OK,
        EXIT_PROBLEMS,
        count,
        document,
        err,
        print_json,
        problem_line,
        seconds,
        summary,
    )
    from bytecast.cli._parser import FlagError
    from bytecast.sourceless import verify_tree

    targets = options.resolved_targets()
    if len(targets) != 1:
        raise FlagError(f"a sourceless tree is checked for one target, not {len(targets)}: give one --target")
    report = verify_tree(args.paths or ["."], targets[0])
    elapsed = time.perf_counter() - start
    bad = {p.path for p in report.problems}
    if args.json:
        print_json(document(
            "check", report.ok, report.problems,
            elapsed=round(elapsed, 4),
            sourceless=True,
            target=targets[0].label,
            summary={"pycs": len(report.pycs), "problems": len(report.problems)},
            files=[{"pyc": pyc, "ok": pyc not in bad} for pyc in report.pycs],
        ))
    elif not args.quiet:
        for problem in report.problems:
            err(problem_line(problem))
        valid = len(report.pycs) - len(bad & set(report.pycs))
        summary(f"checked {count(len(report.pycs), 'sourceless pyc')} for {targets[0].cache_tag}: "
                + ("all valid" if valid == len(report.pycs) and report.pycs else f"{valid} valid")
                + f" in {seconds(elapsed)}")
    return EXIT_OK if report.ok else EXIT_PROBLEMS
