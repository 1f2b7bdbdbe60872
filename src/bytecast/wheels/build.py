"""A project folder into a wheel, by pypa/build: ``python -m build --wheel``, isolated.

Run as a subprocess of the interpreter bytecast runs on, so the project's build backend runs
in its own environment as every frontend runs it, and bytecast imports none of it.
"""

from __future__ import annotations

import os
import sys

__all__ = ["BuildError", "build_wheel", "is_project"]

from bytecast.errors import DataError, UsageError


class BuildError(DataError):
    """The project's build failed (a problem of the work, exit 1)."""


def is_project(path: str) -> bool:
    """Whether the folder ``path`` is something pypa/build can build."""
    return any(os.path.isfile(os.path.join(path, n)) for n in ("pyproject.toml", "setup.py"))


def build_wheel(project: str, outdir: str, *, timeout: float = 3600) -> str:
    """Build the project at ``project`` into a wheel in ``outdir``; returns the wheel's path."""
    import importlib.util
    import subprocess

    if not os.path.isdir(project) or not is_project(project):
        raise UsageError(f"{project}: not a project folder (no pyproject.toml or setup.py)")
    if importlib.util.find_spec("build") is None:
        raise UsageError(f"{project}: building a project needs pypa/build: pip install 'bytecast[build]'")
    before = set(os.listdir(outdir)) if os.path.isdir(outdir) else set()
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", outdir, project]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{project}: build did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        last = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
        raise BuildError(f"{project}: build failed (exit {done.returncode}): {last}")
    made = sorted(n for n in set(os.listdir(outdir)) - before if n.endswith(".whl"))
    if len(made) != 1:
        raise BuildError(f"{project}: build made {len(made)} wheels, expected one")
    return os.path.join(outdir, made[0])
