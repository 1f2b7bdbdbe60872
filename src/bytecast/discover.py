"""Discover: find what lies under the paths a user names — one walker for every command.

The walk is lazy (entries come one at a time, so memory does not grow with the tree) and
sorted (every run sees the same order). It yields what the caller asks for (``kinds``):
``source`` (a ``.py`` file, as a :class:`Source`), ``file`` (any other regular file, as an
:class:`Entry`: data files, ``.so``, ``.pth``, ``py.typed``, legacy pycs), ``bytecode`` (only
the ``.pyc``/``.pyo`` files outside ``__pycache__``) and ``cache`` (a ``__pycache__`` folder,
as an :class:`Entry`; never entered). It applies gitignore-style
excludes (:mod:`bytecast.excludes`), limits depth, walks each folder once however many links
lead to it, and follows symbolic links only as the policy says: ``inside`` (default) follows a
link whose target lies inside the root being walked, ``all`` every link, ``none`` none. Links
are followed after every real folder of the root has been walked, so a folder is reached by
its real path when it has one. A folder link that leads back to a folder above it is a loop,
reported, not walked.

Unless ``ignore`` is off, the walk leaves out what a project's own tools would: folders of
version control (:data:`SKIPPED`: ``.git``, ``.hg``, ``.svn`` ...), ``.tox``, ``.nox`` and
``node_modules``, and environments (a folder holding ``pyvenv.cfg`` or ``conda-meta``) found
*inside* a walked path; and, inside a git work tree (a folder with ``.git`` at or above), what
its ignore files exclude: every ``.gitignore`` from the top of the work tree down, the
repository's ``info/exclude`` and the user's ``core.excludesFile``, read by bytecast (git is not
run), decided by git's rules. Those rules choose folders and sources; the other files and the
bytecode a walk yields are never judged by them (a ``.gitignore`` names ``__pycache__/``,
``*.pyc`` and ``*.so`` because they are built, not because they are not wanted). A path named
by the caller is always walked: when the rules would skip it (a ``.venv``, a folder a
``.gitignore`` excludes, or one inside such a folder), it is walked whole, without them.
"""

from __future__ import annotations

import os
import stat as _stat
import sys
from operator import attrgetter

from bytecast._frozen import Frozen, Record, init
from bytecast.errors import UsageError
from bytecast.options import LINK_POLICIES
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Sequence
    from typing import Callable, Final, Literal, Union

    from bytecast.options import LinkPolicy

    Kind = Literal["source", "file", "bytecode", "cache"]
    Found = Union["Source", "Entry"]

    from bytecast.excludes import Frames

    Git = tuple[bytes, Frames]  # a folder in a work tree: its path from the top (with "/"), its ignore files

__all__ = ["Source", "Entry", "Problem", "walk", "by_name", "LINK_POLICIES", "SKIPPED"]

SKIPPED = frozenset((".git", ".hg", ".svn", ".bzr", "_darcs", "CVS", ".pijul", ".jj", ".sl", ".tox", ".nox",
                     "node_modules"))
"""Folders a walk does not enter (unless ``ignore`` is off): version control, tox and nox
environments, JavaScript packages."""
_MARKERS = frozenset(("pyvenv.cfg", "conda-meta", ".git", ".gitignore"))
"""Names in a folder that change how it is walked: an environment, a work tree, ignore rules."""
_ENVIRONMENT = ("pyvenv.cfg", "conda-meta")
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()  # os.fsencode, inline

by_name = attrgetter("name")
"""The sort key of folder listings (``os.DirEntry.name``): every walk sees the same order."""


class Source(Record):
    """One ``.py`` file found by the walk (immutable: its fields are ``Final``)."""

    __slots__ = ("path", "root", "mtime", "size")

    path: Final[str]
    """The file's path: the root as the user gave it, joined with the relative path."""
    root: Final[str]
    """The folder argument it was found under; for a file argument, that file's folder."""
    mtime: Final[float]
    """``st_mtime``, as importlib reads it (headers record ``int(mtime)``)."""
    size: Final[int]
    """Size in bytes."""

    def __init__(self, path: str, root: str, mtime: float, size: int) -> None:
        self.path = path
        self.root = root
        self.mtime = mtime
        self.size = size

    @property
    def relpath(self) -> str:
        """Path relative to ``root`` (``os.sep`` separated); the file name for a file argument."""
        return self.path[len(self.root) :].lstrip(os.sep)


