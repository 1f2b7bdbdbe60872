"""Targets: the interpreters bytecast compiles for.

The running interpreter is always available as :func:`current`; it compiles in-process
(forked workers). Other interpreters are driven through worker subprocesses.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from bytecast._record import dataclass

__all__ = ["Target", "current"]


@dataclass(frozen=True)
class Target:
    """One interpreter to compile for."""

    version: tuple[int, int]
    """Major and minor version, e.g. ``(3, 11)``."""
    cache_tag: str
    """``sys.implementation.cache_tag``, e.g. ``cpython-311``; names the files in ``__pycache__``."""
    magic: bytes
    """The 4-byte magic number that opens every .pyc it writes."""
    executable: str
    """Path of the interpreter binary."""
    implementation: str = "cpython"
    """``sys.implementation.name``."""
    is_current: bool = False
    """True for the running interpreter, which compiles in-process."""

    @property
    def legacy(self) -> bool:
        """True before PEP 3147 (Python 2): ``NAME.pyc`` beside the source, no ``__pycache__``."""
        return self.version < (3, 2)

    @property
    def header_size(self) -> int:
        """8 bytes before 3.3, 12 for 3.3–3.6, 16 from 3.7 on (PEP 552)."""
        if self.version >= (3, 7):
            return 16
        return 12 if self.version >= (3, 3) else 8

    @property
    def hash_key(self) -> int:
        """The key of ``_imp.source_hash`` for this target: its magic as a little-endian int."""
        return int.from_bytes(self.magic, "little")

    @property
    def label(self) -> str:
        """A short human name, ``cpython-3.11``."""
        return f"{self.implementation}-{self.version[0]}.{self.version[1]}"


_current: Target | None = None


def current() -> Target:
    """The running interpreter as a :class:`Target`."""
    global _current
    if _current is None:
        from importlib._bootstrap_external import MAGIC_NUMBER  # loaded at start-up already

        tag = sys.implementation.cache_tag
        if tag is None:  # pragma: no cover - only on interpreters with caching disabled
            from bytecast.errors import TargetError

            raise TargetError("the running interpreter writes no bytecode (cache_tag is None)")
        _current = Target(
            version=(sys.version_info[0], sys.version_info[1]),
            cache_tag=tag,
            magic=bytes(MAGIC_NUMBER),
            executable=sys.executable,
            implementation=sys.implementation.name,
            is_current=True,
        )
    return _current
