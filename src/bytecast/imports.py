"""Which modules does compiled code import, and who provides them?

Compiled code does not tie a program to library versions: imports are names resolved at run
time. :func:`scan` reads pycs (or compiles sources in memory), finds every ``IMPORT_NAME``
(with its level and fromlist, made absolute against the package), and every
``__import__("x")`` / ``importlib.import_module("x")`` with a constant argument, notes where
each happens (file, line, module level / class body / function, guarded by a try that catches
ImportError), and classifies each module as stdlib (for the Python version of the bytecode),
local (inside the scanned tree), third-party (mapped to the installed distribution via its
RECORD, which also covers pyc-only installs) or missing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from bytecast.disasm import Instruction, exception_entries, instructions
from bytecast.errors import BytecastError, UsageError
from bytecast.unmarshal import CodeRecord, loads, python_for_magic

__all__ = [
    "ImportSite",
    "ImportedModule",
    "ImportsReport",
    "classify_names",
    "find_imports",
    "scan",
]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True

_CO_NEWLOCALS = 0x2
_CATCHES_IMPORT = frozenset({"ImportError", "ModuleNotFoundError", "Exception",
                             "BaseException"})


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
    problems: tuple[str, ...]
    """One line per file that could not be read."""

    @property
    def missing(self) -> tuple[ImportedModule, ...]:
        return tuple(m for m in self.modules if m.kind == "missing")


@dataclass(**_DC_OPTS)
class _Found:
    name: str
    level: int
    fromlist: tuple[str, ...]
    line: int | None
    scope: str
    guarded: bool
    how: str


# --- finding imports in code ------------------------------------------------------------------


def _handler_catches_import(ins: list[Instruction], by_offset: dict[int, int],
                            target: int) -> bool:
    k = by_offset.get(target)
    if k is None:
        return False
    for item in ins[k:k + 14]:
        if item.opname in ("LOAD_GLOBAL", "LOAD_NAME") and item.argval in _CATCHES_IMPORT:
            return True
        if item.opname in ("RERAISE", "RETURN_VALUE", "END_FINALLY"):
            break
    return False


_SETUPS = frozenset({"SETUP_EXCEPT", "SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH",
                     "SETUP_LOOP"})


def _try_body_end(ins: list[Instruction], k: int, handler: int) -> int:
    """Where the try body opened by ins[k] ends (before 3.11): its last POP_BLOCK.

    The compiler may lay out the code that follows the try statement between the body and
    the handler (3.10 does), so the handler offset alone over-reaches. A POP_BLOCK before a
    ``return`` inside the body also closes the block, hence the *last* one at this depth.
    """
    depth = 1
    end = handler
    for item in ins[k + 1:]:
        if item.offset >= handler:
            break
        if item.opname in _SETUPS:
            depth += 1
        elif item.opname == "POP_BLOCK":
            depth -= 1
            if depth == 0:
                end = item.offset
                depth = 1  # later POP_BLOCKs of this block (after a return) count too
    return end


def _guard_ranges(code: CodeRecord, ins: list[Instruction]) -> list[tuple[int, int]]:
    """Byte ranges protected by a handler that catches ImportError."""
    by_offset = {item.offset: k for k, item in enumerate(ins)}
    ranges = []
    if code.python >= (3, 11):
        for entry in exception_entries(code):
            if _handler_catches_import(ins, by_offset, entry.target):
                ranges.append((entry.start, entry.end))
    else:
        for k, item in enumerate(ins):
            if (item.opname in ("SETUP_EXCEPT", "SETUP_FINALLY")
                    and isinstance(item.argval, int)
                    and _handler_catches_import(ins, by_offset, item.argval)):
                ranges.append((item.offset, _try_body_end(ins, k, item.argval)))
    return ranges


def _const(item: Instruction) -> tuple[bool, Any]:
    if item.opname == "LOAD_CONST":
        return True, item.argval
    if item.opname == "LOAD_SMALL_INT":
        return True, item.arg
    return False, None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):  # Python 2 str constants
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


_SKIP = frozenset({"PUSH_NULL", "PRECALL", "CACHE", "NOP", "EXTENDED_ARG", "COPY_FREE_VARS"})


def find_imports(code: CodeRecord) -> list[_Found]:
    """Every import in ``code`` and the code nested in it (names as written, not resolved)."""
    out: list[_Found] = []
    stack: list[tuple[CodeRecord, str]] = [(code, "module")]
    seen = 0
    visited: set[int] = set()
    while stack and seen < 100_000:
        current, scope = stack.pop()
        if id(current) in visited:  # shared by several parents: crafted data only
            continue
        visited.add(id(current))
        seen += 1
        ins = instructions(current)
        ranges = _guard_ranges(current, ins)
        for k, item in enumerate(ins):
            how = None
            name: str | None = None
            level = 0
            fromlist: tuple[str, ...] = ()
            if item.opname == "IMPORT_NAME":
                name = _text(item.argval)
                ok_level, lvl = _const(ins[k - 2]) if k >= 2 else (False, None)
                ok_from, frm = _const(ins[k - 1]) if k >= 1 else (False, None)
                level = lvl if ok_level and isinstance(lvl, int) else 0
                if ok_from and isinstance(frm, tuple):
                    fromlist = tuple(t for t in (_text(x) for x in frm) if t is not None)
                how = "from" if fromlist else "import"
            elif (item.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_ATTR", "LOAD_METHOD",
                                  "LOAD_DEREF", "LOAD_FAST")
                  and item.argval in ("__import__", "import_module")):
                j = k + 1
                while j < len(ins) and ins[j].opname in _SKIP:
                    j += 1
                if j < len(ins):
                    ok, value = _const(ins[j])
                    text = _text(value) if ok else None
                    if text and not text.startswith("."):
                        name = text
                        how = str(item.argval)
            if how is None or not name and not fromlist:
                continue
            guarded = any(s <= item.offset < e for s, e in ranges)
            out.append(_Found(name or "", level, fromlist, item.line, scope, guarded, how))
        for child in current.children:
            child_scope = "class" if not child.flags & _CO_NEWLOCALS else "function"
            stack.append((child, child_scope))
    return out


# --- reading files ----------------------------------------------------------------------------


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


def _collect(paths: Sequence[str]) -> list[_Unit]:
    units: list[_Unit] = []
    for path in paths:
        if os.path.isdir(path):
            top = os.path.abspath(path)
            root = _top_root(top)
            chosen: dict[str, str] = {}
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if not f.endswith((".py", ".pyc")):
                        continue
                    full = os.path.join(folder, f)
                    module, is_pkg = _module_name(full, root)
                    key = module + ("/__init__" if is_pkg else "")
                    # prefer bytecode (what ships) over source; first pyc found wins
                    if key not in chosen or (f.endswith(".pyc") and chosen[key].endswith(".py")):
                        chosen[key] = full
            for key in sorted(chosen):
                module, is_pkg = _module_name(chosen[key], root)
                units.append(_Unit(chosen[key], module, is_pkg, root))
        elif os.path.isfile(path):
            full = os.path.abspath(path)
            root = os.path.dirname(full)
            if os.path.basename(root) == "__pycache__":
                root = os.path.dirname(root)
            root = _top_root(root)
            module, is_pkg = _module_name(full, root)
            units.append(_Unit(full, module, is_pkg, root))
        else:
            raise UsageError(f"{path}: no such file or folder")
    return units


def _read(unit: _Unit) -> CodeRecord:
    if unit.path.endswith(".py"):
        import marshal

        with open(unit.path, "rb") as f:
            source = f.read()
        try:
            code = compile(source, unit.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise UsageError(f"{unit.path}: cannot compile: {exc}") from None
        value = loads(marshal.dumps(code))  # our own bytes, read the same way as any pyc
    else:
        from bytecast.header import parse_header

        with open(unit.path, "rb") as f:
            data = f.read()
        header = parse_header(data, unit.path)
        version = python_for_magic(header.magic)
        if version is None:
            raise UsageError(f"{unit.path}: magic {header.magic} is not a Python bytecast reads")
        value = loads(data[header.size:], version)
    if not isinstance(value, CodeRecord):
        raise UsageError(f"{unit.path}: no code object after the header")
    return value


# --- classification ---------------------------------------------------------------------------


_STDLIB_SCRIPT = (
    "import sys, os, sysconfig, pkgutil\n"
    "names = set(sys.builtin_module_names)\n"
    "lib = sysconfig.get_paths()['stdlib']\n"
    "for m in pkgutil.iter_modules([lib, os.path.join(lib, 'lib-dynload')]):\n"
    "    names.add(m[1])\n"
    "sys.stdout.write('\\n'.join(sorted(names)))\n"
)


def _find_interpreter(python: str) -> str | None:
    """An installed interpreter of version ``python``, found the way ``--target`` finds one."""
    from bytecast.targets import resolve

    try:
        found = resolve([python])
    except BytecastError:
        return None
    return found[0].executable if found else None


@cache
def _stdlib_names(python: str) -> frozenset[str]:
    """Top-level stdlib module names of Python ``python``: bytecast's data file for that
    version (made by tools/gen_stdlib_names.py), else asked of an installed interpreter of
    that version, else the running interpreter's own list."""
    from importlib.resources import files

    extra = {"__future__", "__main__"}
    try:
        text = files("bytecast.stdlib_names").joinpath(f"{python}.txt").read_text("utf-8")
    except OSError:
        pass
    else:
        return frozenset(n for n in text.split("\n") if n and not n.startswith("#")) | extra
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if python != running:
        exe = _find_interpreter(python)
        if exe is not None:
            import subprocess

            try:
                out = subprocess.run([exe, "-c", _STDLIB_SCRIPT], capture_output=True,
                                     text=True, timeout=60, check=True).stdout
                return frozenset(out.split()) | extra
            except (OSError, subprocess.SubprocessError):
                pass
    names = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
    if not getattr(sys, "stdlib_module_names", None):
        import pkgutil
        import sysconfig

        names.update(m.name for m in pkgutil.iter_modules([sysconfig.get_paths()["stdlib"]]))
    return frozenset(names) | extra


