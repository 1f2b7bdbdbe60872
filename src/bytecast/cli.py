"""The command line: parse arguments, call one library function, render its result.

Only this module prints and chooses exit codes: 0 all good, 1 the work found problems,
2 the command could not run. No logic lives here; each ``_cmd_*`` function is a thin shell
over the library. Commands import what they need when they run, so a no-op run stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

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
