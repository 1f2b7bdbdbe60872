"""What every command shares for its output: error lines, JSON, tables, the progress bar.

Only the command line prints; these helpers are the one way it does. Nothing here is imported
by the library.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from bytecast.cli._documents import ProblemDoc, ReportDoc
    from bytecast.engine import Report
    from bytecast.problem import Problem


__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "SCHEMA", "err", "document", "print_json", "print_rows",
           "columns", "count", "problem_json", "problem_line", "split_problem", "warning_line", "Progress", "report_json",
           "seconds", "summary"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

SCHEMA = 1
"""The version of every ``--json`` document (docs/json.md). Adding a key keeps it; renaming or
removing a key, or changing a value's type or meaning, makes it the next integer."""


def err(message: str) -> None:
    """One line on stderr (a message with line breaks in it is folded onto one)."""
    sys.stderr.write(" ".join(message.split("\n")).rstrip() + "\n")


def document(command: str, ok: bool, problems: Sequence[Problem] = (), **fields: Any) -> dict[str, Any]:
    """The envelope every ``--json`` document shares: ``schema``, ``command``, ``ok`` (true
    exactly when the exit status is 0), then the command's own fields, then ``problems`` (one
    shape everywhere: :meth:`bytecast.problem.Problem.to_json`)."""
    doc: dict[str, Any] = {"schema": SCHEMA, "command": command, "ok": ok}
    doc.update(fields)
    doc["problems"] = [problem_json(p) for p in problems]
    return doc


def print_json(document: object) -> None:
    """The one JSON document of a ``--json`` run, on stdout."""
    import json

    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")


def columns() -> int:
    """The terminal's width ($COLUMNS first), 80 when there is no terminal."""
    import os

    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def print_rows(rows: Sequence[Sequence[str]]) -> None:
    """A table with columns two spaces apart, the first row its heading."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")


def count(n: int, word: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``: a number with its noun agreeing."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def summary(text: str) -> None:
    """The one line that ends a compile, check or clean (unless ``-q``): on stderr, piped or
    not, so that logs of CI runs and Docker builds show what was done while stdout stays the
    command's data."""
    sys.stderr.write(text + "\n")


def seconds(elapsed: float) -> str:
    """``1.23 s``, ``0.05 s``."""
    return f"{elapsed:.2f} s"


def problem_json(problem: Problem) -> ProblemDoc:
    """A problem as every command's JSON holds it (:meth:`bytecast.problem.Problem.to_json`)."""
    return problem.to_json()  # type: ignore[return-value]  # the dict ProblemDoc declares


def problem_line(problem: Problem) -> str:
    """A problem's line (``path:line:col: Kind: message (for TARGET)``) with what is not
    printable escaped: a path or a message from a crafted file can hold anything."""
    from bytecast.safetext import escape

    return escape(str(problem))


def warning_line(problem: Problem) -> str:
    """A compiler warning's line, ``path:line[:col]: SyntaxWarning: message (for TARGET)``: the
    column only when the compiler gave one (the warnings module carries none). Escaped."""
    from bytecast.safetext import escape

    where = f"{problem.path}:{max(problem.line, 0)}" + (f":{problem.column}" if problem.column > 0 else "")
    suffix = f" (for {problem.target})" if problem.target else ""
    return escape(f"{where}: {problem.message}{suffix}")


def split_problem(text: str, kind: str = "Error") -> Problem:
    """A problem record from a library line ``path: message`` (what some readers still give)."""
    from bytecast.problem import Problem

    path, sep, message = text.partition(": ")
    return Problem(path, kind, message) if sep else Problem("", kind, text)


class Progress:
    """A rich progress bar on stderr, shown only once the work has taken half a second."""

    DELAY = 0.5

    def __init__(self, label: str, enabled: bool) -> None:
        import time

        self.label = label
        self.enabled = enabled
        self.clock = time.monotonic
        self.start = self.clock()
        self.last = 0.0
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self.bar is None:
            if now - self.start < self.DELAY or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True, auto_refresh=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        if now - self.last >= 0.1 or done >= total:
            self.last = now
            self.bar.update(self.task, completed=done, total=total)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def report_json(command: str, report: Report, elapsed: float) -> ReportDoc:
    """The ``--json`` document of ``compile`` and ``check``."""
    files: list[Any] = []
    for job in report.jobs:
        entry: dict[str, Any] = {"source": job.source.path, "target": job.target.cache_tag,
                                 "optimize": job.optimize, "pyc": job.cfile, "state": job.state}
        verdict = report.reasons.get(job.cfile)
        if verdict is not None:
            entry.update(reason=verdict.detail, field=verdict.field, recorded=verdict.recorded,
                         found=verdict.found)
        if command == "compile":
            entry["outcome"] = report.outcome(job)
            failure = report.failures.get(job.source.path)
            if failure is not None:
                entry["error"] = problem_json(failure)
        files.append(entry)
    # check's work is finding what is not fresh: that is a problem of the work (exit 1) too.
    ok = report.ok and (command == "compile" or report.fresh == report.pycs)
    summary = {"sources": report.sources, "pycs": report.pycs, "fresh": report.fresh, "compiled": report.compiled,
               "linked": report.linked, "failed": len(report.failures), "problems": len(report.problems),
               "warnings": len(report.warnings)}
    # compiler warnings are listed too (kind "warning"); they do not make ok false
    listed = sorted(report.problems + report.warnings, key=lambda p: p.path)
    return document(command, ok, listed, elapsed=round(elapsed, 4), summary=summary,  # type: ignore[return-value]
                    files=files)
