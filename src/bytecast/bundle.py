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
   bootstrap, each module's code, the distributions' metadata, the files that need a real
   path (native extensions, data) and the entry point; those files are stored once by
   content (``.bytecast/files/<sha256>``), however many targets hold them;
4. **write**: members sorted, fixed timestamps (:class:`~bytecast.place.archive.ReproducibleZip`),
   the index stored uncompressed (it is read at every start), renamed into place.

The format is read by :mod:`bytecast.remote.bundle_boot` at run time and described for
people by ``.bytecast/bundle.json`` (what ``bytecast inspect app.pyz`` shows).
"""

from __future__ import annotations

import os
import sys

from bytecast.errors import DataError, UsageError
from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from bytecast.place.archive import ReproducibleZip
    from bytecast.targets import Target

__all__ = ["FORMAT", "Entry", "BundleReport", "build", "entry_point", "stage", "preamble"]

FORMAT = 1
"""The index format a bundle's bootstrap reads; a bundle says it in ``bundle.json`` too."""

INDEX_DIR = ".bytecast"
BOOT = "__bytecast_boot__"
"""The bootstrap's module name in a stage while it compiles (never a module of an app)."""

_MODULE, _PACKAGE, _NAMESPACE, _EXTENSION = 0, 1, 2, 3

Entry = tuple[str, str, str]
"""An entry point: (``console``, module, attribute) or (``module``, module, ``""``)."""


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


# --- staging --------------------------------------------------------------------------


def stage(inputs: Sequence[str], target: Target, folder: str, *, quiet: bool = True,
          runner: Callable[..., Any] | None = None) -> None:
    """Install ``inputs`` (requirement specifiers, wheel files, project folders) and their
    dependencies into ``folder`` for ``target``, with pip's resolver run by that target's
    interpreter: bytecast's own pip (``pip --python``), or the target's pip for a Python
    bytecast's pip no longer supports (pip 26 dropped 3.9). A failure is a DataError with
    pip's last lines."""
    import subprocess

    options = ["install", "--target", folder, "--no-compile", "--no-input", "--disable-pip-version-check",
               "--no-warn-script-location", "--quiet"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        options.append("--root-user-action=ignore")
    options.extend(_pip_input(i) for i in inputs)
    run = runner or subprocess.run
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PIP_NO_COMPILE"] = "1"
    done = run([sys.executable, "-m", "pip", "--python", target.executable, *options],
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if done.returncode != 0 and b"does not support python" in done.stderr:
        done = run([target.executable, "-m", "pip", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=env)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines()
                 if ln.strip() and not ln.startswith("WARNING: Location ")]
        tail = " / ".join(ln.strip() for ln in lines[-3:]) or f"pip exited {done.returncode}"
        raise DataError(f"pip could not install {' '.join(inputs)} for {target.label}: {tail}")


def prebuild(inputs: Sequence[str], folder: str, runner: Callable[..., Any] | None = None) -> list[str]:
    """Project folders built into wheels once (pip, PEP 517, isolated), so every target
    installs the same build: a pure wheel replaces its folder; a folder whose wheel is
    native stays, each target building its own."""
    import subprocess

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    run = runner or subprocess.run
    result = []
    for spec in inputs:
        if not os.path.isdir(spec):
            result.append(spec)
            continue
        out = os.path.join(folder, f"wheel-{len(result)}")
        done = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "--quiet",
                    "--disable-pip-version-check", "-w", out, os.path.abspath(spec)],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wheels = sorted(os.listdir(out)) if done.returncode == 0 and os.path.isdir(out) else []
        if len(wheels) != 1:
            result.append(spec)  # each target's pip builds it, and says what went wrong
            continue
        try:
            tags = parse_wheel_filename(wheels[0])[3]
        except InvalidWheelFilename:
            result.append(spec)
            continue
        pure = all(tag.abi == "none" and tag.platform == "any" for tag in tags)
        result.append(os.path.join(out, wheels[0]) if pure else spec)
    return result


def _pip_input(spec: str) -> str:
    """A project folder or a wheel is given to pip as a path; anything else is a requirement."""
    if os.path.isdir(spec) or spec.endswith(".whl"):
        return os.path.abspath(spec)
    return spec


# --- reading a stage ------------------------------------------------------------------


class _Dist:
    """A distribution found in a stage: its metadata and the files its RECORD names."""

    def __init__(self, info: str, name: str, version: str, metadata: dict[str, bytes], owned: set[str]) -> None:
        self.info = info
        self.name = name
        self.version = version
        self.metadata = metadata
        self.owned = owned


_INSTALL_ONLY = ("direct_url.json", "REQUESTED")
"""dist-info files about one install (where pip took it from), not about the distribution:
left out of a bundle, which stays the same wherever it was built from."""


def read_dists(folder: str) -> list[_Dist]:
    """Every ``*.dist-info`` folder at the top of a stage, sorted by name. Their RECORD keeps
    the rows of files the bundle holds (not pip's ``bin/`` wrappers, nor install-only files)."""
    import csv
    import io

    dists = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dist-info"):
            continue
        info = os.path.join(folder, name)
        metadata: dict[str, bytes] = {}
        for fname in sorted(os.listdir(info)):
            path = os.path.join(info, fname)
            if os.path.isfile(path) and fname not in _INSTALL_ONLY:
                with open(path, "rb") as f:
                    metadata[fname] = f.read()
        fields = _headers(metadata.get("METADATA", b""))
        owned: set[str] = set()
        kept = io.StringIO()
        writer = csv.writer(kept, lineterminator="\n")
        for row in csv.reader(io.StringIO(metadata.get("RECORD", b"").decode("utf-8", "replace"))):
            if not row or row[0].startswith(("../", "/")) or row[0].rsplit("/", 1)[-1] in _INSTALL_ONLY:
                continue
            owned.add(os.path.normpath(row[0]))
            writer.writerow(row)
        if "RECORD" in metadata:
            metadata["RECORD"] = kept.getvalue().encode("utf-8")
        dists.append(_Dist(name, fields.get("name", name.split("-")[0]), fields.get("version", ""),
                           metadata, owned))
    return dists


def _headers(metadata: bytes) -> dict[str, str]:
    """The first value of each header of a METADATA file (lower-case names)."""
    fields: dict[str, str] = {}
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and not key.startswith((" ", "\t")):
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def console_scripts(dists: Sequence[_Dist]) -> dict[str, tuple[str, str]]:
    """Console-script name -> (module, attribute), from every distribution's entry points."""
    import configparser

    scripts: dict[str, tuple[str, str]] = {}
    for dist in dists:
        text = dist.metadata.get("entry_points.txt")
        if not text:
            continue
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text.decode("utf-8", "replace"))
        except configparser.Error:
            continue
        if parser.has_section("console_scripts"):
            for name, value in parser.items("console_scripts"):
                module, _, attribute = value.partition(":")
                scripts[name] = (module.strip(), attribute.split("[")[0].strip())
    return scripts


