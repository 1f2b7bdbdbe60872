"""The sourceless tree: every module's bytecode as ``NAME.pyc`` where ``NAME.py`` is.

The only layout importlib loads without sources (``SourcelessFileLoader``): ``__pycache__``
without a source beside it is ignored. One target and one optimization level per tree (a
sourceless module ignores the interpreter's ``-O``). The workers write each ``NAME.pyc`` in
place, atomically, beside its source in a tree the caller owns (a staging copy, or a tree
slimmed in place); :mod:`bytecast.sourceless` then verifies them and removes the sources.
From Python 3.7 on the pycs are unchecked-hash: no mtime in them (the same source gives the
same bytes) and flags that importlib's ``_classify_pyc`` accepts; the sourceless loader reads
no source field at all.
"""

from __future__ import annotations

from bytecast.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    from bytecast.discover import Entry, Source
    from bytecast.options import Mode
    from bytecast.plan import Job
    from bytecast.problem import Problem
    from bytecast.targets import Target

__all__ = ["SourcelessLayout", "legacy_name"]


def legacy_name(path: str) -> str:
    """Where the sourceless bytecode of the source at ``path`` goes: ``NAME.pyc`` beside it."""
    return (path[:-3] if path.endswith(".py") else path) + ".pyc"


class SourcelessLayout:
    """``NAME.pyc`` beside each source, written by the workers; one target, one level."""

    in_worker = True
    incremental = False
    takes_files = False
    mode: Mode | None = "unchecked-hash"  # before 3.7 the planner writes timestamp pycs (flags 0)

    def __init__(self) -> None:
        self._target: Target | None = None

    def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
        if self._target is not None and self._target != target:
            raise UsageError("a sourceless tree holds bytecode of one target, not several", "targets")
        if len(levels) != 1:
            raise UsageError("a sourceless tree holds one optimization level", "optimize")
        if target.legacy and levels[0] != 0:
            # Python 2 loads a sourceless NAME.pyo only under -O: a tree that needs a flag to import
            raise UsageError("a sourceless tree for Python 2 is level 0 only", "optimize")
        self._target = target
        return list(levels)

    def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
        return lambda source: [legacy_name(source.path)]

    def accept(self, job: Job, data: bytes) -> None:  # pragma: no cover - workers write these
        raise AssertionError("the sourceless layout is written by the workers")

    def copy(self, entry: Entry) -> None:  # pragma: no cover - takes_files is False
        raise AssertionError("the sourceless layout copies no files: the tree is the caller's")

    def finish(self) -> list[Problem]:
        return []
