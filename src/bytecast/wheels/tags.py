"""The tags of a pyc-only wheel: installable on the one Python its bytecode is for, nowhere else.

Bytecode is tied to a minor version, so the output's interpreter tag is always ``cpXY``: a pure
input becomes ``cpXY-none-any``; a native one ``cpXY-cpXY-PLATFORM`` for each of its platforms
(abi3 inputs included: ``cp311-abi3`` installs on 3.12, whose importer then refuses the
bytecode); a platform wheel with no ABI (``py3-none-PLATFORM``) ``cpXY-none-PLATFORM``. Never
``py3``, ``pyXY`` or ``abi3``. Whether the input is for the target at all is packaging's answer:
its tags against the tags the target supports, and its ``Requires-Python``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.tags import Tag

    from bytecast.targets import Target
    from bytecast.wheels.reader import Wheel

__all__ = ["output_tags", "file_tags", "python_tag"]


def python_tag(target: Target) -> str:
    """``cp311`` for CPython 3.11."""
    return f"cp{target.version[0]}{target.version[1]}"


def _supported(target: Target, platforms: list[str]) -> set[Tag]:
    """Every tag the target interpreter accepts on ``platforms`` (packaging's own order of rules)."""
    from packaging.tags import compatible_tags, cpython_tags

    py = python_tag(target)
    version = target.version
    if version[0] < 3:
        from packaging.tags import Tag

        # packaging generates tags for Python 3 only; 2.7 takes cp27 / py2 / py27 with no ABI or cp27m.
        return {Tag(i, a, p) for i in (py, "py2", "py27") for a in ("none", "cp27m", "cp27mu") for p in platforms}
    found = set(cpython_tags(version, abis=[py], platforms=platforms))
    found.update(compatible_tags(version, py, platforms=platforms))
    return found


def output_tags(wheel: Wheel, target: Target) -> tuple[Tag, ...]:
    """The tags of ``wheel`` converted for ``target``, sorted; raises WheelError when ``wheel`` is
    not for ``target`` (by its tags or its ``Requires-Python``), naming both."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.tags import Tag

    from bytecast.wheels.reader import WheelError

    if target.implementation != "cpython":
        raise WheelError(f"{wheel.path}: {target.label} is not CPython; pyc-only wheels are tagged for CPython")
    platforms = sorted({t.platform for t in wheel.tags})
    fitting = wheel.tags & _supported(target, platforms)
    if not fitting:
        have = ".".join(sorted(str(t) for t in wheel.tags))
        raise WheelError(f"{wheel.path}: its tags ({have}) do not include Python "
                         f"{target.version[0]}.{target.version[1]}")
    if wheel.requires_python is not None:
        try:
            spec = SpecifierSet(wheel.requires_python)
        except InvalidSpecifier:
            raise WheelError(f"{wheel.path}: Requires-Python {wheel.requires_python!r} is not a version "
                             "specifier") from None
        from bytecast.targets import admits

        if not admits(spec, target):
            release = target.release or f"{target.version[0]}.{target.version[1]}"
            raise WheelError(f"{wheel.path}: Requires-Python {wheel.requires_python} excludes Python {release}")
    py = python_tag(target)
    native = {t for t in fitting if t.platform != "any"}
    if not native:
        return (Tag(py, "none", "any"),)
    abi = "none" if all(t.abi == "none" for t in native) else py
    return tuple(sorted((Tag(py, abi, p) for p in {t.platform for t in native}), key=str))


def file_tags(tags: tuple[Tag, ...]) -> str:
    """The compressed tag set of a wheel file name (``cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64``);
    ``tags`` share their interpreter and ABI (as :func:`output_tags` makes them)."""
    interpreters = sorted({t.interpreter for t in tags})
    abis = sorted({t.abi for t in tags})
    platforms = sorted({t.platform for t in tags})
    return "-".join(".".join(part) for part in (interpreters, abis, platforms))