def entry_point(dists: Sequence[_Dist], *, script: str | None, function: str | None,
                module: str | None, wanted: Sequence[str] = ()) -> Entry:
    """The entry point asked for; with none asked, the only console script of the named
    inputs (or of the whole stage). A choice that cannot be made is a UsageError."""
    if module:
        return ("module", module, "")
    if function:
        mod, sep, attribute = function.partition(":")
        if not sep or not mod or not attribute:
            raise UsageError(f"entry point {function!r} must be MODULE:FUNCTION", "entry")
        return ("console", mod, attribute)
    scripts = console_scripts(dists)
    if script:
        if script not in scripts:
            known = ", ".join(sorted(scripts)) or "none"
            raise UsageError(f"no console script named {script!r} (the distributions have: {known})", "entry")
        return ("console", *scripts[script])
    names = {_normalize(w) for w in wanted}
    own = console_scripts([d for d in dists if _normalize(d.name) in names]) if names else {}
    choice = own or scripts
    if len(choice) == 1:
        return ("console", *next(iter(choice.values())))
    known = ", ".join(sorted(choice)) or "none"
    raise UsageError(f"say which entry point to run: -c SCRIPT, -e MODULE:FUNCTION or -m MODULE "
                     f"(console scripts: {known})", "entry")


def default_targets() -> tuple[Target, ...]:
    """Every CPython found, 3.9 or later (older ones only when named)."""
    from bytecast.targets import find_interpreters

    found = find_interpreters().targets
    chosen: dict[str, Target] = {}
    for target in sorted(found, key=lambda t: (t.version, not t.is_current)):
        if target.implementation == "cpython" and target.version >= (3, 9):
            chosen.setdefault(target.cache_tag, target)
    return tuple(chosen.values())


def _allows(requires: str, target: Target) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(requires)
    except InvalidSpecifier:
        return True
    release = target.release or f"{target.version[0]}.{target.version[1]}"
    return spec.contains(release, prereleases=True)