class Entry(Frozen):
    """A file that is not a source, or a ``__pycache__`` folder, found by the walk."""

    __slots__ = ("path", "root", "kind")

    path: str
    root: str
    kind: Kind
    """``file`` (``bytecode`` files are ``file`` entries too) or ``cache``."""

    def __init__(self, path: str, root: str, kind: Kind) -> None:
        init(self, "path", path)
        init(self, "root", root)
        init(self, "kind", kind)

    @property
    def relpath(self) -> str:
        """Path relative to ``root``."""
        return self.path[len(self.root) :].lstrip(os.sep)


_SOURCES: frozenset[Kind] = frozenset(("source",))


def walk(
    paths: Iterable[str],
    problems: list[Problem],
    *,
    excludes: Sequence[str] = (),
    max_depth: int | None = None,
    links: LinkPolicy = "inside",
    kinds: Collection[Kind] = _SOURCES,
    ignore: bool = True,
) -> Iterator[Found]:
    """Every entry of ``kinds`` under ``paths`` (files or folders), one at a time, in walk order.

    ``ignore`` (default) leaves out version control folders, environments and what the
    ``.gitignore`` files of a git work tree exclude (see the module's documentation).

    The arguments are checked now, before anything comes: :class:`UsageError` for a path that
    does not exist, or a file argument of a kind not asked for. Problems met during the walk
    (unreadable folders, symlink loops) are appended to ``problems`` as it goes.
    """
    if links not in LINK_POLICIES:
        raise UsageError(f"unknown link policy {links!r}, expected one of {', '.join(LINK_POLICIES)}", "links")
    match = None
    if excludes:  # the translator (and re) only when there are patterns
        from bytecast.excludes import compile_excludes

        match = compile_excludes(excludes)
    wanted = frozenset(kinds)
    roots: list[tuple[str, os.stat_result]] = []
    for arg in paths:
        try:
            st = os.stat(arg)
        except OSError as exc:
            if os.path.lexists(arg):
                problems.append(Problem(arg, "SymlinkLoop" if _is_loop(exc) else "OSError", _strerror(exc)))
                continue
            raise UsageError(f"{arg}: no such file or directory") from None
        if _stat.S_ISREG(st.st_mode):
            if not (arg.endswith(".py") or "file" in wanted or ("bytecode" in wanted and arg.endswith((".pyc", ".pyo")))):
                raise UsageError(f"{arg}: not a Python source (expected a .py file)")
        elif not _stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{arg}: not a file or directory")
        roots.append((arg, st))
    return _walk_roots(roots, match, max_depth, links, wanted, problems, ignore)


def _walk_roots(roots: list[tuple[str, os.stat_result]], match: Callable[[str, bool], bool] | None,
                max_depth: int | None, links: LinkPolicy, wanted: frozenset[Kind],
                problems: list[Problem], ignore: bool) -> Iterator[Found]:
    visited: set[tuple[int, int]] = set()  # folders walked, by device and inode: each once
    for arg, st in roots:
        if _stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in visited:
                continue
            visited.add(key)
            git, whole = _root_context(arg) if ignore else (None, True)
            walker = _Walker(arg, match, max_depth, links, wanted, problems, visited, not whole)
            yield from walker.walk(arg, "", 0, (key,), git)
            yield from walker.follow_links()
        elif arg.endswith(".py") and "source" in wanted:
            yield Source(arg, os.path.dirname(arg), st.st_mtime, st.st_size)
        else:
            yield Entry(arg, os.path.dirname(arg), "file")


