"""The layout of a bundle's stage: the bytes of every module, and the stage's other files.

:mod:`bytecast.bundle` turns what this gathers into a bundle's index. One target and one
optimization level per stage; the pycs are unchecked-hash (no mtime: a bundle is
reproducible), and the bundle keeps only the code after each pyc's header.
"""

from __future__ import annotations

import os

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

__all__ = ["BundleLayout"]


class BundleLayout:
    """Compiled bytes by the source's relative path (``/``-separated); other files listed."""

    in_worker = False
    incremental = False
    takes_files = True

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}
        self.files: list[tuple[str, str, bool]] = []
        """(relative path, path, executable) of every file that is not a source."""
        self.mode: Mode | None = "unchecked-hash"

    def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
        if len(levels) != 1:
            raise UsageError("a bundle holds one optimization level", "optimize")
        return list(levels)

    def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
        return lambda source: [source.relpath.replace(os.sep, "/")]

    def accept(self, job: Job, data: bytes) -> None:
        self.code[job.cfile] = data

    def copy(self, entry: Entry) -> None:
        relpath = entry.relpath.replace(os.sep, "/")
        if relpath.endswith((".pyc", ".pyo")) or "__pycache__" in relpath.split("/"):
            return  # stray bytecode is never shipped: only what this run compiled
        try:
            executable = bool(os.stat(entry.path).st_mode & 0o111)
        except OSError:
            executable = False
        self.files.append((relpath, entry.path, executable))

    def finish(self) -> list[Problem]:
        return []
