"""The parser set-up: the command table, argparse's parser, and the arguments commands share.

A command is a module of this package with ``add(subparsers)``, declaring its arguments, and
``run(args) -> int``. A run imports only the module of the command it names, and declares
only that command's arguments, for argparse and for the quick parser alike
(:mod:`bytecast._quickargs` reads the common command lines from the same declarations).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Any, NoReturn

from bytecast.errors import UsageError

__all__ = ["COMMANDS", "FlagError", "command_module", "declarers", "build_parser", "add_selection",
           "add_target", "add_config", "add_walk", "add_verbosity", "check_verbosity", "selection_flags", "flag_of",
           "settings_of", "unusable"]

COMMANDS = ("compile", "check", "clean", "inspect", "imports", "magic", "targets", "sourceless", "wheel",
            "bundle", "cache")
"""Every command, in the order ``bytecast --help`` lists them; each is ``bytecast.cli.NAME``."""


class FlagError(UsageError):
    """Flags that cannot go together: a usage error of the command line itself."""


def command_module(name: str) -> ModuleType:
    """The module of command ``name`` (imported now: a run imports only its own)."""
    import importlib

    return importlib.import_module(f"bytecast.cli.{name}")


def named_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, if any (the first word that is not an option)."""
    named = next((a for a in argv if not a.startswith("-")), None)
    return named if named in COMMANDS else None


def declarers(argv: Sequence[str]) -> list[Any]:
    """The ``add`` of the command ``argv`` names (of every command if it names none)."""
    named = named_command(argv)
    return [command_module(name).add for name in ([named] if named else COMMANDS)]


def flag_of(field: str) -> str:
    """The flag that sets Options ``field`` (``max_depth`` -> ``--max-depth``)."""
    from bytecast.config import key_of

    return "--" + key_of(field)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, with only that command (start-up is a
    benchmark). Usage errors are one line on stderr, exit 2."""
    import argparse

    from bytecast import __version__
    from bytecast.cli._output import EXIT_USAGE, columns

    named = named_command(argv)

    class Formatter(argparse.HelpFormatter):
        """argparse's formatter, minus the ``shutil`` import it makes for every argument added."""

        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            super().__init__(prog, indent_increment, max_help_position,
                             columns() - 2 if width is None else width)

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            message = " ".join(message.split())
            # argparse reports a command's unknown flags from the top-level parser: the help
            # that explains them is the command's.
            prog = f"bytecast {named}" if self.prog == "bytecast" and named else self.prog
            self.exit(EXIT_USAGE, f"bytecast: error: {message} (see {prog} --help)\n")

    parser = Parser(prog="bytecast", description="Compile, check, inspect and ship Python bytecode.")
    parser.add_argument("--version", action="version", version=f"bytecast {__version__} ({_python()})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in declarers(argv):
        add(sub)
    return parser


# --- arguments several commands share -------------------------------------------------------


def add_target(p: Any, help: str | None = None) -> None:
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help=help or "interpreter to compile for: a version (3.12 or 3.12.1), a cache tag "
                   "(cpython-312), a path, a command on PATH (python3), current (the Python "
                   "bytecast runs on), or all (every one found that requires-python allows; see "
                   "'bytecast targets'); repeatable; default: the active virtual environment's "
                   "Python, else that of the environment holding PATH, else current")


def add_config(p: Any) -> None:
    """``--config`` and ``--no-config``: which settings file a run reads."""
    p.add_argument("--config", default=None, metavar="FILE",
                   help="read settings from FILE ([tool.bytecast], or its top level) instead of the "
                   "nearest pyproject.toml at or above the first PATH")
    p.add_argument("--no-config", action="store_true", help="read no settings file")


def add_walk(p: Any, exclude_help: str) -> None:
    """``--exclude``, ``--max-depth`` and ``--no-ignore``: which files and folders a walk takes."""
    p.add_argument("-x", "--exclude", action="append", default=[], metavar="GLOB", help=exclude_help)
    p.add_argument("--max-depth", type=int, default=None, metavar="N",
                   help="enter at most N folder levels below each path")
    p.add_argument("--no-ignore", action="store_true", default=None,
                   help="walk everything: also .git and other version control folders, virtual "
                   "environments, .tox, .nox, node_modules and what .gitignore files exclude "
                   "(all skipped by default inside a walked path; a path named is always walked)")


def add_selection(p: Any) -> None:
    """The flags that choose sources and the bytecode wanted, shared by compile and check."""
    p.add_argument("paths", nargs="*", metavar="PATH", help="files and folders (default: .)")
    add_walk(p, "leave out matching files and folders (gitignore-style; repeatable)")
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
    add_target(p)
    add_config(p)


def add_verbosity(p: Any, listed: str) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (no summary line)")
    p.add_argument("-v", "--verbose", action="store_true", help=f"list every file {listed}")


def check_verbosity(args: Any) -> None:
    """``-q`` and ``-v`` together ask for two things at once: a usage error."""
    if args.quiet and args.verbose:
        raise FlagError("-q/--quiet and -v/--verbose cannot be used together")


def selection_flags(args: Any) -> dict[str, Any]:
    """Options field -> the flag's value (None when not given) of :func:`add_selection`."""
    return {
        "optimize": args.optimize or None,
        "invalidation_mode": args.invalidation_mode,
        "excludes": args.exclude or None,
        "max_depth": args.max_depth,
        "links": args.links,
        "no_ignore": args.no_ignore,
        "ddir": args.ddir,
        "strip_prefix": args.strip_prefix,
        "prepend_prefix": args.prepend_prefix,
        "targets": args.target or None,
    }


def unusable(path: str, wanted: str = "a .pyc file") -> str | None:
    """Why a file named on the command line cannot be taken at all, or None.

    The rule of every command: a named path that does not exist, or is not a regular file
    (a folder, a FIFO, a device), is judged from its file type alone, without reading it, and
    the command cannot run for it (exit 2). A regular file whose reading fails or whose bytes
    are bad is a problem of the work (exit 1), as the same file found in a folder would be.
    """
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file or directory"
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISDIR(mode):
        return f"is a directory, expected {wanted}"
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"not a regular file ({kind}), expected {wanted}"
    return None


def settings_of(args: Any) -> Any:
    """The settings of a run (:func:`bytecast.config.load_for` its paths, ``--config`` and
    ``--no-config``); a warning it has is one line on stderr."""
    from bytecast import config

    settings = config.load_for(args.paths or ["."], args.config, args.no_config)
    if settings.warning:
        from bytecast.cli._output import err

        err(f"bytecast: warning: {settings.warning}")
    return settings


def _python() -> str:
    """The interpreter bytecast runs on, as ``--version`` names it: installed as a tool, that is
    not always the Python a user's project uses."""
    import platform
    import sys

    return f"{platform.python_implementation()} {platform.python_version()}, {sys.executable}"
