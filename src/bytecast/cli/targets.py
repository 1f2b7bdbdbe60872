"""``bytecast targets``: the Python interpreters bytecast can compile for."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from bytecast.cli._documents import TargetDoc, TargetsDoc
    from bytecast.targets import Target

__all__ = ["add", "run"]


def add(sub: Any) -> None:
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


def run(args: argparse.Namespace) -> int:
    """Exit 2 when a path named on the command line is not a usable interpreter (the others
    found are still listed); a candidate found by searching that fails is only reported."""
    from bytecast.cli._output import EXIT_OK, document, err, print_json, print_rows
    from bytecast.errors import TargetError
    from bytecast.targets import find_interpreters

    found = find_interpreters(args.paths, cache=not args.no_cache)
    targets = sorted(found.targets, key=lambda t: (t.version, not t.is_current))
    problems = found.problems
    # A named path's problem may be filed under the file it leads to: what counts is
    # whether the path became a target.
    unusable = [path for path in args.paths if path not in found.named]
    if args.json:
        doc: TargetsDoc = document("targets", not unusable, problems,  # type: ignore[assignment]
                                   targets=[_target_json(t) for t in targets])
        print_json(doc)
    else:
        rows = [("VERSION", "IMPLEMENTATION", "CACHE TAG", "MAGIC", "EXECUTABLE")]
        for t in targets:
            rows.append((t.release + (" *" if t.is_current else ""), t.implementation, t.cache_tag,
                         f"{int.from_bytes(t.magic[:2], 'little')} ({t.magic.hex()})", t.executable))
        print_rows(rows)
        named = set(args.paths) | {_real(path) for path in args.paths}
        for problem in problems:
            if problem.path not in named:  # said once, in the error below
                err(f"{problem.path}: {problem.message}")
    if unusable:
        path = unusable[0]
        why = next((p.message for p in problems if p.path in (path, _real(path))), "not a usable Python interpreter")
        raise TargetError(f"{path}: {why}" + (f" (and {len(unusable) - 1} more)" if len(unusable) > 1 else ""))
    return EXIT_OK


def _real(path: str) -> str:
    import os

    return os.path.realpath(path)


def _target_json(t: Target) -> TargetDoc:
    return {
        "version": t.release or f"{t.version[0]}.{t.version[1]}",
        "implementation": t.implementation,
        "cache_tag": t.cache_tag,
        "magic": int.from_bytes(t.magic[:2], "little"),
        "magic_bytes": t.magic.hex(),
        "executable": t.executable,
        "current": t.is_current,
    }
