"""Reading files bytecast did not write: without blocking, and within a size limit.

Nothing bytecast does may block on a file that is not a regular one, or read more than it
allows itself. The type and size are checked on the open descriptor (``fstat``: no race
between a check and the open), the file is opened with ``O_NONBLOCK`` so that a FIFO never
waits for a writer, and a file over the limit is refused before anything is read (and caught
if it grows while it is read). The one home of that rule: headers, sources to hash, pycs to
inspect and files to scan for imports are all read here.
"""

from __future__ import annotations

import os
import stat as _stat

from bytecast.errors import DataError

__all__ = ["NotRegularFile", "read_regular", "describe"]

_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0))


class NotRegularFile(OSError):
    """The path is a FIFO, a device or a socket: it is not read at all."""


def read_regular(path: str, limit: int | None = None, prefix: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``: all of them, or only the first ``prefix``.

    Raises IsADirectoryError for a folder, :class:`NotRegularFile` (an OSError) for any other
    file that is not regular, :class:`~bytecast.errors.DataError` for a whole read of more than
    ``limit`` bytes, OSError as opening or reading raises it.
    """
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode):
            if _stat.S_ISDIR(st.st_mode):
                import errno

                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            raise NotRegularFile(0, f"not a regular file ({describe(st.st_mode)})", path)
        if prefix is not None:
            return os.read(fd, prefix)
        if limit is not None and st.st_size > limit:
            raise DataError(f"{path}: file is {st.st_size} bytes, more than the limit of {limit}")
        chunks = []
        left = -1 if limit is None else limit + 1  # a file that grows while read is caught
        want = st.st_size + 1
        while left:
            chunk = os.read(fd, want if left < 0 else min(want, left))
            if not chunk:
                break
            chunks.append(chunk)
            if left > 0:
                left -= len(chunk)
            want = 1 << 16
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if limit is not None and len(data) > limit:
            raise DataError(f"{path}: file is more than the limit of {limit} bytes")
        return data
    finally:
        os.close(fd)


def describe(mode: int) -> str:
    """What a file that is not regular is: ``a FIFO``, ``a character device``..."""
    for test, name in ((_stat.S_ISFIFO, "a FIFO"), (_stat.S_ISCHR, "a character device"),
                       (_stat.S_ISBLK, "a block device"), (_stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"
