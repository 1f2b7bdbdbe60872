"""Shared fixtures: real trees (copies of the running interpreter's standard library)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import bytecast

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SRC = str(Path(bytecast.__file__).resolve().parent.parent)
"""The folder holding the ``bytecast`` package under test (put on PYTHONPATH of subprocesses)."""

SMALL_PACKAGES = ("json", "email", "asyncio", "concurrent", "importlib", "xml", "collections", "http")


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", "site-packages") or n.endswith((".pyc", ".so"))}


@pytest.fixture(scope="session")
def stdlib_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine copy of the whole standard library (no caches); never modify it."""
    dest = tmp_path_factory.mktemp("master") / "stdlib"
    shutil.copytree(STDLIB, dest, ignore=_ignore, symlinks=True)
    return dest


@pytest.fixture
def stdlib_tree(stdlib_master: Path, tmp_path: Path) -> Path:
    """A fresh copy of the whole standard library for one test."""
    dest = tmp_path / "stdlib"
    shutil.copytree(stdlib_master, dest, symlinks=True)
    return dest


@pytest.fixture
def small_tree(stdlib_master: Path, tmp_path: Path) -> Path:
    """A fresh copy of a few real standard-library packages (a few hundred files)."""
    dest = tmp_path / "small"
    dest.mkdir()
    for name in SMALL_PACKAGES:
        shutil.copytree(stdlib_master / name, dest / name, symlinks=True)
    return dest


def env() -> dict[str, str]:
    """The environment of a subprocess that runs this checkout's bytecast."""
    e = dict(os.environ)
    e["PYTHONPATH"] = SRC + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.pop("SOURCE_DATE_EPOCH", None)
    # A venv active in the shell running the tests would be the default target of every run.
    e.pop("VIRTUAL_ENV", None)
    return e


def run_cli(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None, timeout: float = 600,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bytecast ARGS`` against the checkout under test."""
    return subprocess.run([sys.executable, "-m", "bytecast", *args], cwd=cwd, env=env or _env(),
                          capture_output=True, text=True, timeout=timeout, input=input)


_env = env


def pyc_files(root: Path) -> dict[str, bytes]:
    """Every .pyc under ``root`` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def member_stream(path: Path, name: str) -> bytes:
    """The compressed bytes of member ``name`` as the zip archive at ``path`` holds them."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        info = zf.getinfo(name)
        f.seek(info.header_offset)
        head = f.read(30)
        f.seek(sum(struct.unpack_from("<HH", head, 26)), 1)
        return f.read(info.compress_size)


@pytest.fixture
def compile_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item for every run of the workers (``bytecast.engine.compile_chunks``) from now on."""
    import bytecast.engine

    runs: list[int] = []
    real = bytecast.engine.compile_chunks

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bytecast.engine, "compile_chunks", counted)
    return runs
