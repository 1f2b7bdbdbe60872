"""Clean: remove bytecode caches, never sources.

By default every ``.pyc``/``.pyo`` in every ``__pycache__`` goes, with the leftovers of
interrupted writes (``NAME.pyc.PID.tmp``), and so do Python 2 caches (``NAME.pyc`` beside
its ``NAME.py``). ``stale`` narrows that to caches whose source changed since they were
written (by the rule of the Python that wrote them, :mod:`bytecast.freshness`), ``orphans``
to caches whose source is gone; both together remove either. A sourceless module
(``NAME.pyc`` where no ``NAME.py`` is beside it) is a program, not a cache: it stays unless
``sourceless`` is set. Folders are walked by :mod:`bytecast.discover` without following
symbolic links, and a ``__pycache__`` left empty is removed. Nothing else is ever deleted:
in ``__pycache__`` (Python's own folder) every regular file named ``*.pyc``/``*.pyo`` is
bytecode by its name; outside it, a ``NAME.pyc`` beside ``NAME.py`` goes only when it starts
like a pyc (a magic number), so a user's file of that name stays (one 16-byte read, for the
rare legacy files only); FIFOs and other special files are never touched.

With a pycache prefix (``PYTHONPYCACHEPREFIX`` or ``-X pycache_prefix``, passed as
``pycache_prefix``) Python writes a source folder's caches in a mirror of its absolute path
under the prefix (``PREFIX/home/me/src/pkg/m.cpython-312.pyc`` for ``/home/me/src/pkg/m.py``),
with no ``__pycache__`` folder; clean walks that mirror of each folder too, by the same rules.
A ``.pyc`` named on the command line that stays is reported with the reason (``kept``).
"""

from __future__ import annotations

import os
import stat as _stat

from bytecast._frozen import Frozen, init
from bytecast.discover import Entry, by_name, walk
from bytecast.errors import UsageError
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from bytecast.targets import Target

__all__ = ["CleanReport", "Kept", "clean"]


class Kept(Frozen):
    """A file named on the command line that clean left in place, and why."""

    __slots__ = ("path", "reason")

    path: str
    reason: str
    """Why it stays, in words: ``sourceless module (no m.py beside it; see --sourceless)``."""

    def __init__(self, path: str, reason: str) -> None:
        init(self, "path", path)
        init(self, "reason", reason)


class CleanReport(Frozen):
    """What a clean removed (or, on a dry run, would remove)."""

    __slots__ = ("files", "folders", "kept_sourceless", "problems", "dry_run", "kept")

    files: list[str]
    """Bytecode files removed, in walk order."""
    folders: list[str]
    """``__pycache__`` folders removed because they were left empty."""
    kept_sourceless: int
    """Sourceless ``NAME.pyc`` files left in place (``sourceless`` not set)."""
    problems: list[Problem]
    """Files or folders that could not be read or removed."""
    dry_run: bool
    kept: list[Kept]
    """Files named in ``paths`` that stay, each with the reason."""

    def __init__(self, files: list[str], folders: list[str], kept_sourceless: int, problems: list[Problem],
                 dry_run: bool = False, kept: list[Kept] | None = None) -> None:
        init(self, "files", files)
        init(self, "folders", folders)
        init(self, "kept_sourceless", kept_sourceless)
        init(self, "problems", problems)
        init(self, "dry_run", dry_run)
        init(self, "kept", [] if kept is None else kept)


def clean(
    paths: Iterable[str],
    *,
    stale: bool = False,
    orphans: bool = False,
    sourceless: bool = False,
    dry_run: bool = False,
    excludes: Sequence[str] = (),
    max_depth: int | None = None,
    targets: Sequence[Target] = (),
    pycache_prefix: str | None = None,
    ignore: bool = True,
) -> CleanReport:
    """Remove bytecode under ``paths`` (folders, or single .pyc files) as the flags say.

    Folders are walked as compile walks them: with ``ignore`` (default), version control
    folders, environments and what ``.gitignore`` files exclude are left alone.

    ``targets``, when given, limits the work to the bytecode those interpreters write (by
    the magic number in its header); each target also hashes the sources of its own
    hash-based pycs (see :mod:`bytecast.hashing`). ``pycache_prefix`` (``sys.pycache_prefix``
    of the Pythons that wrote the caches) adds the mirror of each folder under it.
    """
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0):
        raise UsageError(f"max depth must be 0 or more, not {max_depth!r}", "max_depth")
    cleaner = _Cleaner(stale, orphans, sourceless, dry_run)
    if targets:
        cleaner.targets = {bytes(t.magic): t for t in targets}
    folders: list[str] = []
    named: list[str] = []
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            raise UsageError(f"{path}: no such file or directory") from None
        if _stat.S_ISDIR(st.st_mode):
            folders.append(path)
        elif not path.endswith((".pyc", ".pyo")):
            raise UsageError(f"{path}: not a folder or a .pyc file")
        elif not (_stat.S_ISREG(st.st_mode) or _stat.S_ISLNK(st.st_mode)):
            raise UsageError(f"{path}: not a regular file (special files are never removed)")
        else:
            named.append(path)
    kept: list[Kept] = []
    for path in named:
        cleaner.reason = "kept"
        parent = os.path.dirname(path) or "."
        if os.path.basename(parent) == "__pycache__":
            removed = cleaner.cache_file(path, os.path.dirname(parent) or ".", os.path.basename(path))
        else:
            removed = cleaner.legacy_file(path)
        if not removed:
            kept.append(Kept(path, cleaner.reason))
    if folders:
        for entry in walk(folders, cleaner.problems, excludes=excludes, max_depth=max_depth, links="none",
                          kinds=("bytecode", "cache"), ignore=ignore):
            if isinstance(entry, Entry) and entry.kind == "cache":
                cleaner.cache_folder(entry.path)
            else:
                cleaner.legacy_file(entry.path)
        if pycache_prefix:
            for folder in folders:
                cleaner.mirror(folder, pycache_prefix, max_depth)
    cleaner.unlink_marked()
    cleaner.remove_emptied()
    return CleanReport(cleaner.files, cleaner.folders, cleaner.kept, cleaner.problems, dry_run, kept)


