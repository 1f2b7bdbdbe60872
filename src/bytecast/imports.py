"""Which modules does compiled code import, and who provides them?

Compiled code does not tie a program to library versions: imports are names resolved at run
time. :func:`scan` reads pycs (or compiles sources in memory), finds every import with
:func:`~bytecast.import_finder.find_imports`, makes each name absolute against its package,
and classifies it with :func:`~bytecast.import_classify.classify_names` as stdlib (for the
Python version of the bytecode), local (inside the scanned tree), third-party (with the
installed distribution) or missing. :func:`listing` renders a report as text safe to print.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from bytecast.coderecord import CodeRecord
from bytecast.errors import BytecastError, DataError, UsageError
from bytecast.fileio import read_regular
from bytecast.import_classify import classify_names
from bytecast.import_finder import FoundImport, find_imports
from bytecast.marshal_reader import DEFAULT_LIMITS
from bytecast.problem import Problem
from bytecast.safetext import escape, show_int
from bytecast.unmarshal import loads, python_for_magic

if TYPE_CHECKING:
    from bytecast.options import LinkPolicy

__all__ = [
    "FoundImport",
    "ImportSite",
    "ImportedModule",
    "ImportsReport",
    "classify_names",
    "find_imports",
    "listing",
    "scan",
]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True


@dataclass(**_DC_OPTS)
class ImportSite:
    """One place that imports a module."""

    file: str
    """The pyc or source file."""
    line: int | None
    """Source line, when recorded."""
    scope: str
    """"module", "class" or "function": where the import statement runs."""
    guarded: bool
    """True when inside a try whose handler catches ImportError (or a base of it)."""
    how: str
    """"import", "from", "__import__" or "import_module"."""
    implicit_relative: bool = False
    """Python 2 only: an ``import x`` that resolved to a sibling module (implicit relative)."""


@dataclass(**_DC_OPTS)
class ImportedModule:
    """A module the scanned code imports, and where it comes from."""

    name: str
    """Absolute dotted name."""
    kind: str
    """"stdlib", "local", "third-party" or "missing"."""
    distribution: str | None
    """The installed distribution providing it (third-party only)."""
    version: str | None
    """That distribution's version."""
    sites: tuple[ImportSite, ...]
    """Every place that imports it."""


@dataclass(**_DC_OPTS)
class ImportsReport:
    """What :func:`scan` found."""

    modules: tuple[ImportedModule, ...]
    """Imported modules, sorted by name."""
    files: int
    """Files read."""
    pythons: tuple[str, ...]
    """Python versions of the bytecode read ("3.11")."""
    problems: tuple[Problem, ...]
    """One per file that could not be read or searched, in the order scanned."""

    @property
    def missing(self) -> tuple[ImportedModule, ...]:
        return tuple(m for m in self.modules if m.kind == "missing")


@dataclass(**_DC_OPTS)
class _Unit:
    path: str
    module: str
    is_package: bool
    root: str


def _module_name(path: str, root: str) -> tuple[str, bool]:
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if parts[-2:-1] == ["__pycache__"]:
        parts = parts[:-2] + [parts[-1].split(".", 1)[0]]
    else:
        parts[-1] = parts[-1].split(".", 1)[0]
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p for p in parts if p and p != "."), is_package


def _is_package_dir(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(folder, n)) for n in ("__init__.py", "__init__.pyc"))


def _top_root(folder: str) -> str:
    """The folder above the outermost package containing ``folder``."""
    while _is_package_dir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


_HIDDEN = (".*/",)
"""Folders the scan leaves out besides the caller's excludes: hidden ones (``.git``, ``.tox``)."""


def _offer(chosen: dict[str, str], root: str, full: str) -> None:
    """Take ``full`` as its module's file unless one is chosen: bytecode wins over source (it
    is what ships), and the first pyc found wins (the walk is sorted)."""
    module, is_pkg = _module_name(full, root)
    key = module + ("/__init__" if is_pkg else "")
    if key not in chosen or (full.endswith(".pyc") and chosen[key].endswith(".py")):
        chosen[key] = full


