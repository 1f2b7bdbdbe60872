"""Settings: ``[tool.bytecast]`` in ``pyproject.toml`` and ``BYTECAST_*`` variables, merged
with the flags.

The file is the nearest ``pyproject.toml`` at or above the paths a run walks (the search
stops at a folder holding ``.git``), so ``bytecast compile proj`` from anywhere uses
``proj/pyproject.toml``; ``--config FILE`` names one instead, ``--no-config`` reads none.
Keys are the long option names of the command line::

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

Every key can also be set by a variable, ``BYTECAST_`` and the key in capitals with ``_``
for ``-`` (``BYTECAST_JOBS=4``, ``BYTECAST_EXCLUDE=tests/,docs/``): lists are split at
commas, booleans are ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``, an
empty variable counts as unset. ``BYTECAST_CONFIG`` and ``BYTECAST_NO_CONFIG`` stand for the
two flags.

:func:`merge` makes the one :class:`~bytecast.options.Options` of a run: flags win over the
environment, the environment over the file; ``exclude`` patterns of all three add up. A key
applies to the commands that have its flag. A bad value is an error naming the file and the
key, or the variable, with the same validation as the flags (the Options record does all
three). The file is only parsed when it mentions ``tool.bytecast``, so start-up stays cheap.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from bytecast.options import Options

from bytecast.errors import TargetError, UsageError

__all__ = ["KEYS", "FIELDS", "Settings", "find_pyproject", "load", "load_for", "load_settings", "merge", "key_of",
           "reword", "env_name", "from_environment", "requires_python"]

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
    "no-ignore": (bool,),
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
    "no-ignore": "no_ignore",
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
    """The settings table that applies, and the file it came from."""

    __slots__ = ("path", "table", "section", "warning")

    def __init__(self, path: str | None, table: dict[str, Any], section: str = "[tool.bytecast] ",
                 warning: str | None = None) -> None:
        self.path = path
        """The file read, as it is best shown (relative when below the current folder); None
        when there is none."""
        self.table = table
        """Key -> value, every key known and of a type it accepts."""
        self.section = section
        """How messages name the table before a key: ``[tool.bytecast] ``, or nothing for the
        top level of a file named by ``--config``."""
        self.warning = warning
        """Said once by the command line: another path of the run has settings of its own,
        which are not used."""


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
    return Settings(None, {}) if found is None else _read(found, named=False)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag_set(environ: Mapping[str, str], name: str) -> bool:
    """A boolean variable; raises a UsageError naming it for a value that is neither."""
    value = environ.get(name, "").strip().lower()
    if value and value not in _TRUE + _FALSE:
        raise UsageError(f"{name}: must be one of {', '.join(_TRUE + _FALSE)}, not {value!r}")
    return value in _TRUE


def load_for(paths: Sequence[str] = (), config: str | None = None, no_config: bool = False,
             environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of a run over ``paths``: the file ``config`` names (else
    ``$BYTECAST_CONFIG``), none with ``no_config`` (or ``$BYTECAST_NO_CONFIG``), else the
    nearest ``pyproject.toml`` at or above the first path.

    One run has one set of settings. When another path has a nearest ``pyproject.toml`` of its
    own that sets ``[tool.bytecast]``, those are not used and :attr:`Settings.warning` says so:
    the first path decides, as it does for a command line that names several files, and a run
    never silently mixes two projects' excludes or targets.
    """
    environ = os.environ if environ is None else environ
    if no_config or _flag_set(environ, "BYTECAST_NO_CONFIG"):
        return Settings(None, {})
    config = config or environ.get("BYTECAST_CONFIG") or None
    if config is not None:
        return _read(config, named=True)
    starts = list(paths) or [os.curdir]
    nearest = list(dict.fromkeys(find_pyproject(start) for start in starts))
    first = nearest[0]  # the first path's (dict.fromkeys keeps the order)
    settings = Settings(None, {}) if first is None else _read(first, named=False)
    for other in nearest:
        if other is None or other == first:
            continue
        try:
            with open(other, "rb") as f:
                mentions = b"tool.bytecast" in f.read()
        except OSError:
            continue
        if mentions:
            used = settings.path or "none"
            settings.warning = (f"{_shown(other)}: its [tool.bytecast] settings are not used: one run takes the "
                                f"settings of its first path ({used}); run each project on its own, or name one settings file")
            break
    return settings