def _normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    import re

    if os.path.isdir(spec):
        try:
            if sys.version_info >= (3, 11):
                import tomllib
            else:
                import tomli as tomllib
            with open(os.path.join(spec, "pyproject.toml"), "rb") as f:
                return str(tomllib.load(f)["project"]["name"])
        except (ImportError, OSError, KeyError, TypeError, ValueError):
            return os.path.basename(os.path.abspath(spec))
    if spec.endswith(".whl"):
        return os.path.basename(spec).split("-")[0]
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return match.group(0) if match else spec


# --- the sh preamble and the archive's __main__ -----------------------------------------


_SLOT = 12
"""Digits of each offset and size the preamble holds (fixed: the preamble's length must not
depend on the numbers, which depend on it)."""


def preamble(name: str, versions: Sequence[tuple[int, int]], requires: str,
             where: dict[str, tuple[int, int]] | None = None) -> bytes:
    """The ``/bin/sh`` lines before the archive.

    They pick a Python: ``BYTECAST_PYTHON`` if set, else ``python3``, else the newest
    ``python3.X`` on ``PATH`` the bundle holds code for; without any, one line says what is
    needed (exit 2). They start it with ``-I -S`` (nothing of the host's environment,
    site-packages or ``.pth`` files) and a short ``-c`` program that reads this Python's
    index with one seek and one read (``where``: cache tag -> offset and size of the index in
    this file), so a start goes through neither runpy nor zipimport."""
    newest = sorted(set(versions), reverse=True)
    names = " ".join(f"python{v[0]}.{v[1]}" for v in newest)
    held = ", ".join(f"{v[0]}.{v[1]}" for v in sorted(set(versions)))
    needs = f"; Requires-Python {requires}" if requires else ""
    app = _sh_quote(name)
    slots = ",".join(f'"{tag}":({offset:{_SLOT}d},{size:{_SLOT}d})'
                     for tag, (offset, size) in sorted((where or {}).items()))
    program = (
        "import sys\n"
        f"I={{{slots}}}\n"
        "def _b():\n"
        " t=I.get(sys.implementation.cache_tag)\n"
        " if t is None:\n"
        "  import os\n"
        + _handover(" ", newest, app, held, needs, picked=True).replace("'", '"') +
        " f=open(sys.argv[1],\"rb\")\n"
        " f.seek(t[0])\n"
        " d=f.read(t[1])\n"
        " f.close()\n"
        " from marshal import loads\n"
        " x=loads(d)\n"
        " g={\"__name__\":\"bytecast_bundle_boot\",\"__builtins__\":__builtins__}\n"
        " exec(loads(x[\"boot\"]),g)\n"
        " return g[\"main\"](x,sys.argv.pop(1))\n"
        "sys.exit(_b())\n"
    )
    text = (
        "#!/bin/sh\n"
        f"# {app}: a bytecast bundle with code for Python {held}\n"
        'p="$BYTECAST_PYTHON"\n'
        f'[ -n "$p" ] || for p in python3 {names} ""; do command -v "$p" >/dev/null 2>&1 && break; done\n'
        f'[ -n "$p" ] || {{ echo "{app}: no Python on PATH that this bundle holds code for (Python {held}{needs})" >&2; exit 2; }}\n'
        f"exec \"$p\" -I -S -c '{program}' \"$0\" \"$@\"\n"
    )
    return text.encode("utf-8")


def _handover(indent: str, newest: Sequence[tuple[int, int]], app: str, held: str, needs: str,
              picked: bool) -> str:
    """Lines of Python for a Python the bundle holds no code for. When the preamble picked it
    (``picked``, and ``BYTECAST_PYTHON`` did not name it), the preamble runs again with the
    newest held ``python3.X`` on ``PATH``; else one line says what the bundle holds, exit 2.
    Expects ``os`` and ``sys`` imported, the bundle's path in ``sys.argv[1]``."""
    names = ", ".join(repr(f"python{v[0]}.{v[1]}") for v in newest)
    i = indent * 2
    lines = ""
    if picked:
        lines = (
            f"{i}if not os.environ.get('BYTECAST_PYTHON'):\n"
            f"{i} me = os.path.realpath(sys.executable)\n"
            f"{i} for name in ({names},):\n"
            f"{i}  for folder in os.environ.get('PATH', '').split(os.pathsep):\n"
            f"{i}   path = os.path.join(folder or '.', name)\n"
            f"{i}   if os.access(path, os.X_OK) and os.path.realpath(path) != me:\n"
            f"{i}    os.environ['BYTECAST_PYTHON'] = path\n"
            f"{i}    os.execv('/bin/sh', ['/bin/sh'] + sys.argv[1:])\n"
        )
    return lines + (
        f"{i}where = '%s %d.%d' % (sys.implementation.name, sys.version_info[0], sys.version_info[1])\n"
        f"{i}sys.stderr.write('{app}: this bundle holds code for Python {held}{needs}, not for %s (%s)\\n' % (where, sys.executable))\n"
        f"{i}return 2\n"
    )


