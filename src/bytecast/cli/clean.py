"""``bytecast clean``: remove bytecode caches, never sources."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents import CleanDoc

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_target, add_verbosity, add_walk

    p = sub.add_parser("clean", help="remove bytecode caches (never sources)",
                       description="Remove .pyc files in __pycache__ folders (all of them by default) "
                       "and the folders left empty. Sourceless NAME.pyc modules are kept unless "
                       "--sourceless is given.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders or .pyc files (default: .)")
    p.add_argument("--stale", action="store_true", help="only caches whose source changed")
    p.add_argument("--orphans", action="store_true", help="only caches whose source is gone")
    p.add_argument("--sourceless", action="store_true",
                   help="also remove NAME.pyc files that have no NAME.py beside them")
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would go; remove nothing")
    add_walk(p, "leave matching files and folders alone (gitignore-style; repeatable)")
    add_verbosity(p, "removed")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from bytecast import config
    from bytecast.clean import clean
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, err, print_json, problem_json, problem_line
    from bytecast.cli._parser import check_verbosity

    check_verbosity(args)
    flags = {"excludes": args.exclude or None, "max_depth": args.max_depth, "targets": args.target or None,
             "no_ignore": args.no_ignore}
    options = config.merge(flags, config.load())
    report = clean(args.paths or ["."], stale=args.stale, orphans=args.orphans,
                   sourceless=args.sourceless, dry_run=args.dry_run, excludes=options.excludes,
                   max_depth=options.max_depth, targets=options.targets, ignore=not options.no_ignore)
    if args.json:
        document: CleanDoc = {
            "command": "clean",
            "ok": not report.problems,
            "dry_run": report.dry_run,
            "removed": report.files,
            "folders_removed": report.folders,
            "kept_sourceless": report.kept_sourceless,
            "problems": [problem_json(p) for p in report.problems],
        }
        print_json(document)
    else:
        for problem in report.problems:
            err(problem_line(problem))
        verb = "would remove" if args.dry_run else "removed"
        if args.dry_run or args.verbose:
            for path in report.files:
                sys.stdout.write(f"{verb} {path}\n")
        if not args.quiet and (args.dry_run or args.verbose or sys.stdout.isatty()):
            kept = (f"; kept {report.kept_sourceless} sourceless (see --sourceless)"
                    if report.kept_sourceless else "")
            sys.stdout.write(f"{verb} {count(len(report.files), 'file')} and "
                             f"{count(len(report.folders), '__pycache__ folder')}{kept}\n")
    return EXIT_OK if not report.problems else EXIT_PROBLEMS
