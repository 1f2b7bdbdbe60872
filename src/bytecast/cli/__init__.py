"""The command line: parse arguments, call one library function, render its result.

Only this package prints and chooses exit codes: 0 all good, 1 the work found problems, 2 the
command could not run. Each command is a module (``bytecast.cli.compile``, ...) with
``add(subparsers)`` and ``run(args)``; a run imports only its own. :func:`main` holds the one
error contract: an error bytecast raises exits with its ``exit_code`` and prints one line,
``bytecast: error: MESSAGE``, naming flags as the user typed them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from bytecast.errors import BytecastError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bytecast command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from bytecast import _quickargs
    from bytecast.cli._parser import build_parser, command_module, declarers

    args: Any = _quickargs.parse(_quickargs.declare(declarers(argv)), argv)
    if args is None:  # --help, a usage error, an unusual spelling: argparse says
        parser = build_parser(argv)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help()
            return 2
    from bytecast.errors import BytecastError

    try:
        status: int = command_module(args.command).run(args)
        return status
    except BytecastError as exc:
        from bytecast.cli._output import err

        err(f"bytecast: error: {_message(exc, args.command)}")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("bytecast: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`bytecast check | head`): stop quietly, as Unix tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:  # the library names its files; this is what slipped past it
        from bytecast.cli._output import err

        where = f"{exc.filename}: " if exc.filename else ""
        err(f"bytecast: error: {where}{exc.strerror or exc}")
        return 2


def _message(exc: BytecastError, command: str) -> str:
    """The error's message for the user: an Options field is named by its flag, and a usage
    error of the flags points to the command's help."""
    from bytecast.cli._parser import FlagError, flag_of
    from bytecast.errors import UsageError

    message = str(exc)
    if not isinstance(exc, UsageError):
        return message
    field = exc.field
    if field is not None:
        from bytecast.config import reword
        from bytecast.options import Options

        if field not in Options.__slots__:
            return message
        rest = reword(message, flag_of)
        message = f"{flag_of(field)} {rest}" if rest is not None else f"{flag_of(field)}: {message}"
    elif not isinstance(exc, FlagError):
        return message
    return f"{message} (see bytecast {command} --help)"
