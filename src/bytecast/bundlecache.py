"""The cache of bundles' files that need a real path: what is there, and pruning it.

A bundle writes the native extensions and data files of a distribution once, to
``$XDG_CACHE_HOME/bytecast/bundles/<digest>/`` (``~/.cache`` without XDG_CACHE_HOME;
``BYTECAST_CACHE`` names the folder itself): the digest is the hash of what the folder holds,
so every app and version holding the same files shares it. A folder appears complete or not
at all (written as ``<digest>.tmp-<pid>-<random>``, then renamed); a run that uses one marks
it used (its mtime, at most once a day). The rule for the folder is the bootstrap's
(:mod:`bytecast.remote.bundle_boot`); the two are tested to agree.
"""

from __future__ import annotations

import os
import time

from bytecast._frozen import Frozen, init

__all__ = ["CacheEntry", "cache_root", "entries", "prune"]

_TMP_MARK = ".tmp-"
_ABANDONED = 3600.0
"""Seconds after which a temporary folder is a killed run's leftover (a live one lasts less)."""


class CacheEntry(Frozen):
    """One folder of the cache."""

    __slots__ = ("path", "name", "size", "files", "used", "complete")

    path: str
    name: str
    size: int
    """Bytes of the files in it."""
    files: int
    used: float
    """When a run last used it (its mtime)."""
    complete: bool
    """False for a temporary folder (a run writing it, or a killed run's leftover)."""

    def __init__(self, path: str, name: str, size: int, files: int, used: float, complete: bool) -> None:
        init(self, "path", path)
        init(self, "name", name)
        init(self, "size", size)
        init(self, "files", files)
        init(self, "used", used)
        init(self, "complete", complete)


def cache_root() -> str:
    """The folder bundles extract into (the rule of the bootstrap)."""
    root = os.environ.get("BYTECAST_CACHE")
    if root:
        return root
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bytecast", "bundles")


def entries(root: str | None = None) -> list[CacheEntry]:
    """Every folder of the cache, sorted by name (none when the cache does not exist)."""
    root = root or cache_root()
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        path = os.path.join(root, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        size = files = 0
        for parent, _, filenames in os.walk(path):
            for filename in filenames:
                try:
                    size += os.lstat(os.path.join(parent, filename)).st_size
                    files += 1
                except OSError:
                    pass
        found.append(CacheEntry(path, name, size, files, st.st_mtime, _TMP_MARK not in name))
    return found


def prune(days: float | None = 30.0, *, everything: bool = False, root: str | None = None,
          now: float | None = None) -> list[CacheEntry]:
    """Remove the folders not used for ``days`` (every one with ``everything``), and
    temporary folders left by killed runs; returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for entry in entries(root):
        if everything:
            stale = True
        elif not entry.complete:
            stale = now - entry.used > _ABANDONED
        else:
            stale = days is not None and now - entry.used > days * 86400
        if stale:
            _remove(entry.path)
            removed.append(entry)
    return removed


def _remove(path: str) -> None:
    """Remove a folder whose files and folders were made read-only."""
    import shutil

    for parent, dirs, _ in os.walk(path):
        for name in dirs:
            try:
                os.chmod(os.path.join(parent, name), 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path)
