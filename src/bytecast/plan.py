"""Plan: turn sources and targets into jobs, and decide which are already satisfied.

Freshness follows importlib's own rule and reads only the .pyc header: a timestamp pyc is
fresh when its magic, flags, source mtime and source size match; a hash-based pyc when its
magic, flags and source hash match. A pyc of another invalidation mode than the one asked
for is not fresh (it is rewritten), and neither is one another Python wrote.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from dataclasses import dataclass

    from bytecast.discover import Source
    from bytecast.targets import Target
else:
    from bytecast._record import dataclass

from bytecast.errors import UsageError

__all__ = [
    "Job",
    "MODES",
    "FLAGS",
    "STATES",
    "cache_path",
    "baked_path",
    "default_invalidation_mode",
    "plan",
    "legacy_levels",
]

MODES = ("timestamp", "checked-hash", "unchecked-hash")
FLAGS = {"timestamp": 0, "unchecked-hash": 0b01, "checked-hash": 0b11}
"""The PEP 552 flags word each invalidation mode writes."""

STATES = {
    "fresh": "bytecode is up to date",
    "missing": "no bytecode",
    "stale": "bytecode is older than its source",
    "mode": "bytecode uses another invalidation mode",
    "invalid": "bytecode is unreadable or from another Python",
    "forced": "recompiling on request",
}
"""Why a job is, or is not, planned; every key but ``fresh`` means "compile it"."""


@dataclass(frozen=True)
class Job:
    """One .pyc to make: a source, for a target, at an optimization level."""

    source: Source
    target: Target
    optimize: int
    """0, 1 or 2 (``.opt-1``, ``.opt-2``)."""
    cfile: str
    """Where the .pyc goes."""
    dfile: str
    """The source path baked into the code objects (tracebacks show it)."""
    state: str
    """A key of :data:`STATES`: ``fresh`` or why it needs compiling."""


def default_invalidation_mode() -> str:
    """py_compile's default: checked-hash when ``SOURCE_DATE_EPOCH`` is set, else timestamp."""
    return "checked-hash" if os.environ.get("SOURCE_DATE_EPOCH") else "timestamp"


def cache_path(path: str, target: Target, optimize: int = 0) -> str:
    """Where ``target`` keeps the bytecode of ``path`` (PEP 3147 / PEP 488).

    For the running interpreter with ``sys.pycache_prefix`` set this defers to importlib.
    """
    if target.legacy:
        return path[:-3] + (".pyc" if optimize == 0 else ".pyo") if path.endswith(".py") else path + "c"
    if target.is_current and sys.pycache_prefix:
        from importlib.util import cache_from_source

        return cache_from_source(path, optimization=optimize if optimize >= 1 else "")
    # importlib's cache_from_source, without its generality: this runs once per job.
    cut = path.rfind(os.sep) + 1
    if _ALTSEP:
        cut = max(cut, path.rfind(_ALTSEP) + 1)
    base, dot, rest = path[cut:].rpartition(".")
    opt = f".opt-{optimize}" if optimize else ""
    return f"{path[:cut]}__pycache__{os.sep}{base if base else rest}{dot}{target.cache_tag}{opt}.pyc"


_ALTSEP = os.altsep


def baked_path(
    path: str,
    relpath: str,
    ddir: str | None = None,
    stripdir: str | None = None,
    prependdir: str | None = None,
) -> str:
    """The file name compiled into the code objects, with compileall's exact rules.

    ``ddir`` replaces the root the file was found under; ``stripdir`` removes leading parts
    of the path and ``prependdir`` adds a prefix (compileall's ``-d``, ``-s`` and ``-p``).
    """
    if ddir is not None and (stripdir is not None or prependdir is not None):
        raise UsageError("--ddir cannot be combined with --strip-prefix or --prepend-prefix")
    dfile = None
    if ddir is not None:
        dfile = os.path.join(ddir, relpath)
    if stripdir is not None:
        parts = path.split(os.path.sep)
        kept = list(parts)
        for strip_part, part in zip(stripdir.split(os.path.sep), parts):
            if strip_part == part:
                kept.remove(strip_part)  # compileall removes the first equal part: same here
        dfile = os.path.join(*kept) if kept else ""
    if prependdir is not None:
        dfile = os.path.join(prependdir, path if dfile is None else dfile)
    return path if dfile is None else dfile