def _sh_quote(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "._-+ ")


def main_source(name: str, versions: Sequence[tuple[int, int]], requires: str) -> bytes:
    """The archive's ``__main__.py``, for ``python app.pyz``: read this Python's index through
    zipimport, run its bootstrap. (Started through the preamble, a bundle never runs it.)"""
    newest = sorted(set(versions), reverse=True)
    held = ", ".join(f"{v[0]}.{v[1]}" for v in sorted(set(versions)))
    needs = f"; Requires-Python {requires}" if requires else ""
    app = _sh_quote(name)
    return (
        f"# {app}: a bytecast bundle (format {FORMAT}); see .bytecast/bundle.json\n"
        "import sys\n\n\n"
        "def _bytecast():\n"
        "    import os\n"
        "    from marshal import loads\n"
        "    try:\n"
        f"        data = __loader__.get_data('{INDEX_DIR}/%s' % sys.implementation.cache_tag)\n"
        "    except (OSError, TypeError, AttributeError):\n"
        + _handover("    ", newest, app, held, needs, picked=False) +
        "    index = loads(data)\n"
        "    space = {'__name__': 'bytecast_bundle_boot', '__builtins__': __builtins__}\n"
        "    exec(loads(index['boot']), space)\n"
        "    return space['main'](index, __loader__.archive)\n\n\n"
        "sys.exit(_bytecast())\n"
    ).encode("utf-8")


# --- building ---------------------------------------------------------------------------


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
    app = name or _requirement_name(inputs[0])
    from bytecast.place.archive import ReproducibleZip

    report = BundleReport(output)
    archive = ReproducibleZip()
    files: dict[str, tuple[bytes, bool]] = {}
    described: list[dict[str, Any]] = []
    requires = ""
    scratch = tempfile.mkdtemp(prefix="bytecast-bundle-")
    try:
        wanted = {_normalize(_requirement_name(i)) for i in inputs}
        labels = list(inputs)
        if any(os.path.isdir(i) for i in inputs):
            if log:
                log("building " + " ".join(i for i in inputs if os.path.isdir(i)))
            inputs = prebuild(inputs, scratch)
        held: list[Target] = []
        ordered = sorted(targets, key=lambda t: t.version, reverse=True)
        if log:
            log(f"installing {' '.join(labels)} for {', '.join(t.label for t in ordered)}")
        staged = _stage_all(inputs, ordered, scratch)
        for target in ordered:
            failure = staged[target.cache_tag]
            if failure is None:
                dists = read_dists(os.path.join(scratch, target.cache_tag))
                for dist in dists:
                    if _normalize(dist.name) in wanted and not requires:
                        requires = _headers(dist.metadata.get("METADATA", b"")).get("requires-python", "")
        for target in ordered:
            failure = staged[target.cache_tag]
            if requires and not _allows(requires, target):
                why = f"the application requires Python {requires}"
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
            folder = os.path.join(scratch, target.cache_tag)
            dists = read_dists(folder)
            entry = entry_point(dists, script=script, function=function, module=module,
                                wanted=sorted(wanted))
            if log:
                log(f"compiling for {target.label}")
            index, about = _index(folder, target, dists, entry, fast, app, files, report, jobs)
            import marshal

            archive.add(f"{INDEX_DIR}/{target.cache_tag}", marshal.dumps(index, 4))
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
    _, offsets = archive.render(stored=set(names.values()))
    where = {tag: (offsets[member], sizes[tag]) for tag, member in names.items()}
    archive.prefix = preamble(app, versions, requires, where)
    data, check = archive.render(stored=set(names.values()))
    if check != offsets:
        raise AssertionError("the bundle's index moved when its preamble was filled in")
    return data


