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
    from bytecast.import_classify import Environment
    from bytecast.import_declared import Declared
    from bytecast.options import LinkPolicy

__all__ = [
    "DynamicImport",
    "FoundImport",
    "ImportSite",
    "ImportedModule",
    "ImportsReport",
    "check_python",
    "classify_names",
    "declared_listing",
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
    """True when inside a try whose handler catches ImportError (or a base of it), or under a
    version test (``if sys.version_info >= (3, 14):``, ``if PY314:``)."""
    how: str
    """"import", "from", "__import__" or "import_module"."""
    implicit_relative: bool = False
    """Python 2 only: an ``import x`` that resolved to a sibling module (implicit relative)."""
    typing_only: bool = False
    """Under ``if TYPE_CHECKING:`` (or ``if False:``): it never runs."""
    guard: str | None = None
    """Why ``guarded``: "ImportError handler" or "version check"."""


@dataclass(**_DC_OPTS)
class DynamicImport:
    """A call of ``__import__`` or ``importlib.import_module`` whose module name is computed at
    run time (``"%s.base" % name``, an f-string, a variable): no module to look up."""

    file: str
    """The pyc or source file."""
    line: int | None
    """Source line, when recorded."""
    scope: str
    """"module", "class" or "function"."""
    how: str
    """"__import__" or "import_module"."""
    pattern: str | None
    """The constant part of the name as written (``"%s.base"``), when there is one."""
    guarded: bool
    """Inside a try whose handler catches ImportError, or under a version test."""
    typing_only: bool
    """Under ``if TYPE_CHECKING:``."""


@dataclass(**_DC_OPTS)
class ImportedModule:
    """A module the scanned code imports, and where it comes from."""

    name: str
    """Absolute dotted name."""
    kind: str
    """"stdlib", "local", "third-party", "missing" or "typing-only" (not installed, and only
    imported under ``if TYPE_CHECKING:``: nothing needs it at run time)."""
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
    dynamic: tuple[DynamicImport, ...] = ()
    """Imports whose module name is computed at run time, in the order found."""
    environment: Environment | None = None
    """Where third-party modules were looked up."""
    declared: Declared | None = None
    """The nearest ``pyproject.toml``'s dependencies against the imports (None: none found)."""

    @property
    def missing(self) -> tuple[ImportedModule, ...]:
        """Modules nothing provides (typing-only ones are not missing)."""
        return tuple(m for m in self.modules if m.kind == "missing")

    @property
    def hard_missing(self) -> tuple[ImportedModule, ...]:
        """Missing modules imported at least once unguarded (and not typing-only): these
        fail at run time."""
        return tuple(m for m in self.missing
                     if any(not s.guarded and not s.typing_only for s in m.sites))


@dataclass(**_DC_OPTS)
class _Unit:
    path: str
    """The file, or ``ARCHIVE/MEMBER`` for a member of an archive (what messages show)."""
    module: str
    is_package: bool
    root: str
    archive: str | None = None
    """The .whl/.zip/.pyz the file is a member of."""
    member: str | None = None
    """Its name inside the archive."""


def _module_name(path: str, root: str, sep: str = os.sep) -> tuple[str, bool]:
    rel = os.path.relpath(path, root) if sep == os.sep else path[len(root):]
    parts = rel.split(sep)
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

ARCHIVES = (".whl", ".zip", ".pyz")
"""Archive inputs read directly: their pycs, and their sources compiled in memory."""


class _Candidates:
    """The files that could be one module: its source, its legacy ``NAME.pyc``, its caches."""

    __slots__ = ("caches", "legacy", "source")

    def __init__(self) -> None:
        self.source: str | None = None
        self.legacy: str | None = None
        self.caches: dict[str, str] = {}


def _offer(chosen: dict[str, _Candidates], key: str, full: str) -> None:
    entry = chosen.setdefault(key, _Candidates())
    base = full.replace("\\", "/").rsplit("/", 2)
    if full.endswith(".py"):
        entry.source = full
    elif len(base) == 3 and base[1] == "__pycache__":
        parts = base[2].split(".")  # NAME.TAG[.opt-N].pyc
        tag = parts[1] if len(parts) >= 3 else ""
        entry.caches.setdefault(tag + "".join("." + p for p in parts[2:-1]), full)
    else:
        entry.legacy = full


def _offer_file(chosen: dict[str, _Candidates], root: str, full: str) -> None:
    module, is_pkg = _module_name(full, root)
    _offer(chosen, module + ("/__init__" if is_pkg else ""), full)


def _choose(entry: _Candidates, tag: str | None, zipimport: bool) -> str | None:
    """The file of one module the target would import.

    In a folder (importlib's path finder), a source beside it wins: its ``__pycache__`` pyc for
    the target's cache tag, else the source itself (the target would compile it); a legacy
    ``NAME.pyc`` is read only when there is no source. zipimport prefers a legacy ``NAME.pyc``
    to the source and never reads ``__pycache__``. With no target tag known, the first cache
    (sorted) stands for it. Caches with neither source nor legacy pyc (imported by nothing) are
    still read, so a folder of caches alone is not empty.
    """
    if zipimport and entry.legacy:
        return entry.legacy
    if entry.source:
        if not zipimport:
            if tag is not None and tag in entry.caches:
                return entry.caches[tag]
            if tag is None and entry.caches:
                return entry.caches[min(entry.caches)]
        return entry.source
    if entry.legacy:
        return entry.legacy
    if entry.caches:
        return entry.caches[tag] if tag in entry.caches else entry.caches[min(entry.caches)]
    return None


def _wheel_root(name: str) -> str | None:
    """The import root of a wheel member: "" for the purelib/platlib root, the ``.data``
    prefix for ``NAME.data/purelib/...``; None for metadata, scripts and headers."""
    first, _, rest = name.partition("/")
    if first.endswith(".dist-info"):
        return None
    if first.endswith(".data"):
        scheme = rest.partition("/")[0]
        return f"{first}/{scheme}/" if scheme in ("purelib", "platlib") else None
    return ""


def _collect_archive(path: str, problems: list[Problem], tag: str | None) -> list[_Unit]:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError) as exc:
        problems.append(Problem(path, "ArchiveError", f"not a readable zip archive: {exc}"))
        return []
    wheel = path.endswith(".whl")
    chosen: dict[str, _Candidates] = {}
    roots: dict[str, str] = {}
    for name in names:
        if not name.endswith((".py", ".pyc")) or name.startswith("/") or "\\" in name \
                or ".." in name.split("/"):
            continue
        root = _wheel_root(name) if wheel else ""
        if root is None:
            continue
        module, is_pkg = _module_name(name, root, "/")
        key = module + ("/__init__" if is_pkg else "")
        roots[key] = root
        _offer(chosen, key, name)
    units = []
    for key in sorted(chosen):
        member = _choose(chosen[key], tag, zipimport=not wheel)
        if member is not None:
            module, is_pkg = _module_name(member, roots[key], "/")
            units.append(_Unit(f"{path}/{member}", module, is_pkg, path, path, member))
    return units


