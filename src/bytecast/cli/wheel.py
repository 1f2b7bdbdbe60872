"""``bytecast wheel``: pyc-only wheels, one per input wheel (or project) and target."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, TypedDict

    # Kept beside the command (not in _documents) while the shipping commands land on their own branches.
    class WheelDoc(TypedDict):
        source: str
        target: str
        output: str
        tags: list[str]
        compiled: int
        kept: list[dict[str, str]]
        warnings: list[str]


__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_target, add_verbosity

    p = sub.add_parser("wheel", help="make pyc-only wheels of wheels or projects",
                       description="Convert each WHEEL (or PROJECT folder, built first with pypa/build) into a "
                       "wheel of bytecode only for each --target, tagged so that only that Python installs "
                       "it (cpXY-none-any, cpXY-cpXY-PLATFORM). Inputs are never changed.")
    p.add_argument("paths", nargs="+", metavar="WHEEL|PROJECT", help=".whl files or project folders")
    p.add_argument("-o", "--output", default=None, metavar="DIR", help="folder for the wheels made (required)")
    p.add_argument("-O", "--optimize", type=int, choices=(0, 1, 2), default=0, metavar="LEVEL",
                   help="optimization level 0, 1 or 2 (default 0; a sourceless module ignores -O)")
    p.add_argument("--prefix", default=None, metavar="PATH",
                   help="folder name baked into code objects before each module's path "
                   "(default: NAME-VERSION of the wheel)")
    p.add_argument("--keep", action="append", default=[], metavar="GLOB",
                   help="also keep the sources matching GLOB (besides those a package reads or runs by path)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="worker processes (default: every CPU)")
    add_verbosity(p, "compiled")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    add_target(p)


def run(args: argparse.Namespace) -> int:
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, count, err, print_json, problem_line
    from bytecast.cli._parser import FlagError, check_verbosity
    from bytecast.targets import resolve
    from bytecast.wheels import convert_wheels

    check_verbosity(args)
    if not args.output:
        raise FlagError("-o/--output DIR is required: the folder for the wheels made")
    if args.jobs is not None and args.jobs < 0:
        raise FlagError("-j/--jobs must be 0 or more")
    if args.target:
        targets = resolve(args.target)
    else:  # the rule of compile: the Python of the environment bytecast is asked from, else its own
        from bytecast.targets import default_for

        targets = (default_for([p for p in args.paths if os.path.isdir(p)]),)
    report = convert_wheels(args.paths, args.output, targets=targets, optimize=args.optimize,
                            prefix=args.prefix, keep=args.keep, jobs=args.jobs or None)
    if args.json:
        from bytecast.cli._output import document

        print_json(document(
            "wheel", report.ok, report.problems,
            wheels=[{"source": w.source, "target": w.target, "output": w.output, "tags": list(w.tags),
                     "compiled": len(w.compiled),
                     "kept": [{"path": path, "reason": why} for path, why in w.kept.items()],
                     "warnings": list(w.warnings)}
                    for w in report.wheels],
            built=[{"project": project, "wheel": wheel} for project, wheel in report.built.items()],
        ))
    else:
        for problem in report.problems:
            err(problem_line(problem))
        if not args.quiet:
            said: set[str] = set()  # a warning about an input holds for each of its targets: said once
            for w in report.wheels:
                kept = f", {len(w.kept)} kept as source" if w.kept else ""
                sys.stdout.write(f"{w.output} ({w.target}: {count(len(w.compiled), 'module')} compiled{kept})\n")
                if args.verbose:
                    for name in w.compiled:
                        sys.stdout.write(f"  {name}\n")
                    for name, why in w.kept.items():
                        sys.stdout.write(f"  kept {name}: {why}\n")
                for warning in w.warnings:
                    if warning not in said:
                        said.add(warning)
                        err(f"bytecast: warning: {warning}")
    return EXIT_OK if report.ok else EXIT_PROBLEMS
