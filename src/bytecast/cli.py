"""The command line: parse arguments, call one library function, render its result.

Only this module prints and chooses exit codes: 0 all good, 1 the work found problems,
2 the command could not run. No logic lives here; each ``_cmd_*`` function is a thin shell
over the library. Commands import what they need when they run, so a no-op run stays cheap.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, Callable, NoReturn

    from bytecast.discover import Problem
    from bytecast.engine import Options, Report
    from bytecast.magic import MagicEntry
    from bytecast.options import RecordPolicy
    from bytecast.targets import Target

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

if TYPE_CHECKING:
    Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _print_json(document: object) -> None:
    import json

    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")


def _columns() -> int:
    import os

    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _new_parser(**kwargs: Any) -> argparse.ArgumentParser:
    """An ArgumentParser whose usage errors are one line on stderr, exit 2.

    argparse is imported here, not with this module: the common command lines never need it
    (:mod:`bytecast._quickargs` reads them from the same declarations).
    """
    import argparse

    class Formatter(argparse.HelpFormatter):
        """argparse's formatter, minus the ``shutil`` import it makes for every argument added."""

        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            if width is None:
                width = _columns() - 2
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    return Parser(**kwargs)


# --- commands -------------------------------------------------------------------------------
# Each command is a pair: _add_NAME(subparsers) declares its arguments, _cmd_NAME(args) runs it.


def _add_selection(p: argparse.ArgumentParser) -> None:
    """The flags that choose sources and the bytecode wanted, shared by compile and check."""
    p.add_argument("paths", nargs="*", metavar="PATH", help="files and folders (default: .)")
    p.add_argument("-x", "--exclude", action="append", default=[], metavar="GLOB",
                   help="leave out matching files and folders (gitignore-style; repeatable)")
    p.add_argument("--max-depth", type=int, default=None, metavar="N",
                   help="enter at most N folder levels below each path")
    p.add_argument("--links", choices=("inside", "all", "none"), default=None,
                   help="symbolic links to follow: those leading inside the tree (default), all, none")
    p.add_argument("-O", "--optimize", action="append", type=int, choices=(0, 1, 2), default=[],
                   metavar="LEVEL", help="optimization level 0, 1 or 2 (repeatable; default: 0)")
    p.add_argument("--invalidation-mode", choices=("timestamp", "checked-hash", "unchecked-hash"),
                   default=None, help="how the pyc is checked against its source (default as "
                   "py_compile: checked-hash when SOURCE_DATE_EPOCH is set, else timestamp)")
    p.add_argument("--ddir", default=None, metavar="DIR",
                   help="path baked into code objects in place of each PATH")
    p.add_argument("--strip-prefix", default=None, metavar="DIR",
                   help="remove this prefix from the path baked into code objects")
    p.add_argument("--prepend-prefix", default=None, metavar="DIR",
                   help="add this prefix to the path baked into code objects")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _add_target(p)


def _add_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help="interpreter to compile for: current (default), a version (3.12), a cache "
                   "tag (cpython-312), a path, or all (every one found; see 'bytecast targets'); "
                   "repeatable")


def _targets(args: argparse.Namespace, settings: dict[str, Any] | None = None) -> tuple[Target, ...]:
    """The targets of ``--target`` (or of ``target`` in ``[tool.bytecast]``); () for the running one."""
    specs: Any = args.target or (settings or {}).get("target") or []
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        return ()
    from bytecast.targets import resolve

    return tuple(resolve([str(spec) for spec in specs]))


