"""Targets: the interpreters bytecast compiles for.

The running interpreter is always available as :func:`current`; the one a user means when
they name none is :func:`default_for` the paths they walk (the Python of the virtual
environment holding the paths, else of the active one, else the running one). :func:`resolve`
turns ``--target`` specs (``current``, ``3.12``, ``3.12.1``, ``cpython-312``, a path, a command
on ``PATH``, ``all``) into targets, from what :func:`bytecast.discovery.find_interpreters`
finds (``PATH``, pyenv, uv, ``/usr/bin``...).
"""

from __future__ import annotations

import os
import sys

from bytecast._frozen import Frozen, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from packaging.specifiers import SpecifierSet

    from bytecast.discovery import Discovery

__all__ = ["Target", "current", "default_for", "environment_for", "find_interpreters", "resolve", "cache_file",
           "SUPPORTED_FROM", "admits", "which"]

SUPPORTED_FROM = (3, 9)
"""The oldest Python ``all`` takes when no ``requires-python`` says otherwise.

CPython's devguide (status of Python versions, December 2026) lists 3.9 as end of life since
October 2025 and 3.10 since October 2026. bytecast still takes 3.9: it is the oldest Python
bytecast itself runs on, and the system Python of RHEL 9 and its rebuilds, patched by the
vendor until 2032, so projects still meet it. The costs are not even: a pyc for a found
interpreter nobody uses costs disk, while leaving out one a project runs on makes its first
import slow. A project that needs newer syntax says so in ``requires-python``, which wins.
Older interpreters (2.7, 3.6-3.8) are compiled for only when named."""


class Target(Frozen):
    """One interpreter to compile for."""

    __slots__ = ("version", "cache_tag", "magic", "executable", "implementation", "is_current", "release")

    version: tuple[int, int]
    """Major and minor version, e.g. ``(3, 11)``."""
    cache_tag: str
    """``sys.implementation.cache_tag``, e.g. ``cpython-311``; names the files in ``__pycache__``.
    Python 2 has none: bytecast calls it ``cpython-27`` (its files are ``NAME.pyc`` beside the
    source)."""
    magic: bytes
    """The 4-byte magic number that opens every .pyc it writes."""
    executable: str
    """Path of the interpreter binary (a real file: links and shims are resolved)."""
    implementation: str
    """``sys.implementation.name``."""
    is_current: bool
    """True for the running interpreter."""
    release: str
    """The full version, ``3.11.7``."""

    def __init__(self, version: tuple[int, int], cache_tag: str, magic: bytes, executable: str,
                 implementation: str = "cpython", is_current: bool = False, release: str = "") -> None:
        if len(magic) != 4 or magic[2:4] != b"\r\n":
            raise ValueError(f"Target: {magic!r} is not a 4-byte magic number ending in \\r\\n")
        init(self, "version", (int(version[0]), int(version[1])))
        init(self, "cache_tag", cache_tag)
        init(self, "magic", bytes(magic))
        init(self, "executable", executable)
        init(self, "implementation", implementation)
        init(self, "is_current", is_current)
        init(self, "release", release)

    @property
    def legacy(self) -> bool:
        """True before PEP 3147 (Python 2): ``NAME.pyc`` beside the source, no ``__pycache__``."""
        return self.version < (3, 2)

    @property
    def label(self) -> str:
        """A short human name, ``cpython-3.11``."""
        return f"{self.implementation}-{self.version[0]}.{self.version[1]}"


_current: Target | None = None


def current() -> Target:
    """The running interpreter as a :class:`Target`."""
    global _current
    if _current is None:
        from importlib._bootstrap_external import MAGIC_NUMBER  # loaded at start-up already

        tag = sys.implementation.cache_tag
        if tag is None:  # pragma: no cover - only on interpreters with caching disabled
            from bytecast.errors import TargetError

            raise TargetError("the running interpreter writes no bytecode (cache_tag is None)")
        _current = Target(
            version=(sys.version_info[0], sys.version_info[1]),
            cache_tag=tag,
            magic=bytes(MAGIC_NUMBER),
            executable=sys.executable,
            implementation=sys.implementation.name,
            is_current=True,
            release=".".join(str(n) for n in sys.version_info[:3]),
        )
    return _current


