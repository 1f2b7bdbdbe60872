"""Pyc-only wheels: each input wheel (or project, built first) for each target, as bytecode.

:func:`convert_wheels` is the library's one entry: it reads each wheel once with
:func:`~bytecast.wheels.reader.read_wheel` (untrusted input, checked), writes one output per
target (:func:`~bytecast.wheels.convert.prepare`, then
:class:`~bytecast.wheels.convert.Pending`), and never changes an input. A wheel
that cannot be read, or is not for a target, is one :class:`~bytecast.problem.Problem`; the
other wheels and targets go on.
"""

from __future__ import annotations

import os

from bytecast._frozen import Frozen, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

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

    One run of the workers compiles the modules of every wheel and target: the pool starts
    once, and each wheel is read and staged only when the workers need more work (while the
    ones before it compile). A wheel's archive is written and verified by a thread as soon as
    its last module is in, while the others compile (deflate, inflate and sha256 release the GIL).
    """
    import shutil
    import tempfile
    from concurrent.futures import Future, ThreadPoolExecutor

    from bytecast.engine import usable_cpus
    from bytecast.sourceless import Tree, compile_trees
    from bytecast.wheels.convert import Pending, prepare, staging_parent
    from bytecast.wheels.reader import WheelError, read_wheel

    # per input, in target order: its problems, or a wheel to write (problems, then its writing)
    slots: list[list[Problem | tuple[Pending, list[Problem]]]] = [[] for _ in wheel_paths]
    writing: dict[int, Future[Converted]] = {}  # id of a Pending -> the thread writing it
    waiting: dict[int, tuple[Pending, list[Problem], set[int]]] = {}  # id of a tree -> its wheel, trees left
    staging = tempfile.mkdtemp(prefix="bytecast-wheel-", dir=staging_parent())
    pool = ThreadPoolExecutor(max(1, min(2, jobs or usable_cpus())))

    def finished(one: Pending, problems: list[Problem]) -> None:
        if one.finish(problems):
            writing[id(one)] = pool.submit(one.write)

    def done(tree: Tree) -> None:
        one, problems, left = waiting.pop(id(tree))
        left.discard(id(tree))
        if not left:
            finished(one, problems)

    def trees() -> Iterator[Tree]:
        for number, wheel_path in enumerate(wheel_paths):
            try:
                wheel = read_wheel(wheel_path)
            except WheelError as exc:
                slots[number].append(_problem(exc, wheel_path))
                continue
            for k, target in enumerate(targets):
                folder = os.path.join(staging, f"{number}-{k}")
                os.mkdir(folder)
                try:
                    one = prepare(wheel, target, output_dir, folder, optimize=optimize, prefix=prefix, keep=keep)
                except WheelError as exc:
                    slots[number].append(_problem(exc, wheel_path, target.label))
                    continue
                problems: list[Problem] = []
                slots[number].append((one, problems))
                mine = [tree for _, _, tree in one.trees]
                if not mine:
                    finished(one, problems)
                left = {id(tree) for tree in mine}
                for tree in mine:
                    waiting[id(tree)] = (one, problems, left)
                yield from mine

    try:
        compile_trees(trees(), jobs=jobs, targets=targets, done=done)
        if waiting:  # never expected: every tree lands
            raise AssertionError(f"{len(waiting)} library trees were never compiled")
        results: list[tuple[list[Converted], list[Problem]]] = []
        for slot in slots:
            converted: list[Converted] = []
            problems = []
            for item in slot:
                if not isinstance(item, tuple):
                    problems.append(item)
                    continue
                one, found = item
                problems.extend(found)
                future = writing.get(id(one))
                if future is None:
                    continue
                try:
                    converted.append(future.result())
                except WheelError as exc:
                    problems.append(_problem(exc, one.wheel.path, one.target.label))
                except OSError as exc:  # this output cannot be written: the others are
                    from bytecast.problem import Problem

                    problems.append(Problem(one.wheel.path, "OSError",
                                            f"{one.output} cannot be written: {exc.strerror or exc}",
                                            target=one.target.label))
            results.append((converted, problems))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(staging, ignore_errors=True)
    return results