def _collect(paths: Sequence[str], problems: list[Problem], excludes: Sequence[str] = (),
             links: LinkPolicy = "inside", max_depth: int | None = None, tag: str | None = None,
             ignore: bool = True) -> list[_Unit]:
    """The files to scan: a folder through the one walker (:mod:`bytecast.discover`), an
    archive's members, each module once, in the file the target (cache tag ``tag``) imports."""
    from bytecast.discover import Entry, walk

    units: list[_Unit] = []
    for path in paths:
        if os.path.isdir(path):
            top = os.path.abspath(path)
            root = _top_root(top)
            chosen: dict[str, _Candidates] = {}
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
                            _offer_file(chosen, root, os.path.join(item.path, name))
                elif item.path.endswith((".py", ".pyc")):
                    _offer_file(chosen, root, item.path)
            for key in sorted(chosen):
                full = _choose(chosen[key], tag, zipimport=False)
                if full is not None:
                    module, is_pkg = _module_name(full, root)
                    units.append(_Unit(full, module, is_pkg, root))
        elif path.endswith(ARCHIVES) and os.path.isfile(path):
            units.extend(_collect_archive(os.path.abspath(path), problems, tag))
        else:  # a file, or something read_regular will refuse (scan checked that it exists)
            full = os.path.abspath(path)
            root = os.path.dirname(full)
            if os.path.basename(root) == "__pycache__":
                root = os.path.dirname(root)
            root = _top_root(root)
            module, is_pkg = _module_name(full, root)
            units.append(_Unit(full, module, is_pkg, root))
    return units


