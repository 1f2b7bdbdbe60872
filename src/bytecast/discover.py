"""Discover: find the Python sources under the paths a user names.

The walk is lazy (sources come one at a time, so memory does not grow with the tree) and
sorted (so every run sees the same order), skips ``__pycache__``, applies
gitignore-style excludes, limits depth, and follows symbolic links only as the policy says:
``inside`` (default) follows a link whose target lies inside the root being walked, ``all``
follows every link, ``none`` follows none. A followed directory seen twice on one branch of
the walk is a symlink loop and is reported, not walked.
"""

from __future__ import annotations

import os
import stat as _stat
from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from dataclasses import dataclass
    from typing import Callable
else:
    from bytecast._record import dataclass

from bytecast.errors import UsageError

_by_name = attrgetter("name")

__all__ = ["Source", "Problem", "walk", "compile_excludes", "LINK_POLICIES"]

LINK_POLICIES = ("inside", "all", "none")


@dataclass(frozen=True)
class Source:
    """One ``.py`` file found by the walk."""

    path: str
    """The file's path: the root as the user gave it, joined with the relative path."""
    root: str
    """The folder argument it was found under; for a file argument, that file's folder."""
    mtime: int
    """``int(st_mtime)``, as importlib records it."""
    size: int
    """Size in bytes."""

    @property
    def relpath(self) -> str:
        """Path relative to ``root`` (``os.sep`` separated); the file name for a file argument."""
        return self.path[len(self.root) :].lstrip(os.sep)


@dataclass(frozen=True)
class Problem:
    """A file that could not be processed, with where and why."""

    path: str
    kind: str
    """A short error class name: ``SyntaxError``, ``OSError``, ``SymlinkLoop``..."""
    message: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{max(self.line, 0)}:{max(self.column, 0)}: {self.kind}: {self.message}"


def compile_excludes(patterns: Sequence[str]) -> Callable[[str, bool], bool] | None:
    """Build ``match(relpath, is_dir)`` for gitignore-style patterns; None when there are none.

    ``name`` matches a file or folder of that name at any depth; a pattern with a ``/`` inside
    is anchored at the root; a trailing ``/`` matches folders only; ``*`` and ``?`` stay inside
    one path part, ``**`` spans parts, ``[...]`` is a character class. A folder that matches
    is not entered.
    """
    if not patterns:
        return None
    import re

    compiled: list[tuple[re.Pattern[str], bool]] = []
    for pattern in patterns:
        p = pattern.replace(os.sep, "/") if os.sep != "/" else pattern
        dir_only = p.endswith("/")
        p = p.strip("/") if dir_only else p
        if not p:
            raise UsageError(f"empty exclude pattern {pattern!r}")
        anchored = "/" in p.lstrip("/") or p.startswith("/")
        p = p.lstrip("/")
        regex = _glob_to_regex(p)
        if not anchored:
            regex = "(?:.*/)?" + regex
        compiled.append((re.compile(regex + r"\Z", re.DOTALL), dir_only))

    def match(relpath: str, is_dir: bool) -> bool:
        rel = relpath.replace(os.sep, "/") if os.sep != "/" else relpath
        for rx, dir_only in compiled:
            if dir_only and not is_dir:
                continue
            if rx.match(rel):
                return True
        return False

    return match


def _glob_to_regex(pattern: str) -> str:
    import re

    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):  # "**/" : zero or more folders
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern.startswith("[!", i) or pattern.startswith("[^", i) else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def walk(
    paths: Iterable[str],
    problems: list[Problem],
    *,
    excludes: Sequence[str] = (),
    max_depth: int | None = None,
    links: str = "inside",
) -> Iterator[Source]:
    """Every ``.py`` source under ``paths`` (files or folders), one at a time, in walk order.

    The arguments are checked now, before any source comes: :class:`UsageError` for a path
    that does not exist or a file argument that is not a ``.py`` file. Problems met during
    the walk (unreadable folders, symlink loops) are appended to ``problems`` as it goes.
    """
    if links not in LINK_POLICIES:
        raise UsageError(f"unknown link policy {links!r}, expected one of {', '.join(LINK_POLICIES)}")
    match = compile_excludes(excludes)
    roots: list[tuple[str, os.stat_result]] = []
    for arg in paths:
        try:
            st = os.stat(arg)
        except OSError as exc:
            if os.path.lexists(arg):
                problems.append(Problem(arg, "SymlinkLoop" if _is_loop(exc) else "OSError", _strerror(exc)))
                continue
            raise UsageError(f"{arg}: no such file or directory") from None
        if _stat.S_ISREG(st.st_mode) and not arg.endswith(".py"):
            raise UsageError(f"{arg}: not a Python source (expected a .py file)")
        if not (_stat.S_ISDIR(st.st_mode) or _stat.S_ISREG(st.st_mode)):
            raise UsageError(f"{arg}: not a file or directory")
        roots.append((arg, st))
    return _walk_roots(roots, match, max_depth, links, problems)