def find_interpreters(paths: Iterable[str] = (), *, cache: bool = True, search: bool = True) -> Discovery:
    """Every interpreter found; see :func:`bytecast.discovery.find_interpreters`."""
    from bytecast.discovery import find_interpreters as find

    return find(paths, cache=cache, search=search)


def cache_file() -> str:
    """Where interpreters' answers are cached; see :func:`bytecast.discovery.cache_file`."""
    from bytecast.discovery import cache_file as where

    return where()


# --- the interpreter a user means --------------------------------------------------------


def environment_for(paths: Sequence[str] = ()) -> tuple[str, str] | None:
    """The virtual environment a run over ``paths`` is about, and how to name it: the nearest
    folder holding a ``pyvenv.cfg`` at or above the first path (compiling
    ``.venv/lib/python3.11/site-packages`` is about that venv), else ``$VIRTUAL_ENV`` (the
    active one); None when there is neither.

    The environment holding the files comes first: only its Python ever imports them,
    whichever venv is active in the shell (often bytecast's own, or another project's).
    """
    folder = os.path.abspath(paths[0] if paths else os.curdir)
    while True:
        if os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
            return folder, "virtual environment"
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    active = os.environ.get("VIRTUAL_ENV")
    return (active, "VIRTUAL_ENV") if active else None


def _env_python(env: str) -> str | None:
    for name in (os.path.join("bin", "python"), os.path.join("bin", "python3"), os.path.join("Scripts", "python.exe")):
        exe = os.path.join(env, name)
        if os.path.isfile(exe):
            return exe
    return None


def default_for(paths: Sequence[str] = (), *, cache: bool = True) -> Target:
    """The target a user means when they name none: the Python of the virtual environment
    :func:`environment_for` ``paths`` finds (the one holding them, else the active one), else
    the running interpreter.

    Installed as a tool (pipx, ``uv tool install``), bytecast runs on a Python of its own,
    which is rarely the project's. Raises :class:`~bytecast.errors.TargetError` when that
    environment has no Python that answers (a removed or broken venv): compiling for another
    version instead would write caches nobody imports.
    """
    found_env = environment_for(paths)
    if found_env is None:
        return current()
    env, source = found_env
    source = f"VIRTUAL_ENV={env}" if source == "VIRTUAL_ENV" else f"{source} {env}"
    cur = current()
    try:
        if os.path.samefile(env, sys.prefix):
            return cur
    except OSError:
        pass
    from bytecast.errors import TargetError

    exe = _env_python(env)
    if exe is None:
        raise TargetError(f"{source}: no bin/python in it (name a target, or current for the "
                          "Python bytecast runs on)")
    found = find_interpreters([exe], cache=cache, search=False)
    tgt = found.named.get(exe)
    if tgt is None:
        why = next((p.message for p in found.problems), "not a usable Python interpreter")
        raise TargetError(f"{source}: {exe}: {why}")
    return tgt


