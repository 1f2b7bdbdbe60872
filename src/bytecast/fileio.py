"""Reading files that may be anything: a FIFO, a device, a file that changes under us.

Nothing bytecast does may block on a file that is not a regular one, or read more than it
allows itself: the type and size are checked on the open descriptor (no race between a
check and the open), opened with ``O_NONBLOCK`` so that a FIFO never waits for a writer.
"""

from __future__ import annotations

import os
import stat as _stat

__all__ = ["NotRegularFile", "read_regular"]

_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder, or is larger than allowed."""


def read_regular(path: str, limit: int | None = None, prefix: int | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (only its first ``prefix`` bytes, if given).

    Raises IsADirectoryError for a folder, :class:`NotRegularFile` (an OSError) for anything else
    that is not a regular file or for a file over ``limit`` bytes; OSError as ``open`` raises it
    otherwise.
    """
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if _stat.S_ISDIR(st.st_mode):
            import errno

            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if not _stat.S_ISREG(st.st_mode):
            raise NotRegularFile(0, "not a regular file", path)
        if prefix is not None:
            return os.read(fd, prefix)
        if limit is not None and st.st_size > limit:
            raise NotRegularFile(0, f"{st.st_size} bytes, more than the {limit} allowed", path)
        chunks = []
        left = limit + 1 if limit is not None else -1
        while left:
            chunk = os.read(fd, 1 << 20 if left < 0 else min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            if left > 0:
                left -= len(chunk)
        data = b"".join(chunks)
        if limit is not None and len(data) > limit:  # it grew while we read it
            raise NotRegularFile(0, f"more than the {limit} bytes allowed", path)
        return data
    finally:
        os.close(fd)