def _walk_roots(
    roots: list[tuple[str, os.stat_result]],
    match: Callable[[str, bool], bool] | None,
    max_depth: int | None,
    links: str,
    problems: list[Problem],
) -> Iterator[Source]:
    for arg, st in roots:
        if _stat.S_ISDIR(st.st_mode):
            walker = _Walker(arg, match, max_depth, links, problems)
            yield from walker.walk(arg, "", 0, ((st.st_dev, st.st_ino),))
        else:
            yield Source(arg, os.path.dirname(arg), int(st.st_mtime), st.st_size)


def _is_loop(exc: OSError) -> bool:
    import errno

    return exc.errno == errno.ELOOP


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Walker:
    __slots__ = ("root", "match", "max_depth", "links", "problems", "_real_root")

    def __init__(
        self,
        root: str,
        match: Callable[[str, bool], bool] | None,
        max_depth: int | None,
        links: str,
        problems: list[Problem],
    ) -> None:
        self.root = root
        self.match = match
        self.max_depth = max_depth
        self.links = links
        self.problems = problems
        self._real_root: str | None = None

    def _inside(self, path: str) -> bool:
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def _folder(self, entry: os.DirEntry[str], rel: str, depth: int, seen: tuple[tuple[int, int], ...], st: os.stat_result | None) -> Iterator[Source]:
        entry_rel = rel + os.sep + entry.name if rel else entry.name
        if self.match is not None and self.match(entry_rel, True):
            return
        if self.max_depth is not None and depth >= self.max_depth:
            return
        if st is None:
            st = entry.stat(follow_symlinks=False)
        key = (st.st_dev, st.st_ino)
        if key in seen:
            self.problems.append(Problem(entry.path, "SymlinkLoop", "folder link leads back to a folder being walked"))
            return
        yield from self.walk(entry.path, entry_rel, depth + 1, seen + (key,))

    def _link(self, entry: os.DirEntry[str], rel: str, depth: int, seen: tuple[tuple[int, int], ...]) -> Iterator[Source]:
        """A symbolic link: followed as the policy says; raises OSError for a loop."""
        if self.links == "none" or (self.links == "inside" and not self._inside(entry.path)):
            return
        st = os.stat(entry.path)
        if _stat.S_ISDIR(st.st_mode):
            if entry.name != "__pycache__":
                yield from self._folder(entry, rel, depth, seen, st)
        elif _stat.S_ISREG(st.st_mode) and entry.name.endswith(".py"):
            if self.match is not None and self.match(rel + os.sep + entry.name if rel else entry.name, False):
                return
            yield Source(entry.path, self.root, int(st.st_mtime), st.st_size)

    def walk(self, folder: str, rel: str, depth: int, seen: tuple[tuple[int, int], ...]) -> Iterator[Source]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_by_name)
        except OSError as exc:
            self.problems.append(Problem(folder, "OSError", _strerror(exc)))
            return
        match = self.match
        for entry in entries:
            name = entry.name
            try:
                # The common cases first, answered from the folder listing without a syscall.
                if entry.is_dir(follow_symlinks=False):
                    if name != "__pycache__":
                        yield from self._folder(entry, rel, depth, seen, None)
                    continue
                if not name.endswith(".py"):
                    if entry.is_symlink():
                        yield from self._link(entry, rel, depth, seen)
                    continue
                if entry.is_file(follow_symlinks=False):
                    if match is not None and match(rel + os.sep + name if rel else name, False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    yield Source(entry.path, self.root, int(st.st_mtime), st.st_size)
                elif entry.is_symlink():
                    yield from self._link(entry, rel, depth, seen)
            except OSError as exc:
                kind = "SymlinkLoop" if _is_loop(exc) else "OSError"
                if kind == "OSError" and not os.path.exists(entry.path):
                    continue  # a dangling link or a file removed during the walk: nothing to compile
                self.problems.append(Problem(entry.path, kind, _strerror(exc)))