@lru_cache(maxsize=1)
def _distributions() -> dict[str, tuple[str, str]]:
    """Top-level import name -> (distribution, version), from each installed RECORD."""
    from importlib import metadata

    out: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions():
        meta = dist.metadata  # parsed once per distribution: it is the slow part
        name = meta["Name"] or ""
        version = meta["Version"] or ""
        files = dist.files or ()
        for f in files:
            parts = f.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) \
                    or parts[0] in ("..", "__pycache__") or parts[0].startswith("."):
                continue
            top = parts[0]
            if len(parts) == 1:
                if not top.endswith((".py", ".pyc", ".so", ".pyd")):
                    continue
                top = top.split(".", 1)[0]
            out.setdefault(top, (name, version))
        for top in (dist.read_text("top_level.txt") or "").split():
            out.setdefault(top, (name, version))
    return out


def classify_names(names: Iterable[str], python: str, local: set[str]
                   ) -> dict[str, tuple[str, str | None, str | None]]:
    """name -> (kind, distribution, version) for absolute module names."""
    stdlib = _stdlib_names(python)
    dists = _distributions()
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for name in names:
        top = name.split(".", 1)[0]
        if name in local or top in local:
            out[name] = ("local", None, None)
        elif top in stdlib:
            out[name] = ("stdlib", None, None)
        elif top in dists:
            dist, version = dists[top]
            out[name] = ("third-party", dist, version)
        else:
            out[name] = ("missing", None, None)
    return out


# --- scan -------------------------------------------------------------------------------------


def _resolve(found: _Found, unit: _Unit, py2: bool, local: set[str]
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


def scan(paths: Sequence[str], python: str | None = None) -> ImportsReport:
    """Scan pycs, folders of them, or sources, and classify every module they import.

    ``python`` overrides the version used for stdlib membership (default: the version of
    each file's bytecode). Unreadable files are reported in ``problems``; one bad file never
    stops the rest. Raises UsageError for a path that does not exist.
    """
    units = _collect(paths)
    local: set[str] = set()
    for unit in units:
        if unit.module:
            parts = unit.module.split(".")
            for k in range(1, len(parts) + 1):
                local.add(".".join(parts[:k]))
    sites: dict[str, list[ImportSite]] = {}
    version_of: dict[str, str] = {}
    pythons: set[str] = set()
    problems: list[str] = []
    for unit in units:
        try:
            code = _read(unit)
        except (BytecastError, OSError) as exc:
            problems.append(str(exc) if isinstance(exc, BytecastError) and unit.path in str(exc)
                            else f"{unit.path}: {exc}")
            continue
        ver = f"{code.python[0]}.{code.python[1]}"
        pythons.add(ver)
        for found in find_imports(code):
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