def plan(
    sources: Iterable[Source],
    targets: Sequence[Target],
    levels: Sequence[int],
    mode: str,
    *,
    force: bool = False,
    ddir: str | None = None,
    stripdir: str | None = None,
    prependdir: str | None = None,
) -> list[Job]:
    """Every job for ``sources`` x ``targets`` x ``levels``, each with its state."""
    if mode not in FLAGS:
        raise UsageError(f"unknown invalidation mode {mode!r}, expected one of {', '.join(MODES)}")
    for level in levels:
        if level not in (0, 1, 2):
            raise UsageError(f"optimization level must be 0, 1 or 2, not {level}")
    if ddir is not None and (stripdir is not None or prependdir is not None):
        raise UsageError("--ddir cannot be combined with --strip-prefix or --prepend-prefix")
    levels = sorted(set(levels))
    renamed = ddir is not None or stripdir is not None or prependdir is not None
    # Per target: its checker, and per level the tail of the cache file name (or None when
    # the name is not "__pycache__/NAME." + tail and cache_path must make it).
    lanes: list[tuple[Target, _Checker, list[tuple[int, str | None]]]] = []
    for target in targets:
        simple = not target.legacy and not (target.is_current and sys.pycache_prefix)
        tlevels = levels if not target.legacy else legacy_levels(levels)
        tails = [(lv, f"{target.cache_tag}{f'.opt-{lv}' if lv else ''}.pyc" if simple else None) for lv in tlevels]
        lanes.append((target, _Checker(target, mode), tails))
    jobs: list[Job] = []
    append = jobs.append
    sep = os.sep
    for src in sources:  # source by source: what is derived from a source is derived once
        path = src.path
        dfile = baked_path(path, src.relpath, ddir, stripdir, prependdir) if renamed else path
        cut = path.rfind(sep) + 1
        if _ALTSEP:
            cut = max(cut, path.rfind(_ALTSEP) + 1)
        base, dot, rest = path[cut:].rpartition(".")
        head = f"{path[:cut]}__pycache__{sep}{base if base else rest}{dot}"
        stamp = (src.mtime & 0xFFFFFFFF).to_bytes(4, "little") + (src.size & 0xFFFFFFFF).to_bytes(4, "little")
        for target, checker, tails in lanes:
            for level, tail in tails:
                cfile = head + tail if tail is not None else cache_path(path, target, level)
                state = "forced" if force else checker.state(cfile, src, stamp)
                append(Job(src, target, level, cfile, dfile, state))
    return jobs


def legacy_levels(levels: Sequence[int]) -> list[int]:
    """Python 2 writes ``NAME.pyc`` at level 0 and one ``NAME.pyo`` for ``-O`` and ``-OO``:
    the highest level asked above 0 makes the ``.pyo``."""
    out = [0] if 0 in levels else []
    if any(level > 0 for level in levels):
        out.append(max(levels))
    return out


_O_RDONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0)


