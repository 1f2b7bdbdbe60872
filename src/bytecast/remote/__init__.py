"""Code that runs inside *other* interpreters: each module here is a standalone script.

Every file in this folder is run as a script by an interpreter bytecast starts (a compile
worker of any target, the query that asks an interpreter what it is, the list of an
interpreter's standard-library modules, the bundle bootstrap of a later layout), never imported by bytecast itself. So each uses only the standard library,
in the oldest syntax its interpreters need (2.7 and 3.6+ for the worker and the query), and
drops its own folder from ``sys.path`` first (a file here must never shadow a stdlib module).

:func:`script_argv` is how bytecast names one on a command line. It also works when bytecast
itself runs from a zip archive, where no file of this folder exists on disk.
"""

from __future__ import annotations

import os

__all__ = ["SCRIPTS", "script_argv", "script_text"]

SCRIPTS = ("worker", "query", "stdlib_names", "site_paths", "bundle_boot", "bundle_record")
"""The scripts this folder holds."""

_HERE = os.path.dirname(os.path.abspath(__file__))


def script_argv(name: str) -> list[str]:
    """The end of a command line that runs script ``name``: its path when it is a file on
    disk (what ``ps`` shows), else ``["-c", its text]`` (bytecast runs from a zip archive)."""
    path = os.path.join(_HERE, name + ".py")
    if os.path.isfile(path):
        return [path]
    return ["-c", script_text(name)]


def script_text(name: str) -> str:
    """The source of script ``name``, read through the package's loader (a zip works too)."""
    if name not in SCRIPTS:
        raise KeyError(name)
    import pkgutil

    data = pkgutil.get_data(__name__, name + ".py")
    if data is None:  # pragma: no cover - a loader that cannot read data
        raise FileNotFoundError(f"bytecast.remote: cannot read {name}.py")
    return data.decode("utf-8")
