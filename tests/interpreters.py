"""Find the CPython interpreters installed on this machine, for tests that compare with them.

Looks in pyenv's versions folder ($PYENV_ROOT, else ~/.pyenv), uv's managed Pythons
($UV_PYTHON_INSTALL_DIR, else ~/.local/share/uv/python) and on PATH (pythonX.Y). Real binaries
only: pyenv shims would re-dispatch on the current folder's settings. The one place tests
find interpreters; a test that needs an absent one calls :func:`require`, which skips it
with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from functools import cache

VERSIONS = ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


@cache
def installed() -> dict[str, str]:
    """Map "X.Y" to the path of a working interpreter of that version."""
    found: dict[str, str] = {}
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python")))
    uv = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser("~/.local/share/uv/python")
    candidates += sorted(glob.glob(os.path.join(uv, "cpython-*", "bin", "python3")))
    for version in VERSIONS:
        which = shutil.which(f"python{version}")
        if which and "shims" not in which:
            candidates.append(which)
    candidates.append(sys.executable)
    for exe in candidates:
        try:
            out = subprocess.run(
                [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        found.setdefault(out, exe)
    return found


def interpreter(version: str) -> str | None:
    """The path of an installed Python ``version`` ("3.12"), or None."""
    return installed().get(version)


def require(version: str) -> str:
    """The path of an installed Python ``version``; skips the calling test when there is none."""
    import pytest

    exe = interpreter(version)
    if exe is None:
        pytest.skip(f"no Python {version} interpreter installed (pyenv, uv or PATH)")
    return os.path.realpath(exe)


def stdlib_dir(exe: str) -> str:
    """The standard library folder of interpreter ``exe``."""
    return subprocess.run(
        [exe, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
        capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def stdlib_pycs(exe: str, tmpdir: str, every: int = 1, skip_tests: bool = True,
                fresh: bool = False) -> list[str]:
    """Paths of pycs ``exe`` wrote for its stdlib (every Nth source), compiling into tmpdir
    the ones its install lacks (all of them with ``fresh``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [exe, os.path.join(here, "pyc_digest.py"), stdlib_dir(exe), tmpdir, "--paths-only",
           "--every", str(every)]
    if skip_tests:
        cmd.append("--skip-tests")
    if fresh:
        cmd.append("--fresh")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    return [line for line in out.splitlines() if line]


def header_size(version: tuple[int, int]) -> int:
    """The pyc header size of Python ``version``: 8 bytes before 3.3, 12 to 3.6, 16 from 3.7 (PEP 552).

    The tests' one copy of the rule (bytecast's own is ``bytecast.magic.header_size_for``, by magic
    number; an oracle must not be the code under test). The scripts that run under 2.7
    (``pyc_digest.py``, ``dis_truth.py``) keep their own: they cannot import this module there.
    """
    return 16 if version >= (3, 7) else 12 if version >= (3, 3) else 8
