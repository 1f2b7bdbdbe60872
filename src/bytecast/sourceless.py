"""Sourceless trees: every module as ``NAME.pyc`` where ``NAME.py`` was, sources removed.

:func:`convert` turns a tree the caller owns sourceless in place (an installed
``site-packages`` being slimmed); :func:`build` makes ``out`` in a staging folder beside it and
renames it into place, so ``out`` is complete or absent (one folder is compiled where it is, the
staging folder getting its pycs and every other file; several sources are copied there first);
:func:`verify_tree` says whether every ``NAME.pyc`` of a tree is valid bytecode for a target.
:class:`Tree` and :func:`compile_trees` are the stages under them: many trees (a wheel's library
folders, for every wheel and target) compile in one run of the workers.

The rules, in one place:

- Every ``NAME.pyc`` is compiled for one target at one level, written atomically, then read
  back and compared byte for byte with the bytes the worker made, which are checked first
  (header magic and flags for the target, one code object: ``marshal.loads`` of our own bytes
  on the running Python, bytecast's reader for another) before any source is removed. What
  the code names (files to keep, needs of its source) comes from the worker, which has the
  code object it compiled. Any problem (a syntax error, a pyc that does not read
  back) and nothing is removed: the tree keeps its sources and loses the pycs of the run.
- The path baked into code objects is ``<NAME/rel/path.py>`` by default: linecache skips a
  name in angle brackets, so no file of the current folder or of ``sys.path`` can stand in
  for the source in a traceback. Or an absolute install prefix (``prefix/rel/path.py``).
- Kept as source (said, with the reason): ``.py`` files the package's own code names (a string
  constant ending in ``.py`` naming a file of the same top-level package, ``__init__.py``
  and ``__main__.py`` aside), files matching a ``keep`` pattern, and scripts (a ``#!``
  first line, or a file under a ``bin`` or ``scripts`` folder, in a folder that is not a
  package). A file whose name is no identifier is a module all the same:
  ``importlib.import_module`` finds it (rich loads its ``unicode15-0-0.py`` tables that way).
- Warned about: code that may need its source at run time (``getsource``, ``linecache``, a
  ``*.py`` glob, ``__file__`` with ``.py``), ghost modules (a ``NAME.pyc`` with no
  ``NAME.py``: dropped, or left alone in place), and levels above 0.
- ``__pycache__`` folders and stale legacy pycs go; the ``RECORD`` of each installed
  distribution the run touched is rewritten last (``.py`` rows become ``NAME.pyc`` rows with
  their sha256 and size; ``__pycache__`` and removed pyc rows go).
"""

from __future__ import annotations

import os
import stat as _stat

from bytecast._frozen import Frozen, init
from bytecast.errors import UsageError
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence, Set
    from pathlib import Path
    from typing import Callable, Literal

    from bytecast.coderecord import CodeRecord
    from bytecast.compiler.protocol import CodeFacts
    from bytecast.discover import Source
    from bytecast.plan import Job
    from bytecast.targets import Target

    TreeMode = Literal["write", "dry-run", "memory"]

__all__ = ["Report", "VerifyReport", "Tree", "compile_trees", "convert", "build", "verify_tree", "default_baked",
           "prefix_baked", "read_back", "read_code", "record_hash"]

# Code naming these looks for packages or for what ``-m`` runs (runpy loads those sourceless), not
# for a file it opens or runs by path.
_NOT_NAMES = frozenset(("__init__.py", "__main__.py"))
_SCRIPT_FOLDERS = frozenset(("bin", "scripts", "Scripts"))


class Report(Frozen):
    """What a sourceless conversion did and found."""

    __slots__ = ("compiled", "kept", "warnings", "problems", "removed", "records")

    compiled: list[str]
    """Posix paths (relative to the tree) of the ``.py`` files turned into ``NAME.pyc``."""
    kept: dict[str, str]
    """Posix relative path of each ``.py`` file kept as source -> why."""
    warnings: list[Problem]
    """What the user should know: code that may need its source, ghost modules, ``-O``."""
    problems: list[Problem]
    """Files that could not be compiled or read back; any one and no source was removed."""
    removed: list[str]
    """Posix relative paths removed besides the sources: ghost and stale pycs, ``__pycache__``."""
    records: list[str]
    """Posix relative paths of the ``RECORD`` files rewritten."""

    def __init__(self, compiled: list[str], kept: dict[str, str], warnings: list[Problem],
                 problems: list[Problem], removed: list[str] | None = None,
                 records: list[str] | None = None) -> None:
        init(self, "compiled", compiled)
        init(self, "kept", kept)
        init(self, "warnings", warnings)
        init(self, "problems", problems)
        init(self, "removed", removed or [])
        init(self, "records", records or [])

    @property
    def ok(self) -> bool:
        return not self.problems