def _collect(paths: Sequence[str], problems: list[Problem], excludes: Sequence[str] = (),
             links: LinkPolicy = "inside", max_depth: int | None = None, ignore: bool = True) -> list[_Unit]:
    """The files to scan: a folder through the one walker (:mod:`bytecast.discover`), each
    module once, its bytecode preferred over its source (bytecode is what ships)."""
    from bytecast.discover import Entry, walk

    units: list[_Unit] = []
    for path in paths:
        if os.path.isdir(path):
            top = os.path.abspath(path)
            root = _top_root(top)
            chosen: dict[str, str] = {}
            hidden = _HIDDEN if ignore else ()
            for item in walk([top], problems, excludes=(*hidden, *excludes), max_depth=max_depth, links=links,
                             kinds=("source", "bytecode", "cache"), ignore=ignore):
                if isinstance(item, Entry) and item.kind == "cache":
                    try:
                        names = sorted(os.listdir(item.path))
                    except OSError as exc:
                        problems.append(Problem(item.path, "OSError", exc.strerror or str(exc)))
                        continue
                    for name in names:
                        if name.endswith(".pyc"):
                            _offer(chosen, root, os.path.join(item.path, name))
                elif item.path.endswith((".py", ".pyc")):
                    _offer(chosen, root, item.path)
            for key in sorted(chosen):
                module, is_pkg = _module_name(chosen[key], root)
                units.append(_Unit(chosen[key], module, is_pkg, root))
        elif os.path.lexists(path):  # a file, or something read_regular will refuse
            full = os.path.abspath(path)
            root = os.path.dirname(full)
            if os.path.basename(root) == "__pycache__":
                root = os.path.dirname(root)
            root = _top_root(root)
            module, is_pkg = _module_name(full, root)
            units.append(_Unit(full, module, is_pkg, root))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return units


def _read(unit: _Unit) -> CodeRecord:
    limit = DEFAULT_LIMITS.max_size
    if unit.path.endswith(".py"):
        import marshal

        source = read_regular(unit.path, limit)
        try:
            code = compile(source, unit.path, "exec", dont_inherit=True)
        except ValueError as exc:  # null bytes, before 3.12
            raise DataError(f"{unit.path}: cannot compile: {exc}") from None
        value = loads(marshal.dumps(code))  # our own bytes, read the same way as any pyc
    else:
        from bytecast.header import parse_header

        data = read_regular(unit.path, limit)
        header = parse_header(data, unit.path)
        version = python_for_magic(header.magic)
        if version is None:
            raise DataError(f"{unit.path}: magic {header.magic} is not of a Python bytecast "
                            "reads (2.3-2.7, 3.0-3.14)")
        value = loads(data, version, start=header.size)
    if not isinstance(value, CodeRecord):
        raise DataError(f"{unit.path}: no code object after the header")
    return value


def _search(unit: _Unit) -> Union[tuple[CodeRecord, list[FoundImport]], Problem]:
    """The code of one file and its imports, or the one problem that stopped it."""
    path = unit.path
    try:
        code = _read(unit)
        return code, find_imports(code)
    except SyntaxError as exc:
        return Problem(path, "SyntaxError", str(exc.msg), exc.lineno or 0, exc.offset or 0)
    except RecursionError:
        return Problem(path, "RecursionError", "nested too deeply to compile or read")
    except MemoryError:
        return Problem(path, "MemoryError", "out of memory while compiling or reading")
    except BytecastError as exc:
        message = str(exc)
        if message.startswith(path + ": "):
            message = message[len(path) + 2:]
        return Problem(path, type(exc).__name__, message)
    except OSError as exc:
        return Problem(path, "OSError", exc.strerror or str(exc))


# --- scan -------------------------------------------------------------------------------------


