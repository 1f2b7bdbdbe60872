"""The sourceless tree's copy makes what shutil.copytree makes, on a tree of every kind of entry."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest

from bytecast.place import treecopy
from bytecast.place.treecopy import copy_tree

pytestmark = pytest.mark.skipif(not treecopy._FAST, reason="the kernel copy exists on Linux only; elsewhere "
                                                           "copy_tree is shutil.copytree itself")


def _tree(root: Path) -> Path:
    src = root / "src"
    shutil.copytree(Path(shutil.__file__).parent / "json", src / "pkg" / "json")  # real files
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"left out")
    (src / "pkg" / "skipped.py").write_text("left out\n")
    (src / "bin").mkdir(mode=0o750)
    (src / "bin" / "run").write_text("#!/bin/sh\necho hi\n")
    (src / "bin" / "run").chmod(0o755)
    (src / "secret.txt").write_text("mine\n")
    (src / "secret.txt").chmod(0o600)
    (src / "read-only.txt").write_text("frozen\n")
    (src / "read-only.txt").chmod(0o444)
    (src / "empty").mkdir()
    (src / "private").mkdir(mode=0o700)
    (src / "private" / "big.bin").write_bytes(os.urandom(3 << 20))  # more than one copy call
    (src / "private" / "zero.bin").write_bytes(b"")
    os.symlink("secret.txt", src / "link-to-file")
    os.symlink("pkg/json", src / "link-to-folder")
    os.symlink("nowhere", src / "dangling")
    try:
        os.setxattr(src / "secret.txt", "user.bytecast", b"kept")
    except OSError:
        pass  # a file system without user attributes: the rest is still compared
    for n, path in enumerate(sorted(src.rglob("*"), reverse=True)):  # times to the nanosecond, folders last
        os.utime(path, ns=(1_600_000_000_123_456_789 + n, 1_500_000_000_987_654_321 + n), follow_symlinks=False)
    return src


def _skip(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", "skipped.py")}


def _snapshot(root: Path, atimes: bool = True) -> dict[str, tuple[object, ...]]:
    """Every entry: kind, mode, times, attributes, contents (atimes of files: reading them sets them)."""
    found: dict[str, tuple[object, ...]] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = os.lstat(path)
        rel = path.relative_to(root).as_posix()
        xattrs = tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False))
                              for n in os.listxattr(path, follow_symlinks=False)))
        if stat.S_ISLNK(st.st_mode):
            found[rel] = ("link", os.readlink(path), st.st_mtime_ns, xattrs)
        elif stat.S_ISDIR(st.st_mode):
            found[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns, xattrs)  # reading one sets its atime
        else:
            found[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_atime_ns if atimes else 0, xattrs,
                          path.read_bytes())
    return found


@pytest.mark.parametrize("kernel", [True, False])
def test_the_copy_is_shutils(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: bool) -> None:
    src = _tree(tmp_path)
    want, got = tmp_path / "by-shutil", tmp_path / "by-bytecast"
    want.mkdir(mode=0o700)  # as the staging folder: made by mkdtemp, given the source's mode by the copy
    got.mkdir(mode=0o700)
    before = _snapshot(src, atimes=False)
    shutil.copytree(src, want, symlinks=True, ignore=_skip, dirs_exist_ok=True)
    if not kernel:  # a file system that cannot copy in the kernel: read and write
        def refuse(*args: object) -> int:
            raise OSError(errno.EXDEV, "cross-device")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    seen: list[str] = []

    def skip(rel: str, names: list[str]) -> set[str]:
        seen.append(rel)
        return _skip(rel, names)

    copy_tree(str(src), str(got), skip)
    assert sorted(seen) == ["", "bin", "empty", "pkg", "pkg/json", "private"]  # each folder, by its path in src
    expected = _snapshot(want)
    assert "pkg/json/decoder.py" in expected and "pkg/skipped.py" not in expected and "empty" in expected
    assert _snapshot(got) == expected
    assert _snapshot(src, atimes=False) == before  # the source is only read


def test_what_shutil_refuses_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    with pytest.raises(shutil.Error):
        shutil.copytree(src, tmp_path / "a", symlinks=True, ignore=_skip, dirs_exist_ok=True)
    with pytest.raises(OSError, match="named pipe"):
        copy_tree(str(src), str(tmp_path / "b"), _skip)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("there already\n")
    (src / "pipe").unlink()
    (src / "x").write_text("new\n")
    with pytest.raises(FileExistsError):  # never over a file already there
        copy_tree(str(src), str(tmp_path / "c"), _skip)
    assert (tmp_path / "c" / "x").read_text() == "there already\n"
