"""Pyc-only wheels: each input wheel (or project, built first) for each target, as bytecode.

:func:`convert_wheels` is the library's one entry: it reads each wheel once with
:func:`~bytecast.wheels.reader.read_wheel` (untrusted input, checked), writes one output per
target with :func:`~bytecast.wheels.convert.convert_wheel`, and never changes an input. A wheel
that cannot be read, or is not for a target, is one :class:`~bytecast.problem.Problem`; the
other wheels and targets go on.
"""

from __future__ import annotations

import os

from bytecast._frozen import Frozen, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from bytecast.problem import Problem
    from bytecast.targets import Target
    from bytecast.wheels.convert import Converted

__all__ = ["WheelReport", "convert_wheels"]


class WheelReport(Frozen):
    """What :func:`convert_wheels` wrote and what it refused."""

    __slots__ = ("wheels", "problems", "built")

    wheels: tuple[Converted, ...]
    """Every wheel written, in input then target order."""
    problems: tuple[Problem, ...]
    """Inputs refused and files that could not be converted."""
    built: dict[str, str]
    """Project folder -> the file name of the wheel pypa/build made of it (built in a scratch folder)."""

    def __init__(self, wheels: tuple[Converted, ...], problems: tuple[Problem, ...], built: dict[str, str]) -> None:
        init(self, "wheels", wheels)
        init(self, "problems", problems)
        init(self, "built", built)

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(exc: Exception, path: str, target: str | None = None) -> Problem:
    from bytecast.problem import Problem

    message = str(exc)
    if message.startswith(path + ": "):
        message = message[len(path) + 2:]
    return Problem(path, type(exc).__name__, message, target=target)


def convert_wheels(inputs: Sequence[str], output_dir: str, *, targets: Sequence[Target], optimize: int = 0,
                   prefix: str | None = None, keep: Sequence[str] = (), jobs: int | None = None) -> WheelReport:
    """Convert each input (a ``.whl`` file, or a project folder built with pypa/build) for each
    target into ``output_dir``. Missing inputs and bad arguments raise UsageError before any work."""
    import shutil
    import tempfile

    from bytecast.errors import UsageError
    from bytecast.wheels.build import BuildError, build_wheel, is_project
    from bytecast.wheels.reader import WheelError

    if optimize not in (0, 1, 2):
        raise UsageError(f"optimization level {optimize} is not 0, 1 or 2", "optimize")
    if not targets:
        raise UsageError("no target to convert for", "targets")
    for path in inputs:
        if os.path.isdir(path):
            if not is_project(path):
                raise UsageError(f"{path}: a folder that is not a project (no pyproject.toml or setup.py)")
        elif not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
        elif not path.endswith(".whl"):
            raise UsageError(f"{path}: not a wheel (.whl) or a project folder")
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise UsageError(f"{output_dir}: exists and is not a folder", "output")
    os.makedirs(output_dir, exist_ok=True)
    problems: list[Problem] = []
    built: dict[str, str] = {}
    scratch: str | None = None
    wheels: list[str] = []
    origin: dict[str, str] = {}
    try:
        for path in inputs:
            if os.path.isdir(path):
                if scratch is None:
                    scratch = tempfile.mkdtemp(prefix="bytecast-build-")
                try:
                    wheel_path = build_wheel(path, os.path.join(scratch, str(len(built))))
                except BuildError as exc:
                    problems.append(_problem(exc, path))
                    continue
                built[path] = os.path.basename(wheel_path)
                origin[wheel_path] = os.path.join(path, built[path])  # the scratch copy goes at the end
                wheels.append(wheel_path)
            else:
                wheels.append(path)
        results = _convert_all(wheels, targets, output_dir, optimize, prefix, keep, jobs)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    written: list[Converted] = []
    names: dict[str, str] = {}
    for wheel_path, (done, failed) in zip(wheels, results):
        named = origin.get(wheel_path)
        if named is not None:  # name a built wheel by its project, not by a folder that is gone
            failed = [p.replace(path=named + p.path[len(wheel_path):]) if p.path.startswith(wheel_path) else p
                      for p in failed]
            done = [c.replace(source=named) for c in done]
        problems.extend(failed)
        for converted in done:
            earlier = names.get(converted.output)
            if earlier is not None:
                problems.append(_problem(WheelError(f"{converted.output} was also written for {earlier}; "
                                                    "the last one is kept"), wheel_path, converted.target))
            names[converted.output] = wheel_path
            written.append(converted)
    return WheelReport(tuple(written), tuple(problems), built)


def _convert_all(wheel_paths: Sequence[str], targets: Sequence[Target], output_dir: str, optimize: int,
                 prefix: str | None, keep: Sequence[str], jobs: int | None
                 ) -> list[tuple[list[Converted], list[Problem]]]:
    """The conversions of every wheel for every target, and the problems of each wheel.

    One run of the workers compiles the modules of every wheel and target (the pool starts
    once and is never idle between wheels); then the archives are written and verified by a
    few threads at once (deflate, inflate and sha256 release the GIL)."""
    import shutil
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from bytecast.engine import usable_cpus
    from bytecast.sourceless import compile_trees
    from bytecast.wheels.convert import Pending, prepare
    from bytecast.wheels.reader import WheelError, read_wheel

    results: list[tuple[list[Converted], list[Problem]]] = [([], []) for _ in wheel_paths]
    pending: list[tuple[int, Pending]] = []
    staging = tempfile.mkdtemp(prefix="bytecast-wheel-")
    try:
        for number, wheel_path in enumerate(wheel_paths):
            problems = results[number][1]
            try:
                wheel = read_wheel(wheel_path)
            except WheelError as exc:
                problems.append(_problem(exc, wheel_path))
                continue
            for target in targets:
                folder = os.path.join(staging, f"{number}-{len(pending)}")
                os.mkdir(folder)
                try:
                    pending.append((number, prepare(wheel, target, output_dir, folder, optimize=optimize,
                                                    prefix=prefix, keep=keep)))
                except WheelError as exc:
                    problems.append(_problem(exc, wheel_path, target.label))
        compile_trees([tree for _, one in pending for _, _, tree in one.trees], jobs=jobs)
        ready = [(number, one) for number, one in pending if one.finish(results[number][1])]
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    def write(one: Pending) -> Converted | WheelError:
        try:
            return one.write()
        except WheelError as exc:
            return exc

    threads = max(1, min(len(ready), jobs or usable_cpus()))
    with ThreadPoolExecutor(threads) as pool:
        written = list(pool.map(write, [one for _, one in ready]))
    for (number, one), done in zip(ready, written):
        if isinstance(done, WheelError):
            results[number][1].append(_problem(done, one.wheel.path, one.target.label))
        else:
            results[number][0].append(done)
    return results
