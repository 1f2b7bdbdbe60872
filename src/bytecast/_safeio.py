"""Reading a file bytecast did not write, without blocking and within a size limit.

The size comes from the open descriptor (``fstat``), so a file is refused before anything is
read; only regular files are read at all, and the file is opened non-blocking, so a FIFO,
``/dev/zero`` or a terminal is refused at once instead of hanging or filling memory.
"""

from __future__ import annotations

import os
import stat

from bytecast.errors import DataError

__all__ = ["read_regular"]

_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
          | getattr(os, "O_CLOEXEC", 0))


def read_regular(path: str, limit: int, head: int | None = None) -> bytes:
    """The bytes of the regular file ``path``: all of them, or the first ``head``.

    Raises DataError when ``path`` is not a regular file or is larger than ``limit`` bytes
    (a whole read only), OSError when it cannot be opened or read.
    """
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{path}: not a regular file ({_kind(st.st_mode)})")
        if head is not None:
            return os.read(fd, head)
        if st.st_size > limit:
            raise DataError(f"{path}: file is {st.st_size} bytes, more than the limit of {limit}")
        chunks = []
        left = limit + 1  # a file that grows while read is still caught
        want = st.st_size + 1
        while left > 0:
            chunk = os.read(fd, min(want, left))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            want = 1 << 16
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if len(data) > limit:
            raise DataError(f"{path}: file is more than the limit of {limit} bytes")
        return data
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"