def _stage_all(inputs: Sequence[str], targets: Sequence[Target], scratch: str) -> dict[str, str | None]:
    """Stage every target at once (pip spends most of its time waiting on the index): cache
    tag -> None when staged, else why not."""
    from concurrent.futures import ThreadPoolExecutor

    def one(target: Target) -> str | None:
        try:
            stage(inputs, target, os.path.join(scratch, target.cache_tag))
        except DataError as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        results = list(pool.map(one, targets))
    return {t.cache_tag: r for t, r in zip(targets, results)}


def _describe(app: str, described: list[dict[str, Any]], requires: str, fast: bool) -> bytes:
    import json

    document = {"format": FORMAT, "name": app, "requires_python": requires, "fast_start": fast,
                "targets": described}
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _index(folder: str, target: Target, dists: list[_Dist], entry: Entry, fast: bool, app: str,
           files: dict[str, tuple[bytes, bool]], report: BundleReport, jobs: int
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compile a stage and make its index (and its entry in ``bundle.json``)."""
    import hashlib
    import shutil

    from bytecast.engine import compile_tree
    from bytecast.import_classify import _stdlib_names
    from bytecast.options import Options
    from bytecast.place.bundled import BundleLayout
    from bytecast.remote import script_text

    boot = os.path.join(folder, BOOT + ".py")
    with open(boot, "w", encoding="utf-8") as out:
        out.write(script_text("bundle_boot"))
    scripts = os.path.join(folder, "bin")
    if os.path.isdir(scripts):
        shutil.rmtree(scripts)  # pip's console-script wrappers: the bundle is the command
    layout = BundleLayout()
    options = Options(targets=(target,), optimize=(0,), ddir=f"<{app}>", jobs=jobs)
    result = compile_tree([folder], options, layout=layout)
    for problem in list(result.problems) + list(result.failures.values()):
        report.problems.append(problem)
    boot_code = layout.code.pop(BOOT + ".py", None)
    if boot_code is None:
        raise DataError(f"the bundle bootstrap did not compile for {target.label}")

    owner: dict[str, int] = {}
    for number, found in enumerate(dists, start=1):
        for path in found.owned:
            owner.setdefault(path, number)
    stdlib = _stdlib_names(f"{target.version[0]}.{target.version[1]}")
    suffixes = _extension_suffixes(target)
    modules: dict[str, tuple[int, str, bytes | None, int]] = {}
    shadowed: set[str] = set()
    payload_files: dict[int, list[tuple[str, str, int, str, int]]] = {}

    def owned_by(relpath: str) -> int:
        return owner.get(os.path.normpath(relpath), 0)

    def add(fullname: str, value: tuple[int, str, bytes | None, int]) -> None:
        top = fullname.split(".")[0]
        if top in stdlib:
            shadowed.add(top)
            return
        modules.setdefault(fullname, value)

    for relpath, pyc in sorted(layout.code.items()):
        name = _module_name(relpath)
        if name is None:
            continue
        fullname, is_package = name
        add(fullname, (_PACKAGE if is_package else _MODULE, relpath, pyc[16:], owned_by(relpath)))
    for relpath, path, executable in sorted(layout.files):
        with open(path, "rb") as stream:
            data = stream.read()
        first = relpath.split("/")[0]
        if first.endswith(".dist-info") or relpath.endswith(".pth") and "/" not in relpath:
            if relpath.endswith(".pth") and not relpath.startswith("distutils-precedence"):
                report.warnings.append(Problem(relpath, "warning",
                                               "a .pth file is not run in a bundle", target=target.cache_tag))
            continue
        digest = hashlib.sha256(data).hexdigest()
        member = f"{INDEX_DIR}/files/{digest}"
        files.setdefault(member, (data, False))
        owning = owned_by(relpath)
        mode = 0o755 if executable else 0o644
        payload_files.setdefault(owning, []).append((relpath, member, len(data), digest, mode))
        for suffix in suffixes:
            if relpath.endswith(suffix):
                fullname = relpath[: -len(suffix)].replace("/", ".")
                if all(part.isidentifier() for part in fullname.split(".")):
                    add(fullname, (_EXTENSION, relpath, None, owning))
                break
    for fullname in _namespaces(modules):
        modules[fullname] = (_NAMESPACE, fullname.replace(".", "/"), None, modules_dist(modules, fullname))

    def payload(number: int) -> tuple[str, list[tuple[str, str, int, str, int]]] | None:
        entries = sorted(payload_files.get(number, ()))
        if not entries:
            return None
        key = hashlib.sha256(repr([(e[0], e[3], e[4]) for e in entries]).encode("utf-8")).hexdigest()
        return (key[:32], entries)

    records: list[tuple[str, str, str, dict[str, bytes], Any]] = [("", "", "", {}, payload(0))]
    for number, found in enumerate(dists, start=1):
        records.append((found.name, found.version, found.info, found.metadata, payload(number)))
    if shadowed:
        report.warnings.append(Problem(folder, "warning", "left out, the standard library's own is used: "
                                       + ", ".join(sorted(shadowed)), target=target.cache_tag))
    if entry[0] == "console" and entry[1] not in modules and entry[1].split(".")[0] not in stdlib:
        raise DataError(f"the entry point module {entry[1]} is not in what was installed for {target.label}")
    index = {"format": FORMAT, "name": app, "boot": boot_code[16:], "entry": entry, "fast": fast,
             "modules": modules, "dists": records}
    about = {
        "target": target.cache_tag,
        "python": f"{target.version[0]}.{target.version[1]}",
        "entry": {"kind": entry[0], "module": entry[1], "attribute": entry[2]},
        "modules": len(modules),
        "code_bytes": sum(len(m[2] or b"") for m in modules.values()),
        "distributions": [{"name": d.name, "version": d.version} for d in dists],
        "native": sorted(m[1] for m in modules.values() if m[0] == _EXTENSION),
        "files": sum(len(v) for v in payload_files.values()),
    }
    return index, about


def modules_dist(modules: dict[str, tuple[int, str, bytes | None, int]], package: str) -> int:
    """The distribution of the first module below a namespace package (0 for none)."""
    prefix = package + "."
    for fullname in sorted(modules):
        if fullname.startswith(prefix):
            return modules[fullname][3]
    return 0


def _namespaces(modules: dict[str, tuple[int, str, bytes | None, int]]) -> list[str]:
    """Parent packages without an ``__init__`` (PEP 420 namespace packages)."""
    missing = set()
    for fullname in modules:
        parts = fullname.split(".")
        for end in range(1, len(parts)):
            parent = ".".join(parts[:end])
            if parent not in modules:
                missing.add(parent)
    return sorted(missing)


def _module_name(relpath: str) -> tuple[str, bool] | None:
    """(module name, is a package) of a source's relative path, or None when no import
    statement can reach it (a folder or file name that is not an identifier)."""
    parts = relpath.split("/")
    stem = parts[-1][:-3]
    if stem == "__init__":
        names, package = parts[:-1], True
    else:
        names, package = parts[:-1] + [stem], False
    if not names or not all(n.isidentifier() for n in names):
        return None
    return ".".join(names), package


def _extension_suffixes(target: Target) -> tuple[str, ...]:
    """The file endings of native extension modules ``target`` loads, longest first."""
    import subprocess

    done = subprocess.run([target.executable, "-I", "-S", "-c",
                           "import importlib.machinery as m; print('\\n'.join(m.EXTENSION_SUFFIXES))"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    suffixes = done.stdout.decode().split() if done.returncode == 0 else [".so"]
    return tuple(sorted(suffixes, key=len, reverse=True))


# --- reading a bundle back ----------------------------------------------------------------


def is_bundle(path: str) -> bool:
    """Whether ``path`` is a file bytecast bundled (a zip holding ``.bytecast/bundle.json``)."""
    import zipfile

    if not os.path.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            zf.getinfo(f"{INDEX_DIR}/bundle.json")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
    return True


def describe(path: str) -> dict[str, Any]:
    """What a bundle holds, from its ``bundle.json`` and its archive's listing (nothing in it
    is run or unmarshalled): versions, entry point, distributions, sizes, native files."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(f"{INDEX_DIR}/bundle.json")
            if info.file_size > 16 * 1024 * 1024:
                raise DataError(f"{path}: bundle.json of {info.file_size} bytes is past any real bundle's")
            document = json.loads(zf.read(info).decode("utf-8"))
            sizes = {i.filename: i.file_size for i in zf.infolist()}
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable bundle ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise DataError(f"{path}: bundle.json is not a bundle's description")
    for target in document["targets"]:
        if isinstance(target, dict):
            target["index_bytes"] = sizes.get(f"{INDEX_DIR}/{target.get('target')}", 0)
    document["size"] = os.path.getsize(path)
    document["stored_files"] = sum(1 for name in sizes if name.startswith(f"{INDEX_DIR}/files/"))
    return document
