"""bytecast: compile, check, inspect and ship Python bytecode.

The public API, loaded on first use so that ``import bytecast`` stays cheap::

    import bytecast

    report = bytecast.compile_tree(["src"], bytecast.Options(optimize=(0, 1)))
    stale = bytecast.check_tree(["src"])
    header = bytecast.read_header("src/__pycache__/app.cpython-311.pyc")
    info = bytecast.inspect_pyc("old.pyc")          # any Python's pyc, never executed
    needs = bytecast.scan_imports(["build/"])       # what the bytecode imports, from whom
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "BytecastError",
    "Options",
    "Problem",
    "Report",
    "Target",
    "check_tree",
    "clean",
    "compile_tree",
    "find_interpreters",
    "inspect_pyc",
    "lookup_magic",
    "parse_header",
    "read_header",
    "resolve_targets",
    "scan_imports",
]

_WHERE = {
    "BytecastError": ("bytecast.errors", "BytecastError"),
    "Options": ("bytecast.options", "Options"),
    "Problem": ("bytecast.problem", "Problem"),
    "Report": ("bytecast.engine", "Report"),
    "Target": ("bytecast.targets", "Target"),
    "check_tree": ("bytecast.engine", "check_tree"),
    "clean": ("bytecast.clean", "clean"),
    "compile_tree": ("bytecast.engine", "compile_tree"),
    "find_interpreters": ("bytecast.discovery", "find_interpreters"),
    "inspect_pyc": ("bytecast.inspect", "inspect_pyc"),
    "lookup_magic": ("bytecast.magic", "lookup"),
    "parse_header": ("bytecast.header", "parse_header"),
    "read_header": ("bytecast.header", "read_header"),
    "resolve_targets": ("bytecast.targets", "resolve"),
    "scan_imports": ("bytecast.imports", "scan"),
}


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use (PEP 562)."""
    try:
        module_name, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'bytecast' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