def mirror_of(folder: str, prefix: str) -> str:
    """Where Python keeps the caches of ``folder``'s sources under pycache prefix ``prefix``
    (importlib's ``cache_from_source``: the absolute path, its root or drive dropped)."""
    head = os.path.abspath(folder)
    drive, head = os.path.splitdrive(head)
    return os.path.join(prefix, head.lstrip(os.sep + (os.altsep or "")))


_O_RDONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def _head(path: str) -> bytes | None:
    """The first 16 bytes of a regular file; None for anything else (a FIFO is never waited on)."""
    try:
        fd = os.open(path, _O_RDONLY)
    except OSError:
        return None
    try:
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 16)
    except OSError:
        return None
    finally:
        os.close(fd)


class _Cleaner:
    def __init__(self, stale: bool, orphans: bool, sourceless: bool, dry_run: bool) -> None:
        self.targets: dict[bytes, Target] | None = None
        self.selective = stale or orphans
        self.stale = stale
        self.orphans = orphans
        self.sourceless = sourceless
        self.dry_run = dry_run
        self.files: list[str] = []
        self.folders: list[str] = []
        self.emptied: list[str] = []
        self.emptied_above: list[str] = []
        """Prefix-mirror folders left with no files but with folders in them, which may empty."""
        self.kept = 0
        self.problems: list[Problem] = []
        self.reason = "kept"
        """Why the last file looked at stays (said for the files named on the command line)."""

    def _keep(self, reason: str) -> int:
        self.reason = reason
        return 0

    def mirror(self, folder: str, prefix: str, max_depth: int | None) -> None:
        """The caches of ``folder`` under pycache prefix ``prefix``: every folder of the mirror is
        a cache folder whose sources live in the matching folder of the tree. Links are not
        followed; a mirror folder left empty goes (deepest first), the folders above the
        mirror of ``folder`` never."""
        top = mirror_of(folder, prefix)
        if not os.path.isdir(top) or os.path.islink(top):
            return
        pending = [(top, folder, 0)]
        while pending:
            here, source_dir, depth = pending.pop()
            try:
                with os.scandir(here) as it:
                    subs = sorted((e for e in it if e.is_dir(follow_symlinks=False)), key=by_name, reverse=True)
            except OSError as exc:
                self.problems.append(Problem(here, "OSError", exc.strerror or str(exc)))
                continue
            if max_depth is None or depth < max_depth:
                pending.extend((e.path, os.path.join(source_dir, e.name), depth + 1) for e in subs)
            self.cache_folder(here, source_dir, subfolders=len(subs))

    def cache_folder(self, cache: str, parent: str | None = None, subfolders: int = 0) -> None:
        """The bytecode files of folder ``cache``, whose sources are in ``parent`` (the folder
        above a ``__pycache__``, unless given); ``subfolders`` of its entries are folders (a
        prefix mirror's), which it may empty only once they are gone."""
        try:
            with os.scandir(cache) as it:
                entries = sorted(it, key=by_name)
        except OSError as exc:
            self.problems.append(Problem(cache, "OSError", exc.strerror or str(exc)))
            return
        if parent is None:
            parent = os.path.dirname(cache) or "."
        left = len(entries)
        for entry in entries:
            name = entry.name
            if not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
                continue
            if name.endswith((".pyc", ".pyo")):
                left -= self.cache_file(entry.path, parent, name)
            elif name.endswith(".tmp") and ".pyc." in name and not self.selective and self.targets is None:
                left -= self._remove(entry.path)  # an interrupted write's temporary file
        if left == subfolders:
            (self.emptied_above if subfolders else self.emptied).append(cache)

    def remove_emptied(self) -> None:
        """Remove the ``__pycache__`` folders left empty, once every file is gone.

        After the walk, not as each empties: on ext4 a rmdir right after unlinking the
        folder's files costs milliseconds each; the same rmdirs later are cheap.
        """
        for cache in self.emptied:
            if self.dry_run:
                self.folders.append(cache)
                continue
            try:
                os.rmdir(cache)
                self.folders.append(cache)
            except OSError:
                pass  # something else appeared in it: it stays
        if self.dry_run:
            return  # a folder that only the removals would empty is not listed
        for folder in sorted(self.emptied_above, key=lambda f: f.count(os.sep), reverse=True):
            try:
                os.rmdir(folder)  # fails, and the folder stays, while anything is left in it
                self.folders.append(folder)
            except OSError:
                pass

    def cache_file(self, path: str, parent: str, name: str) -> int:
        """Remove one ``__pycache__`` file if the mode asks; returns 1 if removed."""
        if self.targets is not None and not self._targeted(path):
            return self._keep("not bytecode of a --target interpreter")
        if self.selective:
            from bytecast.paths import source_for

            # The one rule maps a __pycache__ name to its source; a prefix mirror's file has the
            # same name, its source in ``parent``.
            source = source_for(os.path.join(parent, "__pycache__", name))
            if not ((self.orphans and source is None) or (self.stale and source is not None
                                                          and self._is_stale(path, source))):
                return self._keep(self._selective_reason(source))
        return self._remove(path)

    def _selective_reason(self, source: str | None) -> str:
        if source is None:
            return "its source is gone (--orphans removes it)"
        return f"{source} exists and the pyc is not stale" if self.orphans else "the pyc is not stale"

    def legacy_file(self, path: str) -> int:
        """``NAME.pyc`` outside ``__pycache__``: a Python 2 cache, or a sourceless module."""
        source = path[:-1]
        if not os.path.exists(source):
            if self.sourceless:
                return self._remove(path)
            self.kept += 1
            return self._keep(f"a sourceless module, no {os.path.basename(source)} beside it (see --sourceless)")
        if self.targets is not None and not self._targeted(path):
            return self._keep("not bytecode of a --target interpreter")
        head = _head(path)
        if head is None or len(head) < 8 or head[2:4] != b"\r\n":
            # beside a source but not bytecode (no magic): the user's file, kept
            return self._keep("not bytecode (no magic number), a file of the user's")
        if self.selective and not (self.stale and self._is_stale(path, source)):
            return self._keep(self._selective_reason(source))
        return self._remove(path)

    def _targeted(self, path: str) -> bool:
        """Whether ``path`` was written by one of the targets (its magic is theirs)."""
        head = _head(path)
        return head is not None and self.targets is not None and head[:4] in self.targets

    def _is_stale(self, pyc: str, source: str) -> bool:
        """Whether ``pyc`` no longer matches ``source`` by the rule of the Python that wrote it.

        An unreadable, truncated or undefined header counts as stale: importlib could never use
        the file. A source that cannot be read (a FIFO, a folder, no permission) keeps its pyc.
        """
        from bytecast.freshness import Rule, stamp
        from bytecast.hashing import source_hash

        head = _head(pyc)
        try:
            st = os.stat(source)
        except OSError:
            return False
        if head is None or len(head) < 8 or head[2:4] != b"\r\n":
            return True
        magic = head[:4]
        target = self.targets.get(magic) if self.targets else None
        version = target.version if target is not None else _version_of(magic)
        try:
            state = Rule(magic).state(head, stamp(st.st_mtime, st.st_size),
                                      lambda: source_hash(source, magic, version, target))
        except OSError:
            return False
        return state in ("stale", "invalid")

    def _remove(self, path: str) -> int:
        """Mark ``path`` for removal (see :meth:`unlink_marked`); returns 1."""
        self.files.append(path)
        return 1

    def unlink_marked(self) -> None:
        """Unlink every marked file, several at a time.

        On a disk whose metadata is already written, each unlink waits for the journal; a few
        threads let those waits overlap (about 40% faster on ext4 here). A file that cannot
        be removed is a problem and leaves :attr:`files`; one already gone counts as removed.
        """
        if self.dry_run or not self.files:
            return
        paths = self.files
        failures: dict[str, OSError] = {}

        def unlink(chunk: list[str]) -> None:
            for path in chunk:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    failures[path] = exc

        if len(paths) < _THREADED_FROM:
            unlink(paths)
        else:
            import threading

            threads = [threading.Thread(target=unlink, args=(paths[i::_THREADS],)) for i in range(_THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if failures:
            self.files = [p for p in paths if p not in failures]
            for path, exc in sorted(failures.items()):
                self.problems.append(Problem(path, "OSError", exc.strerror or str(exc)))


_THREADS = 8
_THREADED_FROM = 64  # below this many files, starting threads costs more than it saves


def _version_of(magic: bytes) -> tuple[int, int]:
    """The Python a pyc's magic belongs to; for a number past the table, the hash family by range
    (3.11's SipHash-1-3 from 3450 on): that and the header layout are all clean needs."""
    from bytecast.magic import python_for_magic

    number = int.from_bytes(magic[:2], "little")
    return python_for_magic(number) or ((3, 11) if 3450 <= number < 5000 else (3, 7))
