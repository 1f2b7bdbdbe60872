"""Who provides a module: the standard library of a Python version, or a distribution.

Stdlib membership is judged for the Python version of the bytecode (from bytecast's data
files, else an installed interpreter of that version, else the running one); third-party
modules are mapped to the distribution installed in an :class:`Environment` through its RECORD
(which also covers pyc-only installs) and ``top_level.txt``, read by bytecast itself: nothing of
the environment is imported or run (an interpreter outside a venv is asked only where its
site-packages folders are).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from bytecast.errors import BytecastError, UsageError

__all__ = ["Distribution", "Environment", "Installed", "classify_names", "default_environment",
           "environment", "installed", "known_pythons", "normalize"]

_DC_OPTS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _DC_OPTS["slots"] = True


@dataclass(**_DC_OPTS)
class Environment:
    """Where a program's distributions are installed."""

    where: str
    """What it is, for messages: the venv folder, the interpreter, or "the running Python"."""
    site_dirs: tuple[str, ...]
    """Its site-packages folders, in import order."""
    python: str | None
    """Its Python version ("3.12"), when known."""


@dataclass(**_DC_OPTS)
class Distribution:
    """One installed distribution."""

    name: str
    """As its metadata spells it."""
    version: str
    """Its version."""
    tops: tuple[str, ...]
    """The top-level import names it provides, sorted."""


@dataclass(**_DC_OPTS)
class Installed:
    """The distributions of an environment, both ways round."""

    by_top: dict[str, Distribution]
    """Top-level import name -> the distribution providing it (the first in import order)."""
    by_name: dict[str, Distribution]
    """Normalised distribution name (PEP 503) -> distribution."""


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares it: lower case, runs of ``-_.`` as one ``-``."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _venv_config(root: str) -> dict[str, str]:
    from bytecast.fileio import read_regular

    out: dict[str, str] = {}
    try:
        text = read_regular(os.path.join(root, "pyvenv.cfg"), 1 << 20).decode("utf-8", "replace")
    except (OSError, BytecastError):
        return out
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _ask_site_dirs(exe: str) -> tuple[tuple[str, ...], str]:
    """(site-packages folders, "X.Y") of the interpreter ``exe``, asked with -E -s -S (no site
    module run, so no ``.pth`` file of the environment executes)."""
    import subprocess

    from bytecast.remote import script_argv

    try:
        done = subprocess.run([exe, "-E", "-s", "-S", *script_argv("site_paths")], capture_output=True,
                              text=True, timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"{exe}: cannot run it to ask for its site-packages: {exc}") from None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 2 or lines[0] != "bytecast-site":
        raise UsageError(f"{exe}: not a Python interpreter bytecast can ask (exit {done.returncode})")
    return tuple(lines[2:]), lines[1]


def _venv_environment(root: str) -> Environment:
    import glob

    config = _venv_config(root)
    found = sorted(glob.glob(os.path.join(glob.escape(root), "lib*", "python*", "site-packages")))
    found += [p for p in (os.path.join(root, "Lib", "site-packages"),) if os.path.isdir(p)]
    python = None
    version = config.get("version_info") or config.get("version") or ""
    parts = version.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        python = f"{parts[0]}.{parts[1]}"
    elif found:
        name = os.path.basename(os.path.dirname(found[0]))[len("python"):]
        python = name if name.replace(".", "").isdigit() else None
    dirs = list(dict.fromkeys(os.path.realpath(p) for p in found))  # lib64 is often a link to lib
    if config.get("include-system-site-packages", "").lower() == "true" and config.get("home"):
        home = config["home"]
        base = next((os.path.join(home, n) for n in (f"python{python}", "python3", "python")
                     if os.path.isfile(os.path.join(home, n))), None)
        if base is not None:
            dirs += [d for d in _ask_site_dirs(base)[0] if d not in dirs]
    return Environment(root, tuple(dirs), python)


