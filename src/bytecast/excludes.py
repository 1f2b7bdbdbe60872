"""Excludes: gitignore-style patterns for the files and folders a walk leaves out.

``name`` matches a file or folder of that name at any depth; a pattern with a ``/`` at its
start or in its middle is anchored at the walked root (a trailing ``/`` does not anchor it);
a trailing ``/`` matches folders only; ``*`` and ``?`` stay inside one path part, ``**``
spans parts, ``[...]`` is a character class. A folder that matches is not entered.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

    Matcher = Callable[[str, bool], bool]

from bytecast.errors import UsageError

__all__ = ["compile_excludes"]

_cache: dict[tuple[str, ...], Matcher] = {}


def compile_excludes(patterns: Sequence[str]) -> Matcher | None:
    """``match(relpath, is_dir)`` for the patterns; None when there are none.

    Raises :class:`UsageError` (field ``excludes``) for a pattern that cannot match anything:
    empty, or with a character class whose range is reversed (``[z-a]``).
    """
    if not patterns:
        return None
    key = tuple(patterns)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    import re

    compiled: list[tuple[re.Pattern[str], bool]] = []
    for pattern in patterns:
        p = pattern.replace(os.sep, "/") if os.sep != "/" else pattern
        dir_only = p.endswith("/")
        p = p.rstrip("/") if dir_only else p
        anchored = "/" in p
        p = p.lstrip("/")
        if not p:
            raise UsageError(f"exclude pattern {pattern!r} is empty", "excludes")
        try:
            regex = _glob_to_regex(p)
            if not anchored:
                regex = "(?:.*/)?" + regex
            compiled.append((re.compile(regex + r"\Z", re.DOTALL), dir_only))
        except re.error as exc:
            raise UsageError(f"exclude pattern {pattern!r} is not a valid glob: {exc.msg}", "excludes") from None

    def match(relpath: str, is_dir: bool) -> bool:
        rel = relpath.replace(os.sep, "/") if os.sep != "/" else relpath
        for rx, folders_only in compiled:
            if folders_only and not is_dir:
                continue
            if rx.match(rel):
                return True
        return False

    _cache[key] = match
    return match


def _glob_to_regex(pattern: str) -> str:
    import re

    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):  # "**/" : zero or more folders
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern.startswith("[!", i) or pattern.startswith("[^", i) else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                out.append(_class_to_regex(pattern[i + 1 : j]))
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_to_regex(body: str) -> str:
    """A glob class body (between ``[`` and ``]``) as a regex class, every character escaped:
    unescaped, ``[``, ``&&``, ``--``, ``||`` and ``~~`` make :mod:`re` warn (FutureWarning)."""
    import re

    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    items: list[str] = []
    i, n = 0, len(body)
    while i < n:
        if i + 2 < n and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if high < low:
                raise re.error(f"bad character range {low}-{high}")
            items.append(re.escape(low) + "-" + re.escape(high))
            i += 3
        else:
            items.append(re.escape(body[i]))
            i += 1
    if not items:
        raise re.error("empty character class")
    return "[" + ("^" if negate else "") + "".join(items) + "]"