def _member_bytes(unit: _Unit, zips: dict[str, Any], limit: int) -> bytes:
    """The bytes of an archive member, refused past ``limit`` (its size is read from the
    archive's directory first, then bounded again while reading)."""
    import zipfile

    assert unit.archive is not None and unit.member is not None
    zf = zips.get(unit.archive)
    if zf is None:
        zf = zips[unit.archive] = zipfile.ZipFile(unit.archive)
    info = zf.getinfo(unit.member)
    if info.file_size > limit:
        raise DataError(f"{unit.path}: {info.file_size} bytes, more than the {limit} bytecast reads")
    try:
        with zf.open(info) as f:
            data: bytes = f.read(limit + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
        raise DataError(f"{unit.path}: cannot read the member: {exc}") from None
    if len(data) > limit:
        raise DataError(f"{unit.path}: more than the {limit} bytes bytecast reads")
    return data


def _read(unit: _Unit, zips: dict[str, Any]) -> CodeRecord:
    limit = DEFAULT_LIMITS.max_size
    data = _member_bytes(unit, zips, limit) if unit.archive is not None else read_regular(unit.path, limit)
    if unit.path.endswith(".py"):
        import marshal

        try:
            code = compile(data, unit.path, "exec", dont_inherit=True)
        except ValueError as exc:  # null bytes, before 3.12
            raise DataError(f"{unit.path}: cannot compile: {exc}") from None
        value = loads(marshal.dumps(code))  # our own bytes, read the same way as any pyc
    else:
        from bytecast.header import parse_header

        header = parse_header(data, unit.path)
        version = python_for_magic(header.magic)
        if version is None:
            raise DataError(f"{unit.path}: magic {header.magic} is not of a Python bytecast "
                            "reads (2.3-2.7, 3.0-3.14)")
        value = loads(data, version, start=header.size)
    if not isinstance(value, CodeRecord):
        raise DataError(f"{unit.path}: no code object after the header")
    return value


def _search(unit: _Unit, zips: dict[str, Any]) -> Union[tuple[CodeRecord, list[FoundImport]], Problem]:
    """The code of one file and its imports, or the one problem that stopped it."""
    path = unit.path
    try:
        code = _read(unit, zips)
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


def check_python(python: str) -> str:
    """``python`` as "X.Y" if bytecast knows that version's standard library, else UsageError."""
    from bytecast.import_classify import known_pythons

    known = known_pythons()
    if python not in known:
        raise UsageError(f"python {python!r}: expected X.Y, one of {', '.join(known)}", "python")
    return python


def scan(paths: Sequence[str], python: str | None = None, *, excludes: Sequence[str] = (),
         links: LinkPolicy = "inside", max_depth: int | None = None, env: str | None = None,
         declared: bool = True, ignore: bool = True) -> ImportsReport:
    """Scan pycs, folders of them, sources, or archives of them, and classify every module they
    import.

    ``python`` ("X.Y") is the Python the code runs on: it decides stdlib membership (default:
    the version of each file's bytecode) and which ``__pycache__`` pyc is read (default: the
    environment's Python). ``env`` names the venv folder or interpreter whose distributions
    provide third-party modules (default: :func:`~bytecast.import_classify.default_environment`).
    Folders are walked as compile walks them (``excludes``, ``links``, ``max_depth``,
    ``ignore``; hidden folders are left out too unless ``ignore`` is off); ``.whl``, ``.zip`` and ``.pyz`` files are read directly (their
    sources compiled in memory, as loose sources are). With ``declared``, the nearest
    ``pyproject.toml`` above the first scanned folder or file is compared with the imports.

    A file that cannot be read, compiled or searched (corrupt, of a Python bytecast has no
    opcode table for, too deeply nested, not a regular file) is one
    :class:`~bytecast.problem.Problem` in ``problems``; the rest are scanned. Raises UsageError
    for a path that does not exist, an unknown ``python`` or an ``env`` that is neither a venv
    nor an interpreter.
    """
    from bytecast.import_classify import default_environment, environment, installed

    if python is not None:
        check_python(python)
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"{path}: no such file or directory")
    where = environment(env) if env is not None else default_environment(paths)
    runs_on = python or where.python
    tag = "cpython-" + runs_on.replace(".", "") if runs_on else None
    problems: list[Problem] = []
    units = _collect(paths, problems, excludes, links, max_depth, tag, ignore)
    local: set[str] = set()
    for unit in units:
        if unit.module:
            parts = unit.module.split(".")
            for k in range(1, len(parts) + 1):
                local.add(".".join(parts[:k]))
    sites: dict[str, list[ImportSite]] = {}
    dynamic: list[DynamicImport] = []
    version_of: dict[str, str] = {}
    pythons: set[str] = set()
    zips: dict[str, Any] = {}
    try:
        results = [(unit, _search(unit, zips)) for unit in units]
    finally:
        for zf in zips.values():
            zf.close()
    for unit, result in results:
        if isinstance(result, Problem):
            problems.append(result)
            continue
        code, found_imports = result
        ver = f"{code.python[0]}.{code.python[1]}"
        pythons.add(ver)
        for found in found_imports:
            if found.dynamic:
                dynamic.append(DynamicImport(unit.path, found.line, found.scope, found.how,
                                             found.name or None, found.guarded, found.typing_only))
                continue
            for name, implicit in _resolve(found, unit, code.python[0] == 2, local):
                site = ImportSite(unit.path, found.line, found.scope, found.guarded, found.how,
                                  implicit, found.typing_only, found.guard)
                sites.setdefault(name, []).append(site)
                version_of.setdefault(name, python or ver)
    modules = []
    by_version: dict[str, list[str]] = {}
    for name, ver in version_of.items():
        by_version.setdefault(ver, []).append(name)
    classes: dict[str, tuple[str, str | None, str | None]] = {}
    for ver, names in by_version.items():
        classes.update(classify_names(names, ver, local, where))
    for name in sorted(sites):
        kind, dist, version = classes[name]
        if kind == "missing" and all(s.typing_only for s in sites[name]):
            kind = "typing-only"
        modules.append(ImportedModule(name, kind, dist, version, tuple(sites[name])))
    compared = None
    if declared:
        from bytecast.config import find_pyproject
        from bytecast.import_declared import compare

        start = next((p for p in paths if not p.endswith(ARCHIVES)), None)
        if start is not None:
            start = start if os.path.isdir(start) else os.path.dirname(os.path.abspath(start))
            pyproject = find_pyproject(start)
            if pyproject is not None:
                try:
                    compared = compare(pyproject, modules, installed(where))
                except UsageError as exc:  # a broken pyproject.toml costs the comparison, not the report
                    message = str(exc)
                    if message.startswith(pyproject + ": "):
                        message = message[len(pyproject) + 2:]
                    problems.append(Problem(pyproject, "PyprojectError", message))
    ordered = tuple(sorted(pythons, key=lambda v: tuple(int(p) for p in v.split("."))))
    return ImportsReport(tuple(modules), len(units), ordered, tuple(problems), tuple(dynamic), where,
                         compared)