class VerifyReport(Frozen):
    """What :func:`verify_tree` found."""

    __slots__ = ("pycs", "problems")

    pycs: list[str]
    """Every legacy ``NAME.pyc`` checked (paths as found)."""
    problems: list[Problem]
    """Pycs that are not valid bytecode for the target, sources beside them, or an empty tree."""

    def __init__(self, pycs: list[str], problems: list[Problem]) -> None:
        init(self, "pycs", pycs)
        init(self, "problems", problems)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- the baked path ------------------------------------------------------------------------------


def default_baked(name: str) -> Callable[[str], str]:
    """``relpath -> <NAME/relpath>``: a name linecache never looks up as a file (it skips names
    in angle brackets), so no file anywhere can shadow the source in a traceback."""
    if not name or "/" in name or name.startswith("frozen "):
        raise UsageError(f"tree name {name!r} cannot name baked paths (one folder name, expected)", "name")
    return lambda relpath: f"<{name}/{relpath}>"


def prefix_baked(prefix: str) -> Callable[[str], str]:
    """``relpath -> PREFIX/relpath`` for the folder the tree will be installed in (absolute: a
    relative name makes a traceback print lines of whatever file of that name is nearby)."""
    import posixpath

    if not (prefix.startswith("/") or (len(prefix) > 2 and prefix[1] == ":" and prefix[2] in "/\\")):
        raise UsageError(f"prefix {prefix!r} is not an absolute path", "prefix")
    return lambda relpath: posixpath.join(prefix, relpath)


# --- reading back ---------------------------------------------------------------------------------


def read_back(path: str, target: Target) -> CodeRecord:
    """The module code of the sourceless pyc at ``path``, read with bytecast's own readers.

    Raises :class:`~bytecast.errors.DataError` (or OSError) unless the header has ``target``'s
    magic and flags the sourceless loader accepts, and the rest is one code object.
    """
    from bytecast.fileio import read_regular
    from bytecast.unmarshal import DEFAULT_LIMITS

    return read_code(read_regular(path, limit=DEFAULT_LIMITS.max_size + 16), target, path)


def read_code(data: bytes, target: Target, name: str) -> CodeRecord:
    """:func:`read_back` of bytes (``name`` says whose in errors)."""
    from bytecast.coderecord import CodeRecord
    from bytecast.errors import PycFormatError
    from bytecast.unmarshal import loads

    size = _header_size(data, target, name)
    code = loads(data, target.version, start=size)
    if not isinstance(code, CodeRecord):
        raise PycFormatError(f"{name}: holds a {type(code).__name__}, expected a code object")
    return code


def _header_size(data: bytes, target: Target, name: str) -> int:
    """The header size of pyc bytes whose header is ``target``'s, with flags the sourceless loader
    accepts; PycFormatError otherwise."""
    from bytecast.errors import PycFormatError
    from bytecast.header import parse_header

    header = parse_header(data, name)
    if data[:4] != target.magic:
        from bytecast.magic import python_for_magic

        found = python_for_magic(header.magic)
        was = f"Python {found[0]}.{found[1]}" if found else "an unknown Python"
        raise PycFormatError(f"{name}: magic {header.magic} is bytecode of {was}, expected {target.label} "
                             f"({int.from_bytes(target.magic[:2], 'little')})")
    return header.size


def _check_written(path: str, data: bytes, target: Target) -> None:
    """The read-back of a pyc the target's own worker made (its bytes and what its code names
    came with it): the header is ``target``'s, the bytes are one code object, and the file at
    ``path`` holds exactly ``data`` (unless ``path`` is empty: a dry run). The bytes go to
    ``marshal.loads`` of their own Python (bytecast's output, not read from the tree): this
    process's for the running Python, a ``load`` helper of the target's for another (a process
    of its own, never the compile worker), which saves the pure-Python reader (0.45 s of CPU
    for 7 wheels converted for 3.12 from 3.11); the reader when no helper can be started.
    Every pyc that is not our own is read by the reader (``verify_tree``)."""
    import marshal
    import types

    from bytecast.errors import PycFormatError, WorkerError
    from bytecast.fileio import read_regular

    size = _header_size(data, target, path or "pyc")
    if target.magic == _running_magic():
        try:
            code = marshal.loads(memoryview(data)[size:])
        except (EOFError, ValueError, TypeError) as exc:
            raise PycFormatError(f"{path}: the bytes made for it are no code object: {exc}") from None
        if not isinstance(code, types.CodeType):
            raise PycFormatError(f"{path}: holds a {type(code).__name__}, expected a code object")
    else:
        why: object = None
        if target not in _no_loader:
            from bytecast.process import close_helpers, helper

            try:
                (why,) = helper(target, "load").ask([data[size:]])
            except (OSError, WorkerError):  # not started, or gone: the reader, for the rest of the run
                _no_loader.add(target)
                close_helpers("load", target)
        if target in _no_loader:
            read_code(data, target, path)
        elif why is not None:
            raise PycFormatError(f"{path}: the bytes made for it are no code object: {why}")
    if path:
        found = read_regular(path, limit=len(data))
        if found != data:
            raise PycFormatError(f"{path}: holds {len(found)} bytes that are not the {len(data)} written")


