"""Bundles: an application and its dependencies as one file, for several Pythons at once.

A bundle is a zip archive behind a short ``/bin/sh`` preamble that starts a Python it holds
code for (``python app.pyz`` and ``unzip -l`` work too). Building one:

1. **stage**: pip (the real resolver) installs the inputs into a folder per target, with that
   target's interpreter (``pip --python``), so environment markers and wheels are that
   Python's;
2. **compile**: bytecast's engine compiles every module of a stage for its target, the
   worker giving the bytes back (:class:`~bytecast.place.bundled.BundleLayout`), with the
   bootstrap (:mod:`bytecast.remote.bundle_boot`) compiled beside them;
3. **index**: one marshalled index per target, ``.bytecast/<cache tag>``, holds the
   bootstrap, each module's code (after the marshalled table, read in place), the
   distributions' metadata, the files that need a real path (native extensions, data), the
   entry point, and with ``--fast-start`` the standard-library modules the application loads
   (:mod:`bytecast.bundle.stdlib`); those files are stored once by
   content (``.bytecast/files/<sha256>``), however many targets hold them;
4. **write**: members sorted, fixed timestamps (:class:`~bytecast.place.archive.ReproducibleZip`),
   the index stored uncompressed (it is read at every start), renamed into place.

The format is read by :mod:`bytecast.remote.bundle_boot` at run time and described for
people by ``.bytecast/bundle.json`` (what ``bytecast inspect app.pyz`` shows).
"""

from __future__ import annotations

import os

from bytecast.errors import UsageError
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from bytecast.place.archive import ReproducibleZip
    from bytecast.targets import Target

from bytecast.bundle._format import FORMAT, INDEX_DIR, Entry
from bytecast.bundle.index import make_index
from bytecast.bundle.read import describe, is_bundle
from bytecast.bundle.stage import (
    entry_point,
    headers,
    prebuild,
    read_dists,
    requirement_name,
    stage,
    stage_all,
)
from bytecast.bundle.start import main_source, preamble

__all__ = ["FORMAT", "Entry", "BundleReport", "build", "default_targets", "describe", "entry_point", "is_bundle",
           "preamble", "stage"]


