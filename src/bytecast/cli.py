"""The command line: parse arguments, call one library function, render its result.

Only this module prints and chooses exit codes: 0 all good, 1 the work found problems,
2 the command could not run. No logic lives here; each ``_cmd_*`` function is a thin shell
over the library. Commands import what they need when they run, so a no-op run stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    from bytecast.magic import MagicEntry

__all__ = ["main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _print_json(document: object) -> None:
    import json

    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 2 with one line, as argparse does."""


# --- commands -------------------------------------------------------------------------------
# Each command is a pair: _add_NAME(subparsers) declares its arguments, _cmd_NAME(args) runs it.


def _build_parser() -> argparse.ArgumentParser:
    from bytecast import __version__

    parser = _Parser(prog="bytecast", description="Compile, check, inspect and ship Python bytecode.")
    parser.add_argument("--version", action="version", version=f"bytecast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bytecast command line; returns the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    from bytecast.errors import BytecastError

    try:
        return handler(args)
    except BytecastError as exc:
        _err(f"bytecast: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("bytecast: interrupted")
        return 130
