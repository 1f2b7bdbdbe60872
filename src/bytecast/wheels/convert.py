"""One wheel, one target: the pyc-only wheel.

The input's library files (the wheel root, ``.data/purelib``, ``.data/platlib``) are staged in
a private folder by :func:`prepare`, each folder a :class:`bytecast.sourceless.Tree` kept in
memory, compiled with every other wheel's (:func:`bytecast.wheels.convert_wheels`); every other
member (``.data/scripts``, ``.data/data``, ``.data/headers``) goes through untouched with its
executable bit. Then the ``.dist-info`` edits: ``WHEEL`` retagged, ``top_level.txt`` added
when missing (Python 3.11's ``packages_distributions()`` sees a pyc-only install only through
it), signatures of the old RECORD dropped, and RECORD written last. The archive is a
:class:`~bytecast.place.archive.ReproducibleZip`: sorted, ``.dist-info`` last, no folder entries,
one timestamp (``SOURCE_DATE_EPOCH``, else the input's newest member), and is read back and
its RECORD verified before it counts as done.
"""

from __future__ import annotations

import os

from bytecast._frozen import Frozen, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.tags import Tag

    from bytecast.place.zipraw import Stream
    from bytecast.problem import Problem
    from bytecast.sourceless import Tree
    from bytecast.targets import Target
    from bytecast.wheels.reader import Member, Wheel

__all__ = ["Converted", "Pending", "output_name", "prepare", "staging_parent"]

_SIGNATURES = ("RECORD.jws", "RECORD.p7s")


class Converted(Frozen):
    """A pyc-only wheel written for one target."""

    __slots__ = ("source", "target", "output", "tags", "compiled", "kept", "warnings")

    source: str
    """The input wheel; for a project, ``PROJECT/NAME.whl`` names the wheel built of it (not kept)."""
    target: str
    """The target's label (``cpython-3.11``)."""
    output: str
    """The wheel written."""
    tags: tuple[str, ...]
    """Its tags, one per ``Tag:`` line of WHEEL."""
    compiled: tuple[str, ...]
    """Members now bytecode (``pkg/mod.pyc``), sorted."""
    kept: dict[str, str]
    """Sources kept as sources (member -> why)."""
    warnings: tuple[str, ...]
    """What the conversion noticed and did not refuse."""

    def __init__(self, source: str, target: str, output: str, tags: tuple[str, ...], compiled: tuple[str, ...],
                 kept: dict[str, str], warnings: tuple[str, ...]) -> None:
        init(self, "source", source)
        init(self, "target", target)
        init(self, "output", output)
        init(self, "tags", tags)
        init(self, "compiled", compiled)
        init(self, "kept", kept)
        init(self, "warnings", warnings)


def output_name(wheel: Wheel, tags: tuple[Tag, ...]) -> str:
    """The output's file name: the input's name, version and build tag, the new tags."""
    from bytecast.wheels.tags import file_tags

    build = f"-{wheel.build}" if wheel.build else ""
    return f"{wheel.name}-{wheel.version}{build}-{file_tags(tags)}.whl"


def _lib_prefixes(wheel: Wheel) -> list[str]:
    """Member prefixes of the folders whose modules install on ``sys.path`` (the root: ``""``)."""
    return ["", f"{wheel.data_dir}/purelib/", f"{wheel.data_dir}/platlib/"]


def _lib_of(wheel: Wheel, name: str) -> str | None:
    """The library prefix ``name`` lies under, or None when it is not a library file."""
    top = name.split("/", 1)[0]
    if top == wheel.dist_info:
        return None
    if top == wheel.data_dir:
        for prefix in _lib_prefixes(wheel)[1:]:
            if name.startswith(prefix):
                return prefix
        return None
    return ""


def _retag(text: bytes, tags: tuple[Tag, ...]) -> bytes:
    """WHEEL with its ``Tag:`` lines replaced by ``tags``, every other line as it was."""
    lines = text.decode("utf-8").splitlines()
    kept = [line for line in lines if not line.lower().startswith("tag:")]
    while kept and not kept[-1].strip():
        kept.pop()
    kept.extend(f"Tag: {t}" for t in tags)
    return ("\n".join(kept) + "\n").encode("utf-8")


def _top_level(names: Sequence[str]) -> bytes:
    """``top_level.txt`` for library members ``names`` (relative to their library folder)."""
    tops: set[str] = set()
    for name in names:
        first, sep, _ = name.partition("/")
        if sep:
            if first.isidentifier() and name.endswith((".pyc", ".py", ".so", ".pyd")):
                tops.add(first)
        elif name.endswith((".pyc", ".py", ".so", ".pyd")):
            module = first.split(".", 1)[0]
            if module.isidentifier():
                tops.add(module)
    return "".join(f"{t}\n" for t in sorted(tops)).encode("utf-8")


