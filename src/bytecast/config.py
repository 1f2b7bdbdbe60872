"""Settings from ``pyproject.toml``: the ``[tool.bytecast]`` table, merged with the flags.

The file is the first ``pyproject.toml`` found in the current folder or above it (the search
stops at a folder holding ``.git``). Keys are the long option names of the command line::

    [tool.bytecast]
    exclude = ["tests/", "**/conftest.py"]
    optimize = [0, 1]
    invalidation-mode = "checked-hash"
    jobs = 0
    links = "inside"
    max-depth = 20
    hardlink-dupes = true
    timeout = 60
    target = ["3.12", "3.13"]
    warnings = "show"

:func:`merge` makes the one :class:`~bytecast.options.Options` of a run: flags win over the
file; ``exclude`` of the file and the ``--exclude`` flags add up. A key applies to the commands
that have its flag. A bad value is an error naming the file and the key, with the same
validation as the flags (the Options record does both). The file is only parsed when it
mentions ``tool.bytecast``, so start-up stays cheap.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from bytecast.options import Options

from bytecast.errors import TargetError, UsageError

__all__ = ["KEYS", "FIELDS", "Settings", "find_pyproject", "load", "load_settings", "merge", "key_of",
           "reword"]

KEYS: dict[str, tuple[type, ...]] = {
    "exclude": (list,),
    "optimize": (list, int),
    "invalidation-mode": (str,),
    "jobs": (int,),
    "links": (str,),
    "max-depth": (int,),
    "hardlink-dupes": (bool,),
    "timeout": (int, float),
    "target": (list, str),
    "warnings": (str,),
}
"""Known keys and the TOML types each accepts."""

FIELDS: dict[str, str] = {
    "exclude": "excludes",
    "optimize": "optimize",
    "invalidation-mode": "invalidation_mode",
    "jobs": "jobs",
    "links": "links",
    "max-depth": "max_depth",
    "hardlink-dupes": "hardlink_dupes",
    "timeout": "timeout",
    "target": "targets",
    "warnings": "warnings",
}
"""The :class:`~bytecast.options.Options` field each key sets."""


def key_of(field: str) -> str:
    """The key (and, with ``--``, the flag) that spells Options ``field``: ``max_depth`` ->
    ``max-depth``, ``excludes`` -> ``exclude``."""
    for key, name in FIELDS.items():
        if name == field:
            return key
    return field.replace("_", "-")


def reword(message: str, spell: Callable[[str], str] = key_of) -> str | None:
    """The predicate of an Options error ``message``, its subject (the field, in words) cut off:
    ``jobs must be 0 or more, not -3`` -> ``must be 0 or more, not -3``; None when it has no
    subject to cut. Field names left in it (``strip_prefix``) are spelled by ``spell``.

    The Options record speaks of its fields in words, so each caller can put its own name in
    front: the flag on the command line, the key in a settings file.
    """
    import re

    from bytecast.options import Options

    found = re.match(r"[a-z_]+(?: [a-z_]+)*? (?=must |cannot |is |['\"])", message)
    if found is None:
        return None
    rest = message[found.end():]
    names = sorted((f for f in Options.__slots__ if "_" in f), key=len, reverse=True)
    return re.sub(r"\b({})\b".format("|".join(names)),
                  lambda m: spell(m.group(1)), rest)


class Settings:
    """The ``[tool.bytecast]`` table that applies, and the file it came from."""

    __slots__ = ("path", "table")

    def __init__(self, path: str | None, table: dict[str, Any]) -> None:
        self.path = path
        """The ``pyproject.toml`` read, as it is best shown (relative when below the current
        folder); None when there is none."""
        self.table = table
        """Key -> value, every key known and of a type it accepts."""


def find_pyproject(start: str = ".") -> str | None:
    """The nearest ``pyproject.toml`` at or above ``start``, not crossing a ``.git`` folder."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        if os.path.exists(os.path.join(folder, ".git")):
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith(os.pardir) else rel


def load(start: str = ".") -> Settings:
    """The settings that apply at ``start`` (an empty table when there are none).

    Raises :class:`UsageError` for a file that is not valid TOML, an unknown key or a value
    of the wrong type, naming the file and the key.
    """
    found = find_pyproject(start)
    if found is None:
        return Settings(None, {})
    path = _shown(found)
    try:
        with open(found, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if b"tool.bytecast" not in data:  # the only spelling looked for: [tool.bytecast]
        return Settings(path, {})
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    tool = document.get("tool", {})
    table = tool.get("bytecast", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.bytecast] must be a table")
    for key, value in table.items():
        if key not in KEYS:
            raise UsageError(f"{path}: unknown key {key!r} in [tool.bytecast]; known: {', '.join(KEYS)}")
        types = KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise UsageError(f"{path}: [tool.bytecast] {key}: must be {names}, not {type(value).__name__}")
    return Settings(path, dict(table))


def load_settings(start: str = ".") -> dict[str, Any]:
    """The ``[tool.bytecast]`` table that applies at ``start`` (see :func:`load`)."""
    return load(start).table


def _listed(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def merge(flags: Mapping[str, Any], settings: Settings) -> Options:
    """The Options of a run: ``flags`` (Options field -> value, None when the flag was not
    given) over ``settings``. Only the fields in ``flags`` are taken from the file; ``targets``
    are given as specs (``3.12``, a path, ``all``) and resolved here.

    A bad flag raises the Options record's :class:`UsageError` (its ``field`` says which); a
    bad value in the file raises one that names the file and the key (``field`` None).
    """
    from bytecast.options import Options

    source = settings.path or "pyproject.toml"
    from_file: dict[str, Any] = {}
    for key, value in settings.table.items():
        field = FIELDS[key]
        if field not in flags or (flags[field] is not None and field != "excludes"):
            continue  # not this command's, or the flag wins (a bad value it hides is not judged)
        from_file[field] = tuple(_listed(value)) if field in ("optimize", "excludes", "targets") else value
    specs = from_file.pop("targets", ())
    if from_file:
        try:
            Options(**from_file)  # the file's own values, checked before the flags mix in
        except UsageError as exc:
            if exc.field is None:
                raise
            rest = reword(str(exc))
            detail = rest if rest is not None else str(exc)
            raise UsageError(f"{source}: [tool.bytecast] {key_of(exc.field)}: {detail}") from None
    values = dict(from_file)
    for field, value in flags.items():
        if field == "targets":
            continue
        if field == "excludes":
            values[field] = tuple(from_file.get(field, ())) + tuple(value or ())
        elif value is not None:
            values[field] = tuple(value) if field == "optimize" else value
    flag_specs = flags.get("targets")
    values["targets"] = _targets(flag_specs, None) if flag_specs else _targets(specs, source)
    return Options(**values)


def _targets(specs: Any, source: str | None) -> tuple[Any, ...]:
    specs = [str(spec) for spec in _listed(specs) if spec is not None] if specs else []
    if not specs:
        return ()
    from bytecast.targets import resolve

    if source is None:
        return resolve(specs)
    try:
        return resolve(specs)
    except TargetError as exc:
        message = str(exc)
        message = message[len("target "):] if message.startswith("target ") else message
        raise TargetError(f"{source}: [tool.bytecast] target: {message}") from None