def which(name: str) -> str | None:
    """The first executable file ``name`` in a ``PATH`` folder, as ``shutil.which`` finds a
    command (without importing shutil: a ``--target`` is read before any work)."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not folder:
            continue
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# --- --target specs ------------------------------------------------------------------------


def _by_version(spec: str) -> tuple[int, int] | None:
    major, dot, minor = spec.partition(".")
    if dot and major.isdigit() and minor.isdigit():
        return (int(major), int(minor))
    return None


def _full_version(spec: str) -> bool:
    parts = spec.split(".")
    return len(parts) == 3 and all(part.isdigit() for part in parts)


def _is_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or os.path.isfile(spec)


def _is_word(spec: str) -> bool:
    """A cache tag (``cpython-312``) or a command name (``python3``): letters, digits, ``-``, ``_``, ``.``."""
    return spec.replace("-", "").replace("_", "").replace(".", "").isalnum()


def resolve(specs: Sequence[str], *, cache: bool = True, requires_python: str | None = None,
            requires_from: str = "requires-python") -> tuple[Target, ...]:
    """The targets ``--target`` specs name, one per cache tag, in the order given.

    ``current`` is the running interpreter; ``3.12`` and ``cpython-312`` the first interpreter
    found of that version or cache tag (the running one when it matches); ``3.12.1`` one of that
    exact release; a path (anything with a ``/``) that interpreter; another word a command on
    ``PATH`` (``python3``); ``all`` one interpreter per cache tag of every one found that the
    project supports: those ``requires_python`` (a PEP 440 specifier, named by
    ``requires_from`` in errors) allows, else those from :data:`SUPPORTED_FROM` on.
    Raises :class:`~bytecast.errors.TargetError` for a spec nothing matches, naming what was
    found, and :class:`~bytecast.errors.UsageError` for a ``requires_python`` that is not a
    specifier.
    """
    from bytecast.errors import TargetError

    specs = [s.strip() for s in specs if s.strip()] or ["current"]
    if all(s == "current" for s in specs):
        return (current(),)
    paths = [s for s in specs if _is_path(s)]
    commands: dict[str, str] = {}
    for spec in specs:
        if spec in ("current", "all") or spec in paths or _by_version(spec) or not _is_word(spec):
            continue
        exe = which(spec)
        if exe is not None:
            commands[spec] = exe
    found = find_interpreters(paths + sorted(set(commands.values())), cache=cache)
    cur = current()
    # The running interpreter wins its cache tag; then search order.
    ranked = sorted(found.targets, key=lambda t: not t.is_current)
    chosen: dict[str, Target] = {}

    def take(tgt: Target) -> None:
        chosen.setdefault(tgt.cache_tag, tgt)

    def named(spec: str, path: str) -> Target:
        match = found.named.get(path)
        if match is None:
            real = os.path.realpath(path)
            why = next((p.message for p in found.problems if p.path in (path, real)),
                       "not a usable Python interpreter")
            raise TargetError(f"target {spec}: {why}")
        return match

    def found_names() -> str:
        return ", ".join(f"{t.release} ({t.cache_tag})" for t in _unique_tags(ranked)) or "none"

    for spec in specs:
        if spec == "current":
            take(cur)
        elif spec == "all":
            supported = _supported(ranked, requires_python, requires_from)
            if not supported:
                wanted = (f"is allowed by {requires_from} = {requires_python!r}" if requires_python is not None
                          else f"is Python {SUPPORTED_FROM[0]}.{SUPPORTED_FROM[1]} or newer")
                raise TargetError(f"target all: no interpreter found {wanted} (name one to compile for it "
                                  f"anyway); found: {found_names()}")
            for tgt in sorted(supported, key=lambda t: t.version):  # stable: the running one still first
                take(tgt)
        elif spec in paths:
            take(named(spec, spec))
        else:
            version = _by_version(spec)
            if _full_version(spec):
                hits = [t for t in ranked if t.release == spec]
            elif version:
                hits = [t for t in ranked if t.version == version]
            else:
                hits = [t for t in ranked if t.cache_tag == spec] if _is_word(spec) else []
            if not hits and spec in commands:
                hits = [named(spec, commands[spec])]
            if not hits:
                raise TargetError(
                    f"target {spec}: no such interpreter found; expected current, all, a version "
                    f"(3.12 or 3.12.1), a cache tag (cpython-312), a path or a command on PATH; "
                    f"found: {found_names()}"
                )
            take(hits[0])
    return tuple(chosen.values())


def admits(spec: SpecifierSet, target: Target) -> bool:
    """Whether ``spec`` (a ``packaging`` SpecifierSet: a ``Requires-Python``) admits ``target``,
    by its full release when known (pre-releases too: a 3.14.0rc1 target is a 3.14)."""
    return spec.contains(target.release or f"{target.version[0]}.{target.version[1]}", prereleases=True)


def _supported(ranked: Sequence[Target], requires_python: str | None, requires_from: str) -> list[Target]:
    """The targets ``all`` takes: those ``requires_python`` allows, else the supported ones."""
    if requires_python is None:
        return [t for t in ranked if t.version >= SUPPORTED_FROM]
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(requires_python)
    except InvalidSpecifier:
        from bytecast.errors import UsageError

        raise UsageError(f"{requires_from}: {requires_python!r} is not a version specifier") from None
    return [t for t in ranked if admits(allowed, t)]


def _unique_tags(targets: Sequence[Target]) -> list[Target]:
    seen: dict[str, Target] = {}
    for t in targets:
        seen.setdefault(t.cache_tag, t)
    return sorted(seen.values(), key=lambda t: t.version)