def _options(args: argparse.Namespace, **extra: Any) -> Options:
    """Options from the flags, with ``[tool.bytecast]`` of pyproject.toml for what they leave unset."""
    from bytecast.config import load_settings
    from bytecast.errors import UsageError
    from bytecast.options import Options

    settings = load_settings()

    def pick(value: Any, key: str, default: Any) -> Any:
        if value is not None and value != []:
            return value
        return settings.get(key, default)

    optimize = pick(args.optimize, "optimize", [])
    max_depth = pick(args.max_depth, "max-depth", None)
    if max_depth is not None and max_depth < 0:
        raise UsageError("--max-depth must be 0 or more")
    keys = {"jobs": "jobs", "force": "", "hardlink_dupes": "hardlink-dupes", "timeout": "timeout"}
    for name, value in list(extra.items()):
        if value is None and keys.get(name) in settings:
            extra[name] = settings[keys[name]]
        elif value is None:
            del extra[name]
    return Options(
        optimize=tuple(optimize if isinstance(optimize, list) else [optimize]),
        invalidation_mode=pick(args.invalidation_mode, "invalidation-mode", None),
        excludes=tuple(settings.get("exclude", [])) + tuple(args.exclude),
        max_depth=max_depth,
        links=pick(args.links, "links", "inside"),
        ddir=args.ddir,
        strip_prefix=args.strip_prefix,
        prepend_prefix=args.prepend_prefix,
        targets=_targets(args, settings),
        **extra,
    )


class _Progress:
    """A rich progress bar on stderr, shown only once the work has taken half a second."""

    DELAY = 0.5

    def __init__(self, label: str, enabled: bool) -> None:
        import time

        self.label = label
        self.enabled = enabled
        self.clock = time.monotonic
        self.start = self.clock()
        self.last = 0.0
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self.bar is None:
            if now - self.start < self.DELAY or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True, auto_refresh=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        if now - self.last >= 0.1 or done >= total:
            self.last = now
            self.bar.update(self.task, completed=done, total=total)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _problem_json(p: Problem) -> dict[str, object]:
    return {"path": p.path, "kind": p.kind, "message": p.message, "line": p.line, "column": p.column}


def _report_json(command: str, report: Report, elapsed: float) -> dict[str, object]:
    r = report
    files = []
    for job in r.jobs:
        entry: dict[str, object] = {
            "source": job.source.path,
            "target": job.target.cache_tag,
            "optimize": job.optimize,
            "pyc": job.cfile,
            "state": job.state,
        }
        if command == "compile":
            entry["outcome"] = r.outcome(job)
            failure = r.failures.get(job.source.path)
            if failure is not None:
                entry["error"] = _problem_json(failure)
        files.append(entry)
    return {
        "command": command,
        "ok": r.ok,
        "elapsed": round(elapsed, 4),
        "summary": {
            "sources": r.sources,
            "pycs": r.pycs,
            "fresh": r.fresh,
            "compiled": r.compiled,
            "linked": r.linked,
            "failed": len(r.failures),
            "problems": len(r.problems),
        },
        "problems": [_problem_json(p) for p in r.problems],
        "files": files,
    }


def _add_compile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compile", help="compile sources to bytecode (__pycache__)",
                       description="Compile every .py file under PATHs whose bytecode is missing or stale.")
    _add_selection(p)
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default 0: every usable CPU)")
    p.add_argument("-f", "--force", action="store_true", help="recompile even fresh bytecode")
    p.add_argument("--hardlink-dupes", action="store_true", default=None,
                   help="hard-link equal .pyc files of different optimization levels")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="give up on a file whose compile takes longer (default 60)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("-v", "--verbose", action="store_true", help="list every file compiled")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(handler=_cmd_compile)


