"""A quick parser for the common command lines, from the declarations argparse gets.

Importing argparse (with ``re``, ``gettext`` and ``locale`` behind it) and building a parser
take a good part of a no-op run's time. The command line is declared once, for argparse;
:class:`Declared` records the same ``add_parser`` / ``add_argument`` / ``set_defaults``
calls, and :func:`parse` reads an argument list with them when it can be *sure* argparse
would read it the same way: exact option names, values that do not start with ``-``, one
run of positional arguments. Anything else (``--help``, an abbreviated option, a bad value,
``--``, flags run together, a declaration it does not know) gives None, and the caller
asks argparse, which then answers or prints its usage error. A test compares both parsers
on generated command lines.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

__all__ = ["Declared", "Namespace", "parse"]

_ACTIONS = (None, "store", "store_true", "append")
_KNOWN = {"action", "default", "type", "choices", "metavar", "help", "nargs"}
_TYPES = (None, int, float, str)


class Namespace:
    """Parsed arguments as attributes (what ``argparse.Namespace`` holds)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Namespace({', '.join(f'{k}={v!r}' for k, v in sorted(vars(self).items()))})"


class _Argument:
    __slots__ = ("dest", "action", "default", "type", "choices", "nargs")

    def __init__(self, dest: str, kwargs: dict[str, Any]) -> None:
        self.dest = dest
        self.action = kwargs.get("action")
        self.type = kwargs.get("type")
        self.choices = kwargs.get("choices")
        self.nargs = kwargs.get("nargs")
        self.default = kwargs.get("default", False if self.action == "store_true" else None)

    def value(self, text: str) -> Any:
        """The converted value; raises ValueError where argparse would refuse it."""
        value = text if self.type is None else self.type(text)
        if self.choices is not None and value not in self.choices:
            raise ValueError(text)
        return value


class Declared:
    """Records the argparse calls of one command (or of the sub-command table)."""

    def __init__(self) -> None:
        self.commands: dict[str, Declared] = {}
        self.options: dict[str, _Argument] = {}
        self.arguments: list[_Argument] = []
        self.positional: _Argument | None = None
        self.defaults: dict[str, Any] = {}
        self.supported = True

    def add_parser(self, name: str, **kwargs: Any) -> Declared:
        command = self.commands[name] = Declared()
        return command

    def set_defaults(self, **kwargs: Any) -> None:
        self.defaults.update(kwargs)

    def add_argument(self, *flags: str, **kwargs: Any) -> None:
        if set(kwargs) - _KNOWN or kwargs.get("action") not in _ACTIONS or kwargs.get("type") not in _TYPES:
            self.supported = False
            return
        if isinstance(kwargs.get("default"), str) and kwargs.get("type") is not None:
            self.supported = False  # argparse would convert the default
            return
        if flags[0].startswith("-"):
            if "nargs" in kwargs or any(not f.startswith("--") and len(f) != 2 for f in flags):
                self.supported = False  # "-foo" would be read as "-f" with "oo" attached
                return
            long = [f for f in flags if f.startswith("--")]
            dest = (long[0] if long else flags[0]).lstrip("-").replace("-", "_")
            arg = _Argument(dest, kwargs)
            for flag in flags:
                self.options[flag] = arg
        else:
            if self.positional is not None or kwargs.get("nargs") not in ("*", "+") or kwargs.get("action"):
                self.supported = False
                return
            arg = self.positional = _Argument(flags[0], kwargs)
        self.arguments.append(arg)


def parse(table: Declared, argv: Sequence[str], dest: str = "command") -> Namespace | None:
    """``argv`` read as argparse reads it with the declarations in ``table`` (a sub-command
    table whose choice goes to ``dest``), or None when only argparse can say."""
    if not argv or argv[0] not in table.commands:
        return None
    command = table.commands[argv[0]]
    if not command.supported:
        return None
    values: dict[str, Any] = {dest: argv[0]}
    for declared in command.arguments:
        if declared is not command.positional:
            default = declared.default
            values[declared.dest] = list(default) if isinstance(default, list) else default
    positionals: list[str] = []
    run = 0  # 0 before the positional arguments, 1 in them, 2 after them
    tokens = argv[1:]
    i = 0
    try:
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if not token.startswith("-") or token == "-":
                if token == "-" or run == 2:
                    return None
                run = 1
                positionals.append(token)
                continue
            if run == 1:
                run = 2
            if token.startswith("--"):
                name, equals, attached = token.partition("=")
            elif "=" in token:
                return None
            else:
                name, attached = token[:2], token[2:]
                equals = "=" if attached else ""
            arg = command.options.get(name)
            if arg is None:  # --help, an abbreviation, a negative number, "--": argparse's to read
                return None
            if arg.action == "store_true":
                if equals:
                    return None
                values[arg.dest] = True
                continue
            if equals and not attached:
                return None  # "--ddir=": versions of argparse differ on an empty value
            if not equals:
                if i == len(tokens) or tokens[i].startswith("-"):
                    return None
                attached = tokens[i]
                i += 1
            value = arg.value(attached)
            if arg.action == "append":
                values[arg.dest] = values[arg.dest] + [value]
            else:
                values[arg.dest] = value
        positional = command.positional
        if positional is not None:
            if positional.nargs == "+" and not positionals:
                return None
            if positionals or positional.default is None:
                values[positional.dest] = [positional.value(p) for p in positionals]
            else:
                values[positional.dest] = positional.default
        elif positionals:
            return None
    except ValueError:  # a value argparse refuses: let it say so
        return None
    for key, value in command.defaults.items():
        if key in values:
            return None  # set_defaults would change an argument's default: argparse's to say
        values[key] = value
    return Namespace(**values)


def declare(adders: Sequence[Callable[[Any], None]]) -> Declared:
    """The sub-command table the ``adders`` declare (each is given the table, as argparse's
    sub-parsers action)."""
    table = Declared()
    for add in adders:
        add(table)
    return table
