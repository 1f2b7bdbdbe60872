"""``bytecast inspect``: show what a .pyc holds, safely (any Python version)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents import InspectDoc, InspectErrorDoc, InspectFileDoc, TreeDoc
    from bytecast.inspect import CodeNode, PycInfo

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    p = sub.add_parser(
        "inspect", help="show what a .pyc holds, safely (any Python version)",
        description="Show a .pyc's header (magic, Python version, flags, recorded source stamp), "
        "whether it is fresh against its source, whether this interpreter can load it, and its "
        "code tree. The file is never executed nor passed to marshal.loads.")
    p.add_argument("files", nargs="+", metavar="FILE", help=".pyc files")
    p.add_argument("--dis", action="store_true", help="also print a disassembly")
    p.add_argument("--header-only", action="store_true", help="read only the header")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def _tree_json(node: CodeNode) -> TreeDoc:
    return {"kind": node.kind, "name": node.name, "qualname": node.qualname,
            "line": node.firstlineno, "children": [_tree_json(c) for c in node.children]}


def run(args: argparse.Namespace) -> int:
    """Every file is reported, whatever the others are: a missing file or a folder is a usage
    error (exit 2), a file that is not a readable pyc a problem of the work (exit 1)."""
    from bytecast.cli._output import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, err, print_json, problem_json, split_problem
    from bytecast.cli._output import document as envelope
    from bytecast.cli._parser import unusable
    from bytecast.errors import BytecastError, DataError
    from bytecast.inspect import inspect_pyc
    from bytecast.safetext import escape

    document: InspectDoc = envelope("inspect", True, files=[])  # type: ignore[assignment]
    status = EXIT_OK
    for name in args.files:
        if name.endswith((".pyz", ".zip")) or _is_bundle(name):
            status = max(status, _bundle(name, args, document))
            continue
        try:
            why = unusable(name)
            if why is None:
                info = inspect_pyc(name, read_code=not args.header_only)
        except (FileNotFoundError, IsADirectoryError):  # gone, or made a folder, since
            why = unusable(name) or "no such file or directory"
        except (BytecastError, OSError) as exc:
            message = str(exc) if isinstance(exc, BytecastError) else f"cannot read: {exc.strerror or exc}"
            if not message.startswith(name):
                message = f"{name}: {message}"
            err(escape(message))
            document["files"].append({"path": name, "error": message})
            document["problems"].append(problem_json(split_problem(message, type(exc).__name__)))
            status = max(status, EXIT_PROBLEMS)
            continue
        if why is not None:
            err(escape(f"bytecast: error: {name}: {why}"))
            failed: InspectErrorDoc = {"path": name, "error": f"{name}: {why}"}
            document["files"].append(failed)
            document["problems"].append(problem_json(split_problem(failed["error"], "UsageError")))
            status = EXIT_USAGE
            continue
        listing = None
        if args.dis and info.code is not None:
            from bytecast.disasm import disassemble

            try:
                listing = disassemble(info.code)
            except DataError as exc:  # a version with no opcode table here: said, the rest shown
                message = f"{name}: {exc}"
                err(escape(message))
                document["problems"].append(problem_json(split_problem(message, type(exc).__name__)))
                status = max(status, EXIT_PROBLEMS)
        if args.json:
            document["files"].append(_file_json(info, listing))
        else:
            _show(info, listing)
    if args.json:
        document["ok"] = status == EXIT_OK
        print_json(document)
    return status


def _file_json(info: PycInfo, listing: str | None) -> InspectFileDoc:
    doc: InspectFileDoc = {
        "path": info.path, "magic": info.magic, "python": info.python,
        "versions": info.versions, "header_size": info.header_size, "mode": info.mode,
        "flags": info.flags, "mtime": info.mtime, "source_size": info.source_size,
        "source_hash": info.source_hash, "source": info.source, "fresh": info.fresh,
        "freshness": info.freshness, "loadable": info.loadable,
        "tree": _tree_json(info.tree) if info.tree is not None else None,
    }
    if listing is not None:
        doc["dis"] = listing
    return doc


def _show(info: PycInfo, listing: str | None) -> None:
    from bytecast.inspect import tree_lines
    from bytecast.safetext import escape

    out = sys.stdout.write
    out(f"{escape(info.path)}\n")
    out(f"  magic      {info.magic} (Python {info.python or 'unknown'}"
        f"{', ' + info.versions if info.versions else ''}), {info.header_size}-byte header\n")
    stamp = (f"hash {info.source_hash}" if info.source_hash is not None
             else f"mtime {info.mtime}" + ("" if info.source_size is None else f", size {info.source_size}"))
    out(f"  mode       {info.mode} ({stamp})\n")
    verdict = {True: "fresh", False: "stale", None: "unknown"}[info.fresh]
    out(f"  source     {escape(info.source or '-')}: {verdict} ({info.freshness})\n")
    out(f"  loadable   {'yes' if info.loadable else 'no'} by this Python "
        f"({sys.version_info[0]}.{sys.version_info[1]})\n")
    if info.tree is not None:
        out("  code\n")
        for line in tree_lines(info.tree, 2):
            out(line + "\n")
    if listing is not None:
        out(listing)


def _is_bundle(name: str) -> bool:
    from bytecast.bundle import is_bundle

    return is_bundle(name)


def _bundle(name: str, args: argparse.Namespace, document: Any) -> int:
    """A bundle: what it holds (``bytecast bundle`` made it); 1 when it cannot be read."""
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
    if args.json:
        document["files"].append({"path": name, "bundle": about})
        return EXIT_OK
    out = sys.stdout.write
    out(escape(f"{name}: bundle of {about.get('name')} (format {about.get('format')}), "
               f"{about['size'] / 1e6:.1f} MB, Requires-Python {about.get('requires_python') or 'any'}"
               f"{', fast start' if about.get('fast_start') else ''}") + "\n")
    rows = [("PYTHON", "ENTRY POINT", "MODULES", "CODE", "DISTRIBUTIONS", "NATIVE")]
    for t in about["targets"]:
        entry = t.get("entry", {})
        point = f"{entry.get('module')}:{entry.get('attribute')}" if entry.get("attribute") else f"-m {entry.get('module')}"
        rows.append((str(t.get("python")), point, str(t.get("modules")), f"{t.get('index_bytes', 0) / 1e6:.1f} MB",
                     str(len(t.get("distributions", []))), str(len(t.get("native", [])))))
    print_rows([[escape(c) for c in row] for row in rows])
    newest = about["targets"][0] if about["targets"] else {}
    for dist in newest.get("distributions", []):
        out(escape(f"  {dist.get('name')} {dist.get('version')}") + "\n")
    for native in newest.get("native", []):
        out(escape(f"  native: {native}") + "\n")
    return EXIT_OK