def _cmd_compile(args: argparse.Namespace) -> int:
    import time

    from bytecast.engine import compile_tree

    if args.jobs is not None and args.jobs < 0:
        from bytecast.errors import UsageError

        raise UsageError("--jobs must be 0 (every CPU) or more")
    options = _options(args, jobs=args.jobs, force=args.force, hardlink_dupes=args.hardlink_dupes,
                       timeout=args.timeout)
    show = not (args.quiet or args.json or args.no_progress) and sys.stderr.isatty()
    progress = _Progress("compiling", show)
    start = time.perf_counter()
    try:
        # Per-file records only when they are printed: without them memory stays flat.
        record: RecordPolicy = "all" if args.json else "changed" if args.verbose else "none"
        report = compile_tree(args.paths or ["."], options, progress, record=record)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    if args.json:
        _print_json(_report_json("compile", report, elapsed))
    else:
        for problem in report.problems:
            _err(str(problem))
        if args.verbose:
            for job in report.jobs:
                if job.state != "fresh" and job.source.path not in report.failures:
                    sys.stdout.write(f"{job.cfile}\n")
        if not args.quiet and (args.verbose or sys.stdout.isatty()):
            sys.stdout.write(
                f"{report.sources} sources: {report.compiled} pyc written, {report.linked} linked, "
                f"{report.fresh} fresh, {len(report.failures)} failed ({elapsed:.2f} s)\n"
            )
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="report sources whose bytecode is missing or stale",
                       description="Exit 1 if any source under PATHs lacks fresh bytecode (a CI gate).")
    _add_selection(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; the exit status says it")
    p.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    import time

    from bytecast.engine import check_tree
    from bytecast.plan import STATES

    start = time.perf_counter()
    report = check_tree(args.paths or ["."], _options(args), record="all" if args.json else "changed")
    elapsed = time.perf_counter() - start
    not_fresh = [j for j in report.jobs if j.state != "fresh"]
    if args.json:
        _print_json(_report_json("check", report, elapsed))
    elif not args.quiet:
        for problem in report.problems:
            _err(str(problem))
        for job in not_fresh:
            sys.stdout.write(f"{job.source.path}: {job.state}: {STATES[job.state]} ({job.cfile})\n")
        if sys.stdout.isatty():
            sys.stdout.write(f"{report.sources} sources, {report.pycs} pyc: "
                             f"{report.fresh} fresh, {len(not_fresh)} not\n")
    return EXIT_OK if report.ok and not not_fresh else EXIT_PROBLEMS


def _add_clean(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p.add_argument("-x", "--exclude", action="append", default=[], metavar="GLOB",
                   help="leave matching files and folders alone (gitignore-style; repeatable)")
    p.add_argument("--max-depth", type=int, default=None, metavar="N",
                   help="enter at most N folder levels below each path")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("-v", "--verbose", action="store_true", help="list every file removed")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _add_target(p)
    p.set_defaults(handler=_cmd_clean)


def _cmd_clean(args: argparse.Namespace) -> int:
    from bytecast.clean import clean

    report = clean(args.paths or ["."], stale=args.stale, orphans=args.orphans,
                   sourceless=args.sourceless, dry_run=args.dry_run,
                   excludes=tuple(args.exclude), max_depth=args.max_depth,
                   targets=_targets(args))
    if args.json:
        _print_json({
            "command": "clean",
            "ok": not report.problems,
            "dry_run": report.dry_run,
            "removed": report.files,
            "folders_removed": report.folders,
            "kept_sourceless": report.kept_sourceless,
            "problems": [_problem_json(p) for p in report.problems],
        })
    else:
        for problem in report.problems:
            _err(str(problem))
        verb = "would remove" if args.dry_run else "removed"
        if args.dry_run or args.verbose:
            for path in report.files:
                sys.stdout.write(f"{verb} {path}\n")
        if not args.quiet and (args.dry_run or args.verbose or sys.stdout.isatty()):
            kept = (f"; kept {report.kept_sourceless} sourceless (see --sourceless)"
                    if report.kept_sourceless else "")
            sys.stdout.write(f"{verb} {len(report.files)} files and {len(report.folders)} "
                             f"__pycache__ folders{kept}\n")
    return EXIT_OK if not report.problems else EXIT_PROBLEMS


def _build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, only that command's (start-up is a benchmark)."""
    from bytecast import __version__

    parser = _new_parser(prog="bytecast", description="Compile, check, inspect and ship Python bytecode.")
    parser.add_argument("--version", action="version", version=f"bytecast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _declarers(argv):
        add(sub)
    return parser


def _declarers(argv: Sequence[str]) -> list[Callable[[Any], None]]:
    """The ``_add_NAME`` of the command ``argv`` names (every one if it names none): a run
    declares only its own command's arguments."""
    named = next((a for a in argv if not a.startswith("-")), None)
    return [add for add in _COMMANDS if add.__name__ == f"_add_{named}"] or _COMMANDS


_COMMANDS: list[Callable[[Any], None]] = [
    _add_compile,
    _add_check,
    _add_clean,
]


# --- magic ----------------------------------------------------------------------------------


def _add_magic(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "magic",
        help="look up a magic number, a Python version, or the header of a .pyc file",
        description=(
            "Look up .pyc magic numbers: QUERY is a number (3495), the magic bytes in hex "
            "(a70d0d0a), a Python version (3.11, 3.11.7), a pre-release (3.11a1), or a .pyc "
            "file whose header to show."
        ),
    )
    p.add_argument("query", metavar="QUERY", help="number, version, or path to a .pyc file")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_cmd_magic)


def _magic_entry_json(entry: MagicEntry) -> dict[str, object]:
    return {
        "number": entry.number,
        "magic_bytes": entry.magic_bytes.hex(),
        "python": entry.python,
        "versions": entry.versions,
        "header_size": entry.header_size,
        "release": entry.release,
        "notes": entry.notes,
    }


def _print_rows(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")


def _cmd_magic(args: argparse.Namespace) -> int:
    import os

    from bytecast.errors import UsageError
    from bytecast.magic import parse_query

    query: str = args.query
    if os.path.exists(query):
        return _magic_file(query, args.json)
    try:
        found = parse_query(query)
    except UsageError:
        if os.sep in query or "/" in query or query.endswith((".pyc", ".py")):
            _err(f"{query}: no such file")
            return EXIT_USAGE
        raise
    if not found:
        _err(f"bytecast: {query}: unknown magic number or version")
        return EXIT_PROBLEMS
    if args.json:
        _print_json({"query": query, "entries": [_magic_entry_json(e) for e in found]})
        return EXIT_OK
    rows = [("MAGIC", "BYTES", "PYTHON", "VERSIONS", "HEADER", "RELEASE", "NOTES")]
    for e in found:
        rows.append((str(e.number), e.magic_bytes.hex(), e.python, e.versions,
                     str(e.header_size), "yes" if e.release else "no", e.notes))
    _print_rows(rows)
    return EXIT_OK


def _magic_file(path: str, as_json: bool) -> int:
    import os

    from bytecast.errors import PycFormatError
    from bytecast.header import read_header

    if os.path.isdir(path):
        _err(f"{path}: is a directory, expected a .pyc file")
        return EXIT_USAGE
    try:
        header = read_header(path)
    except PycFormatError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    except OSError as exc:
        _err(f"{path}: cannot read: {exc.strerror or exc}")
        return EXIT_USAGE
    entry = header.entry
    if as_json:
        _print_json({
            "path": path,
            "entry": None if entry is None else _magic_entry_json(entry),
            "header": {
                "magic": header.magic,
                "size": header.size,
                "mode": header.mode,
                "flags": header.flags,
                "mtime": header.mtime,
                "source_size": header.source_size,
                "source_hash": None if header.source_hash is None else header.source_hash.hex(),
            },
        })
    else:
        magic_hex = (header.magic.to_bytes(2, "little") + b"\r\n").hex()
        rows = [("path", path), ("magic", f"{header.magic} ({magic_hex})")]
        if entry is not None:
            kind = "final release" if entry.release else "pre-release"
            rows.append(("python", f"{entry.python} ({entry.versions}, {kind})"))
            rows.append(("notes", entry.notes))
        else:
            rows.append(("python", "unknown"))
        rows.append(("header", f"{header.size} bytes"))
        rows.append(("mode", header.mode))
        if header.flags is not None:
            rows.append(("flags", f"0x{header.flags:08x}"))
        if header.mtime is not None:
            rows.append(("mtime", f"{header.mtime} ({_utc(header.mtime)})"))
        if header.source_size is not None:
            rows.append(("source size", str(header.source_size)))
        if header.source_hash is not None:
            rows.append(("source hash", header.source_hash.hex()))
        _print_rows(rows)
    if entry is None:
        _err(f"{path}: unknown magic number {header.magic}")
        return EXIT_PROBLEMS
    return EXIT_OK


def _utc(seconds: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


_COMMANDS.append(_add_magic)


# --- targets --------------------------------------------------------------------------------


def _add_targets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "targets",
        help="list the Python interpreters bytecast can compile for",
        description=(
            "List the interpreters found on PATH (python3.X, python3, python), in pyenv "
            "($PYENV_ROOT/versions), among uv-managed Pythons ($UV_PYTHON_INSTALL_DIR), in "
            "/usr/bin and /usr/local/bin, and those named by path; each once, however many "
            "links lead to it. Answers are cached by binary path, mtime and size."
        ),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="more interpreters to ask")
    p.add_argument("--no-cache", action="store_true", help="ask every interpreter again")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_cmd_targets)


def _cmd_targets(args: argparse.Namespace) -> int:
    from bytecast.targets import find_interpreters

    found = find_interpreters(args.paths, cache=not args.no_cache)
    targets = sorted(found.targets, key=lambda t: (t.version, not t.is_current))
    if args.json:
        _print_json({
            "targets": [
                {
                    "version": t.release or f"{t.version[0]}.{t.version[1]}",
                    "implementation": t.implementation,
                    "cache_tag": t.cache_tag,
                    "magic": int.from_bytes(t.magic[:2], "little"),
                    "magic_bytes": t.magic.hex(),
                    "executable": t.executable,
                    "current": t.is_current,
                }
                for t in targets
            ],
            "problems": [p.to_json() for p in found.problems],
        })
    else:
        rows = [("VERSION", "IMPLEMENTATION", "CACHE TAG", "MAGIC", "EXECUTABLE")]
        for t in targets:
            rows.append((t.release + (" *" if t.is_current else ""), t.implementation, t.cache_tag,
                         f"{int.from_bytes(t.magic[:2], 'little')} ({t.magic.hex()})", t.executable))
        _print_rows(rows)
        for p in found.problems:
            _err(f"{p.path}: {p.message}")
    named_problems = [p for p in found.problems if p.path in args.paths]
    return EXIT_USAGE if named_problems else EXIT_OK


_COMMANDS.append(_add_targets)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bytecast command line; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    from bytecast import _quickargs

    args: Any = _quickargs.parse(_quickargs.declare(_declarers(argv)), argv)
    if args is None:  # --help, a usage error, an unusual spelling: argparse says
        parser = _build_parser(argv)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
            return int(exc.code or 0)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return EXIT_USAGE
    handler: Handler = args.handler
    from bytecast.errors import BytecastError

    try:
        return handler(args)
    except BytecastError as exc:
        _err(f"bytecast: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("bytecast: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`bytecast check | head`): stop quietly, as Unix tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PROBLEMS


# --- inspect --------------------------------------------------------------------------------


def _add_inspect(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "inspect", help="show what a .pyc holds, safely (any Python version)",
        description="Show a .pyc's header (magic, Python version, flags, recorded source stamp), "
        "whether it is fresh against its source, whether this interpreter can load it, and its "
        "code tree. The file is never executed nor passed to marshal.loads.")
    p.add_argument("files", nargs="+", metavar="FILE", help=".pyc files")
    p.add_argument("--dis", action="store_true", help="also print a disassembly")
    p.add_argument("--header-only", action="store_true", help="read only the header")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_cmd_inspect)


def _tree_json(node: Any) -> dict[str, Any]:
    return {"kind": node.kind, "name": node.name, "qualname": node.qualname,
            "line": node.firstlineno, "children": [_tree_json(c) for c in node.children]}


def _cmd_inspect(args: argparse.Namespace) -> int:
    from bytecast.errors import BytecastError
    from bytecast.inspect import inspect_pyc, tree_lines

    documents = []
    status = EXIT_OK
    for name in args.files:
        try:
            info = inspect_pyc(name, read_code=not args.header_only)
        except (BytecastError, OSError) as exc:
            message = str(exc) if isinstance(exc, BytecastError) else f"{name}: {exc.strerror or exc}"
            if isinstance(exc, BytecastError) and not message.startswith(name):
                message = f"{name}: {message}"
            _err(f"{message}")
            documents.append({"path": name, "error": message})
            status = EXIT_PROBLEMS
            continue
        listing = None
        if args.dis and info.code is not None:
            from bytecast.disasm import disassemble

            listing = disassemble(info.code)
        if args.json:
            doc = {
                "path": info.path, "magic": info.magic, "python": info.python,
                "versions": info.versions, "header_size": info.header_size, "mode": info.mode,
                "flags": info.flags, "mtime": info.mtime, "source_size": info.source_size,
                "source_hash": info.source_hash, "source": info.source, "fresh": info.fresh,
                "freshness": info.freshness, "loadable": info.loadable,
                "tree": _tree_json(info.tree) if info.tree is not None else None,
            }
            if listing is not None:
                doc["dis"] = listing
            documents.append(doc)
            continue
        out = sys.stdout.write
        out(f"{info.path}\n")
        out(f"  magic      {info.magic} (Python {info.python or 'unknown'}"
            f"{', ' + info.versions if info.versions else ''}), {info.header_size}-byte header\n")
        stamp = (f"hash {info.source_hash}" if info.source_hash is not None
                 else f"mtime {info.mtime}" + ("" if info.source_size is None
                                                else f", size {info.source_size}"))
        out(f"  mode       {info.mode} ({stamp})\n")
        verdict = {True: "fresh", False: "stale", None: "unknown"}[info.fresh]
        out(f"  source     {info.source or '-'}: {verdict} ({info.freshness})\n")
        out(f"  loadable   {'yes' if info.loadable else 'no'} by this Python "
            f"({sys.version_info[0]}.{sys.version_info[1]})\n")
        if info.tree is not None:
            out("  code\n")
            for line in tree_lines(info.tree, 2):
                out(line + "\n")
        if listing is not None:
            out(listing)
    if args.json:
        _print_json({"files": documents})
    return status


_COMMANDS.append(_add_inspect)


# --- imports --------------------------------------------------------------------------------


def _add_imports(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p.set_defaults(handler=_cmd_imports)


def _cmd_imports(args: argparse.Namespace) -> int:
    from bytecast.imports import scan

    report = scan(args.paths, python=args.python)
    for problem in report.problems:
        _err(problem)
    hard_missing = [m for m in report.missing if not all(s.guarded for s in m.sites)]
    if args.json:
        _print_json({
            "files": report.files, "pythons": list(report.pythons),
            "problems": list(report.problems),
            "modules": [{
                "name": m.name, "kind": m.kind, "distribution": m.distribution,
                "version": m.version,
                "sites": [{"file": s.file, "line": s.line, "scope": s.scope,
                           "guarded": s.guarded, "how": s.how,
                           "implicit_relative": s.implicit_relative} for s in m.sites],
            } for m in report.modules],
        })
    elif args.requirements:
        seen = {}
        for m in report.modules:
            if m.kind == "third-party" and m.distribution:
                seen[m.distribution] = m.version
        for dist in sorted(seen, key=str.lower):
            sys.stdout.write(f"{dist}=={seen[dist]}\n")
        tops = sorted({m.name.split('.')[0] for m in report.missing})
        for name in tops:
            sys.stdout.write(f"# missing: {name} (no installed distribution provides it)\n")
    else:
        for m in report.modules:
            where = f" ({m.distribution} {m.version})" if m.distribution else ""
            sys.stdout.write(f"{m.name}: {m.kind}{where}\n")
            for s in m.sites:
                notes = [s.scope]
                if s.guarded:
                    notes.append("guarded")
                if s.implicit_relative:
                    notes.append("implicit relative")
                if s.how in ("__import__", "import_module"):
                    notes.append(s.how)
                line = "" if s.line is None else f":{s.line}"
                sys.stdout.write(f"    {s.file}{line} [{', '.join(notes)}]\n")
    return EXIT_PROBLEMS if report.problems or hard_missing else EXIT_OK


_COMMANDS.append(_add_imports)
