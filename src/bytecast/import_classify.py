"""Who provides a module: the standard library of a Python version, or a distribution.

Stdlib membership is judged for the Python version of the bytecode (from bytecast's data
files, else an installed interpreter of that version, else the running one); third-party
modules are mapped to the installed distribution through its RECORD (which also covers
pyc-only installs) and ``top_level.txt``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import cache, lru_cache

from bytecast.errors import BytecastError

__all__ = ["classify_names"]


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
