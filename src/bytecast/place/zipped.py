"""A zip of legacy pycs: every source's bytecode as ``NAME.pyc`` where ``NAME.py`` was.

The layout ``zipimport`` loads without sources (it reads only legacy names, never
``__pycache__``): put the archive on ``sys.path`` and import. Other files of the tree go in
as they are (``takes_files``). One target and one optimization level per archive. Its pycs
are unchecked-hash from Python 3.7 on: no mtime in them (the archive is reproducible) and
nothing for zipimport to check against the zip's timestamps. Written as a
:class:`~bytecast.place.archive.ReproducibleZip`, atomically, by :meth:`ZipLayout.finish`.
"""

from __future__ import annotations

import os

from bytecast.errors import UsageError
from bytecast.place.archive import ReproducibleZip
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    from bytecast.discover import Entry, Source
    from bytecast.options import Mode
    from bytecast.plan import Job
    from bytecast.targets import Target

__all__ = ["ZipLayout"]


def _member(relpath: str) -> str:
    return relpath.replace(os.sep, "/")


class ZipLayout:
    """Bytes given back by the workers, gathered into one archive at ``output``."""

    in_worker = False
    incremental = False
    takes_files = True

    def __init__(self, output: str, prefix: bytes = b"") -> None:
        self.output = output
        self.archive = ReproducibleZip(prefix)
        self.problems: list[Problem] = []
        self._target: Target | None = None
        self.mode: Mode | None = "unchecked-hash"

    def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
        if self._target is not None and self._target != target:
            raise UsageError("a zip of legacy pycs holds one target, not several", "targets")
        if len(levels) != 1:
            raise UsageError("a zip of legacy pycs holds one optimization level", "optimize")
        self._target = target
        if target.version < (3, 7):
            self.mode = None  # no hash-based pycs before 3.7: timestamp ones, unchecked by zipimport
        return list(levels)

    def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
        return lambda source: [_member(source.relpath) + "c" for _ in levels]

    def _add(self, name: str, data: bytes, executable: bool, path: str) -> None:
        try:
            self.archive.add(name, data, executable)
        except UsageError as exc:
            self.problems.append(Problem(path, "PlacementError", str(exc)))

    def accept(self, job: Job, data: bytes) -> None:
        self._add(job.cfile, data, False, job.source.path)

    def copy(self, entry: Entry) -> None:
        name = _member(entry.relpath)
        if name.endswith((".pyc", ".pyo")) or "__pycache__" in name.split("/"):
            return  # stray bytecode of the tree is never shipped: only what this run compiled
        try:
            with open(entry.path, "rb") as f:
                data = f.read()
            executable = bool(os.stat(entry.path).st_mode & 0o111)
        except OSError as exc:
            self.problems.append(Problem(entry.path, "OSError", exc.strerror or str(exc)))
            return
        self._add(name, data, executable, entry.path)

    def finish(self) -> list[Problem]:
        try:
            self.archive.write(self.output)
        except OSError as exc:
            self.problems.append(Problem(self.output, "OSError", exc.strerror or str(exc)))
        return self.problems
