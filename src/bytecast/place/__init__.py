"""Place: where the bytes of each compiled source go — a *layout*.

A layout answers three questions and the engine does the rest:

- where a job's pyc goes (:meth:`Layout.namer`: per target, a function from a source to the
  destination of each level), and whether a fresh pyc already there satisfies it
  (``incremental``);
- who writes it: the worker, in place (``in_worker``: the ``__pycache__`` layout, where
  writing in the worker keeps a cold compile at the machine's limit), or the layout itself,
  from the bytes the worker gives back (:meth:`Layout.accept`: an archive, a wheel);
- a layout that gives bytes back may also have ``accept_checked(job, data, facts)``: the engine
  then asks the workers what each module's code names (:class:`~bytecast.compiler.protocol.CodeFacts`)
  and passes it with the bytes (the sourceless layout: no second parse of its own pycs);
- what else of the tree it takes (``takes_files``: every file that is not a source, copied
  as it is, through :meth:`Layout.copy`), and what finishing means (:meth:`Layout.finish`:
  an archive written and renamed into place).

Layouts here: :class:`~bytecast.place.pycache.PycacheLayout` (the default; PEP 3147, and
``NAME.pyc`` beside the source for Python 2), :class:`~bytecast.place.zipped.ZipLayout` (a
reproducible zip of legacy ``NAME.pyc`` files that ``zipimport`` loads). Writers they share:
:func:`~bytecast.place.atomic.write_atomic` and :class:`~bytecast.place.archive.ReproducibleZip`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable, Protocol

    from bytecast.discover import Entry, Source
    from bytecast.options import Mode
    from bytecast.plan import Job
    from bytecast.problem import Problem
    from bytecast.targets import Target

    class Layout(Protocol):
        """Where compiled bytes go, and who writes them."""

        in_worker: bool
        """The worker writes each destination itself; :meth:`accept` is never called."""
        incremental: bool
        """A fresh pyc already at a destination satisfies its job (it is not compiled again)."""
        takes_files: bool
        """The layout wants the tree's other files too (:meth:`copy`)."""
        mode: Mode | None
        """The invalidation mode the layout needs whatever was asked (None: the one asked)."""

        def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
            """The optimization levels that get a file of their own for ``target``."""
        def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
            """For ``target``: where the pyc of each level goes, for a source (one per level of
            :meth:`levels`). Asked once per target and run; what it returns runs per source."""
        def accept(self, job: Job, data: bytes) -> None:
            """Take the bytes of a job compiled with its bytes given back."""
        def copy(self, entry: Entry) -> None:
            """Take a file of the tree that is not a source."""
        def finish(self) -> list[Problem]:
            """Complete the output (after every job); problems of placing, one per file."""

__all__ = ["Layout"]
