"""The one shape of a per-file problem, shared by every stage and command.

A run never stops at a bad file: it records a :class:`Problem` and goes on. Every command
reports the same objects, and ``--json`` prints the same fields for them.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init

__all__ = ["Problem"]


class Problem(Frozen):
    """A file that could not be processed: where, what kind of failure, and why."""

    __slots__ = ("path", "kind", "message", "line", "column", "target")

    path: str
    """The file (or folder) it is about."""
    kind: str
    """A short class name: ``SyntaxError``, ``OSError``, ``SymlinkLoop``, ``Timeout``..."""
    message: str
    """What was expected and what was found, in words."""
    line: int
    """1-based line in the file, 0 when it is not about a line."""
    column: int
    """1-based column, 0 when it is not about a column."""
    target: str | None
    """The interpreter it happened for (``cpython-3.12``), when it depends on one."""

    def __init__(self, path: str, kind: str, message: str, line: int = 0, column: int = 0,
                 target: str | None = None) -> None:
        init(self, "path", path)
        init(self, "kind", kind)
        init(self, "message", message)
        init(self, "line", line)
        init(self, "column", column)
        init(self, "target", target)

    def __str__(self) -> str:
        where = f" (for {self.target})" if self.target else ""
        return f"{self.path}:{max(self.line, 0)}:{max(self.column, 0)}: {self.kind}: {self.message}{where}"

    def to_json(self) -> dict[str, object]:
        """The JSON object every command prints for a problem."""
        return {"path": self.path, "line": self.line, "column": self.column, "kind": self.kind,
                "message": self.message, "target": self.target}