def _toml(data: bytes, path: str) -> dict[str, Any]:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    return document


def _read(found: str, named: bool) -> Settings:
    """The table of file ``found``: ``[tool.bytecast]``, or for a file ``named`` by
    ``--config`` that has none, its top level."""
    path = _shown(found)
    try:
        with open(found, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    if not named and b"tool.bytecast" not in data:  # the only spelling looked for: [tool.bytecast]
        return Settings(path, {})
    document = _toml(data, path)
    tool = document.get("tool", {})
    section = "[tool.bytecast] "
    if isinstance(tool, dict) and "bytecast" in tool:
        table = tool["bytecast"]
    elif named and os.path.basename(found) != "pyproject.toml":
        table, section = document, ""  # a bytecast.toml: the keys at the top level
    else:
        table = {}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.bytecast] must be a table")
    where = section.strip() or "the file"
    for key, value in table.items():
        if key not in KEYS:
            raise UsageError(f"{path}: unknown key {key!r} in {where}; known: {', '.join(KEYS)}")
        types = KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise UsageError(f"{path}: {section}{key}: must be {names}, not {type(value).__name__}")
    return Settings(path, dict(table), section)


def requires_python(paths: Sequence[str] = ()) -> tuple[str | None, str]:
    """``requires-python`` of the project the first of ``paths`` is in (the nearest
    ``pyproject.toml`` at or above it), and how to name it in messages; None when it says
    nothing. Read only when a run asks for ``all`` targets."""
    found = find_pyproject(paths[0] if paths else os.curdir)
    if found is None:
        return None, "requires-python"
    path = _shown(found)
    label = f"{path}: [project] requires-python"
    try:
        with open(found, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    if b"requires-python" not in data:
        return None, label
    project = _toml(data, path).get("project", {})
    value = project.get("requires-python") if isinstance(project, dict) else None
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{label}: must be a string, not {type(value).__name__}")
    return (value if value and value.strip() else None), label  # an empty one says nothing


def env_name(key: str) -> str:
    """The variable that sets ``key``: ``max-depth`` -> ``BYTECAST_MAX_DEPTH``."""
    return "BYTECAST_" + key.upper().replace("-", "_")


def _env_value(name: str, raw: str, types: tuple[type, ...]) -> Any:
    scalar = next((t for t in types if t is not list), str)
    if scalar is bool:
        word = raw.strip().lower()
        if word not in _TRUE + _FALSE:
            raise UsageError(f"{name}: must be one of {', '.join(_TRUE + _FALSE)}, not {raw!r}")
        return word in _TRUE
    items = [item.strip() for item in raw.split(",")] if list in types else [raw.strip()]
    items = [item for item in items if item]
    try:
        if scalar is int and float not in types:
            values: list[Any] = [int(item) for item in items]
        elif scalar in (int, float):
            values = [float(item) for item in items]
        else:
            values = items
    except ValueError:
        kind = "a whole number" if float not in types else "a number"
        many = " or a comma-separated list of them" if list in types else ""
        raise UsageError(f"{name}: must be {kind}{many}, not {raw!r}") from None
    if list in types:
        return values
    return values[0] if values else None


def from_environment(environ: Mapping[str, str] | None = None,
                     keys: Iterable[str] | None = None) -> dict[str, tuple[str, Any]]:
    """Key -> (variable, value) of every ``BYTECAST_*`` variable that sets a key (of ``keys``,
    default all; empty ones count as unset). Raises :class:`UsageError` naming the variable for
    a value that cannot be read as its key's type."""
    environ = os.environ if environ is None else environ
    out: dict[str, tuple[str, Any]] = {}
    for key in KEYS if keys is None else keys:
        types = KEYS[key]
        name = env_name(key)
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        value = _env_value(name, raw, types)
        if value is not None and value != []:
            out[key] = (name, value)
    return out


def load_settings(start: str = ".") -> dict[str, Any]:
    """The ``[tool.bytecast]`` table that applies at ``start`` (see :func:`load`)."""
    return load(start).table


def _listed(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _checked(values: dict[str, Any], name: Callable[[str], str]) -> None:
    """Judge ``values`` (Options field -> value) as the Options record does; a bad one raises
    a UsageError named by ``name(key)`` (the file and key, or the variable)."""
    if not values:
        return
    from bytecast.options import Options

    try:
        Options(**values)
    except UsageError as exc:
        if exc.field is None:
            raise
        rest = reword(str(exc))
        detail = rest if rest is not None else str(exc)
        raise UsageError(f"{name(key_of(exc.field))}: {detail}") from None


def _fields(table: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    """The Options fields a table of keys sets, for a command with ``flags``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        field = FIELDS[key]
        if field not in flags or (flags[field] is not None and field != "excludes"):
            continue  # not this command's, or a flag wins (a bad value it hides is not judged)
        out[field] = tuple(_listed(value)) if field in ("optimize", "excludes", "targets") else value
    return out


def merge(flags: Mapping[str, Any], settings: Settings, paths: Sequence[str] | None = None, *,
          environ: Mapping[str, str] | None = None, default_target: bool = True) -> Options:
    """The Options of a run: ``flags`` (Options field -> value, None when the flag was not
    given) over the ``BYTECAST_*`` variables of ``environ`` (default: the process's) over
    ``settings``. Only the fields in ``flags`` are taken from the file and the environment;
    ``targets`` are given as specs (``3.12``, a path, ``all``) and resolved here (``all``
    reads ``requires-python`` of the project of ``paths``, the walked paths). When none is
    given anywhere and ``paths`` are, the target is the one :func:`bytecast.targets.default_for`
    them, unless not ``default_target`` (``clean`` takes every interpreter's caches then).

    A bad flag raises the Options record's :class:`UsageError` (its ``field`` says which); a
    bad value in the file raises one that names the file and the key, one in the environment
    the variable (``field`` None).
    """
    from bytecast.options import Options

    source = settings.path or "pyproject.toml"
    from_file = _fields(settings.table, flags)
    file_specs = from_file.pop("targets", ())
    _checked(from_file, lambda key: f"{source}: {settings.section}{key}")
    variables = from_environment(environ, [key for key, field in FIELDS.items() if field in flags])
    from_env = _fields({key: value for key, (_, value) in variables.items()}, flags)
    env_specs = from_env.pop("targets", ())
    _checked(from_env, env_name)
    values = dict(from_file)
    for field, value in from_env.items():
        values[field] = tuple(values.get(field, ())) + tuple(value) if field == "excludes" else value
    for field, value in flags.items():
        if field == "targets":
            continue
        if field == "excludes":
            values[field] = tuple(values.get(field, ())) + tuple(value or ())
        elif value is not None:
            values[field] = tuple(value) if field == "optimize" else value
    flag_specs = flags.get("targets")
    if flag_specs:
        targets = _targets(flag_specs, None, paths)
    elif env_specs:
        targets = _targets(env_specs, env_name("target"), paths)
    else:
        targets = _targets(file_specs, f"{source}: {settings.section}target", paths)
    if not targets and "targets" in flags and paths is not None and default_target:
        from bytecast.targets import default_for

        targets = (default_for(paths),)
    values["targets"] = targets
    return Options(**values)


def _targets(specs: Any, source: str | None, paths: Sequence[str] | None) -> tuple[Any, ...]:
    specs = [str(spec) for spec in _listed(specs) if spec is not None] if specs else []
    specs = [spec for spec in specs if spec.strip()]
    if not specs:
        return ()
    from bytecast.targets import resolve

    requires, label = requires_python(paths or ()) if "all" in (s.strip() for s in specs) else (None, "")
    if source is None:
        return resolve(specs, requires_python=requires, requires_from=label)
    try:
        return resolve(specs, requires_python=requires, requires_from=label)
    except TargetError as exc:
        message = str(exc)
        message = message[len("target "):] if message.startswith("target ") else message
        raise TargetError(f"{source}: {message}") from None