def _date_time(members: Sequence[Member]) -> tuple[int, int, int, int, int, int]:
    from bytecast.place.archive import fixed_date_time

    if os.environ.get("SOURCE_DATE_EPOCH"):
        return fixed_date_time()
    newest = max((m.date_time for m in members), default=(1980, 1, 1, 0, 0, 0))
    if newest < (1980, 1, 1, 0, 0, 0):
        return (1980, 1, 1, 0, 0, 0)
    return (*newest[:5], newest[5] & ~1)


def _read_when_staged(rel: str) -> bool:
    """Whether anything reads the staged bytes of a library member: the workers and the script
    test read sources, the walk reads ignore files and what a ``.git`` holds, RECORDs are
    rewritten. Every other member is staged as an empty file of its name (all the walk needs;
    its bytes go into the archive from memory): virtualenv's 9 MB of bundled wheels are never
    written to disk."""
    base = rel.rpartition("/")[2]
    return rel.endswith(".py") or base in (".gitignore", "RECORD") or ".git" in rel.split("/")


def _stage(root: str, member: Member, rel: str) -> None:
    """Write ``member`` at ``rel`` under the private staging folder ``root`` (empty unless
    :func:`_read_when_staged`).

    A plain exclusive create, not write_atomic: no one else sees the folder, and it is removed
    whatever happens (names were checked by the reader, and O_EXCL|O_NOFOLLOW refuses anything
    already there)."""
    import calendar

    path = os.path.join(root, *rel.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o755 if member.executable else 0o644)
    if not _read_when_staged(rel):
        os.close(fd)
        return
    try:
        view = memoryview(member.data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    try:
        when = calendar.timegm((*member.date_time, 0, 0, 0))
    except (OverflowError, ValueError):
        when = 315532800
    os.utime(path, (when, when))  # as the input had it: the same input gives the same bytes


def _relocated(problem: Problem, root: str, wheel: str, lib: str) -> Problem:
    """``problem`` about a staged file, named as the member of ``wheel`` it came from."""
    path = problem.path
    if os.path.isabs(path):
        rel = os.path.relpath(path, root)
        path = "" if rel == "." else rel.replace(os.sep, "/")
    return problem.replace(path=f"{wheel}/{lib}{path}".rstrip("/") if path else wheel)


class Pending:
    """One wheel for one target, staged and planned by :func:`prepare`: its library trees wait
    for :func:`~bytecast.sourceless.compile_trees` (one run for every wheel and target), then
    :meth:`finish` makes the archive's members from memory and :meth:`write` writes it."""

    def __init__(self, wheel: Wheel, target: Target, output: str, tags: tuple[Tag, ...],
                 trees: list[tuple[str, str, Tree]]) -> None:
        self.wheel = wheel
        self.target = target
        self.output = output
        """The wheel to write."""
        self.tags = tags
        self.trees = trees
        """``(library prefix, staging root, tree)`` of each library folder."""
        self.members: dict[str, bytes] = {}
        """After :meth:`finish`: every member of the output but RECORD, name -> bytes."""
        self.streams: dict[str, Stream] = {}
        """After :meth:`finish`: the input's compressed bytes of each member it passes unchanged."""
        self.compiled: list[str] = []
        self.kept: dict[str, str] = {}
        self.warnings: list[str] = []

    def finish(self, problems: list[Problem]) -> bool:
        """Convert each library tree (in memory) and gather the output's members; False with
        ``problems`` added when any file could not be converted (no wheel is written)."""
        wheel = self.wheel
        before = len(problems)
        out: dict[str, bytes] = {}
        library: list[str] = []
        libs: dict[str, tuple[set[str], set[str], str, Tree]] = {}
        for lib, root, tree in self.trees:
            report = tree.finish()
            problems.extend(_relocated(p, root, wheel.path, lib) for p in report.problems)
            self.compiled.extend(lib + rel + "c" for rel in report.compiled)
            self.kept.update({lib + rel: why for rel, why in report.kept.items()})
            self.warnings.extend(str(_relocated(w, root, wheel.path, lib)) for w in report.warnings)
            libs[lib] = (set(report.compiled), set(report.removed), root, tree)
        if len(problems) > before:
            return False  # a wheel missing a module is not complete: none is written
        for member in wheel.members:
            where = _lib_of(wheel, member.name)
            if where is None:
                if member.name.startswith(wheel.dist_info + "/"):
                    rest = member.name[len(wheel.dist_info) + 1:]
                    if rest == "RECORD" or rest in _SIGNATURES:
                        continue
                out[member.name] = member.data
                continue
            gone, removed, _, tree = libs[where]
            rel = member.name[len(where):]
            if rel in gone or rel in removed or _under(rel, removed):
                continue
            out[member.name] = tree.records_made.get(rel, member.data)
            library.append(rel)
        for lib, (_, _, _, tree) in libs.items():
            for rel, data in tree.pycs_made.items():
                out[lib + rel] = data
                library.append(rel)
        info = wheel.dist_info
        out[f"{info}/WHEEL"] = _retag(out[f"{info}/WHEEL"], self.tags)
        if f"{info}/top_level.txt" not in out:
            out[f"{info}/top_level.txt"] = _top_level(library)
        self.members = out
        # a member that is still the input's bytes object is unchanged: its stream is copied
        self.streams = {m.name: m.stream for m in wheel.members if m.stream is not None and out.get(m.name) is m.data}
        return True

    def write(self) -> Converted:
        """Write the archive of :meth:`finish` (RECORD last), read it back and verify its RECORD;
        WheelError when it does not verify (the file is removed). Safe in a thread of its own:
        deflating and hashing release the GIL."""
        from bytecast.place.archive import ReproducibleZip
        from bytecast.wheels.reader import WheelError
        from bytecast.wheels.record import make_record, verify_record

        wheel, output, info = self.wheel, self.output, self.wheel.dist_info
        executable = {m.name for m in wheel.members if m.executable}
        record = f"{info}/RECORD"
        digests: dict[str, str] = {}
        record_bytes = make_record(self.members, record, digests)  # last: after every other edit
        archive = ReproducibleZip()
        streams = self.streams
        for name, data in self.members.items():
            archive.add(name, data, name in executable, streams.get(name))
        archive.add(record, record_bytes)
        archive.write(output, date_time=_date_time(wheel.members),
                      order=lambda name: (name.startswith(info + "/"), name == record, name))
        wrong = verify_record(output, record, (self.members, digests))
        if wrong:
            os.unlink(output)
            raise WheelError(f"{output}: written wheel fails its own RECORD check: {wrong[0]}")
        return Converted(wheel.path, self.target.label, output, tuple(str(t) for t in self.tags),
                         tuple(sorted(self.compiled)), dict(sorted(self.kept.items())), tuple(self.warnings))


def _under(rel: str, folders: set[str]) -> bool:
    """Whether ``rel`` lies inside one of ``folders`` (the ``__pycache__`` folders removed)."""
    parts = rel.split("/")
    return any("/".join(parts[:n]) in folders for n in range(1, len(parts)))


def staging_parent() -> str | None:
    """Where wheels are staged: a memory file system (``/dev/shm``) when there is one with room,
    and ``TMPDIR`` is not set; else None (the system's temporary folder). The staged sources are
    in memory already; creating ~700 files cost 0.45-0.55 s of system time in /tmp on the ext4
    disk where bytecast is measured, 0.03 s in /dev/shm."""
    if os.environ.get("TMPDIR") or not os.path.isdir("/dev/shm"):
        return None
    try:
        free = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return None
    if free.f_bavail * free.f_frsize < 256 << 20 or not os.access("/dev/shm", os.W_OK | os.X_OK):
        return None  # a small one (a container's 64 MB): not worth filling
    return "/dev/shm"


def prepare(wheel: Wheel, target: Target, output_dir: str, staging: str, *, optimize: int = 0,
            prefix: str | None = None, keep: Sequence[str] = ()) -> Pending:
    """Stage the library folders of ``wheel`` under ``staging`` (a private, empty folder) and plan
    their conversion for ``target``. A wheel that is not for ``target`` raises WheelError."""
    from bytecast.sourceless import Tree
    from bytecast.wheels.reader import WheelError
    from bytecast.wheels.tags import output_tags

    tags = output_tags(wheel, target)
    output = os.path.join(output_dir, output_name(wheel, tags))
    if os.path.exists(output) and os.path.samefile(output, wheel.path):
        raise WheelError(f"{wheel.path}: the output for {target.label} would replace the input; choose another folder")
    base = prefix if prefix is not None else f"{wheel.name}-{wheel.version}"
    libs: dict[str, list[Member]] = {}
    for member in wheel.members:
        lib = _lib_of(wheel, member.name)
        if lib is not None:  # stray pycs and __pycache__ go too, by sourceless' rule (a ghost module is said)
            libs.setdefault(lib, []).append(member)

    def baked(relpath: str) -> str:
        rel = relpath.replace(os.sep, "/")
        return f"{base}/{rel}" if base else rel

    trees: list[tuple[str, str, Tree]] = []
    for number, (lib, members) in enumerate(sorted(libs.items())):
        root = os.path.join(staging, str(number))
        os.mkdir(root)
        for member in members:
            try:
                _stage(root, member, member.name[len(lib):])
            except OSError as exc:  # a member that is also a folder of another: the archive lies
                raise WheelError(f"{wheel.path}: member {member.name!r} cannot be unpacked "
                                 f"({exc.strerror or exc})") from None
        trees.append((lib, root, Tree(root, target=target, optimize=optimize, keep=keep, baked=baked,
                                      mode="memory")))
    return Pending(wheel, target, output, tags, trees)