def listing(report: ImportsReport) -> list[str]:
    """The report as text lines, one per module and one per site under it, with names and
    paths escaped (a crafted pyc can hold any characters) and lines of any size shown."""
    lines = []
    for m in report.modules:
        where = f" ({escape(m.distribution)} {escape(m.version or '')})" if m.distribution else ""
        lines.append(f"{escape(m.name)}: {m.kind}{where}")
        for s in m.sites:
            notes = [s.scope]
            if s.typing_only:
                notes.append("typing only")
            if s.guarded:
                notes.append("guarded" if s.guard != "version check" else "guarded by version")
            if s.implicit_relative:
                notes.append("implicit relative")
            if s.how in ("__import__", "import_module"):
                notes.append(s.how)
            line = "" if s.line is None else f":{show_int(s.line)}"
            lines.append(f"    {escape(s.file)}{line} [{', '.join(notes)}]")
    if report.dynamic:
        lines.append("dynamic imports (module name computed at run time):")
    for d in report.dynamic:
        line = "" if d.line is None else f":{show_int(d.line)}"
        pattern = "" if d.pattern is None else f" {escape(repr(d.pattern))}"
        notes = [d.scope] + (["typing only"] if d.typing_only else []) + (["guarded"] if d.guarded else [])
        lines.append(f"    {escape(d.file)}{line} {d.how}{pattern} [{', '.join(notes)}]")
    return lines


def declared_listing(report: ImportsReport) -> list[str]:
    """The comparison with the declared dependencies as text lines (none without a
    ``pyproject.toml``), names escaped."""
    found = report.declared
    if found is None:
        return []
    lines = [f"declared dependencies ({escape(found.pyproject)}): {len(found.declared)}"]
    for u in found.undeclared:
        note = "" if u.required else " (optional: every import is guarded or typing-only)"
        lines.append(f"    imported but not declared: {escape(u.distribution)} {escape(u.version)}"
                     f" for {', '.join(escape(m) for m in u.modules)}{note}")
    for n in found.unused:
        where = f" [{escape(n.extra)}]" if n.extra else ""
        note = "" if n.installed else " (not installed: compared by name)"
        lines.append(f"    declared but never imported: {escape(n.name)}{where}{note}")
    return lines
