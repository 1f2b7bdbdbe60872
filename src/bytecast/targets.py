"""Targets: the interpreters bytecast compiles for.

The running interpreter is always available as :func:`current`. :func:`resolve` turns
``--target`` specs (``current``, ``3.12``, ``cpython-312``, a path, ``all``) into targets, from
what :func:`bytecast.discovery.find_interpreters` finds (``PATH``, pyenv, uv, ``/usr/bin``...).
"""

from __future__ import annotations

import os
import sys

from bytecast._frozen import Frozen, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from bytecast.discovery import Discovery

__all__ = ["Target", "current", "find_interpreters", "resolve", "cache_file"]


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


def find_interpreters(paths: Iterable[str] = (), *, cache: bool = True) -> Discovery:
    """Every interpreter found; see :func:`bytecast.discovery.find_interpreters`."""
    from bytecast.discovery import find_interpreters as find

    return find(paths, cache=cache)


def cache_file() -> str:
    """Where interpreters' answers are cached; see :func:`bytecast.discovery.cache_file`."""
    from bytecast.discovery import cache_file as where

    return where()


def _by_version(spec: str) -> tuple[int, int] | None:
    major, dot, minor = spec.partition(".")
    if dot and major.isdigit() and minor.isdigit():
        return (int(major), int(minor))
    return None


def resolve(specs: Sequence[str], *, cache: bool = True) -> tuple[Target, ...]:
    """The targets ``--target`` specs name, one per cache tag, in the order given.

    ``current`` is the running interpreter; ``3.12`` and ``cpython-312`` the first interpreter
    found of that version or cache tag (the running one when it matches); a path (anything with
    a ``/``) that interpreter; ``all`` one interpreter per cache tag of every one found.
    Raises :class:`~bytecast.errors.TargetError` for a spec nothing matches, naming what was found.
    """
    from bytecast.errors import TargetError

    specs = [s.strip() for s in specs if s.strip()] or ["current"]
    if all(s == "current" for s in specs):
        return (current(),)
    paths = [s for s in specs if os.sep in s or "/" in s or os.path.isfile(s)]
    found = find_interpreters(paths, cache=cache)
    cur = current()
    # The running interpreter wins its cache tag; then search order.
    ranked = sorted(found.targets, key=lambda t: not t.is_current)
    chosen: dict[str, Target] = {}

    def take(tgt: Target, spec: str) -> None:
        have = chosen.get(tgt.cache_tag)
        if have is None:
            chosen[tgt.cache_tag] = tgt

    for spec in specs:
        if spec == "current":
            take(cur, spec)
        elif spec == "all":
            for tgt in ranked:
                take(tgt, spec)
        elif spec in paths:
            match = found.named.get(spec)
            if match is None:
                real = os.path.realpath(spec)
                why = next((p.message for p in found.problems if p.path in (spec, real)),
                           "not a usable Python interpreter")
                raise TargetError(f"target {spec}: {why}")
            take(match, spec)
        else:
            version = _by_version(spec)
            hits = [t for t in ranked if (t.version == version if version else t.cache_tag == spec)]
            if version is None and not spec.replace("-", "").replace("_", "").isalnum():
                hits = []
            if not hits:
                names = ", ".join(f"{t.release} ({t.cache_tag})" for t in _unique_tags(ranked)) or "none"
                raise TargetError(
                    f"target {spec}: no such interpreter found; expected current, all, a version "
                    f"(3.12), a cache tag (cpython-312) or a path; found: {names}"
                )
            take(hits[0], spec)
    return tuple(chosen.values())


def _unique_tags(targets: Sequence[Target]) -> list[Target]:
    seen: dict[str, Target] = {}
    for t in targets:
        seen.setdefault(t.cache_tag, t)
    return sorted(seen.values(), key=lambda t: t.version)
