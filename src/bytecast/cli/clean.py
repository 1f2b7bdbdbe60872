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
    from bytecast.cli._parser import add_config, add_target, add_verbosity, add_walk

    p = sub.add_parser("clean", help="remove bytecode caches (never sources)",
                       description="Remove .pyc files in __pycache__ folders (all of them by default, "
                       "of every Python version) and the folders left empty. Sourceless NAME.pyc "
                       "modules are kept unless --sourceless is given. With PYTHONPYCACHEPREFIX set, "
                       "the caches mirrored under that prefix go too. A .pyc named here that stays "
                       "is listed with the reason.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders or .pyc files (default: .)")
    p.add_argument("--stale", action="store_true", help="only caches whose source changed")
    p.add_argument("--orphans", action="store_true", help="only caches whose source is gone")
    p.add_argument("--sourceless", action="store_true",
                   help="also remove NAME.pyc files that have no NAME.py beside them")
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would go; remove nothing")
    add_walk(p, "leave matching files and folders alone (gitignore-style; repeatable)")
    add_verbosity(p, "removed")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_target(p, "only the bytecode of this interpreter (by magic number): a version (3.12), a cache tag "
               "(cpython-312), a path, a command on PATH, current, or all; repeatable (default: the caches of every Python "
               "version, whether installed or not)")
    add_config(p)


def run(args: argparse.Namespace) -> int:
    import time

    from bytecast import config
    from bytecast.clean import clean
    from bytecast.cli import _output
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, document, err, print_json, problem_line
    from bytecast.cli._parser import check_verbosity, settings_of

    check_verbosity(args)
    paths = args.paths or ["."]
    # The prefix of this interpreter's environment (PYTHONPYCACHEPREFIX or -X pycache_prefix),
    # which the interpreters that wrote the caches shared.
    prefix = getattr(sys, "pycache_prefix", None)
    flags = {"excludes": args.exclude or None, "max_depth": args.max_depth, "targets": args.target or None,
             "no_ignore": args.no_ignore}
    # No default target: without --target, clean takes every interpreter's caches.
    options = config.merge(flags, settings_of(args), paths, default_target=False)
    start = time.perf_counter()
    report = clean(paths, stale=args.stale, orphans=args.orphans,
                   sourceless=args.sourceless, dry_run=args.dry_run, excludes=options.excludes,
                   max_depth=options.max_depth, targets=options.targets, pycache_prefix=prefix,
                   ignore=not options.no_ignore)
    elapsed = time.perf_counter() - start
    if args.json:
        doc: CleanDoc = document(  # type: ignore[assignment]
            "clean", not report.problems, report.problems, dry_run=report.dry_run, removed=report.files,
            folders_removed=report.folders, kept_sourceless=report.kept_sourceless,
            kept=[{"path": k.path, "reason": k.reason} for k in report.kept])
        print_json(doc)
    else:
        for problem in report.problems:
            err(problem_line(problem))
        if not args.quiet:
            from bytecast.safetext import escape

            for stays in report.kept:
                sys.stdout.write(escape(f"kept {stays.path}: {stays.reason}") + "\n")
        verb = "would remove" if args.dry_run else "removed"
        if args.dry_run or args.verbose:
            for path in report.files:
                sys.stdout.write(f"{verb} {path}\n")
        if not args.quiet:
            kept = (f"; kept {report.kept_sourceless} sourceless (see --sourceless)"
                    if report.kept_sourceless else "")
            tags = f" for {', '.join(t.cache_tag for t in options.targets)}" if options.targets else ""
            folders = count(len(report.folders), "__pycache__ folder")
            _output.summary(f"{verb} {count(len(report.files), 'file')} and {folders}{tags} "
                            f"in {_output.seconds(elapsed)}{kept}")
    return EXIT_OK if not report.problems else EXIT_PROBLEMS