_no_loader: set[Target] = set()
"""Targets whose ``load`` helper could not start or failed in this run: the reader checks theirs."""


def _close_loaders() -> None:
    """The end of a run: its ``load`` helpers stop, and the next run tries them again."""
    from bytecast.process import close_helpers

    close_helpers("load")
    _no_loader.clear()


def _running_magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


class _Scan:
    """What a module's code says about its need for sources."""

    __slots__ = ("py_names", "needs")

    @classmethod
    def of_code(cls, code: CodeRecord) -> _Scan:
        from bytecast.coderecord import walk_code

        names: set[str] = set()
        strings: set[str] = set()
        for co in walk_code(code):
            names.update(co.names)
            strings.update(c for c in co.consts if isinstance(c, str))
        return cls(names, strings)

    def __init__(self, names: Set[str], strings: Set[str]) -> None:
        """``names``: every name the code uses; ``strings``: its text constants (those that end
        in ``py`` at least: the only ones asked about)."""
        self.py_names = sorted(s for s in strings if s.endswith(".py") and not any(ch in s for ch in "*?[\n"))
        needs = []
        if names & {"getsource", "getsourcelines", "findsource"}:
            needs.append("inspect.getsource")
        if "linecache" in names:
            needs.append("linecache")
        if any(s.endswith(".py") and "*" in s for s in strings):
            needs.append("a '*.py' glob")
        if "__file__" in names and strings & {".py", "py"}:
            needs.append("__file__ compared with '.py'")
        self.needs = needs


# --- convert ------------------------------------------------------------------------------------


def _posix(relpath: str) -> str:
    return relpath.replace(os.sep, "/")