class _Checker:
    """Reads headers and says whether a pyc satisfies a source, for one target and mode."""

    __slots__ = ("target", "flags", "size", "prefix", "cut", "_hashes", "_key")

    def __init__(self, target: Target, mode: str) -> None:
        self.target = target
        self.flags = FLAGS[mode] if target.version >= (3, 7) else 0
        self.size = target.header_size
        flag_bytes = self.flags.to_bytes(4, "little") if self.size == 16 else b""
        self.prefix = bytes(target.magic) + flag_bytes
        self.cut = len(self.prefix)
        self._hashes: dict[str, bytes] = {}
        self._key = target.hash_key

    def state(self, cfile: str, src: Source, stamp: bytes) -> str:
        """``stamp``: the source's mtime and size, 4 bytes each, little-endian (what a
        timestamp header records after its magic and flags; Python 2 records the mtime only)."""
        try:
            fd = os.open(cfile, _O_RDONLY)  # os.open: a third of the cost of open() here
        except FileNotFoundError:
            return "missing"
        except OSError:
            return "invalid"
        try:
            head = os.read(fd, self.size)
        except OSError:
            return "invalid"
        finally:
            os.close(fd)
        cut = self.cut
        if len(head) == self.size and head[:cut] == self.prefix:
            if self.flags & 1:
                return "fresh" if head[8:16] == self.source_hash(src) else "stale"
            return "fresh" if head[cut:] == stamp[: self.size - cut] else "stale"
        if len(head) < self.size or head[:4] != self.prefix[:4]:
            return "invalid"
        return "mode" if int.from_bytes(head[4:8], "little") in (0, 1, 3) else "invalid"

    def source_hash(self, src: Source) -> bytes:
        """The source hash this target records (read once per source and target)."""
        digest = self._hashes.get(src.path)
        if digest is None:
            digest = source_hash(self.target, src.path)
            self._hashes[src.path] = digest
        return digest


def source_hash(target: Target, path: str) -> bytes:
    """``importlib.util.source_hash`` of the file at ``path`` as ``target`` computes it.

    3.7–3.10 key SipHash-2-4 with their magic, 3.11+ SipHash-1-3. The running interpreter's
    ``_imp.source_hash`` is used when it is the same family as the target; otherwise the
    target itself hashes, in one long-lived helper process per target (started on first use):
    a pure-Python SipHash-2-4 was measured at 0.75 s per MB of source on 3.11 (over 20 s for
    the standard library), the helper's C one costs a pipe round trip per file.
    Raises OSError when the file cannot be read, TargetError when the target cannot hash.
    """
    if target.version < (3, 7):
        from bytecast.errors import TargetError

        raise TargetError(f"{target.label} writes no hash-based pycs")
    running = sys.version_info[:2] >= (3, 11)
    if target.is_current or (target.version >= (3, 11)) == running:
        import _imp

        with open(path, "rb") as f:
            data = f.read()
        digest: bytes = _imp.source_hash(target.hash_key, data)
        return digest
    got = _hasher(target).hash([path])[0]
    if got is None:
        raise FileNotFoundError(f"{path}: cannot read")
    return got


_hashers: dict[Target, _Hasher] = {}


def _hasher(target: Target) -> _Hasher:
    h = _hashers.get(target)
    if h is None:
        if not _hashers:
            import atexit

            atexit.register(close_hashers)
        h = _hashers[target] = _Hasher(target)
    return h


def close_hashers() -> None:
    """Stop the source-hash helpers started so far (they also stop when this process ends)."""
    while _hashers:
        _, h = _hashers.popitem()
        h.close()


class _Hasher:
    """A worker of ``target`` serving source hashes (``_worker.py hash``)."""

    def __init__(self, target: Target) -> None:
        from bytecast.compiler import WORKER_SCRIPT, Child
        from bytecast.targets import worker_command

        self.target = target
        argv, env = worker_command(target, WORKER_SCRIPT)
        self.proc = Child(argv + ["hash"], env)

    def close(self) -> None:
        from bytecast.compiler import stop_process

        stop_process(self.proc, grace=5.0)

    def hash(self, paths: Sequence[str]) -> list[bytes | None]:
        import marshal

        from bytecast.compiler import read_exact, write_all
        from bytecast.errors import TargetError

        proc = self.proc
        payload = marshal.dumps(list(paths), 2)
        try:
            write_all(proc.stdin, len(payload).to_bytes(4, "little") + payload)
            head = read_exact(proc.stdout, 4)
            body = read_exact(proc.stdout, int.from_bytes(head, "little")) if len(head) == 4 else b""
            answer = marshal.loads(body)
        except (OSError, EOFError, ValueError) as exc:
            raise TargetError(f"{self.target.label}: the source-hash helper failed: {exc}") from None
        if not isinstance(answer, list) or len(answer) != len(paths):
            raise TargetError(f"{self.target.label}: the source-hash helper answered badly")
        return answer
