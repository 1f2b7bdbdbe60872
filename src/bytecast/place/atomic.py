"""Atomic files: what bytecast writes is complete or absent, whatever happens to it.

The parent-side writer of the layouts that place bytes themselves (the compile worker has its
own copy in :mod:`bytecast.remote.worker`: it runs in other interpreters, stdlib-only). A
temporary file in the same folder, then a rename: a reader sees the old file or the new one,
never a part. Like ``py_compile``, it refuses to write through a symbolic link or over
anything that is not a regular file.
"""

from __future__ import annotations

import os
import stat as _stat

from bytecast.errors import UsageError

__all__ = ["write_atomic", "temp_name"]


def temp_name(path: str) -> str:
    """The temporary name this process uses for ``path`` (``clean`` knows the pattern)."""
    return f"{path}.{os.getpid()}.tmp"


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Creates missing folders. Raises :class:`UsageError` when ``path`` is a symbolic link or not
    a regular file; OSError passes through (nothing is left behind).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not _stat.S_ISREG(st.st_mode):
            kind = "a symbolic link" if _stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise UsageError(f"{path}: is {kind}; not writing there")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), mode & 0o777)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
