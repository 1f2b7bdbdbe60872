"""The ``__pycache__`` layout (PEP 3147 / PEP 488): the default, and what importlib reads.

``pkg/mod.py`` compiles to ``pkg/__pycache__/mod.{cache_tag}[.opt-N].pyc`` for Python 3; to
``pkg/mod.pyc`` (level 0) or ``pkg/mod.pyo`` (``-O``/``-OO``: one file, at the highest level
asked) beside the source for Python 2, which has no ``__pycache__``. For the running
interpreter with ``sys.pycache_prefix`` set, importlib's own ``cache_from_source`` decides.
The workers write these files themselves, atomically.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    from bytecast.discover import Entry, Source
    from bytecast.options import Mode
    from bytecast.plan import Job
    from bytecast.problem import Problem
    from bytecast.targets import Target

__all__ = ["PycacheLayout", "cache_path", "legacy_levels"]

_ALTSEP = os.altsep


def legacy_levels(levels: Sequence[int]) -> list[int]:
    """Python 2 writes ``NAME.pyc`` at level 0 and one ``NAME.pyo`` for ``-O`` and ``-OO``:
    the highest level asked above 0 makes the ``.pyo``."""
    out = [0] if 0 in levels else []
    if any(level > 0 for level in levels):
        out.append(max(levels))
    return out


def _tails(target: Target, levels: Sequence[int]) -> list[str] | None:
    """The end of each level's file name after ``__pycache__/NAME.``; None when the name is not
    of that form (Python 2, or ``sys.pycache_prefix`` for the running interpreter)."""
    if target.legacy or (target.is_current and sys.pycache_prefix):
        return None
    return [f"{target.cache_tag}{f'.opt-{level}' if level else ''}.pyc" for level in levels]


def cache_path(path: str, target: Target, optimize: int = 0) -> str:
    """Where ``target`` keeps the bytecode of the source at ``path``."""
    if target.legacy:
        stem = path[:-3] if path.endswith(".py") else path
        return stem + (".pyc" if optimize == 0 else ".pyo")
    if target.is_current and sys.pycache_prefix:
        from importlib.util import cache_from_source

        return cache_from_source(path, optimization=optimize if optimize >= 1 else "")
    tails = _tails(target, (optimize,))
    assert tails is not None
    return _head(path) + tails[0]


def _head(path: str) -> str:
    """``pkg/__pycache__/mod.`` for ``pkg/mod.py`` (importlib's rule without its generality)."""
    cut = path.rfind(os.sep) + 1
    if _ALTSEP:
        cut = max(cut, path.rfind(_ALTSEP) + 1)
    base, dot, rest = path[cut:].rpartition(".")
    return f"{path[:cut]}__pycache__{os.sep}{base if base else rest}{dot}"


class PycacheLayout:
    """Each pyc in the cache importlib reads beside its source, written by the worker."""

    in_worker = True
    incremental = True
    takes_files = False
    mode: Mode | None = None

    def __init__(self) -> None:
        self._last: list[str] = ["", ""]  # the last source path named, and its head

    def levels(self, target: Target, levels: Sequence[int]) -> list[int]:
        return legacy_levels(levels) if target.legacy else list(levels)

    def namer(self, target: Target, levels: Sequence[int]) -> Callable[[Source], list[str]]:
        tails = _tails(target, levels)
        if tails is None:
            return lambda source: [cache_path(source.path, target, level) for level in levels]
        sep, altsep = os.sep, _ALTSEP
        last = self._last  # shared by every target's namer: the head is made once per source

        def names(source: Source) -> list[str]:
            path = source.path
            if path is last[0]:
                head = last[1]
            else:  # _head, inline: this runs once per source of a tree
                cut = path.rfind(sep) + 1
                if altsep:
                    cut = max(cut, path.rfind(altsep) + 1)
                base, dot, rest = path[cut:].rpartition(".")
                head = f"{path[:cut]}__pycache__{sep}{base if base else rest}{dot}"
                last[0], last[1] = path, head
            return [head + tail0] if single else [head + tail for tail in tails]

        single, tail0 = len(tails) == 1, tails[0]
        return names

    def accept(self, job: Job, data: bytes) -> None:  # pragma: no cover - workers write these
        raise AssertionError("the __pycache__ layout is written by the workers")

    def copy(self, entry: Entry) -> None:  # pragma: no cover - takes_files is False
        raise AssertionError("the __pycache__ layout copies no files")

    def finish(self) -> list[Problem]:
        return []
