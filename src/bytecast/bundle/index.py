"""A target's index: its stage compiled, every module's code, the distributions' metadata and
the files that need a real path."""

from __future__ import annotations

import os

from bytecast.errors import DataError
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from bytecast.bundle import BundleReport
    from bytecast.targets import Target

from bytecast.bundle._format import _EXTENSION, _MODULE, _NAMESPACE, _PACKAGE, BOOT, FORMAT, INDEX_DIR, Entry
from bytecast.bundle.stage import _Dist

__all__ = ["make_index"]


def make_index(folder: str, target: Target, dists: list[_Dist], entry: Entry, fast: bool, app: str,
           files: dict[str, tuple[bytes, bool]], report: BundleReport, jobs: int
           ) -> tuple[bytes, dict[str, Any]]:
    """Compile a stage and make its index, as the bytes of its member (and its entry in
    ``bundle.json``); with ``fast`` (``--fast-start``), the standard-library modules the
    application loads are in it too (:mod:`bytecast.bundle.stdlib`)."""
    import hashlib
    import shutil
    import zlib

    from bytecast.engine import compile_tree
    from bytecast.import_classify import _stdlib_names
    from bytecast.options import Options
    from bytecast.place.bundled import BundleLayout
    from bytecast.remote import script_text

    boot = os.path.join(folder, BOOT + ".py")
    with open(boot, "w", encoding="utf-8") as out:
        out.write(script_text("bundle_boot"))
    scripts = os.path.join(folder, "bin")
    if os.path.isdir(scripts):
        shutil.rmtree(scripts)  # pip's console-script wrappers: the bundle is the command
    layout = BundleLayout()
    options = Options(targets=(target,), optimize=(0,), ddir=f"<{app}>", jobs=jobs)
    result = compile_tree([folder], options, layout=layout)
    for problem in list(result.problems) + list(result.failures.values()):
        report.problems.append(problem)
    boot_code = layout.code.pop(BOOT + ".py", None)
    if boot_code is None:
        raise DataError(f"the bundle bootstrap did not compile for {target.label}")

    owner: dict[str, int] = {}
    for number, found in enumerate(dists, start=1):
        for path in found.owned:
            owner.setdefault(path, number)
    stdlib = _stdlib_names(f"{target.version[0]}.{target.version[1]}")
    suffixes = _extension_suffixes(target)
    modules: dict[str, tuple[int, str, bytes | None, int]] = {}
    shadowed: set[str] = set()
    payload_files: dict[int, list[tuple[str, str, int, str, int, int]]] = {}

    def owned_by(relpath: str) -> int:
        return owner.get(os.path.normpath(relpath), 0)

    def add(fullname: str, value: tuple[int, str, bytes | None, int]) -> None:
        top = fullname.split(".")[0]
        if top in stdlib:
            shadowed.add(top)
            return
        modules.setdefault(fullname, value)

    for relpath, pyc in sorted(layout.code.items()):
        name = _module_name(relpath)
        if name is None:
            continue
        fullname, is_package = name
        add(fullname, (_PACKAGE if is_package else _MODULE, relpath, pyc[16:], owned_by(relpath)))
    for relpath, path, executable in sorted(layout.files):
        with open(path, "rb") as stream:
            data = stream.read()
        first = relpath.split("/")[0]
        if first.endswith(".dist-info") or relpath.endswith(".pth") and "/" not in relpath:
            if relpath.endswith(".pth") and not relpath.startswith("distutils-precedence"):
                report.warnings.append(Problem(relpath, "warning",
                                               "a .pth file is not run in a bundle", target=target.cache_tag))
            continue
        digest = hashlib.sha256(data).hexdigest()
        member = f"{INDEX_DIR}/files/{digest}"
        files.setdefault(member, (data, False))
        owning = owned_by(relpath)
        mode = 0o755 if executable else 0o644
        payload_files.setdefault(owning, []).append((relpath, member, len(data), digest, mode, zlib.crc32(data)))
        for suffix in suffixes:
            if relpath.endswith(suffix):
                fullname = relpath[: -len(suffix)].replace("/", ".")
                if all(part.isidentifier() for part in fullname.split(".")):
                    add(fullname, (_EXTENSION, relpath, None, owning))
                break
    for fullname in _namespaces(modules):
        modules[fullname] = (_NAMESPACE, fullname.replace(".", "/"), None, modules_dist(modules, fullname))

    def payload(number: int) -> tuple[str, list[tuple[str, str, int, str, int, int]]] | None:
        entries = sorted(payload_files.get(number, ()))
        if not entries:
            return None
        key = hashlib.sha256(repr([(e[0], e[3], e[4]) for e in entries]).encode("utf-8")).hexdigest()
        return (key[:32], entries)

    records: list[tuple[str, str, str, dict[str, bytes], Any]] = [("", "", "", {}, payload(0))]
    for number, found in enumerate(dists, start=1):
        records.append((found.name, found.version, found.info, found.metadata, payload(number)))
    if shadowed:
        report.warnings.append(Problem(folder, "warning", "left out, the standard library's own is used: "
                                       + ", ".join(sorted(shadowed)), target=target.cache_tag))
    if entry[0] == "console" and entry[1] not in modules and entry[1].split(".")[0] not in stdlib:
        raise DataError(f"the entry point module {entry[1]} is not in what was installed for {target.label}")
    index = {"format": FORMAT, "name": app, "boot": boot_code[16:], "entry": entry, "fast": fast,
             "modules": modules, "dists": records}
    code_bytes = sum(len(m[2] or b"") for m in modules.values())
    code = bytearray()
    index["modules"] = _packed(modules, code)
    index["code_size"] = len(code)
    served: dict[str, Any] = {}
    if fast and not report.problems:
        from bytecast.bundle.stdlib import named_imports, stdlib_table

        named: list[tuple[str, tuple[str, ...]]] = []
        if entry[0] == "console" and entry[1] in modules and entry[2]:
            entry_pyc = layout.code.get(modules[entry[1]][1])
            if entry_pyc is not None:
                named = named_imports(entry_pyc, target.version, entry[2].split(".")[0])
        held = stdlib_table(index, bytes(code), target, folder, os.path.dirname(folder), named, jobs,
                            report.warnings)
        if held is not None:
            served = held["modules"]
            index["stdlib"] = {"guard": held["guard"], "modules": _packed(served, code)}
            index["code_size"] = len(code)
    about = {
        "target": target.cache_tag,
        "python": f"{target.version[0]}.{target.version[1]}",
        "entry": {"kind": entry[0], "module": entry[1], "attribute": entry[2]},
        "modules": len(modules),
        "code_bytes": code_bytes,
        "stdlib_modules": len(served),
        "stdlib_bytes": sum(len(m[2]) for m in served.values()),
        "distributions": [{"name": d.name, "version": d.version} for d in dists],
        "native": sorted(m[1] for m in modules.values() if m[0] == _EXTENSION),
        "files": sum(len(v) for v in payload_files.values()),
    }
    import marshal

    return marshal.dumps(index, 4) + bytes(code), about