class BundleReport:
    """What a build did: per target, the modules and distributions it holds."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.targets: list[dict[str, Any]] = []
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.size = 0
        self.sha256 = ""
        self.skipped: list[dict[str, str]] = []

    @property
    def ok(self) -> bool:
        return not self.problems


def default_targets() -> tuple[Target, ...]:
    """Every CPython found, 3.9 or later (older ones only when named)."""
    from bytecast.targets import SUPPORTED_FROM, find_interpreters

    found = find_interpreters().targets
    chosen: dict[str, Target] = {}
    for target in sorted(found, key=lambda t: (t.version, not t.is_current)):
        if target.implementation == "cpython" and target.version >= SUPPORTED_FROM:
            chosen.setdefault(target.cache_tag, target)
    return tuple(chosen.values())


def _allows(requires: str, target: Target) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from bytecast.targets import admits

    try:
        spec = SpecifierSet(requires)
    except InvalidSpecifier:
        return True
    return admits(spec, target)


def build(
    inputs: Sequence[str],
    output: str,
    targets: Sequence[Target],
    *,
    script: str | None = None,
    function: str | None = None,
    module: str | None = None,
    fast: bool = False,
    name: str | None = None,
    jobs: int = 0,
    log: Callable[[str], None] | None = None,
    strict: bool = True,
) -> BundleReport:
    """Build the bundle ``output`` of ``inputs`` for every target: complete or absent.

    Targets are staged newest first. The application's ``Requires-Python`` (read from the
    first stage) rules out the targets it excludes; with ``strict`` (targets the user named)
    that, or a target pip cannot install for, is a problem; without, the target is skipped
    and said so (``report.skipped``)."""
    import shutil
    import tempfile

    if not inputs:
        raise UsageError("say what to bundle: a project folder, a wheel or a requirement", "inputs")
    if not targets:
        raise UsageError("no target to bundle for", "targets")
    app = name or requirement_name(inputs[0])
    from bytecast.import_classify import normalize
    from bytecast.place.archive import ReproducibleZip

    report = BundleReport(output)
    archive = ReproducibleZip()
    files: dict[str, tuple[bytes, bool]] = {}
    described: list[dict[str, Any]] = []
    requires = ""
    scratch = tempfile.mkdtemp(prefix="bytecast-bundle-")
    try:
        wanted = {normalize(requirement_name(i)) for i in inputs}
        labels = list(inputs)
        if any(os.path.isdir(i) for i in inputs):
            if log:
                log("building " + " ".join(i for i in inputs if os.path.isdir(i)))
            inputs = prebuild(inputs, scratch)
        held: list[Target] = []
        ordered = sorted(targets, key=lambda t: t.version, reverse=True)
        if log:
            log(f"installing {' '.join(labels)} for {', '.join(t.label for t in ordered)}")
        staged = stage_all(inputs, ordered, scratch, labels)
        for target in ordered:
            failure = staged[target.cache_tag]
            own = ""  # each target's own install says what it requires (pip may pick older releases)
            if failure is None:
                for dist in read_dists(os.path.join(scratch, target.cache_tag)):
                    if normalize(dist.name) in wanted and not own:
                        own = headers(dist.metadata.get("METADATA", b"")).get("requires-python", "")
            if own and not _allows(own, target):
                why = f"the application requires Python {own}"
                if strict:
                    report.problems.append(Problem(output, "TargetError", why, target=target.cache_tag))
                else:
                    report.skipped.append({"target": target.cache_tag, "reason": why})
                continue
            if failure is not None:
                if strict or all(staged[t.cache_tag] is not None for t in ordered):
                    report.problems.append(Problem(output, "InstallError", failure, target=target.cache_tag))
                else:
                    report.skipped.append({"target": target.cache_tag, "reason": failure})
                continue
            requires = own  # the oldest target held says it last: the broadest range
            folder = os.path.join(scratch, target.cache_tag)
            dists = read_dists(folder)
            entry = entry_point(dists, script=script, function=function, module=module,
                                wanted=sorted(wanted))
            if log:
                log(f"compiling for {target.label}")
            index, about = make_index(folder, target, dists, entry, fast, app, files, report, jobs)
            archive.add(f"{INDEX_DIR}/{target.cache_tag}", index)
            described.insert(0, about)
            held.append(target)
        if not held and not report.problems:
            report.problems.append(Problem(output, "TargetError", "no target left to bundle for"))
        if report.problems:
            return report
        targets = held
        versions = [t.version for t in targets]
        for member, (data, executable) in files.items():
            archive.add(member, data, executable)
        archive.add("__main__.py", main_source(app, versions, requires))
        archive.add(f"{INDEX_DIR}/bundle.json", _describe(app, described, requires, fast))
        data = _render(archive, app, versions, requires, [t.cache_tag for t in targets])
        from bytecast.place.atomic import write_atomic

        write_atomic(output, data, 0o755)
        report.targets = described
        report.size = len(data)
        import hashlib

        report.sha256 = hashlib.sha256(data).hexdigest()
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _render(archive: ReproducibleZip, app: str, versions: Sequence[tuple[int, int]], requires: str,
            tags: Sequence[str]) -> bytes:
    """The bundle's bytes: the preamble, with where each index lies, then the archive. The
    preamble's length does not depend on the numbers in it, so one trial run places them."""
    names = {tag: f"{INDEX_DIR}/{tag}" for tag in tags}
    sizes = {tag: len(archive.members[member][0]) for tag, member in names.items()}
    archive.prefix = preamble(app, versions, requires, {tag: (0, sizes[tag]) for tag in tags})
    stored = set(names.values()) | {m for m in archive.members if _native(m, archive)}
    _, offsets = archive.render(stored=stored)
    where = {tag: (offsets[member], sizes[tag]) for tag, member in names.items()}
    archive.prefix = preamble(app, versions, requires, where)
    data, check = archive.render(stored=stored)
    if check != offsets:
        raise AssertionError("the bundle's index moved when its preamble was filled in")
    return data


def _native(member: str, archive: ReproducibleZip) -> bool:
    """A stored file that is a native library (ELF or Mach-O): kept uncompressed, so a first
    run writes it out without inflating it (2.7 MB of PyYAML's: 13 ms of a 120 ms start)."""
    if not member.startswith(f"{INDEX_DIR}/files/"):
        return False
    head = archive.members[member][0][:4]
    return head == b"\x7fELF" or head in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def _describe(app: str, described: list[dict[str, Any]], requires: str, fast: bool) -> bytes:
    import json

    document = {"format": FORMAT, "name": app, "requires_python": requires, "fast_start": fast,
                "targets": described}
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")
