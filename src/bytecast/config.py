"""Settings from ``pyproject.toml``: the ``[tool.bytecast]`` table.

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

Flags on the command line win over the file; ``--exclude`` adds to the file's ``exclude``.
The file is only parsed when it mentions ``tool.bytecast``, so start-up stays cheap.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from bytecast.errors import UsageError

__all__ = ["KEYS", "find_pyproject", "load_settings"]

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
}
"""Known keys and the TOML types each accepts."""


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


def load_settings(start: str = ".") -> dict[str, Any]:
    """The ``[tool.bytecast]`` table that applies at ``start`` (empty when there is none).

    Raises :class:`UsageError` for a file that is not valid TOML, an unknown key or a value
    of the wrong type, naming the file.
    """
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if b"tool.bytecast" not in data:  # the only spelling looked for: [tool.bytecast]
        return {}
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    table = document.get("tool", {}).get("bytecast", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.bytecast] must be a table")
    for key, value in table.items():
        if key not in KEYS:
            raise UsageError(f"{path}: unknown key {key!r} in [tool.bytecast]; known: {', '.join(KEYS)}")
        types = KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise UsageError(f"{path}: [tool.bytecast] {key} must be {names}, not {type(value).__name__}")
    return dict(table)
