"""Reproducible zip archives: the same members give the same bytes, every time.

Members are written sorted by name, with one fixed timestamp (``SOURCE_DATE_EPOCH`` when set,
else 1980-01-01, the earliest a zip can hold), fixed permissions (0644, or 0755 for a file
that was executable), deflated at one fixed level (level 6; a member given with its deflate
stream from another archive keeps that stream), no folder entries and no extra fields.
The archive is built in a temporary file beside the output and renamed into place.
"""

from __future__ import annotations

import os

from bytecast.errors import UsageError
from bytecast.place.atomic import temp_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from typing import Any, BinaryIO, Callable

    from bytecast.place.zipraw import Stream

__all__ = ["ReproducibleZip", "fixed_date_time"]

_EARLIEST = (1980, 1, 1, 0, 0, 0)


def fixed_date_time() -> tuple[int, int, int, int, int, int]:
    """The timestamp every member gets: ``SOURCE_DATE_EPOCH`` (UTC) or 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return _EARLIEST
    import time

    try:
        when = time.gmtime(int(epoch))
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {epoch!r}") from None
    if when.tm_year < 1980:
        return _EARLIEST
    if when.tm_year > 2107:
        raise UsageError(f"SOURCE_DATE_EPOCH {epoch} is past what a zip can record (2107)")
    return (when.tm_year, when.tm_mon, when.tm_mday, when.tm_hour, when.tm_min, when.tm_sec & ~1)


class ReproducibleZip:
    """Members gathered in memory, written sorted to a zip by :meth:`write`."""

    def __init__(self, prefix: bytes = b"") -> None:
        self.prefix = prefix
        """Bytes before the archive (a ``#!`` line: zip readers find the archive from its end)."""
        self.members: dict[str, tuple[bytes, bool]] = {}
        self.streams: dict[str, Stream] = {}
        """Members whose compressed bytes were given to :meth:`add`."""

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def add(self, name: str, data: bytes, executable: bool = False, stream: Stream | None = None) -> None:
        """Add a member (``/``-separated, relative); a name already added is a UsageError.
        ``stream``: the deflate stream of ``data`` made already (another archive's, from
        :func:`~bytecast.place.zipraw.read_member`), which :meth:`write` copies instead of
        deflating ``data`` again."""
        if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise UsageError(f"{name!r}: not a relative archive member name")
        if name in self.members:
            raise UsageError(f"{name}: added to the archive twice")
        self.members[name] = (bytes(data), executable)
        if stream is not None:
            self.streams[name] = stream

    def render(self, stored: Collection[str] = ()) -> tuple[bytes, dict[str, int]]:
        """The archive's bytes (prefix included), and where the data of each member named in
        ``stored`` starts in them; those members are kept uncompressed (a reader can take
        them with one seek and one read, no zip reader and no inflating)."""
        import io
        import struct
        import zipfile

        stamp = fixed_date_time()
        buffer = io.BytesIO()
        buffer.write(self.prefix)
        with zipfile.ZipFile(buffer, "w") as zf:
            for name in sorted(self.members):
                data, executable = self.members[name]
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix: the permissions below are read
                info.external_attr = _attributes(executable)
                zf.writestr(info, data, compresslevel=6)
            headers = {info.filename: info.header_offset for info in zf.infolist()}
        raw = buffer.getvalue()
        offsets = {}
        for name in stored:
            at = headers[name]
            if raw[at : at + 4] != b"PK\x03\x04":
                raise AssertionError(f"{name}: no local header where zipfile put it")
            name_size, extra_size = struct.unpack_from("<HH", raw, at + 26)
            offsets[name] = at + 30 + name_size + extra_size
        return raw, offsets

    def write(self, path: str, *, date_time: tuple[int, int, int, int, int, int] | None = None,
              order: Callable[[str], Any] | None = None) -> None:
        """Write the archive to ``path`` atomically (complete or absent).

        ``date_time`` replaces :func:`fixed_date_time` for every member; ``order`` is a sort key
        of member names (a wheel wants its ``.dist-info`` folder last), names themselves by default.
        """
        from bytecast.place.zipraw import fits

        stamp = fixed_date_time() if date_time is None else date_time
        names = sorted(self.members, key=order)
        tmp = temp_name(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        try:
            with open(tmp, "wb") as raw:
                raw.write(self.prefix)
                if fits([(name, self.members[name][0]) for name in names]):
                    self._write_by_hand(raw, names, stamp)
                else:  # ZIP64: zipfile's, every member deflated again
                    self._write_with_zipfile(raw, names, stamp)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _write_by_hand(self, raw: BinaryIO, names: Sequence[str],
                       stamp: tuple[int, int, int, int, int, int]) -> None:
        """The archive by :func:`~bytecast.place.zipraw.write_zip`: the bytes of
        :meth:`_write_with_zipfile`, and the streams given to :meth:`add` copied."""
        from bytecast.place.zipraw import write_zip

        members, streams = self.members, self.streams
        write_zip(raw, [(name, members[name][0], _attributes(members[name][1]), streams.get(name)) for name in names],
                  stamp, start=len(self.prefix))

    def _write_with_zipfile(self, raw: BinaryIO, names: Sequence[str],
                            stamp: tuple[int, int, int, int, int, int]) -> None:
        import zipfile

        with zipfile.ZipFile(raw, "w") as zf:
            for name in names:
                data, executable = self.members[name]
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix: the permissions below are read
                info.external_attr = _attributes(executable)
                zf.writestr(info, data, compresslevel=6)


def _attributes(executable: bool) -> int:
    """A member's external attributes: a regular file, 0755 or 0644."""
    return (0o100755 if executable else 0o100644) << 16