def _root_context(root: str) -> tuple[Git | None, bool]:
    """The work tree context of a named folder, and whether the rules would skip it (then it
    is walked whole). Costs one ``lstat`` a folder above it outside a work tree."""
    folder = os.path.abspath(root)
    if os.path.basename(folder) in SKIPPED:
        return None, True
    below: list[str] = []
    while not os.path.lexists(os.path.join(folder, ".git")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None, False
        below.append(os.path.basename(folder))
        folder = parent
    from bytecast.excludes import decide, read_ignore_file, repo_excludes

    frames = repo_excludes(folder)
    prefix = b""
    for name in reversed(below):  # from the top of the work tree down to the named folder
        rules = read_ignore_file(os.path.join(folder, ".gitignore"))
        if rules is not None:
            frames += ((len(prefix), rules),)
        if prefix and any(os.path.lexists(os.path.join(folder, m)) for m in _ENVIRONMENT):
            return None, True  # inside an environment
        name_b = name.encode(_FS_ENCODING, _FS_ERRORS)
        if name in SKIPPED or decide(frames, prefix + name_b, name_b, True):
            return None, True
        folder = os.path.join(folder, name)
        prefix += name_b + b"/"
    return (prefix, frames), False


def _is_loop(exc: OSError) -> bool:
    import errno

    return exc.errno == errno.ELOOP


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Walker:
    __slots__ = ("root", "match", "max_depth", "links", "problems", "visited", "sources", "files", "bytecode",
                 "caches", "deferred", "_real_root", "ignore")

    def __init__(self, root: str, match: Callable[[str, bool], bool] | None, max_depth: int | None,
                 links: LinkPolicy, wanted: frozenset[Kind], problems: list[Problem],
                 visited: set[tuple[int, int]], ignore: bool) -> None:
        self.root = root
        self.match = match
        self.max_depth = max_depth
        self.links = links
        self.problems = problems
        self.visited = visited
        self.sources = "source" in wanted
        self.files = "file" in wanted
        self.bytecode = "bytecode" in wanted and not self.files
        self.caches = "cache" in wanted
        self.deferred: list[tuple[os.DirEntry[str], str, int, tuple[tuple[int, int], ...], Git | None]] = []
        self._real_root: str | None = None
        self.ignore = ignore

    def follow_links(self) -> Iterator[Found]:
        """The symbolic links met, followed once every real folder has been walked: a folder
        is then reached by its real path first, and a link to it adds nothing."""
        while self.deferred:
            entry, rel, depth, seen, git = self.deferred.pop(0)
            try:
                yield from self._link(entry, rel, depth, seen, git)
            except OSError as exc:
                self._failed(entry, exc)

    def _failed(self, entry: os.DirEntry[str], exc: OSError) -> None:
        kind = "SymlinkLoop" if _is_loop(exc) else "OSError"
        if kind == "OSError" and not os.path.exists(entry.path):
            return  # a dangling link or a file removed during the walk: nothing to compile
        self.problems.append(Problem(entry.path, kind, _strerror(exc)))

    def _inside(self, path: str) -> bool:
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def _folder(self, entry: os.DirEntry[str], rel: str, depth: int, seen: tuple[tuple[int, int], ...],
                st: os.stat_result | None, git: Git | None) -> Iterator[Found]:
        name = entry.name
        entry_rel = rel + os.sep + name if rel else name
        if self.match is not None and self.match(entry_rel, True):
            return
        if self.ignore:
            if name in SKIPPED:
                return
            if git is not None:
                from bytecast.excludes import decide

                name_b = name.encode(_FS_ENCODING, _FS_ERRORS)
                path_b = git[0] + name_b
                if decide(git[1], path_b, name_b, True):
                    return
                git = (path_b + b"/", git[1])
        if self.max_depth is not None and depth >= self.max_depth:
            return
        if st is None:
            st = entry.stat(follow_symlinks=False)
        key = (st.st_dev, st.st_ino)
        if key in seen:
            self.problems.append(Problem(entry.path, "SymlinkLoop", "folder link leads back to a folder being walked"))
            return
        if key in self.visited:
            return  # reached before by another way (a link such as a venv's lib64 -> lib)
        self.visited.add(key)
        yield from self.walk(entry.path, entry_rel, depth + 1, seen + (key,), git)

    def _cache(self, entry: os.DirEntry[str], rel: str) -> Iterator[Found]:
        if self.caches and (self.match is None or not self.match(rel + os.sep + entry.name if rel else entry.name,
                                                                  True)):
            yield Entry(entry.path, self.root, "cache")

    def _ignored_source(self, name: str, git: Git) -> bool:
        from bytecast.excludes import decide

        name_b = name.encode(_FS_ENCODING, _FS_ERRORS)
        return decide(git[1], git[0] + name_b, name_b, False)

    def _link(self, entry: os.DirEntry[str], rel: str, depth: int, seen: tuple[tuple[int, int], ...],
              git: Git | None) -> Iterator[Found]:
        """A symbolic link: followed as the policy says; raises OSError for a loop."""
        if self.links == "none" or (self.links == "inside" and not self._inside(entry.path)):
            return
        st = os.stat(entry.path)
        name = entry.name
        if _stat.S_ISDIR(st.st_mode):
            if name != "__pycache__":
                yield from self._folder(entry, rel, depth, seen, st, git)
        elif _stat.S_ISREG(st.st_mode):
            is_source = name.endswith(".py") and self.sources
            if not (is_source or self.files or (self.bytecode and name.endswith((".pyc", ".pyo")))):
                return
            if self.match is not None and self.match(rel + os.sep + name if rel else name, False):
                return
            if is_source and git is not None and self.ignore and self._ignored_source(name, git):
                return
            yield Source(entry.path, self.root, st.st_mtime, st.st_size) if is_source else \
                Entry(entry.path, self.root, "file")

    def walk(self, folder: str, rel: str, depth: int, seen: tuple[tuple[int, int], ...],
             git: Git | None) -> Iterator[Found]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=by_name)
        except OSError as exc:
            self.problems.append(Problem(folder, "OSError", _strerror(exc)))
            return
        if self.ignore:
            marks = _MARKERS.intersection(map(by_name, entries))
            if marks:
                if "pyvenv.cfg" in marks or "conda-meta" in marks:
                    if depth:
                        return  # an environment inside the walked path
                    self.ignore = False  # the named folder is one: walked whole
                    git = None
                else:
                    git = self._rules(folder, depth, git, marks)
        if git is not None:
            from bytecast.excludes import decide
        match = self.match
        files = self.files
        bytecode = self.bytecode
        for entry in entries:
            name = entry.name
            try:
                # The common cases first, answered from the folder listing without a syscall.
                if entry.is_dir(follow_symlinks=False):
                    if name != "__pycache__":
                        yield from self._folder(entry, rel, depth, seen, None, git)
                    else:
                        yield from self._cache(entry, rel)
                    continue
                if not name.endswith(".py"):
                    if entry.is_symlink():
                        self.deferred.append((entry, rel, depth, seen, git))
                    elif (files or (bytecode and name.endswith((".pyc", ".pyo")))) and \
                            entry.is_file(follow_symlinks=False) and \
                            (match is None or not match(rel + os.sep + name if rel else name, False)):
                        yield Entry(entry.path, self.root, "file")
                    continue
                if entry.is_file(follow_symlinks=False):
                    if not self.sources or (match is not None and match(rel + os.sep + name if rel else name, False)):
                        continue
                    if git is not None:
                        name_b = name.encode(_FS_ENCODING, _FS_ERRORS)
                        if decide(git[1], git[0] + name_b, name_b, False):
                            continue
                    st = entry.stat(follow_symlinks=False)
                    yield Source(entry.path, self.root, st.st_mtime, st.st_size)
                elif entry.is_symlink():
                    self.deferred.append((entry, rel, depth, seen, git))
                elif self.sources:  # a FIFO, a socket, a device named like a source: said, never read
                    from bytecast.fileio import describe

                    what = describe(entry.stat(follow_symlinks=False).st_mode)
                    self.problems.append(Problem(entry.path, "OSError", f"not a regular file ({what})"))
            except OSError as exc:
                self._failed(entry, exc)

    def _rules(self, folder: str, depth: int, git: Git | None, marks: frozenset[str]) -> Git | None:
        """The work tree context inside ``folder``: a repository of its own starts afresh (the
        rules of the one around it do not reach into it); its ``.gitignore`` adds rules."""
        from bytecast.excludes import read_ignore_file, repo_excludes

        if ".git" in marks and depth:
            git = (b"", repo_excludes(folder))
        if git is not None and ".gitignore" in marks:
            rules = read_ignore_file(os.path.join(folder, ".gitignore"))
            if rules is not None:
                git = (git[0], git[1] + ((len(git[0]), rules),))
        return git