def _resolve(found: FoundImport, unit: _Unit, py2: bool, local: set[str]
             ) -> list[tuple[str, bool]]:
    """Absolute module names for one import, each with its implicit-relative flag."""
    package = unit.module if unit.is_package else unit.module.rpartition(".")[0]
    if found.level > 0:
        parts = package.split(".") if package else []
        if found.level - 1 > len(parts):
            return []  # beyond the top of the scanned tree
        base = ".".join(parts[:len(parts) - (found.level - 1)])
        name = ".".join(p for p in (base, found.name) if p)
        implicit = False
    else:
        name = found.name
        implicit = False
        if py2 and found.level < 0 and package and found.how in ("import", "from"):
            candidate = package + "." + name
            if candidate in local:
                name, implicit = candidate, True
    if not name:
        return []
    out = [(name, implicit)]
    for item in found.fromlist:
        if item != "*" and name + "." + item in local:
            out.append((name + "." + item, implicit))
    return out


def scan(paths: Sequence[str], python: str | None = None, *, excludes: Sequence[str] = (),
         links: LinkPolicy = "inside", max_depth: int | None = None, ignore: bool = True) -> ImportsReport:
    """Scan pycs, folders of them, or sources, and classify every module they import.

    ``python`` overrides the version used for stdlib membership (default: the version of
    each file's bytecode). Folders are walked as compile walks them (``excludes``, ``links``,
    ``max_depth``, ``ignore``; hidden folders are left out too unless ``ignore`` is off). A file that cannot be read, compiled or
    searched (corrupt, of a Python bytecast has no opcode table for, too deeply nested, not a
    regular file) is one :class:`~bytecast.problem.Problem` in ``problems``; the rest are
    scanned. Raises UsageError for a path that does not exist.
    """
    problems: list[Problem] = []
    units = _collect(paths, problems, excludes, links, max_depth, ignore)
    local: set[str] = set()
    for unit in units:
        if unit.module:
            parts = unit.module.split(".")
            for k in range(1, len(parts) + 1):
                local.add(".".join(parts[:k]))
    sites: dict[str, list[ImportSite]] = {}
    version_of: dict[str, str] = {}
    pythons: set[str] = set()
    for unit in units:
        result = _search(unit)
        if isinstance(result, Problem):
            problems.append(result)
            continue
        code, found_imports = result
        ver = f"{code.python[0]}.{code.python[1]}"
        pythons.add(ver)
        for found in found_imports:
            for name, implicit in _resolve(found, unit, code.python[0] == 2, local):
                site = ImportSite(unit.path, found.line, found.scope, found.guarded, found.how,
                                  implicit)
                sites.setdefault(name, []).append(site)
                version_of.setdefault(name, python or ver)
    modules = []
    by_version: dict[str, list[str]] = {}
    for name, ver in version_of.items():
        by_version.setdefault(ver, []).append(name)
    classes: dict[str, tuple[str, str | None, str | None]] = {}
    for ver, names in by_version.items():
        classes.update(classify_names(names, ver, local))
    for name in sorted(sites):
        kind, dist, version = classes[name]
        modules.append(ImportedModule(name, kind, dist, version, tuple(sites[name])))
    return ImportsReport(tuple(modules), len(units), tuple(sorted(pythons)), tuple(problems))


def listing(report: ImportsReport) -> list[str]:
    """The report as text lines, one per module and one per site under it, with names and
    paths escaped (a crafted pyc can hold any characters) and lines of any size shown."""
    lines = []
    for m in report.modules:
        where = f" ({escape(m.distribution)} {escape(m.version or '')})" if m.distribution else ""
        lines.append(f"{escape(m.name)}: {m.kind}{where}")
        for s in m.sites:
            notes = [s.scope]
            if s.guarded:
                notes.append("guarded")
            if s.implicit_relative:
                notes.append("implicit relative")
            if s.how in ("__import__", "import_module"):
                notes.append(s.how)
            line = "" if s.line is None else f":{show_int(s.line)}"
            lines.append(f"    {escape(s.file)}{line} [{', '.join(notes)}]")
    return lines
