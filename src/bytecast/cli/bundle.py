"""``bytecast bundle``: an application and its dependencies as one file, for several Pythons."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

__all__ = ["add", "run", "show"]


def add(sub: Any) -> None:
    p = sub.add_parser(
        "bundle",
        help="build one file that runs an application on every Python it holds code for",
        description=(
            "Install INPUT (a project folder, wheels, or requirement specifiers) and its "
            "dependencies with pip for each target, compile them, and write one file: a zip "
            "behind a short /bin/sh preamble that starts a Python the file holds code for. "
            "Modules are served from the file (no extraction, no compile at run time); native "
            "extensions and data files are written once to a folder per distribution under "
            "the user cache (see 'bytecast cache')."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="project folder, wheel, or requirement")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (app.pyz)")
    entry = p.add_mutually_exclusive_group()
    entry.add_argument("-c", "--console-script", metavar="NAME", default=None,
                       help="run this console script of the installed distributions")
    entry.add_argument("-e", "--entry-point", metavar="MODULE:FUNCTION", default=None,
                       help="call this function; its result is the exit status")
    entry.add_argument("-m", "--module", metavar="MODULE", default=None, help="run this module as __main__")
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help="interpreter to hold code for (repeatable; default: every one found, "
                   "3.9 or later, that the application's Requires-Python allows)")
    p.add_argument("--fast-start", action="store_true",
                   help="start faster: no garbage collection while the entry module imports, the "
                   "objects made by then frozen out of later collections, the youngest generation "
                   "collected every 50,000 allocations instead of 700, and no interpreter "
                   "teardown at exit (threads are joined, exit handlers run, standard streams "
                   "flushed; finalizers of objects still alive do not run)")
    p.add_argument("--name", default=None, help="the application's name in messages (default: the first input's)")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="compile workers (default: every CPU)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from bytecast.bundle import build, default_targets
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, document, err, print_json, problem_json, problem_line
    from bytecast.targets import resolve

    named = bool(args.target)
    targets = resolve(args.target) if named else default_targets()

    def log(message: str) -> None:
        if not args.quiet and not args.json:
            sys.stderr.write(f"bytecast: {message}\n")

    report = build(args.inputs, args.output, targets, script=args.console_script, function=args.entry_point,
                   module=args.module, fast=args.fast_start, name=args.name, jobs=args.jobs, log=log,
                   strict=named)
    if args.json:
        print_json(document(
            "bundle", report.ok, report.problems,
            output=os.path.abspath(args.output) if report.ok else None,
            size=report.size,
            sha256=report.sha256,
            targets=report.targets,
            skipped=report.skipped,
            warnings=[problem_json(p) for p in report.warnings],
        ))
    else:
        for problem in report.warnings:
            err(problem_line(problem))
        for skipped in report.skipped:
            err(f"skipped {skipped['target']}: {skipped['reason']}")
        for problem in report.problems:
            err(problem_line(problem))
        if report.ok and not args.quiet:
            held = ", ".join(t["python"] for t in report.targets)
            sys.stderr.write(f"wrote {args.output}: {report.size / 1e6:.1f} MB, code for Python {held}\n")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def show(name: str, as_json: bool, document: Any) -> int:
    """``bytecast inspect`` of a bundle: what it holds (from its ``bundle.json``; nothing in it is
    run or unmarshalled), added to ``document`` with ``as_json``, else printed; 1 when it
    cannot be read."""
    import sys

    from bytecast.bundle import describe
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, err, print_rows, problem_json, split_problem
    from bytecast.errors import DataError
    from bytecast.safetext import escape

    try:
        about = describe(name)
    except DataError as exc:
        err(escape(str(exc)))
        document["files"].append({"path": name, "error": str(exc)})
        document["problems"].append(problem_json(split_problem(str(exc), "DataError")))
        return EXIT_PROBLEMS
    if as_json:
        document["files"].append({"path": name, "bundle": about})
        return EXIT_OK
    out = sys.stdout.write
    out(escape(f"{name}: bundle of {about.get('name')} (format {about.get('format')}), "
               f"{about['size'] / 1e6:.1f} MB, Requires-Python {about.get('requires_python') or 'any'}"
               f"{', fast start' if about.get('fast_start') else ''}") + "\n")
    rows = [("PYTHON", "ENTRY POINT", "MODULES", "CODE", "DISTRIBUTIONS", "NATIVE", "STDLIB")]
    for t in about["targets"]:
        entry = t.get("entry", {})
        point = f"{entry.get('module')}:{entry.get('attribute')}" if entry.get("attribute") else f"-m {entry.get('module')}"
        rows.append((str(t.get("python")), point, str(t.get("modules")), f"{t.get('index_bytes', 0) / 1e6:.1f} MB",
                     str(len(t.get("distributions", []))), str(len(t.get("native", []))),
                     str(t.get("stdlib_modules", 0))))
    print_rows([[escape(c) for c in row] for row in rows])
    newest = about["targets"][-1] if about["targets"] else {}  # listed oldest first
    for dist in newest.get("distributions", []):
        out(escape(f"  {dist.get('name')} {dist.get('version')}") + "\n")
    for native in newest.get("native", []):
        out(escape(f"  native: {native}") + "\n")
    return EXIT_OK
