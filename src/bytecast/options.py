"""Options: everything that decides which files a run takes and what bytes it writes.

One record, validated when it is made, so that every entry point (the command line, the
library, ``[tool.bytecast]`` in a settings file) meets the same one-line error. A
:class:`~bytecast.errors.UsageError` it raises names the field at fault in ``field``, for the
caller to name its own flag or key.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init
from bytecast.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Literal

    from bytecast.targets import Target

    Mode = Literal["timestamp", "checked-hash", "unchecked-hash"]
    LinkPolicy = Literal["inside", "all", "none"]
    RecordPolicy = Literal["all", "changed", "none"]
    WarningPolicy = Literal["ignore", "show", "error"]

__all__ = ["Options", "PoolConfig", "DEFAULT_CONFIG", "MODES", "LINK_POLICIES", "RECORDS", "DEFAULT_TIMEOUT",
           "WARNINGS"]
# Mode, LinkPolicy and RecordPolicy are Literal types for type checkers (import them under
# TYPE_CHECKING): importing typing at run time would cost start-up.

MODES: tuple[Mode, ...] = ("timestamp", "checked-hash", "unchecked-hash")
"""The PEP 552 invalidation modes."""
LINK_POLICIES: tuple[LinkPolicy, ...] = ("inside", "all", "none")
"""Which symbolic links a walk follows: those leading inside the tree, all, none."""
RECORDS: tuple[RecordPolicy, ...] = ("all", "changed", "none")
"""Which jobs a report keeps: every one, those not fresh, or none (counts only)."""
WARNINGS: tuple[WarningPolicy, ...] = ("ignore", "show", "error")
"""What a compile does with compiler warnings: drop them, report them, fail the file (no pyc)."""
DEFAULT_TIMEOUT = 60.0
"""Seconds one file may take to compile before its worker is stopped and the file reported."""


def _one_of(value: object, allowed: tuple[str, ...], field: str, what: str) -> None:
    if value not in allowed:
        raise UsageError(f"{what} must be one of {', '.join(allowed)}, not {value!r}", field)


def _whole(value: object, field: str, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} must be a whole number, not {value!r}", field)
    if value < least:
        raise UsageError(f"{what} must be {least} or more, not {value}", field)
    return value


class Options(Frozen):
    """Everything that decides which files are compiled and what bytes they get."""

    __slots__ = ("optimize", "invalidation_mode", "force", "jobs", "excludes", "max_depth", "links",
                 "ddir", "strip_prefix", "prepend_prefix", "hardlink_dupes", "timeout", "targets", "no_ignore",
                 "warnings")

    optimize: tuple[int, ...]
    """Optimization levels (0, 1, 2); empty means the running interpreter's ``-O`` level."""
    invalidation_mode: Mode | None
    """``timestamp``, ``checked-hash`` or ``unchecked-hash``; None means py_compile's default."""
    force: bool
    """Compile even what is fresh."""
    jobs: int
    """Worker processes; 0 means every usable CPU."""
    excludes: tuple[str, ...]
    """gitignore-style patterns of files and folders to leave out."""
    max_depth: int | None
    """How many folder levels below each path to enter; None for no limit."""
    links: LinkPolicy
    """Which symbolic links to follow: ``inside`` the tree, ``all`` or ``none``."""
    ddir: str | None
    """Replace the walked root with this in the path baked into code objects."""
    strip_prefix: str | None
    """Remove this leading path from the baked path (compileall ``-s``)."""
    prepend_prefix: str | None
    """Add this before the baked path (compileall ``-p``)."""
    hardlink_dupes: bool
    """Hard-link the .pyc of a level to the previous level's when the bytes are equal."""
    timeout: float
    """Seconds one file may take to compile before it is reported and skipped (more than 0)."""
    targets: tuple[Target, ...]
    """Interpreters to compile for; empty means the running one."""
    no_ignore: bool
    """Walk everything: also version control folders, environments, ``.tox``, ``.nox``,
    ``node_modules`` and what ``.gitignore`` files exclude (see :mod:`bytecast.discover`)."""
    warnings: WarningPolicy
    """Compiler warnings: ``ignore``, ``show`` (reported, nothing fails) or ``error`` (the file
    fails at its first warning and gets no pyc, as with ``python -W error``)."""

    def __init__(
        self,
        optimize: Iterable[int] = (),
        invalidation_mode: Mode | None = None,
        force: bool = False,
        jobs: int = 0,
        excludes: Iterable[str] = (),
        max_depth: int | None = None,
        links: LinkPolicy = "inside",
        ddir: str | None = None,
        strip_prefix: str | None = None,
        prepend_prefix: str | None = None,
        hardlink_dupes: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        targets: Iterable[Target] = (),
        no_ignore: bool = False,
        warnings: WarningPolicy = "show",
    ) -> None:
        levels = tuple(optimize)
        for level in levels:
            if isinstance(level, bool) or not isinstance(level, int) or level not in (0, 1, 2):
                raise UsageError(f"optimization level must be 0, 1 or 2, not {level!r}", "optimize")
        if invalidation_mode is not None:
            _one_of(invalidation_mode, MODES, "invalidation_mode", "invalidation mode")
        _whole(jobs, "jobs", "jobs", 0)
        _one_of(warnings, WARNINGS, "warnings", "warnings")
        if max_depth is not None:
            _whole(max_depth, "max_depth", "max depth", 0)
        _one_of(links, LINK_POLICIES, "links", "link policy")
        if ddir is not None and (strip_prefix is not None or prepend_prefix is not None):
            raise UsageError("ddir cannot be combined with strip_prefix or prepend_prefix", "ddir")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
                0 < timeout < float("inf")):
            raise UsageError(f"timeout must be a number of seconds above 0, not {timeout!r}", "timeout")
        patterns = tuple(excludes)
        if patterns:
            from bytecast.excludes import compile_excludes

            compile_excludes(patterns)  # a pattern that cannot work fails here, not mid-walk
        init(self, "optimize", levels)
        init(self, "invalidation_mode", invalidation_mode)
        init(self, "force", bool(force))
        init(self, "jobs", jobs)
        init(self, "excludes", patterns)
        init(self, "max_depth", max_depth)
        init(self, "links", links)
        init(self, "ddir", ddir)
        init(self, "strip_prefix", strip_prefix)
        init(self, "prepend_prefix", prepend_prefix)
        init(self, "hardlink_dupes", bool(hardlink_dupes))
        init(self, "timeout", float(timeout))
        init(self, "targets", tuple(targets))
        init(self, "no_ignore", bool(no_ignore))
        init(self, "warnings", warnings)

    def resolved_levels(self) -> tuple[int, ...]:
        """The levels to compile: those asked, else the running interpreter's ``-O`` level."""
        if self.optimize:
            return tuple(sorted(set(self.optimize)))
        import sys

        return (min(sys.flags.optimize, 2),)

    def resolved_mode(self) -> Mode:
        """The invalidation mode asked, else py_compile's default (see :func:`default_mode`)."""
        return self.invalidation_mode or default_mode()

    def resolved_targets(self) -> tuple[Target, ...]:
        """The targets asked, else the running interpreter."""
        if self.targets:
            return self.targets
        from bytecast.targets import current

        return (current(),)


