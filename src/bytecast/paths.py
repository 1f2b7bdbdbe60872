"""Paths: which path is baked into code objects, and which source a pyc belongs to.

Both are rules CPython defines and bytecast must follow to the letter: the baked path is what
tracebacks print (compileall's ``-d``, ``-s`` and ``-p``; Python 3.13 changed what ``-s``
strips), and a pyc's source is where importlib looks for it.
"""

from __future__ import annotations

import os

__all__ = ["baked_path", "strips", "source_for"]


def strips(path: str, stripdir: str, version: tuple[int, int]) -> bool:
    """Whether ``stripdir`` is stripped from ``path`` by the compileall of ``version``.

    Up to 3.12 something is always stripped: every part of ``path`` equal to the part of
    ``stripdir`` at the same place goes. From 3.13 on only a whole leading prefix of path
    parts is; any other ``stripdir`` is ignored (3.13's compileall says so and bakes the path
    unchanged).
    """
    if version < (3, 13):
        return True
    parts = stripdir.split(os.sep)
    return parts == path.split(os.sep)[: len(parts)]


def baked_path(path: str, relpath: str, ddir: str | None = None, stripdir: str | None = None,
               prependdir: str | None = None, version: tuple[int, int] = (3, 13)) -> str:
    """The file name compiled into the code objects of the source at ``path``, with the rules
    of compileall of Python ``version``.

    ``ddir`` replaces the folder the file was found under (``relpath`` is the path below it);
    ``stripdir`` removes leading parts of ``path`` (see :func:`strips`); ``prependdir`` adds a
    prefix. ``ddir`` with either of the others is refused by the caller's options.
    """
    dfile = None
    if ddir is not None:
        dfile = os.path.join(ddir, relpath)
    if stripdir is not None:
        parts = path.split(os.sep)
        strip_parts = stripdir.split(os.sep)
        if version >= (3, 13):
            if strip_parts == parts[: len(strip_parts)]:
                rest = parts[len(strip_parts):]
                dfile = os.path.join(*rest) if rest else ""
        else:
            kept = list(parts)
            for strip_part, part in zip(strip_parts, parts):
                if strip_part == part:
                    kept.remove(strip_part)  # compileall removes the first equal part: same here
            dfile = os.path.join(*kept) if kept else ""
    if prependdir is not None:
        dfile = os.path.join(prependdir, path if dfile is None else dfile)
    return path if dfile is None else dfile


def source_for(pyc: str) -> str | None:
    """The source a pyc belongs to, when that file exists: ``pkg/__pycache__/m.TAG[.opt-N].pyc``
    -> ``pkg/m.py`` (or ``m.pyw``), a legacy ``m.pyc``/``m.pyo`` -> ``m.py`` beside it."""
    folder, name = os.path.split(pyc)
    if os.path.basename(folder) == "__pycache__":
        stem = os.path.join(os.path.dirname(folder), name.split(".", 1)[0])
        candidates: tuple[str, ...] = (stem + ".py", stem + ".pyw")
    elif name.endswith((".pyc", ".pyo")):
        candidates = (pyc[:-1],)
    else:
        return None
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    return None
