"""``bytecast imports``: the modules compiled code imports, and who provides them."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents_imports import ImportsDoc
    from bytecast.imports import ImportsReport

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    from bytecast.cli._parser import add_walk

    p = sub.add_parser(
        "imports", help="list the modules compiled code imports, and who provides them",
        description="Find every import in pycs, folders of them, or sources (read safely, never "
        "run), and classify each module: stdlib (of the bytecode's Python), local, third-party "
        "(with the distribution and version installed in the environment), missing, or "
        "typing-only (only under `if TYPE_CHECKING:`); imports under try/except ImportError or a "
        "version test are guarded; computed names are listed as dynamic. .whl, .zip and .pyz "
        "files are read directly. The nearest pyproject.toml's dependencies are compared with "
        "the imports. Exit 1 when an unguarded import is missing or undeclared, or a file could "
        "not be read.")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".pyc/.py files or folders")
    p.add_argument("--python", metavar="X.Y",
                   help="the Python the code runs on: stdlib membership and which __pycache__ pyc is read")
    p.add_argument("--env", metavar="PATH",
                   help="the venv folder or interpreter whose installed distributions provide third-party "
                   "modules (default: the active VIRTUAL_ENV, else the venv holding the path, else this Python)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--requirements", action="store_true",
                   help="print what a requirements file would need (with --json: a \"requirements\" list "
                   "in the document)")
    add_walk(p, "leave out matching files and folders (gitignore-style; repeatable)")
    p.add_argument("--links", choices=("inside", "all", "none"), default="inside",
                   help="symbolic links to follow: those leading inside the tree (default), all, none")


def run(args: argparse.Namespace) -> int:
    import os

    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, err, print_json, problem_line
    from bytecast.imports import declared_listing, listing, scan

    if args.max_depth is not None and args.max_depth < 0:
        from bytecast.errors import UsageError

        raise UsageError(f"--max-depth must be 0 or more, not {args.max_depth}")
    from bytecast.cli._parser import unusable

    for path in args.paths:  # a named special file is an argument that cannot work (see unusable)
        why = None if os.path.isdir(path) else unusable(path, "a .py or .pyc file or a folder")
        if why is not None:
            from bytecast.errors import UsageError

            raise UsageError(f"{path}: {why}")
    report = scan(args.paths, python=args.python, excludes=args.exclude, links=args.links, max_depth=args.max_depth,
                  env=args.env, ignore=not args.no_ignore)
    for problem in report.problems:
        err(problem_line(problem))
    if args.json:
        undeclared = report.declared is not None and any(u.required for u in report.declared.undeclared)
        print_json(_json(report, args.requirements, not (report.problems or report.hard_missing or undeclared)))
    elif args.requirements:
        for line in _requirements(report):
            sys.stdout.write(line + "\n")
    else:
        for line in listing(report) + declared_listing(report):  # escaped: a crafted pyc can hold anything
            sys.stdout.write(line + "\n")
    undeclared = report.declared is not None and any(u.required for u in report.declared.undeclared)
    return EXIT_PROBLEMS if report.problems or report.hard_missing or undeclared else EXIT_OK


def _requirements(report: ImportsReport) -> list[str]:
    from bytecast.safetext import escape

    seen: dict[str, str | None] = {}
    for m in report.modules:  # what runs: an import only a type checker reads needs nothing installed
        if m.kind == "third-party" and m.distribution and not all(s.typing_only for s in m.sites):
            seen[m.distribution] = m.version
    lines = [escape(f"{dist}=={seen[dist]}") for dist in sorted(seen, key=str.lower)]
    for name in sorted({m.name.split(".")[0] for m in report.missing}):
        lines.append(f"# missing: {escape(name)} (no installed distribution provides it)")
    return lines


def _json(report: ImportsReport, requirements: bool, ok: bool) -> ImportsDoc:
    from bytecast.cli._output import document

    return document(  # type: ignore[return-value]
        "imports", ok, report.problems,
        summary={"files": report.files, "modules": len(report.modules), "missing": len(report.missing)},
        pythons=list(report.pythons),
        environment=None if report.environment is None else {
            "where": report.environment.where, "python": report.environment.python,
            "site_dirs": list(report.environment.site_dirs)},
        modules=[{
            "name": m.name, "kind": m.kind, "distribution": m.distribution, "version": m.version,
            "sites": [{"file": s.file, "line": s.line, "scope": s.scope, "guarded": s.guarded,
                       "how": s.how, "implicit_relative": s.implicit_relative, "typing_only": s.typing_only,
                       "guard": s.guard} for s in m.sites],
        } for m in report.modules],
        dynamic=[{"file": d.file, "line": d.line, "scope": d.scope, "how": d.how, "pattern": d.pattern,
                  "guarded": d.guarded, "typing_only": d.typing_only} for d in report.dynamic],
        declared=None if report.declared is None else {
            "pyproject": report.declared.pyproject,
            "project": report.declared.project,
            "declared": list(report.declared.declared),
            "undeclared": [{"distribution": u.distribution, "version": u.version, "modules": list(u.modules),
                            "required": u.required} for u in report.declared.undeclared],
            "unused": [{"name": u.name, "extra": u.extra, "installed": u.installed}
                       for u in report.declared.unused],
        },
        requirements=_requirements(report) if requirements else None,
    )
