"""The sourceless tree: every module's bytecode as ``NAME.pyc`` where ``NAME.py`` is.

The only layout importlib loads without sources (``SourcelessFileLoader``): ``__pycache__``
without a source beside it is ignored. One target and one optimization level per tree (a
sourceless module ignores the interpreter's ``-O``). Each pyc is written atomically where its
source is in the tree being made (a build's staging folder, or a tree slimmed in place), under
a staged name (:func:`staged_name`): nothing of the tree is replaced until
:mod:`bytecast.sourceless` has read every one back; it then renames them to ``NAME.pyc`` and
removes the sources.
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

    from bytecast.compiler.protocol import CodeFacts
    from bytecast.discover import Entry, Source
    from bytecast.options import Mode
    from bytecast.plan import Job
    from bytecast.problem import Problem
    from bytecast.targets import Target

__all__ = ["SourcelessLayout", "legacy_name", "staged_name"]

_STAGED = ".bytecast-new"


def legacy_name(path: str) -> str:
    """Where the sourceless bytecode of the source at ``path`` goes: ``NAME.pyc`` beside it."""
    return (path[:-3] if path.endswith(".py") else path) + ".pyc"


def staged_name(path: str) -> str:
    """Where the workers write it first: ``NAME.pyc.bytecast-new`` (a stale ``NAME.pyc`` of the
    tree stays as it was if the run goes no further)."""
    return legacy_name(path) + _STAGED


class SourcelessLayout:
    """``NAME.pyc`` beside each source (staged); one target, one level.

    Without ``written`` the workers write the files. With it, they give the bytes back and the
    layout writes each file, then calls ``written(job, None)``: the caller reads it back while
    the workers compile the next ones (the parent is otherwise idle, waiting on them). With
    ``write=False`` (a dry run) nothing is written: ``written(job, data)`` gets the bytes.
    With ``several`` it serves several trees at once, each of one target (``written`` tells
    them apart): then the targets may differ. ``failed(job, problem)`` is told of each job
    whose compile failed, as it fails.
    The workers check their own bytes and send what the code names (:meth:`accept_checked`):
    then ``written(job, data, facts)`` is called, with the bytes written to the file.
    """

    incremental = False
    takes_files = False
    mode: Mode | None = "unchecked-hash"  # before 3.7 the planner writes timestamp pycs (flags 0)

    def __init__(self, written: Callable[..., None] | None = None, write: bool = True,
                 several: bool = False, failed: Callable[[Job, Problem], None] | None = None) -> None:
        self._target: Target | None = None
        self._several = several  # several trees, one target each (bytecast.sourceless.compile_trees)
        self._failed = failed
        self._written = written
        self._write = write
        self.in_worker = written is None
        self.problems: list[Problem] = []

    def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
        if self._target is not None and self._target != target and not self._several:
            raise UsageError("a sourceless tree holds bytecode of one target, not several", "targets")
        if len(levels) != 1:
            raise UsageError("a sourceless tree holds one optimization level", "optimize")
        if target.legacy and levels[0] != 0:
            # Python 2 loads a sourceless NAME.pyo only under -O: a tree that needs a flag to import
            raise UsageError("a sourceless tree for Python 2 is level 0 only", "optimize")
        self._target = target
        return list(levels)

    def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
        return lambda source: [staged_name(source.path)]

    def accept(self, job: Job, data: bytes) -> None:
        if self._place(job, data) and self._written is not None:
            self._written(job, None if self._write else data)

    def accept_checked(self, job: Job, data: bytes, facts: CodeFacts) -> None:
        """:meth:`accept` of bytes the target's worker checked, with what their code names."""
        if self._place(job, data) and self._written is not None:
            self._written(job, data, facts)

    def _place(self, job: Job, data: bytes) -> bool:
        """Write the staged file (unless a dry run); False with a problem when it can't be."""
        import os
        import stat

        from bytecast.place.atomic import write_atomic
        from bytecast.problem import Problem

        if not self._write:
            return True
        try:
            # importlib's _calc_mode: the source's mode, always writable by the owner
            write_atomic(job.cfile, data, stat.S_IMODE(os.stat(job.source.path).st_mode) | 0o200)
        except (OSError, UsageError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.problems.append(Problem(job.source.path, "PlacementError", message))
            return False
        return True

    def failed(self, job: Job, problem: Problem) -> None:
        """A job whose compile failed (the engine says so as it happens)."""
        if self._failed is not None:
            self._failed(job, problem)

    def copy(self, entry: Entry) -> None:  # pragma: no cover - takes_files is False
        raise AssertionError("the sourceless layout copies no files: the tree is the caller's")

    def finish(self) -> list[Problem]:
        return self.problems
