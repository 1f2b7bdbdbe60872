"""What a project declares it needs, against what its code imports.

The declarations are ``[project.dependencies]`` and every ``[project.optional-dependencies]``
extra of the nearest ``pyproject.toml``; names compare as PEP 503 normalises them. Imports map
to distributions through the environment's metadata (:class:`~bytecast.import_classify.Installed`:
``top_level.txt`` and RECORD); a declared distribution that is not installed is matched by its
normalised name against the top-level names imported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bytecast.errors import UsageError
from bytecast.import_classify import Installed, normalize

if TYPE_CHECKING:
    from bytecast.imports import ImportedModule

__all__ = ["Declared", "Undeclared", "Unused", "compare", "read_declared"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


@dataclass(**_DC_OPTS)
class Undeclared:
    """An installed distribution the code imports but the project does not declare."""

    distribution: str
    """Its name, as its metadata spells it."""
    version: str
    """Its installed version."""
    modules: tuple[str, ...]
    """The imported modules it provides, sorted."""
    required: bool
    """True when at least one import runs unguarded (not under a try/except ImportError, a
    version test or ``if TYPE_CHECKING:``): the code fails without it."""


@dataclass(**_DC_OPTS)
class Unused:
    """A declared distribution nothing in the code imports."""

    name: str
    """Its name, normalised (PEP 503)."""
    extra: str | None
    """The optional-dependencies extra that declares it; None for ``dependencies``."""
    installed: bool
    """Whether the environment has it (if not, only its name was compared with the imports)."""


@dataclass(**_DC_OPTS)
class Declared:
    """The comparison of one project's declared dependencies with its imports."""

    pyproject: str
    """The ``pyproject.toml`` read."""
    project: str | None
    """The project's own name, normalised (its imports of itself are not dependencies)."""
    declared: tuple[str, ...]
    """Every declared name, normalised, sorted."""
    undeclared: tuple[Undeclared, ...]
    """Imported but not declared, by distribution name."""
    unused: tuple[Unused, ...]
    """Declared but never imported."""


def requirement_name(text: str) -> str | None:
    """The distribution name a PEP 508 requirement starts with, normalised; None if none."""
    found = _NAME.match(text)
    return normalize(found.group(1)) if found else None


def read_declared(path: str) -> tuple[str | None, dict[str, str | None]]:
    """(project name, {declared name: extra or None}) of the ``pyproject.toml`` at ``path``.

    Raises UsageError for a file that cannot be read or is not valid TOML.
    """
    from bytecast.fileio import read_regular

    try:
        data = read_regular(path, 16 << 20)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    project = document.get("project")
    if not isinstance(project, dict):
        return None, {}
    name = project.get("name")
    out: dict[str, str | None] = {}
    for item in project.get("dependencies") or ():
        found = requirement_name(item) if isinstance(item, str) else None
        if found:
            out.setdefault(found, None)
    extras = project.get("optional-dependencies")
    if isinstance(extras, dict):
        for extra in sorted(extras):
            for item in extras[extra] or ():
                found = requirement_name(item) if isinstance(item, str) else None
                if found:
                    out.setdefault(found, str(extra))
    return (normalize(name) if isinstance(name, str) else None), out


def compare(pyproject: str, modules: Sequence[ImportedModule], have: Installed) -> Declared:
    """Compare the declarations of ``pyproject`` with the imported ``modules``."""
    project, declared = read_declared(pyproject)
    by_dist: dict[str, list[ImportedModule]] = {}
    imported_tops: set[str] = set()
    for m in modules:
        imported_tops.add(m.name.split(".", 1)[0])
        if m.kind == "third-party" and m.distribution:
            by_dist.setdefault(normalize(m.distribution), []).append(m)
    undeclared = []
    for dist_name in sorted(by_dist):
        if dist_name in declared or dist_name == project:
            continue
        mods = by_dist[dist_name]
        dist = have.by_name.get(dist_name)
        required = any(not s.guarded and not s.typing_only for m in mods for s in m.sites)
        undeclared.append(Undeclared(dist.name if dist else mods[0].distribution or dist_name,
                                     dist.version if dist else mods[0].version or "",
                                     tuple(sorted(m.name for m in mods)), required))
    unused = []
    normal_tops = {normalize(t) for t in imported_tops}
    for name, extra in sorted(declared.items()):
        if name == project or name in by_dist:
            continue
        dist = have.by_name.get(name)
        if dist is not None and imported_tops.intersection(dist.tops):
            continue
        if dist is None and name in normal_tops:
            continue
        unused.append(Unused(name, extra, dist is not None))
    return Declared(pyproject, project, tuple(sorted(declared)), tuple(undeclared), tuple(unused))
