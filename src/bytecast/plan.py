"""Plan: turn sources and targets into jobs, and decide which are already satisfied.

A job is one pyc: a source, for a target, at an optimization level, with its destination
(the layout names it, :mod:`bytecast.place`) and the path baked into its code objects
(:func:`bytecast.paths.baked_path`). Whether a pyc already at the destination satisfies the
job is :mod:`bytecast.freshness`'s rule, from the header alone.

A pyc importlib would take is fresh, whatever its invalidation mode, unless a mode was asked
for: by the options (a flag, a setting), by the layout, or by ``SOURCE_DATE_EPOCH`` (which
makes py_compile write checked-hash pycs). Then a pyc of another mode is ``mode``. So a tree
compiled with ``SOURCE_DATE_EPOCH`` set passes a plain ``check``, and a plain ``compile``
leaves its pycs alone.
"""

from __future__ import annotations

import os

from bytecast._frozen import Record
from bytecast.freshness import STATES, Rule, stamp
from bytecast.options import MODES, default_mode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Final

    from bytecast.discover import Source
    from bytecast.freshness import State, Verdict
    from bytecast.options import Mode, Options
    from bytecast.place import Layout
    from bytecast.targets import Target

__all__ = ["Job", "Planner", "MODES", "FLAGS", "STATES", "flags_for"]

FLAGS: dict[Mode, int] = {"timestamp": 0, "unchecked-hash": 0b01, "checked-hash": 0b11}
"""The PEP 552 flags word each invalidation mode writes."""


def flags_for(target: Target, mode: Mode) -> int:
    """The flags word ``target`` writes for ``mode``: before 3.7 only timestamp pycs exist."""
    return FLAGS[mode] if target.version >= (3, 7) else 0


class Job(Record):
    """One .pyc to make: a source, for a target, at an optimization level (immutable: its
    fields are ``Final``)."""

    __slots__ = ("source", "target", "optimize", "cfile", "dfile", "state")

    source: Final[Source]
    target: Final[Target]
    optimize: Final[int]
    """0, 1 or 2 (``.opt-1``, ``.opt-2``)."""
    cfile: Final[str]
    """Where the .pyc goes (a path, or a member name in an archive: the layout's word)."""
    dfile: Final[str]
    """The source path baked into the code objects (tracebacks show it)."""
    state: Final[State]
    """A key of :data:`~bytecast.freshness.STATES`: ``fresh`` or why it needs compiling."""

    def __init__(self, source: Source, target: Target, optimize: int, cfile: str, dfile: str,
                 state: State) -> None:
        self.source = source
        self.target = target
        self.optimize = optimize
        self.cfile = cfile
        self.dfile = dfile
        self.state = state


_O_RDONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class _Lane:
    """What planning needs of one target: its levels, its rule, the last source hash it made."""

    __slots__ = ("target", "levels", "rule", "judge", "size", "hashed", "renamed_by", "names")

    def __init__(self, target: Target, levels: list[int], asked: Mode | None, layout: Layout) -> None:
        self.target = target
        self.levels = levels
        self.names = layout.namer(target, levels)
        self.rule = Rule(target.magic, None if asked is None else flags_for(target, asked))
        self.judge = self.rule.state  # bound once: asked once per pyc of a tree
        self.size = self.rule.size
        self.hashed = ("", b"")  # (path, hash): the levels of one source share it; kept no longer
        self.renamed_by = target.version >= (3, 13)  # which compileall rule bakes its paths

    def state(self, cfile: str, src: Source, source_stamp: bytes) -> State:
        try:
            fd = os.open(cfile, _O_RDONLY)  # os.open: a third of the cost of open() here
        except FileNotFoundError:
            return "missing"
        except OSError:
            return "invalid"
        try:
            head = os.read(fd, self.size)
        except OSError:
            return "invalid"  # a folder, a FIFO with nothing in it...
        finally:
            os.close(fd)
        try:
            return self.judge(head, source_stamp, self.source_hash, src)
        except OSError:
            return "stale"  # the source cannot be read: compiling it says why, for that file

    def explain(self, job: Job) -> Verdict:
        """Why ``job``'s pyc is in its state, with what was recorded and what was found."""
        from bytecast.freshness import Verdict

        src = job.source
        if job.state in ("missing", "forced"):
            return Verdict(job.state, STATES[job.state])
        try:
            fd = os.open(job.cfile, _O_RDONLY)  # never blocks on a FIFO, as state() does not
            try:
                head = os.read(fd, self.size)
            finally:
                os.close(fd)
        except OSError as exc:
            return Verdict("invalid", f"the pyc cannot be read: {exc.strerror or exc}", "header")
        return self.rule.explain(head, src.mtime, src.size, self.target.cache_tag, self.source_hash, src)

    def source_hash(self, src: Source) -> bytes:
        path, digest = self.hashed
        if path != src.path:
            from bytecast.hashing import source_hash

            t = self.target
            digest = source_hash(src.path, t.magic, t.version, t)
            self.hashed = (src.path, digest)
        return digest


class Planner:
    """Plans the jobs of a run, a chunk of sources at a time (options are checked when made)."""

    def __init__(self, options: Options, layout: Layout | None = None) -> None:
        if layout is None:
            from bytecast.place.pycache import PycacheLayout

            layout = PycacheLayout()
        self.layout = layout
        self.options = options
        self.mode: Mode = layout.mode or options.resolved_mode()
        """The invalidation mode of the pycs written."""
        asked = layout.mode or options.invalidation_mode
        if asked is None and self.mode != "timestamp":
            asked = default_mode()  # SOURCE_DATE_EPOCH is set: a request for checked-hash pycs
        self.asked: Mode | None = asked
        """The mode a pyc must have to be fresh; None for any mode importlib accepts."""
        levels = options.resolved_levels()
        self.lanes = [_Lane(t, layout.levels(t, levels), asked, layout) for t in options.resolved_targets()]
        self.force = options.force
        self.incremental = layout.incremental
        o = options
        self.renamed = o.ddir is not None or o.strip_prefix is not None or o.prepend_prefix is not None

    def explain(self, job: Job) -> Verdict:
        """Why ``job`` (planned by this planner) is in its state: the recorded and found values.
        Reads the pyc's header again; meant for the few jobs that are not fresh."""
        for lane in self.lanes:
            if lane.target == job.target:
                return lane.explain(job)
        raise ValueError(f"{job.cfile}: not planned for a target of this run")

    def plan(self, sources: Iterable[Source]) -> list[Job]:
        """Every job for ``sources`` x targets x levels, each with its state."""
        jobs: list[Job] = []
        append = jobs.append
        force, incremental, lanes = self.force, self.incremental, self.lanes
        renamed = self.renamed
        o = self.options
        for src in sources:  # source by source: what is derived from a source is derived once
            path = src.path
            source_stamp = stamp(src.mtime, src.size)
            baked: dict[bool, str] | None = {} if renamed else None
            for lane in lanes:
                dfile = path
                if baked is not None:
                    if lane.renamed_by not in baked:
                        baked[lane.renamed_by] = _baked(src, o, lane)
                    dfile = baked[lane.renamed_by]
                target = lane.target
                for level, cfile in zip(lane.levels, lane.names(src)):
                    state: State = ("forced" if force else lane.state(cfile, src, source_stamp) if incremental
                                    else "missing")
                    append(Job(src, target, level, cfile, dfile, state))
        return jobs


def _baked(src: Source, o: Options, lane: _Lane) -> str:
    from bytecast.paths import baked_path

    return baked_path(src.path, src.relpath, o.ddir, o.strip_prefix, o.prepend_prefix, lane.target.version)
