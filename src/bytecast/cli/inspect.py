"""``bytecast inspect``: show what a .pyc holds, safely (any Python version)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from bytecast.cli._documents import (
        CodeDisDoc,
        CodeInfoDoc,
        InspectDoc,
        InspectErrorDoc,
        InspectFileDoc,
        InspectSourceDoc,
        TreeDoc,
    )
    from bytecast.coderecord import CodeRecord
    from bytecast.inspect import CodeNode, PycInfo

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    p = sub.add_parser(
        "inspect", help="show what a .pyc holds, safely (any Python version)",
        description="Show a .pyc's header (magic, Python version, flags, recorded source stamp), "
        "whether it is fresh against its source, whether this interpreter can load it, and its "
        "code tree; or, with --dis / --info, its code as that Python's own dis shows it. The "
        "file is never executed nor passed to marshal.loads. A .py file is compiled by a "
        "worker of the target interpreter and disassembled the same way (never imported).")
    p.add_argument("files", nargs="+", metavar="FILE", help=".pyc files (or .py sources)")
    p.add_argument("--dis", action="store_true",
                   help="print the disassembly, as dis.dis of the pyc's Python prints it")
    p.add_argument("--info", action="store_true",
                   help="print code object details, as dis.code_info shows them")
    p.add_argument("--function", metavar="QUALNAME",
                   help="only this code object and the code in it (e.g. Path.resolve, "
                   "main.<locals>.helper); implies --dis unless --info is given")
    p.add_argument("--source", action="store_true",
                   help="with the disassembly, each source line as a '#' comment before its "
                   "instructions, when the source is found and unchanged; implies --dis")
    p.add_argument("--target", metavar="SPEC",
                   help="the interpreter that compiles .py files (default: this one; "
                   "3.12, cpython-312 or a path)")
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
    from bytecast.errors import BytecastError, DataError, UsageError
    from bytecast.inspect import inspect_pyc
    from bytecast.safetext import escape

    wants_code = bool(args.dis or args.info or args.function or args.source)
    if args.header_only and wants_code:
        raise UsageError("--header-only reads no code: it cannot be used with --dis, --info, "
                         "--function or --source")
    document: InspectDoc = envelope("inspect", True, files=[])  # type: ignore[assignment]
    status = EXIT_OK
    target = None
    many = len(args.files) > 1

    def refuse(name: str, why: str) -> int:
        """A named file the command cannot take (exit 2); the others are still reported."""
        err(escape(f"bytecast: error: {name}: {why}"))
        failed: InspectErrorDoc = {"path": name, "error": f"{name}: {why}"}
        document["files"].append(failed)
        document["problems"].append(problem_json(split_problem(failed["error"], "UsageError")))
        return EXIT_USAGE

    def problem(name: str, message: str, kind: str) -> None:
        err(escape(message))
        document["problems"].append(problem_json(split_problem(message, kind)))

    for number, name in enumerate(args.files):
        if name.endswith((".pyz", ".zip")) or not name.endswith((".pyc", ".py")) and _is_bundle(name):
            status = max(status, _bundle(name, args, document))
            continue
        is_source = name.endswith(".py")
        why = unusable(name, "a .py file" if is_source else "a .pyc file")
        if why is not None:  # judged from its type, unread: the command cannot take it (exit 2)
            status = refuse(name, why)
            continue
        try:
            if is_source:
                if target is None:
                    target = _target(args.target)
                info = None
                tree: CodeNode | None = _source_tree(name, target)
            else:
                info = inspect_pyc(name, read_code=not args.header_only)
                tree = info.tree
        except (FileNotFoundError, IsADirectoryError) as exc:
            status = refuse(name, "no such file or directory" if isinstance(exc, FileNotFoundError) else
                            f"is a directory, expected a {'.py' if is_source else '.pyc'} file")
            continue
        except (BytecastError, OSError) as exc:
            if isinstance(exc, BytecastError) and exc.exit_code == EXIT_USAGE:
                raise  # no such target: nothing else can run either
            message = str(exc) if isinstance(exc, BytecastError) else f"cannot read: {exc.strerror or exc}"
            if not message.startswith(name):
                message = f"{name}: {message}"
            err(escape(message))
            document["files"].append({"path": name, "error": message})
            document["problems"].append(problem_json(split_problem(message, type(exc).__name__)))
            status = max(status, EXIT_PROBLEMS)
            continue
        if not (wants_code or is_source):
            if args.json:
                assert info is not None
                document["files"].append(_file_json(info))
            else:
                _show(info)  # type: ignore[arg-type]
            continue
        assert tree is not None
        nodes = [tree]
        if args.function:
            from bytecast.inspect import find_code

            nodes = find_code(tree, args.function)
            if not nodes:
                top = ", ".join(c.qualname for c in tree.children[:12])
                problem(name, f"{name}: no code object named {args.function} (top level: "
                        f"{top or 'none'})", "DataError")
                status = max(status, EXIT_PROBLEMS)
                continue
        listing = args.dis or args.source or not args.info
        lines = None
        if args.source and listing:
            lines = _source(name, info, problem)
        try:
            if args.json:
                shown: InspectFileDoc | InspectSourceDoc = (
                    _file_json(info) if info is not None else
                    {"path": name, "python": f"{tree.code.python[0]}.{tree.code.python[1]}"
                     if tree.code is not None else ""})
                if args.info:
                    shown["info"] = [_info_json(n) for n in nodes]
                if listing:
                    shown["dis"] = [_dis_json(n) for n in nodes]
                document["files"].append(shown)
            else:
                _show_code(name if many else None, number, nodes, args.info, listing, lines)
        except DataError as exc:  # a version with no opcode table here: said, the rest shown
            problem(name, f"{name}: {exc}", type(exc).__name__)
            status = max(status, EXIT_PROBLEMS)
    if args.json:
        document["ok"] = status == EXIT_OK
        print_json(document)
    return status


def _target(spec: str | None) -> Any:
    from bytecast.targets import current, resolve

    return resolve([spec])[0] if spec else current()


def _source_tree(name: str, target: Any) -> CodeNode:
    import os

    from bytecast.inspect import code_tree, compile_source

    if os.path.isdir(name):
        raise IsADirectoryError(name)
    return code_tree(compile_source(name, target))


def _source(name: str, info: PycInfo | None, problem: Any) -> list[str] | None:
    """The source lines to show beside the listing, or None (said on stderr)."""
    from bytecast.inspect import source_lines

    path = name if info is None else info.source
    if path is None:
        problem(name, f"{name}: no source found: --source shows none", "Note")
        return None
    if info is not None and info.fresh is False:
        problem(name, f"{name}: its source {path} has changed since it was compiled "
                f"({info.freshness}): --source shows none", "Note")
        return None
    try:
        return source_lines(path)
    except OSError as exc:
        problem(name, f"{name}: source {path} cannot be read: {exc.strerror or exc}", "Note")
        return None


def _show_code(heading: str | None, number: int, nodes: Sequence[CodeNode], info: bool,
               listing: bool, lines: list[str] | None) -> None:
    from bytecast.disasm import code_info, disassemble
    from bytecast.safetext import escape

    out = sys.stdout.write
    if heading is not None:
        out(f"{chr(10) if number else ''}# {escape(heading)}\n")
    for k, node in enumerate(nodes):
        assert node.code is not None
        if len(nodes) > 1:
            out(f"{chr(10) if k else ''}# {escape(node.qualname)} (line {node.firstlineno})\n")
        if info:
            out(code_info(node.code) + "\n")
            if listing:
                out("\n")
        if listing:
            out(disassemble(node.code, source=lines))


def _dis_json(node: CodeNode) -> CodeDisDoc:
    from bytecast.disasm import exception_entries, instructions

    code = node.code
    assert code is not None
    return {
        "name": code.name, "qualname": node.qualname, "kind": node.kind,
        "filename": code.filename, "firstlineno": code.firstlineno,
        "instructions": [
            {"offset": i.offset, "start_offset": i.start, "opname": i.opname, "opcode": i.opcode,
             "arg": i.arg, "argrepr": i.argrepr, "line": i.line, "starts_line": i.starts_line,
             "jump_target": i.jump_target, "is_jump_target": i.is_jump_target, "label": i.label}
            for i in instructions(code, extended_args=True)],
        "exception_table": [{"start": e.start, "end": e.end, "target": e.target,
                             "depth": e.depth, "lasti": e.lasti}
                            for e in exception_entries(code)],
        "children": [_dis_json(c) for c in node.children],
    }


def _info_json(node: CodeNode) -> CodeInfoDoc:
    from bytecast.disasm import const_repr, pretty_flags

    code: CodeRecord | None = node.code
    assert code is not None
    return {
        "name": code.name, "qualname": node.qualname, "filename": code.filename,
        "argcount": code.argcount, "posonlyargcount": code.posonlyargcount,
        "kwonlyargcount": code.kwonlyargcount, "nlocals": code.nlocals,
        "stacksize": code.stacksize, "flags": code.flags, "flag_names": pretty_flags(code.flags),
        "consts": [const_repr(c) for c in code.consts], "names": list(code.names),
        "varnames": list(code.varnames), "freevars": list(code.freevars),
        "cellvars": list(code.cellvars),
    }


def _file_json(info: PycInfo) -> InspectFileDoc:
    return {
        "path": info.path, "magic": info.magic, "python": info.python,
        "versions": info.versions, "header_size": info.header_size, "mode": info.mode,
        "flags": info.flags, "mtime": info.mtime, "source_size": info.source_size,
        "source_hash": info.source_hash, "source": info.source, "fresh": info.fresh,
        "freshness": info.freshness, "loadable": info.loadable,
        "tree": _tree_json(info.tree) if info.tree is not None else None,
    }


def _show(info: PycInfo) -> None:
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


def _is_bundle(name: str) -> bool:
    from bytecast.bundle import is_bundle
    return is_bundle(name)


def _bundle(name: str, args: argparse.Namespace, document: Any) -> int:
    from bytecast.cli.bundle import show  # what a bundle holds: the bundle command's own view
    return show(name, args.json, document)