def _is_script(src: Source, rel: str, packages: set[str]) -> bool:
    """A file run by path, not imported: outside any package, with ``#!`` or in bin/scripts."""
    folder = rel.rpartition("/")[0]
    if folder in packages:
        return False
    if folder and folder.rpartition("/")[2] in _SCRIPT_FOLDERS:
        return True
    try:
        with open(src.path, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False  # compiling it says why


def _scope(rel: str) -> str:
    """The top-level package a file belongs to ('' for a top-level module)."""
    return rel.partition("/")[0] if "/" in rel else ""


def _named_files(name: str, rel: str, by_scope: dict[str, dict[str, list[str]]]) -> list[str]:
    """The ``.py`` files of the referring module's top-level package that a constant names."""
    base = name.replace("\\", "/").rpartition("/")[2]
    if base in _NOT_NAMES:
        return []
    candidates = by_scope.get(_scope(rel), {}).get(base, [])
    if "/" in name.replace("\\", "/"):
        tail = "/" + name.replace("\\", "/").lstrip("./")
        candidates = [c for c in candidates if ("/" + c).endswith(tail)] or candidates
    return candidates


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def convert(root: Path | str, *, target: Target, optimize: int = 0, keep: Sequence[str] = (),
            baked: Callable[[str], str] | None = None, jobs: int | None = None,
            drop_ghosts: bool = True, dry_run: bool = False,
            progress: Callable[[int, int], None] | None = None) -> Report:
    """Turn the tree at ``root`` sourceless, in place (a tree the caller owns).

    ``NAME.pyc`` beside each module for ``target`` at level ``optimize``; ``NAME.py`` removed
    unless kept; ``__pycache__`` folders, stale legacy pycs and (with ``drop_ghosts``) ghost
    pycs removed; the ``RECORD`` of every distribution touched rewritten. ``keep``: gitignore-style
    patterns of sources to keep. ``baked(relpath)`` gives the path baked into code objects for
    a posix relative path (default ``<ROOT NAME/relpath>``). ``jobs``: worker processes (None:
    every usable CPU). When anything fails to compile or read back, the sources all stay and
    the pycs of the run are removed: the report says why (``problems``). ``dry_run``: compile
    and read back in memory, write and remove nothing, report what a run would do.
    ``progress(done, total)`` is called as modules are compiled and read back.
    """
    tree = Tree(root, target=target, optimize=optimize, keep=keep, baked=baked, drop_ghosts=drop_ghosts,
                mode="dry-run" if dry_run else "write")
    compile_trees([tree], jobs=jobs, progress=progress)
    return tree.finish()


class Tree:
    """One tree of a conversion, walked and planned when made; :func:`compile_trees` compiles
    any number of them in one run of the workers, then :meth:`finish` converts each.

    ``mode``: ``write`` converts the tree in place (as :func:`convert`); ``dry-run`` writes and
    removes nothing; ``memory`` writes and removes nothing either, and keeps what a run would
    write (:attr:`pycs_made`, :attr:`records_made`) for a caller that packs the tree elsewhere
    (a wheel: the staged tree is thrown away, the archive is made from memory).

    ``dest`` (with ``write``): the tree at ``root`` is only read, and its sourceless form is
    made in ``dest`` (a private folder that already holds a copy of every other file of the tree:
    see :attr:`chosen` and :attr:`pycs`, which that copy leaves out); the sources kept after all
    are copied there by :meth:`finish`. ``__pycache__`` folders are neither copied nor reported.
    """

    def __init__(self, root: Path | str, *, target: Target, optimize: int = 0, keep: Sequence[str] = (),
                 baked: Callable[[str], str] | None = None, drop_ghosts: bool = True,
                 mode: TreeMode = "write", dest: str | None = None) -> None:
        from bytecast.discover import Entry, Source, walk
        from bytecast.excludes import compile_excludes
        from bytecast.place.sourceless import staged_name
        from bytecast.plan import Job

        top = os.fspath(root)
        if not os.path.isdir(top):
            raise UsageError(f"{top}: not a folder")
        if isinstance(optimize, bool) or optimize not in (0, 1, 2):
            raise UsageError(f"optimization level must be 0, 1 or 2, not {optimize!r}", "optimize")
        keep_match = compile_excludes(tuple(keep)) if keep else None
        if baked is None:
            baked = default_baked(os.path.basename(os.path.abspath(top)))
        if dest is not None and (mode == "memory" or not drop_ghosts):
            raise UsageError("a tree made elsewhere is written (or a dry run), and drops its ghosts")
        self.top = top
        self.dest = dest
        self.target = target
        self.optimize = optimize
        self.drop_ghosts = drop_ghosts
        self.mode = mode
        self.scans: dict[str, _Scan | Problem] = {}  # source path -> what its pyc read back says
        self.pycs_made: dict[str, bytes] = {}
        """``memory``: posix relpath of each ``NAME.pyc`` -> its bytes (after :meth:`finish`, only those kept)."""
        self.records_made: dict[str, bytes] = {}
        """``memory``: posix relpath of each ``RECORD`` rewritten -> its new bytes."""
        self.problems: list[Problem] = []
        self.sources: list[tuple[Source, str]] = []
        self.pycs: list[str] = []  # legacy pycs found (posix relpaths)
        self.caches: list[str] = []
        for item in walk([top], self.problems, kinds=("source", "file", "cache")):
            rel = _posix(item.relpath)
            if isinstance(item, Source):
                self.sources.append((item, rel))
            elif isinstance(item, Entry) and item.kind == "cache":
                self.caches.append(rel)
            elif rel.endswith((".pyc", ".pyo")):
                self.pycs.append(rel)
        self.here = {rel for _, rel in self.sources}
        packages = {rel.rpartition("/")[0] for rel in self.here if rel.rpartition("/")[2] == "__init__.py"}
        self.warnings: list[Problem] = []
        if optimize:
            self.warnings.append(Problem(dest or top, "OptimizeWarning",
                                         f"level {optimize}: a sourceless module ignores the interpreter's -O; "
                                         + ("docstrings and asserts are" if optimize == 2 else "asserts are")
                                         + " gone for good"))
        self.kept: dict[str, str] = {}
        self.chosen: list[tuple[Source, str]] = []
        """The sources to compile, with their posix relpaths (a copy into ``dest`` leaves them out)."""
        for src, rel in self.sources:
            if keep_match is not None and keep_match(rel.replace("/", os.sep), False):
                self.kept[rel] = "matches --keep"
            elif _is_script(src, rel, packages):
                self.kept[rel] = "a script, not a module"
            else:
                self.chosen.append((src, rel))
        self.jobs = [Job(src, target, optimize, staged_name(self._at(src, rel)), baked(rel), "missing")
                     for src, rel in self.chosen]
        self._rel = {src.path: rel for src, rel in self.chosen}
        self._failed: list[Problem] = []  # its compile problems, set by compile_trees

    def direct(self) -> bool:
        """Whether every source to compile lies in a real folder of the tree, none reached through
        a link to a folder: then ``dest`` mirrors it (a copy keeps links as links) and every pyc
        lands in ``dest``, never through a link back into the tree."""
        real = os.path.realpath(self.top)
        folders = {rel.rpartition("/")[0] for _, rel in self.chosen} - {""}
        return all(os.path.realpath(os.path.join(self.top, *f.split("/"))) == os.path.join(real, *f.split("/"))
                   for f in folders)

    def _at(self, src: Source, rel: str) -> str:
        """Where the source ``src`` is in the tree being made (its pyc goes beside that)."""
        return src.path if self.dest is None else os.path.join(self.dest, *rel.split("/"))

    def written(self, job: Job, data: bytes | None, facts: CodeFacts | None = None) -> None:
        """The read-back of one pyc as it lands (see :class:`~bytecast.place.sourceless.SourcelessLayout`)."""
        target = self.target
        try:
            if facts is not None and data is not None:  # checked by the target itself: compare bytes
                _check_written("" if self.mode != "write" else job.cfile, data, target)
                self.scans[job.source.path] = _Scan(facts.names, facts.strings)
            else:
                code = read_back(job.cfile, target) if data is None else read_code(data, target, job.cfile)
                self.scans[job.source.path] = _Scan.of_code(code)
        except (OSError, ValueError) as exc:
            self.scans[job.source.path] = Problem(job.source.path, "BadBytecode", _message(exc, job.cfile))
            return
        if self.mode == "memory" and data is not None:
            self.pycs_made[self._rel[job.source.path][:-3] + ".pyc"] = data

    def discard(self) -> None:
        """Remove the staged pycs of the run: the tree is as it was."""
        from bytecast.place.sourceless import staged_name

        if self.mode == "write":
            for src, rel in self.chosen:
                _remove(staged_name(self._at(src, rel)))

    def finish(self) -> Report:
        """Convert the tree :func:`compile_trees` compiled (in place, with ``write``); its report."""
        from bytecast.place.sourceless import legacy_name, staged_name

        top, problems, warnings, kept = self.top, self.problems, self.warnings, self.kept
        problems.extend(self._failed)
        done, needs = self._read(self._failed)
        compiled = sorted(rel for _, rel in done if rel not in kept)
        for rel in compiled:
            if rel in needs:
                warnings.append(Problem(os.path.join(top, rel.replace("/", os.sep)), "NeedsSource",
                                        "may need its source at run time: uses " + ", ".join(needs[rel])))
        if problems:  # nothing of the tree changed: its sources and pycs are as they were
            self.discard()
            self.pycs_made.clear()
            return Report([], dict(sorted(kept.items())), warnings, sorted(problems, key=lambda p: p.path))
        write = self.mode == "write"
        removed: list[str] = []
        gone = {rel for _, rel in done if rel not in kept}  # relpaths of the sources that go
        if write:
            for src, rel in done:  # every pyc is in place before the first source goes
                at = self._at(src, rel)
                if rel in kept:
                    _remove(staged_name(at))
                    if self.dest is not None:  # kept after all: the copy left it out
                        import shutil

                        shutil.copy2(src.path, at, follow_symlinks=False)
                else:
                    os.replace(staged_name(at), legacy_name(at))
            if self.dest is None:
                for src, rel in done:
                    if rel in gone:
                        os.unlink(src.path)
        made = {rel[:-3] + ".pyc" for rel in gone}
        for rel in list(self.pycs_made):
            if rel not in made:
                del self.pycs_made[rel]  # a source kept after all (named by another module)
        for rel in self.pycs:
            if rel in made:
                continue  # replaced by this run's
            path = os.path.join(top, rel.replace("/", os.sep))
            if rel[:-4] + ".py" in self.here:
                removed.append(rel)  # stale: its source is here (kept, or compiled again)
            elif self.drop_ghosts:
                warnings.append(Problem(path, "GhostModule", "bytecode without its source: dropped"))
                removed.append(rel)
            else:
                warnings.append(Problem(path, "GhostModule", "bytecode without its source: left as it is"))
                continue
            if write and self.dest is None:
                _remove(path)
        for rel in self.caches if self.dest is None else ():
            if write:
                _remove_tree(os.path.join(top, rel.replace("/", os.sep)))
            removed.append(rel)
        records = _rewrite_records(self.dest if self.dest is not None and write else top, gone, set(removed),
                                   problems, self.mode, self.pycs_made, self.records_made)
        warnings.sort(key=lambda p: p.path)
        return Report(compiled, dict(sorted(kept.items())), warnings, sorted(problems, key=lambda p: p.path),
                      sorted(removed), records)

    def _read(self, failed: Sequence[Problem]) -> tuple[list[tuple[Source, str]], dict[str, list[str]]]:
        """The modules compiled, what the code of each names deciding what stays as source (in
        :attr:`kept`), and what each may need."""
        paths = {p.path for p in failed}
        done = [(src, rel) for src, rel in self.chosen if src.path not in paths]
        by_scope: dict[str, dict[str, list[str]]] = {}
        for rel in self.here:
            by_scope.setdefault(_scope(rel), {}).setdefault(rel.rpartition("/")[2], []).append(rel)
        needs: dict[str, list[str]] = {}
        by_path = {job.source.path: job for job in self.jobs}
        for src, rel in done:
            if src.path not in self.scans:  # not read back as it landed (never expected): now
                self.written(by_path[src.path], None)
            scan = self.scans[src.path]
            if isinstance(scan, Problem):
                self.problems.append(scan)
                continue
            for name in scan.py_names:
                for named in _named_files(name, rel, by_scope):
                    self.kept.setdefault(named, f"named by {rel} ({name!r})")
            if scan.needs:
                needs[rel] = scan.needs
        return done, needs


def compile_trees(trees: Iterable[Tree], *, jobs: int | None = None,
                  progress: Callable[[int, int], None] | None = None, targets: Sequence[Target] = (),
                  done: Callable[[Tree], None] | None = None) -> None:
    """Compile the modules of every tree in one run of the workers (one pool for them all), each
    pyc read back by its tree as it lands; then :meth:`Tree.finish` each. The trees share one
    level and one mode; each has one target (several trees may have several). Interrupted, every
    tree's staged pycs go.

    ``trees`` may be an iterator: a tree is taken only when the workers need more work, so the
    next is made while the first compile; then ``targets`` names every target it will bring
    (default: the targets of the trees, which are all taken first). ``done(tree)`` is called as
    the last module of a tree lands (``memory`` trees only: nothing of theirs is placed, so no
    problem of theirs can come later); it may finish the tree at once.
    """
    from itertools import chain

    from bytecast.engine import compile_chunks
    from bytecast.options import Options
    from bytecast.place.sourceless import SourcelessLayout

    given = iter(trees)
    first = next(given, None)
    if first is None:
        return
    if not targets:
        rest = list(given)
        given = iter(rest)
        targets = tuple(dict.fromkeys(t.target for t in chain([first], rest)))
    optimize, mode = first.optimize, first.mode
    if done is not None and mode != "memory":
        raise UsageError("only trees kept in memory are finished as they land")
    owner: dict[str, Tree] = {}
    left: dict[int, int] = {}  # id of a tree -> its jobs still to land
    seen: list[Tree] = []

    def landed(tree: Tree) -> None:
        left[id(tree)] -= 1
        if not left[id(tree)] and done is not None:
            done(tree)

    def written(job: Job, data: bytes | None, facts: CodeFacts | None = None) -> None:
        tree = owner[job.source.path]
        tree.written(job, data, facts)
        landed(tree)

    def failed(job: Job, problem: Problem) -> None:
        tree = owner[job.source.path]
        tree._failed.append(problem)
        landed(tree)

    def chunks() -> Iterator[list[Job]]:
        for tree in chain([first], given):
            if tree.optimize != optimize or tree.mode != mode:
                raise UsageError("trees compiled together share one level and one mode", "optimize")
            if tree.target not in targets:
                raise UsageError(f"{tree.top}: its target {tree.target.label} was not named for the run", "targets")
            seen.append(tree)
            owner.update((job.source.path, tree) for job in tree.jobs)
            left[id(tree)] = len(tree.jobs)
            if not tree.jobs and done is not None:
                done(tree)
            yield tree.jobs

    layout = SourcelessLayout(written, write=mode == "write", several=len(targets) > 1, failed=failed)
    for target in targets:
        layout.levels(target, (optimize,))  # a bad target or level fails now, before any work
    options = Options(optimize=(optimize,), targets=tuple(targets), jobs=jobs or 0,
                      invalidation_mode="unchecked-hash")
    try:
        result = compile_chunks(chunks(), options, progress, layout)
    except BaseException:  # interrupted: the staged pycs go, the trees are as they were
        for each in seen:
            each.discard()
        raise
    finally:
        _close_loaders()
    told = {id(p) for each in seen for p in each._failed}
    for problem in result.problems:
        if id(problem) in told:
            continue  # a failed compile, given to its tree as it failed
        mine = owner.get(problem.path)
        for one in (seen if mine is None else (mine,)):  # a problem of no module fails every tree
            one._failed.append(problem)


def _message(exc: BaseException, path: str) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    prefix = path + ": "
    return text[len(prefix):] if text.startswith(prefix) else text


# --- RECORD ---------------------------------------------------------------------------------------


def record_hash(path: str) -> tuple[str, int]:
    """``sha256=`` urlsafe-base64 (no padding) digest and size of a file, as RECORD writes them."""
    from bytecast.wheels.record import digest

    with open(path, "rb") as f:
        data = f.read()
    return digest(data), len(data)


def _records(top: str) -> Iterable[str]:
    """The ``*.dist-info/RECORD`` files at the top of the tree (a ``site-packages`` layout)."""
    try:
        names = sorted(os.listdir(top))
    except OSError:
        return []
    return [f"{name}/RECORD" for name in names
            if name.endswith(".dist-info") and os.path.isfile(os.path.join(top, name, "RECORD"))]


def _rewrite_records(top: str, gone: set[str], removed: set[str], problems: list[Problem],
                     mode: TreeMode = "write", pycs: dict[str, bytes] | None = None,
                     made: dict[str, bytes] | None = None) -> list[str]:
    """Rewrite the RECORD files whose rows name what the run removed or made; with ``dry-run``
    only say which; with ``memory`` put each new RECORD in ``made`` (relpath -> bytes), the
    pycs' bytes taken from ``pycs`` (relpath -> bytes), nothing written."""
    import csv
    import io
    import posixpath

    from bytecast.place.atomic import write_atomic
    from bytecast.wheels.record import digest

    rewritten: list[str] = []
    for record in _records(top):
        path = os.path.join(top, record.replace("/", os.sep))
        try:
            with open(path, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.append(Problem(path, "RecordError", _message(exc, path)))
            continue
        out: list[list[str]] = []
        changed = False
        for row in rows:
            if not row:
                continue
            name = row[0]
            rel = posixpath.normpath(name) if not posixpath.isabs(name) else name
            if rel in gone:
                changed = True
                if mode == "dry-run":
                    break
                pyc = name[:-3] + ".pyc"
                if pycs is not None and mode == "memory":
                    data = pycs[rel[:-3] + ".pyc"]
                    hashed, size = digest(data), len(data)
                else:
                    hashed, size = record_hash(os.path.join(top, (rel[:-3] + ".pyc").replace("/", os.sep)))
                out.append([pyc, hashed, str(size)])
            elif "__pycache__" in rel.split("/") or rel in removed:
                changed = True
            else:
                out.append(row)
        if not changed:
            continue
        rewritten.append(record)
        if mode == "dry-run":
            continue
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows(out)
        if mode == "memory":
            if made is not None:
                made[record] = buf.getvalue().encode("utf-8")
            continue
        file_mode = _stat.S_IMODE(os.stat(path).st_mode)
        write_atomic(path, buf.getvalue().encode("utf-8"), file_mode)
    return rewritten


# --- build ----------------------------------------------------------------------------------------


def _copy_into(sources: Sequence[Path | str], staging: str) -> dict[str, str]:
    """Copy every source (a folder's contents, or a file) into ``staging``; returns
    staging path -> the path it came from. Two sources with the same file are a usage error."""
    import shutil

    origin: dict[str, str] = {}

    def copy(src: str, dst: str) -> str:
        if os.path.lexists(dst):
            raise UsageError(f"{src}: {origin.get(dst, dst)} has a file of the same name; not merging them")
        shutil.copy2(src, dst, follow_symlinks=False)
        origin[dst] = src
        return dst

    def skip(folder: str, names: list[str]) -> set[str]:
        return {"__pycache__"} & set(names)

    for source in sources:
        path = os.fspath(source)
        if os.path.isdir(path):
            shutil.copytree(path, staging, symlinks=True, ignore=skip, copy_function=copy, dirs_exist_ok=True)
        elif os.path.isfile(path):
            copy(path, os.path.join(staging, os.path.basename(path)))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return origin


def _relocated(problem: Problem, staging: str, out: str, origin: dict[str, str]) -> Problem:
    """A problem of the staging tree, named by the input file (or by ``out`` for the tree)."""
    path = problem.path
    if path in origin:
        new = origin[path]
    elif path.endswith(".pyc") and path[:-1] in origin:
        new = origin[path[:-1]][:-1] if origin[path[:-1]].endswith(".py") else origin[path[:-1]]
    elif path == staging or path.startswith(staging + os.sep):
        new = out + path[len(staging):]
    else:
        return problem
    return Problem(new, problem.kind, problem.message, problem.line, problem.column, problem.target)


def build(sources: Sequence[Path | str], out: Path | str, *, target: Target, optimize: int = 0,
          keep: Sequence[str] = (), baked: Callable[[str], str] | None = None, jobs: int | None = None,
          force: bool = False, dry_run: bool = False, progress: Callable[[int, int], None] | None = None) -> Report:
    """A fresh sourceless tree at ``out`` from ``sources`` (folders, whose contents are merged,
    or files), built in a staging folder beside ``out`` and renamed into place: ``out`` is
    complete or absent. An existing ``out`` that is not empty is refused unless ``force``
    (then replaced whole, never merged into). With problems, ``out`` is not made.
    Options as :func:`convert`; the default baked path is ``<OUT NAME/relpath>``. ``dry_run``:
    the report of a run, and ``out`` left as it is (the staging folder is removed).
    """
    dest = os.path.abspath(os.fspath(out))
    if not sources:
        raise UsageError("no source folders or files given")
    for source in sources:
        src = os.path.abspath(os.fspath(source))
        if not os.path.lexists(src):
            raise UsageError(f"{os.fspath(source)}: no such file or directory")
        if dest == src or dest.startswith(src.rstrip(os.sep) + os.sep) or src.startswith(dest + os.sep):
            raise UsageError(f"{os.fspath(out)}: the output cannot be inside a source, nor a source inside it")
    if os.path.lexists(dest):
        if not os.path.isdir(dest) or os.path.islink(dest):
            raise UsageError(f"{os.fspath(out)}: exists and is not a folder")
        if os.listdir(dest) and not force:
            raise UsageError(f"{os.fspath(out)}: exists and is not empty (--force replaces it)")
    if baked is None:
        baked = default_baked(os.path.basename(dest))
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    staging = _private_folder(parent, f".{os.path.basename(dest)}.", ".bytecast-tmp")
    try:
        origin: dict[str, str] = {}
        report = None
        if len(sources) == 1 and os.path.isdir(os.fspath(sources[0])):
            report = _build_direct(os.fspath(sources[0]), staging, target=target, optimize=optimize, keep=keep,
                                   baked=baked, jobs=jobs, dry_run=dry_run, progress=progress)
        if report is None:  # several sources merged, files, or links to folders: convert a copy
            origin = _copy_into(sources, staging)
            report = convert(staging, target=target, optimize=optimize, keep=keep, baked=baked, jobs=jobs,
                             dry_run=dry_run, progress=progress)
        report = Report(report.compiled, report.kept,
                        [_relocated(p, staging, os.fspath(out), origin) for p in report.warnings],
                        [_relocated(p, staging, os.fspath(out), origin) for p in report.problems],
                        report.removed, report.records)
        if report.problems or dry_run:
            _remove_tree(staging)
            return report
        if not any(os.path.isdir(os.fspath(source)) for source in sources):
            os.chmod(staging, 0o777 & ~_umask())  # made 0o700; a folder source gave its own
        _move_into_place(staging, dest)
    except BaseException:
        _remove_tree(staging)
        raise
    return report


def _private_folder(parent: str, prefix: str, suffix: str) -> str:
    """A new folder in ``parent`` that only this user can enter (0o700), named ``prefix``, 12
    random hex digits, ``suffix``: ``tempfile.mkdtemp``'s promise. Not tempfile itself: it
    imports shutil, fnmatch, re and random, 41 M instructions of a 2.4 G sourceless build of
    flask, for one folder."""
    for _ in range(100):
        path = os.path.join(parent, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return os.path.abspath(path)
    raise FileExistsError(f"{parent}: no free name for a staging folder after 100 tries")


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _build_direct(source: str, staging: str, *, target: Target, optimize: int, keep: Sequence[str],
                  baked: Callable[[str], str], jobs: int | None, dry_run: bool,
                  progress: Callable[[int, int], None] | None) -> Report | None:
    """:func:`build` of one folder compiled where it is: the workers read its sources, the pycs
    are written in ``staging``, which gets a copy of every other file (the sources compiled and
    the old pycs are never copied; saves reading and writing each source once more, and removing
    it). None when the folder reaches sources through a link to a folder, or the folder or
    ``staging`` is in a git work tree (its ignore files decide what the walk finds): then a copy
    is converted, as for several sources."""
    from bytecast.discover import _root_context
    from bytecast.place.treecopy import copy_tree

    if _root_context(source) != (None, False) or _root_context(staging) != (None, False):
        return None  # a git work tree's ignore files would judge the input and its copy apart
    tree = Tree(source, target=target, optimize=optimize, keep=keep, baked=baked,
                mode="dry-run" if dry_run else "write", dest=staging)
    if not tree.direct():
        return None
    if not dry_run:
        left_out = {rel for _, rel in tree.chosen}.union(tree.pycs)

        def skip(rel: str, names: list[str]) -> set[str]:
            at = rel + "/" if rel else ""
            return {name for name in names if name == "__pycache__" or at + name in left_out}

        copy_tree(source, staging, skip)
    compile_trees([tree], jobs=jobs, progress=progress)
    return tree.finish()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _move_into_place(staging: str, dest: str) -> None:
    """Rename ``staging`` to ``dest``; an old ``dest`` is moved aside first, removed after."""
    if not os.path.lexists(dest):
        os.rename(staging, dest)
        return
    if not os.listdir(dest):
        os.rmdir(dest)
        os.rename(staging, dest)
        return
    aside = staging + ".old"
    os.rename(dest, aside)
    try:
        os.rename(staging, dest)
    except BaseException:
        os.rename(aside, dest)
        raise
    _remove_tree(aside)


# --- verify ---------------------------------------------------------------------------------------


def verify_tree(paths: Sequence[str], target: Target) -> VerifyReport:
    """Whether every legacy ``NAME.pyc`` under ``paths`` is valid sourceless bytecode for
    ``target``: header magic and flags, one code object that parses, and no ``NAME.py`` beside
    it (importlib would load the source and ignore the pyc). A tree with no such pyc at all is a
    problem too: nothing was checked."""
    from bytecast.discover import Source, walk

    problems: list[Problem] = []
    checked: list[str] = []
    sources: set[str] = set()
    found: list[str] = []
    for item in walk(paths, problems, kinds=("source", "bytecode")):
        if isinstance(item, Source):
            sources.add(item.path)
        elif item.path.endswith(".pyc"):
            found.append(item.path)
    for pyc in found:
        checked.append(pyc)
        if pyc[:-1] in sources:
            problems.append(Problem(pyc, "NotSourceless", "its source is beside it: importlib loads that instead"))
            continue
        try:
            read_back(pyc, target)
        except (OSError, ValueError) as exc:
            problems.append(Problem(pyc, "BadBytecode", _message(exc, pyc)))
    if not found:
        for path in paths:
            problems.append(Problem(path, "NoBytecode", "no sourceless NAME.pyc found: nothing to check"))
    return VerifyReport(checked, sorted(problems, key=lambda p: p.path))