def _packed(table: dict[str, Any], code: bytearray) -> dict[str, Any]:
    """``table`` with each entry's code (its third field) moved to the end of ``code``: the
    entry holds (offset, size) instead. An index is its marshalled table, then ``code``: a
    start reads the code of a module from the index's own buffer (``marshal.loads`` of a
    memoryview), instead of a copy of every module's bytes made as the index is read."""
    packed: dict[str, Any] = {}
    for name in sorted(table):
        entry = table[name]
        if isinstance(entry[2], bytes):
            entry = (*entry[:2], (len(code), len(entry[2])), *entry[3:])
            code.extend(table[name][2])
        packed[name] = entry
    return packed


def modules_dist(modules: dict[str, tuple[int, str, bytes | None, int]], package: str) -> int:
    """The distribution of the first module below a namespace package (0 for none)."""
    prefix = package + "."
    for fullname in sorted(modules):
        if fullname.startswith(prefix):
            return modules[fullname][3]
    return 0


def _namespaces(modules: dict[str, tuple[int, str, bytes | None, int]]) -> list[str]:
    """Parent packages without an ``__init__`` (PEP 420 namespace packages)."""
    missing = set()
    for fullname in modules:
        parts = fullname.split(".")
        for end in range(1, len(parts)):
            parent = ".".join(parts[:end])
            if parent not in modules:
                missing.add(parent)
    return sorted(missing)


def _module_name(relpath: str) -> tuple[str, bool] | None:
    """(module name, is a package) of a source's relative path, or None when no import
    statement can reach it (a folder or file name that is not an identifier)."""
    parts = relpath.split("/")
    stem = parts[-1][:-3]
    if stem == "__init__":
        names, package = parts[:-1], True
    else:
        names, package = parts[:-1] + [stem], False
    if not names or not all(n.isidentifier() for n in names):
        return None
    return ".".join(names), package


def _extension_suffixes(target: Target) -> tuple[str, ...]:
    """The file endings of native extension modules ``target`` loads, longest first."""
    import subprocess

    done = subprocess.run([target.executable, "-I", "-S", "-c",
                           "import importlib.machinery as m; print('\\n'.join(m.EXTENSION_SUFFIXES))"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    suffixes = done.stdout.decode().split() if done.returncode == 0 else [".so"]
    return tuple(sorted(suffixes, key=len, reverse=True))