def environment(path: str) -> Environment:
    """The environment ``path`` names: a venv folder (read, not run) or an interpreter (a venv's
    is read as its venv; another is asked where its site-packages are). Raises UsageError for
    anything else."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such venv or interpreter", "env")
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "pyvenv.cfg")):
            raise UsageError(f"{path}: not a virtual environment (no pyvenv.cfg) nor an interpreter", "env")
        return _venv_environment(os.path.abspath(path))
    exe = os.path.abspath(path)
    folder = os.path.dirname(exe)
    for root in (folder, os.path.dirname(folder)):
        if os.path.isfile(os.path.join(root, "pyvenv.cfg")):
            return _venv_environment(root)
    if not os.access(exe, os.X_OK):
        raise UsageError(f"{path}: not a virtual environment nor an interpreter", "env")
    dirs, python = _ask_site_dirs(exe)
    return Environment(exe, dirs, python)


def default_environment(paths: Sequence[str]) -> Environment:
    """The environment a scan of ``paths`` judges against when none is named: the one the
    default compile target comes from (:func:`bytecast.targets.environment_for`: the venv
    holding the first path, else the active ``VIRTUAL_ENV``), else the running Python."""
    from bytecast.targets import environment_for

    found = environment_for([p for p in paths if os.path.exists(p)][:1])
    if found is not None and os.path.isfile(os.path.join(found[0], "pyvenv.cfg")):
        return _venv_environment(os.path.abspath(found[0]))
    dirs = tuple(dict.fromkeys(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)))
    return Environment("the running Python", dirs, f"{sys.version_info[0]}.{sys.version_info[1]}")


def _find_interpreter(python: str) -> str | None:
    """An installed interpreter of version ``python``: the default target (the Python of the
    virtual environment in use, see :func:`bytecast.targets.default_for`) when it is of that
    version, else one found the way ``--target`` finds one."""
    from bytecast.targets import default_for, resolve

    try:
        default = default_for()
        if f"{default.version[0]}.{default.version[1]}" == python:
            return default.executable
    except BytecastError:
        pass
    try:
        found = resolve([python])
    except BytecastError:
        return None
    return found[0].executable if found else None


@cache
def known_pythons() -> tuple[str, ...]:
    """The Python versions whose standard library bytecast lists ("2.7", "3.6", ...)."""
    from importlib.resources import files

    names = (p.name[:-4] for p in files("bytecast.stdlib_names").iterdir() if p.name.endswith(".txt"))
    return tuple(sorted(names, key=lambda v: tuple(int(x) for x in v.split("."))))


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
                from bytecast.remote import script_argv

                out = subprocess.run([exe, "-E", "-s", "-S", *script_argv("stdlib_names")], capture_output=True,
                                     text=True, timeout=60, check=True, cwd="/").stdout
                return frozenset(out.split()) | extra
            except (OSError, subprocess.SubprocessError):
                pass
    names = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
    if not getattr(sys, "stdlib_module_names", None):
        import pkgutil
        import sysconfig

        names.update(m.name for m in pkgutil.iter_modules([sysconfig.get_paths()["stdlib"]]))
    return frozenset(names) | extra


_META_LIMIT = 1 << 20
_RECORD_LIMIT = 64 << 20


def _metadata_field(text: str, field: str) -> str:
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == field:
            return value.strip()
    return ""


def _read_text(path: str, limit: int) -> str:
    from bytecast.fileio import read_regular

    try:
        return read_regular(path, limit).decode("utf-8", "replace")
    except (OSError, BytecastError):
        return ""


def _tops_of(info: str, site: str) -> set[str]:
    """Top-level import names of one ``*.dist-info`` / ``*.egg-info`` folder."""
    import csv

    tops: set[str] = set()
    record = _read_text(os.path.join(info, "RECORD"), _RECORD_LIMIT)
    if not record and info.endswith(".egg-info"):
        record = _read_text(os.path.join(info, "installed-files.txt"), _RECORD_LIMIT)
        rows: Iterable[list[str]] = ([os.path.relpath(os.path.join(info, line), site)]
                                     for line in record.splitlines() if line)
    else:
        rows = csv.reader(record.splitlines())
    for row in rows:
        if not row:
            continue
        parts = row[0].replace("\\", "/").split("/")
        top = parts[0]
        if top.endswith((".dist-info", ".egg-info", ".data")) or top in ("..", "__pycache__", "") \
                or top.startswith("."):
            continue
        if len(parts) == 1:
            if not top.endswith((".py", ".pyc", ".so", ".pyd")):
                continue
            top = top.split(".", 1)[0]
        if top.isidentifier():
            tops.add(top)
    for top in _read_text(os.path.join(info, "top_level.txt"), _META_LIMIT).split():
        if top.replace("/", ".").split(".")[0].isidentifier():
            tops.add(top.replace("/", ".").split(".")[0])
    return tops


@cache
def _installed(site_dirs: tuple[str, ...]) -> Installed:
    by_top: dict[str, Distribution] = {}
    by_name: dict[str, Distribution] = {}
    for site in site_dirs:
        try:
            names = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in names:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            info = os.path.join(site, entry)
            if not os.path.isdir(info):
                continue
            meta = _read_text(os.path.join(info, "METADATA" if entry.endswith(".dist-info") else "PKG-INFO"),
                              _META_LIMIT)
            name = _metadata_field(meta, "name") or entry.rsplit(".", 1)[0].split("-")[0]
            version = _metadata_field(meta, "version")
            dist = Distribution(name, version, tuple(sorted(_tops_of(info, site))))
            by_name.setdefault(normalize(name), dist)
            for top in dist.tops:
                by_top.setdefault(top, dist)
    return Installed(by_top, by_name)


def installed(env: Environment) -> Installed:
    """The distributions installed in ``env`` (read once per set of folders)."""
    return _installed(env.site_dirs)


def classify_names(names: Iterable[str], python: str, local: set[str],
                   env: Environment | None = None) -> dict[str, tuple[str, str | None, str | None]]:
    """name -> (kind, distribution, version) for absolute module names; third-party ones are
    looked up in ``env`` (default: :func:`default_environment` of no paths)."""
    stdlib = _stdlib_names(python)
    dists = installed(env or default_environment(()))
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for name in names:
        top = name.split(".", 1)[0]
        if name in local or top in local:
            out[name] = ("local", None, None)
        elif top in stdlib:
            out[name] = ("stdlib", None, None)
        elif top in dists.by_top:
            dist = dists.by_top[top]
            out[name] = ("third-party", dist.name, dist.version)
        else:
            out[name] = ("missing", None, None)
    return out
