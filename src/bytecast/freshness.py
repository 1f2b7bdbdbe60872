"""Freshness: whether a pyc still belongs to its source, by importlib's own rule.

One rule, used by every command that asks (compile and check when they plan, clean
``--stale``, inspect, the drop-in compileall's hash-based test). It reads only the header:

- the magic must be the interpreter's (else the pyc is ``invalid``: another Python's, or not
  a pyc at all), and the flags word one of the defined values;
- a timestamp pyc (flags 0; importlib reads 0b10 the same way) records the source's mtime and,
  from 3.3 on, its size, each mod 2**32: both must match;
- a hash-based pyc records the source hash (:mod:`bytecast.hashing`): it must match. importlib
  checks it only for checked-hash pycs; bytecast compares it for unchecked ones too, since a
  compile must not keep bytecode of a source that changed.

A caller that asks for one invalidation mode gets ``mode`` for a pyc of another.
"""

from __future__ import annotations

from bytecast.header import header_size_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Literal

    State = Literal["fresh", "missing", "stale", "mode", "invalid", "forced"]

__all__ = ["Rule", "STATES", "State", "stamp"]

STATES: dict[State, str] = {
    "fresh": "bytecode is up to date",
    "missing": "no bytecode",
    "stale": "bytecode is older than its source",
    "mode": "bytecode uses another invalidation mode",
    "invalid": "bytecode is unreadable or from another Python",
    "forced": "recompiling on request",
}
"""Why a pyc is, or is not, usable; every key but ``fresh`` means "compile it"."""

_DEFINED_FLAGS = (0, 1, 2, 3)


def stamp(mtime: float, size: int) -> bytes:
    """What a timestamp header records of a source after its magic (and flags): mtime and size,
    4 bytes each, little-endian, mod 2**32 (``int()`` first, as importlib does)."""
    return (int(mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")


class Rule:
    """The rule for the pycs of one interpreter (its magic), asked for one mode or any.

    ``flags``: the flags word wanted (0 timestamp, 1 unchecked-hash, 3 checked-hash), or None
    for whatever mode the pyc has. Made once per target and run: :meth:`state` is the hot
    path of a no-op compile.
    """

    __slots__ = ("magic", "flags", "size", "prefix", "cut")

    def __init__(self, magic: bytes, flags: int | None = None) -> None:
        self.magic = bytes(magic[:4])
        self.size = header_size_for(int.from_bytes(self.magic[:2], "little"))
        if self.size < 16:
            flags = None if flags is None else 0  # no flags word before 3.7: timestamp only
        self.flags = flags
        flag_bytes = flags.to_bytes(4, "little") if (self.size == 16 and flags is not None) else b""
        self.prefix = self.magic + flag_bytes
        self.cut = len(self.prefix)

    def state(self, head: bytes, source_stamp: bytes, source_hash: Callable[..., bytes], *args: Any) -> State:
        """The state of a pyc whose first bytes are ``head``, for a source whose stamp is
        ``source_stamp`` (see :func:`stamp`) and whose hash ``source_hash(*args)`` computes
        (called only for a hash-based pyc; OSError from it passes through)."""
        size = self.size
        if len(head) < size or head[:4] != self.magic:
            return "invalid"
        if size < 16:
            return "fresh" if head[4:size] == source_stamp[: size - 4] else "stale"
        cut = self.cut
        if head[:cut] != self.prefix:  # another flags word than the one wanted
            flags = int.from_bytes(head[4:8], "little")
            if flags not in _DEFINED_FLAGS:
                return "invalid"
            if self.flags is not None and (flags & 1 or self.flags & 1):
                return "mode"
        else:
            flags = self.flags if self.flags is not None else int.from_bytes(head[4:8], "little")
            if flags not in _DEFINED_FLAGS:
                return "invalid"
        if flags & 1:
            return "fresh" if head[8:16] == source_hash(*args) else "stale"
        return "fresh" if head[8:16] == source_stamp else "stale"
