"""``bytecast magic``: look up a magic number, a Python version, or the header of a .pyc file."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents import MagicEntryDoc, MagicFileDoc, MagicQueryDoc
    from bytecast.header import Header
    from bytecast.magic import MagicEntry

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    p = sub.add_parser(
        "magic",
        help="look up a magic number, a Python version, or the header of a .pyc file",
        description=(
            "Look up .pyc magic numbers: QUERY is a number (3495), the magic bytes in hex "
            "(a70d0d0a), a Python version (3.11, 3.11.7), a pre-release (3.11a1), or a .pyc "
            "file whose header to show. A micro version the table proves impossible (3.11.99) "
            "is refused. --all lists the whole table."
        ),
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="number, version, or path to a .pyc file")
    p.add_argument("--all", action="store_true", help="list every magic number bytecast knows")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _entry_json(entry: MagicEntry) -> MagicEntryDoc:
    return {
        "number": entry.number,
        "magic_bytes": entry.magic_bytes.hex(),
        "python": entry.python,
        "versions": entry.versions,
        "header_size": entry.header_size,
        "release": entry.release,
        "notes": entry.notes,
    }


def run(args: argparse.Namespace) -> int:
    import os

    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, document, err, print_json, print_rows
    from bytecast.cli._parser import FlagError
    from bytecast.errors import UsageError
    from bytecast.magic import entries, parse_query
    from bytecast.problem import Problem

    query: str | None = args.query
    if args.all:
        if query is not None:
            raise FlagError(f"--all lists the whole table: give it no QUERY (got {query!r})")
        found = list(entries())
    elif query is None:
        raise FlagError("give a QUERY (a number, a version or a .pyc file), or --all")
    elif os.path.lexists(query):
        return _file(query, args.json)
    else:
        try:
            found = parse_query(query)
        except UsageError:
            if os.sep in query or "/" in query or query.endswith((".pyc", ".py")):
                raise UsageError(f"{query}: no such file or directory") from None
            raise
    problems = [] if found else [Problem(query or "", "UnknownMagic", "unknown magic number or version")]
    if not found:
        err(f"bytecast: {query}: unknown magic number or version")
    if args.json:
        doc: MagicQueryDoc = document("magic", bool(found), problems, query=query,  # type: ignore[assignment]
                                      entries=[_entry_json(e) for e in found])
        print_json(doc)
    if not found:
        return EXIT_PROBLEMS
    if args.json:
        return EXIT_OK
    rows = [("MAGIC", "BYTES", "PYTHON", "VERSIONS", "HEADER", "RELEASE", "NOTES")]
    for e in found:
        rows.append((str(e.number), e.magic_bytes.hex(), e.python, e.versions,
                     str(e.header_size), "yes" if e.release else "no", e.notes))
    print_rows(rows)
    return EXIT_OK


def _file(path: str, as_json: bool) -> int:

    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, document, err, print_json, split_problem
    from bytecast.cli._parser import unusable
    from bytecast.errors import PycFormatError, UsageError
    from bytecast.header import read_header

    why = unusable(path)
    if why is not None:
        raise UsageError(f"{path}: {why}")
    try:
        header = read_header(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file or directory") from None
    except (PycFormatError, OSError) as exc:
        message = str(exc) if isinstance(exc, PycFormatError) else f"{path}: cannot read: {exc.strerror or exc}"
        if not message.startswith(path):
            message = f"{path}: {message}"
        err(message)
        if as_json:
            problem = split_problem(message, type(exc).__name__)
            print_json(document("magic", False, [problem], path=path, entry=None, header=None))
        return EXIT_PROBLEMS
    entry = header.entry
    unknown = f"{path}: unknown magic number {header.magic}"
    if as_json:
        doc: MagicFileDoc = document(  # type: ignore[assignment]
            "magic", entry is not None, [] if entry else [split_problem(unknown, "PycFormatError")],
            path=path,
            entry=None if entry is None else _entry_json(entry),
            header={
                "magic": header.magic,
                "size": header.size,
                "mode": header.mode,
                "flags": header.flags,
                "mtime": header.mtime,
                "source_size": header.source_size,
                "source_hash": None if header.source_hash is None else header.source_hash.hex(),
            })
        print_json(doc)
    else:
        _show(path, header, entry)
    if entry is None:
        err(unknown)
        return EXIT_PROBLEMS
    return EXIT_OK


def _show(path: str, header: Header, entry: MagicEntry | None) -> None:
    import time

    from bytecast.cli._output import print_rows

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
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(header.mtime))
        rows.append(("mtime", f"{header.mtime} ({stamp})"))
    if header.source_size is not None:
        rows.append(("source size", str(header.source_size)))
    if header.source_hash is not None:
        rows.append(("source hash", header.source_hash.hex()))
    print_rows(rows)
