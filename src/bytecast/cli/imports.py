"""``bytecast imports``: the modules compiled code imports, and who provides them."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents import ImportsDoc
    from bytecast.imports import ImportsReport

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_walk

    p = sub.add_parser(
        "imports", help="list the modules compiled code imports, and who provides them",
        description="Find every import in pycs, folders of them, or sources (read safely, never "
        "run), and classify each module: stdlib (of the bytecode's Python), local, third-party "
        "(with the installed distribution and version) or missing. Exit 1 when an unguarded "
        "import is missing or a file could not be read.")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".pyc/.py files or folders")
    p.add_argument("--python", metavar="X.Y", help="judge stdlib membership for this version")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--requirements", action="store_true",
                   help="print what a requirements file would need")
    add_walk(p, "leave out matching files and folders (gitignore-style; repeatable)")
    p.add_argument("--links", choices=("inside", "all", "none"), default="inside",
                   help="symbolic links to follow: those leading inside the tree (default), all, none")


def run(args: argparse.Namespace) -> int:
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, err, print_json, problem_line
    from bytecast.imports import listing, scan

    if args.max_depth is not None and args.max_depth < 0:
        from bytecast.errors import UsageError

        raise UsageError(f"--max-depth must be 0 or more, not {args.max_depth}")
    report = scan(args.paths, python=args.python, excludes=args.exclude, links=args.links, max_depth=args.max_depth,
                  ignore=not args.no_ignore)
    for problem in report.problems:
        err(problem_line(problem))
    hard_missing = [m for m in report.missing if not all(s.guarded for s in m.sites)]
    if args.json:
        print_json(_json(report))
    elif args.requirements:
        seen = {}
        for m in report.modules:
            if m.kind == "third-party" and m.distribution:
                seen[m.distribution] = m.version
        for dist in sorted(seen, key=str.lower):
            sys.stdout.write(f"{dist}=={seen[dist]}\n")
        for name in sorted({m.name.split(".")[0] for m in report.missing}):
            sys.stdout.write(f"# missing: {name} (no installed distribution provides it)\n")
    else:
        for line in listing(report):  # names and paths escaped: a crafted pyc can hold anything
            sys.stdout.write(line + "\n")
    return EXIT_PROBLEMS if report.problems or hard_missing else EXIT_OK


def _json(report: ImportsReport) -> ImportsDoc:
    from bytecast.cli._output import problem_json

    return {
        "files": report.files,
        "pythons": list(report.pythons),
        "problems": [problem_json(p) for p in report.problems],
        "modules": [{
            "name": m.name, "kind": m.kind, "distribution": m.distribution, "version": m.version,
            "sites": [{"file": s.file, "line": s.line, "scope": s.scope, "guarded": s.guarded,
                       "how": s.how, "implicit_relative": s.implicit_relative} for s in m.sites],
        } for m in report.modules],
    }
