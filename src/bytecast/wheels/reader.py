"""Reading a wheel that nobody vouched for: every member checked before anything is kept.

A wheel is a zip archive from anywhere. :func:`read_wheel` refuses what an installer could be
tricked by (absolute names, ``..``, symbolic links, encrypted or duplicate members, more bytes
than :data:`MAX_BYTES` declared) and what a wheel must have (one ``NAME-VERSION.dist-info``
folder with ``WHEEL``, ``METADATA`` and ``RECORD``), each as one :class:`WheelError` naming the
wheel. Folder entries are left out: the output has none.
"""

from __future__ import annotations

import os
import stat

from bytecast._frozen import Frozen, init
from bytecast.errors import DataError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.tags import Tag

    from bytecast.place.zipraw import Stream

__all__ = ["Member", "Wheel", "WheelError", "read_wheel", "MAX_BYTES"]

MAX_BYTES = 4 << 30
"""The most uncompressed bytes a wheel may declare (no member is inflated past its declared size)."""


class WheelError(DataError):
    """A wheel that cannot be read or converted: a problem of the work (exit 1)."""


class Member(Frozen):
    """One file of a wheel."""

    __slots__ = ("name", "data", "executable", "date_time", "stream")

    name: str
    """``/``-separated path inside the archive, checked to be relative and inside it."""
    data: bytes
    """Its bytes."""
    executable: bool
    """True when the archive recorded an executable bit (scripts keep it)."""
    date_time: tuple[int, int, int, int, int, int]
    """The member's zip timestamp."""
    stream: Stream | None
    """Its deflate stream in the wheel, when an archive can hold it as it is (one whole stream,
    nothing after it): an output copies it for a member it does not change."""

    def __init__(self, name: str, data: bytes, executable: bool = False,
                 date_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0),
                 stream: Stream | None = None) -> None:
        init(self, "name", name)
        init(self, "data", data)
        init(self, "executable", executable)
        init(self, "date_time", date_time)
        init(self, "stream", stream)


class Wheel(Frozen):
    """A wheel read and checked by :func:`read_wheel`."""

    __slots__ = ("path", "name", "version", "build", "tags", "dist_info", "root_is_purelib",
                 "requires_python", "members")

    path: str
    """The file it was read from."""
    name: str
    """The distribution name as its file name spells it (``jaraco.functools``)."""
    version: str
    """The version as its file name spells it."""
    build: str
    """The build tag of the file name, or ``""``."""
    tags: frozenset[Tag]
    """The tags of its file name (what pip and uv choose it by)."""
    dist_info: str
    """Its ``NAME-VERSION.dist-info`` folder."""
    root_is_purelib: bool
    """``Root-Is-Purelib`` of ``WHEEL``."""
    requires_python: str | None
    """``Requires-Python`` of ``METADATA``, when it has one."""
    members: tuple[Member, ...]
    """Every file, in archive order."""

    def __init__(self, path: str, name: str, version: str, build: str, tags: frozenset[Tag], dist_info: str,
                 root_is_purelib: bool, requires_python: str | None, members: tuple[Member, ...]) -> None:
        init(self, "path", path)
        init(self, "name", name)
        init(self, "version", version)
        init(self, "build", build)
        init(self, "tags", tags)
        init(self, "dist_info", dist_info)
        init(self, "root_is_purelib", root_is_purelib)
        init(self, "requires_python", requires_python)
        init(self, "members", members)

    @property
    def data_dir(self) -> str:
        """The ``NAME-VERSION.data`` folder its files to install elsewhere live in."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    def member(self, name: str) -> Member | None:
        """The member called ``name``, if there is one."""
        return next((m for m in self.members if m.name == name), None)


def _check_name(path: str, name: str) -> None:
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or ":" in parts[0] or "\x00" in name
            or any(p in ("", ".", "..") for p in parts)):
        raise WheelError(f"{path}: member {name!r} is not a plain relative path; refusing the wheel")


def _headers(text: bytes) -> dict[str, list[str]]:
    """The ``Key: value`` fields of WHEEL or METADATA (the email header format, body ignored),
    by lower-case name."""
    from bytecast.wheels.headers import parse

    found: dict[str, list[str]] = {}
    for key, value in parse(text):
        found.setdefault(key.lower(), []).append(value.strip())
    return found


def read_wheel(path: str) -> Wheel:
    """Read and check the wheel at ``path``; raises :class:`WheelError` (one line naming it)."""
    import zipfile

    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    from bytecast.place.zipraw import read_member

    filename = os.path.basename(path)
    try:
        dist, _version, build_tag, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise WheelError(f"{path}: not a wheel file name ({exc})") from None
    name, version = filename.split("-")[:2]
    build = str(build_tag[0]) + build_tag[1] if build_tag else ""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise WheelError(f"{path}: not a readable zip archive ({exc})") from None
    members: list[Member] = []
    with zf, open(path, "rb") as raw:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_BYTES:
            raise WheelError(f"{path}: declares more than {MAX_BYTES >> 30} GiB of contents; refusing it")
        seen: set[str] = set()
        for info in infos:
            name_in = info.filename
            if name_in.endswith("/"):
                _check_name(path, name_in.rstrip("/") or "/")
                continue  # folders are implied by their files
            _check_name(path, name_in)
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                raise WheelError(f"{path}: member {name_in!r} is {kind}; refusing the wheel")
            if info.flag_bits & 0x1:
                raise WheelError(f"{path}: member {name_in!r} is encrypted")
            if name_in in seen:
                raise WheelError(f"{path}: member {name_in!r} appears twice")
            seen.add(name_in)
            try:
                read = read_member(raw, info)  # stored or deflate: read here, with its stream
                data, stream = read if read is not None else (zf.read(info), None)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise WheelError(f"{path}: member {name_in!r} cannot be read ({exc})") from None
            except Exception as exc:  # zlib.error, lzma/bz2 errors of a corrupt stream
                raise WheelError(f"{path}: member {name_in!r} cannot be read ({type(exc).__name__}: {exc})") from None
            executable = info.create_system == 3 and bool(mode & 0o111)
            members.append(Member(name_in, data, executable, info.date_time, stream))
    tops = sorted({m.name.split("/", 1)[0] for m in members if m.name.split("/", 1)[0].endswith(".dist-info")})
    wanted = canonicalize_name(dist)
    ours = [t for t in tops if canonicalize_name(t[: -len(".dist-info")].rsplit("-", 1)[0]) == wanted]
    if len(ours) != 1:
        found = ", ".join(tops) or "none"
        raise WheelError(f"{path}: expected one {name}-{version}.dist-info folder, found {found}")
    dist_info = ours[0]
    by_name = {m.name: m for m in members}
    for needed in ("WHEEL", "METADATA", "RECORD"):
        if f"{dist_info}/{needed}" not in by_name:
            raise WheelError(f"{path}: {dist_info}/{needed} is missing")
    wheel = _headers(by_name[f"{dist_info}/WHEEL"].data)
    wheel_version = (wheel.get("wheel-version") or [""])[0]
    if wheel_version.split(".")[0] != "1":
        raise WheelError(f"{path}: Wheel-Version {wheel_version or '(none)'} is not one bytecast knows (1.x)")
    purelib = (wheel.get("root-is-purelib") or ["false"])[0].lower() == "true"
    metadata = _headers(by_name[f"{dist_info}/METADATA"].data)
    requires = next(iter(metadata.get("requires-python") or ()), None)
    return Wheel(path, name, version, build, frozenset(tags), dist_info, purelib, requires or None, tuple(members))
