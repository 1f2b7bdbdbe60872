"""The bundle format's constants, shared by the builder and the reader."""

from __future__ import annotations

FORMAT = 1
"""The index format a bundle's bootstrap reads; a bundle says it in ``bundle.json`` too."""

INDEX_DIR = ".bytecast"
BOOT = "__bytecast_boot__"
"""The bootstrap's module name in a stage while it compiles (never a module of an app)."""

_MODULE, _PACKAGE, _NAMESPACE, _EXTENSION = 0, 1, 2, 3

Entry = tuple[str, str, str]
"""An entry point: (``console``, module, attribute) or (``module``, module, ``""``)."""