def default_mode() -> Mode:
    """py_compile's default: checked-hash when ``SOURCE_DATE_EPOCH`` is set, else timestamp."""
    import os

    return "checked-hash" if os.environ.get("SOURCE_DATE_EPOCH") else "timestamp"


# --- tuning ------------------------------------------------------------------------------------
# How a run streams and the pool schedules: not what it compiles, so not in Options. Here, not in
# the compile stage, because planning reads it too and a no-op run imports no compile stage.


class PoolConfig(Frozen):
    """How a run streams and the pool batches and schedules (defaults measured on the
    standard library)."""

    __slots__ = ("chunk", "first_chunk", "batch_bytes", "batch_min_bytes", "batch_share", "batch_units", "in_flight",
                 "gather", "low_units", "max_units")

    chunk: int
    """Sources the engine walks and plans at a time: a run holds a few chunks, never the tree."""
    first_chunk: int
    """The first chunk, small, so that workers start as soon as there is work."""
    batch_bytes: int
    """Source bytes in one batch while the feed still has work."""
    batch_min_bytes: int
    """The smallest batch once the feed is done."""
    batch_share: int
    """Once the feed is done, a batch takes at most 1/share of the source left."""
    batch_units: int
    """Units in one batch, at most."""
    in_flight: int
    """Batches queued at each worker, so it never waits for the next one."""
    gather: float
    """Seconds to let outcomes gather while every worker has work queued."""
    low_units: int
    """Take more from the feed when fewer units than this are queued..."""
    max_units: int
    """... and, to keep a busy lane fed, until this many are."""

    def __init__(self, chunk: int = 256, first_chunk: int = 16, batch_bytes: int = 128 * 1024, batch_min_bytes: int = 4 * 1024, batch_share: int = 16,
                 batch_units: int = 64, in_flight: int = 2, gather: float = 0.01, low_units: int = 1024,
                 max_units: int = 32768) -> None:
        if min(chunk, first_chunk, batch_bytes, batch_min_bytes, batch_share, batch_units, in_flight, low_units,
               max_units) < 1:
            raise ValueError("PoolConfig: every count must be 1 or more")
        init(self, "chunk", chunk)
        init(self, "first_chunk", first_chunk)
        init(self, "batch_bytes", batch_bytes)
        init(self, "batch_min_bytes", batch_min_bytes)
        init(self, "batch_share", batch_share)
        init(self, "batch_units", batch_units)
        init(self, "in_flight", in_flight)
        init(self, "gather", gather)
        init(self, "low_units", low_units)
        init(self, "max_units", max_units)


DEFAULT_CONFIG = PoolConfig()
