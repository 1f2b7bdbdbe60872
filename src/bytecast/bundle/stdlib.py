"""The standard-library modules a bundle serves from its index: found, compiled, guarded.

A pure loading optimization. At build time, the target itself says which of its
standard-library modules the application loads (:mod:`bytecast.remote.bundle_record`: the
bundle set up as a start sets it up, the entry module imported, then every standard-library
module the bundle's code names in an import statement); bytecast's engine compiles those
files, for that target, with their own path baked in, so each module's code is what the
interpreter would load from its own ``__pycache__``: the same bytes on 3.11 and 3.12, equal code
objects on 3.9 and 3.10 and for the few 3.13 modules its install had imported while compiling
them (marshal's back-references follow refcounts there: functools, weakref).

Measured (flake8 with ``--fast-start``, 3.11, callgrind): 102 modules, 346.6 M -> 335.4 M
instructions a start (the index then read in place: 332.4 M; ``__cached__`` recorded: 330.1 M),
for 3.1 MB more in the bundle per target. At run time the bootstrap serves them only
on that very interpreter (the guard: ``sys.version``, cache tag, ``sys.path``, ``os.py``'s size
and mtime, optimization level 0, ``sys.pycache_prefix``) and each only while its source has the
size and mtime recorded here.
"""

from __future__ import annotations

import os

from bytecast.problem import Problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from bytecast.targets import Target

__all__ = ["StdlibTable", "named_imports", "stdlib_table"]

StdlibTable = dict[str, tuple[bool, str, bytes, int, int, str]]
"""Module name -> (is a package, source path, code, source size, source mtime in ns,
``__cached__``)."""

_TIMEOUT = 120.0


def named_imports(pyc: bytes, version: tuple[int, int], function: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(module, fromlist)`` of every absolute import in the body of the entry function
    ``function`` of the entry module (``pyc``: its bytecode, bytecast's own), typing-only ones
    aside: the function runs for sure, so what it imports loads at every start, and importing
    those modules at build time loads what they import in turn. (The imports at module level of
    the bundle's other modules are no guide: pyflakes ships its tests, which import
    ``unittest`` and ``doctest``.)"""
    from bytecast.coderecord import CodeRecord
    from bytecast.import_finder import find_imports
    from bytecast.unmarshal import loads

    named: set[tuple[str, tuple[str, ...]]] = set()
    try:
        code = loads(pyc, version, start=16)
        for const in code.consts:
            if isinstance(const, CodeRecord) and const.name == function:
                for item in find_imports(const):
                    if not (item.level or item.typing_only or item.dynamic or not item.name):
                        named.add((item.name, tuple(n for n in item.fromlist if n != "*")))
    except (ValueError, RecursionError):
        pass  # bytes the reader refuses name nothing: those modules load the normal way
    return sorted(named)


def stdlib_table(index: dict[str, Any], code: bytes, target: Target, stage: str, scratch: str,
                 named: list[tuple[str, tuple[str, ...]]], jobs: int, problems: list[Problem]
                 ) -> dict[str, Any] | None:
    """The index's ``stdlib`` entry for ``target`` (``{"guard": ..., "modules": StdlibTable}``;
    ``index`` and ``code`` are the index made so far and the code after it),
    or None when the target could not say (a warning in ``problems`` then: the bundle still
    works, its standard library loads the normal way)."""
    import marshal
    import subprocess
    import tempfile

    from bytecast.remote import script_text

    work = tempfile.mkdtemp(prefix="record-", dir=scratch)
    cache = os.path.join(work, "cache")
    os.mkdir(cache)
    for dist in index["dists"]:  # the bundle's files, where a start finds them: the stage itself
        if dist[4] is not None:
            link = os.path.join(cache, dist[4][0])
            if not os.path.lexists(link):
                os.symlink(stage, link)
    out = os.path.join(work, "recorded")
    sent = dict(index, named=named, archive=os.path.join(work, "app.pyz"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BYTECAST"))}
    env["BYTECAST_CACHE"] = cache

    def warn(message: str) -> None:
        problems.append(Problem(stage, "warning", "the standard library is not served from the index: " + message,
                                target=target.cache_tag))

    try:
        done = subprocess.run([target.executable, "-I", "-S", "-c", script_text("bundle_record"), out],
                              input=marshal.dumps(sent, 4) + code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env, cwd=work, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        warn(f"importing the entry module did not end in {_TIMEOUT:.0f} s")
        return None
    except OSError as exc:
        warn(f"cannot run {target.executable}: {exc.strerror or exc}")
        return None
    try:
        with open(out, "rb") as stream:
            recorded = marshal.loads(stream.read())  # written by the recorder just now, for us
    except (OSError, EOFError, ValueError, TypeError):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        warn(f"the target said nothing ({done.returncode}{': ' + tail[0] if tail else ''})")
        return None
    for line in recorded["failed"]:
        problems.append(Problem(stage, "warning", line, target=target.cache_tag))
    if recorded["guard"] is None:
        warn("the target has no os.py to recognise it by")
        return None
    return {"guard": recorded["guard"], "modules": _compile(recorded["modules"], target, jobs, problems)}


def _compile(modules: list[tuple[str, bool, str, str]], target: Target, jobs: int, problems: list[Problem]
             ) -> StdlibTable:
    """Each module compiled by bytecast's engine for ``target`` from its own source, the path it
    is loaded from baked in (what importlib bakes into a module it loads)."""
    from bytecast.discover import Source
    from bytecast.engine import compile_jobs
    from bytecast.options import Options
    from bytecast.place.bundled import BundleLayout
    from bytecast.plan import Job

    facts: dict[str, tuple[str, bool, int, int, str]] = {}
    job_list: list[Job] = []
    for name, package, origin, cached in modules:
        try:
            st = os.stat(origin)
        except OSError:
            continue
        facts[origin] = (name, package, st.st_size, st.st_mtime_ns, cached)
        source = Source(origin, os.path.dirname(origin), st.st_mtime, st.st_size)
        job_list.append(Job(source, target, 0, origin, origin, "missing"))
    layout = BundleLayout()
    options = Options(targets=(target,), optimize=(0,), jobs=jobs, invalidation_mode="unchecked-hash")
    result = compile_jobs(job_list, [], options, layout=layout)
    failed = {p.path for p in result.problems} | set(result.failures)
    table: StdlibTable = {}
    for origin, (name, package, size, mtime, cached) in sorted(facts.items()):
        pyc = layout.code.get(origin)
        if pyc is None or origin in failed:
            continue  # left to the path finder
        table[name] = (package, origin, pyc[16:], size, mtime, cached)
    return table
