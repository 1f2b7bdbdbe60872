"""Freshness: whether a pyc still belongs to its source, by importlib's own rule.

One rule, used by every command that asks (compile and check when they plan, clean
``--stale``, inspect, the drop-in compileall's hash-based test). It reads only the header:

- the magic must be the interpreter's (else the pyc is ``invalid``: another Python's, or not
  a pyc at all), and the flags word one of the defined values;
- a timestamp pyc (flags 0; importlib reads 0b10 the same way) records the source's mtime and,
  from 3.3 on, its size, each mod 2**32: both must match;
- a hash-based pyc records the source hash (:mod:`bytecast.hashing`): it must match. importlib
  checks it only for checked-hash pycs; for unchecked ones it takes the pyc as it is (unless
  run with ``--check-hash-based-pycs always``). bytecast compares it for unchecked ones too, as
  ``always`` does: an unchecked pyc whose hash differs runs code that is no longer the source,
  which is exactly what ``check`` is there to catch and ``compile`` to repair.

A caller that asks for one invalidation mode gets ``mode`` for a pyc of another; a caller that
asks for none (``flags`` None) takes any pyc importlib would take. :meth:`Rule.explain` says,
for a pyc that is not fresh, what was recorded and what was found.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init
from bytecast.header import header_size_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Literal

    State = Literal["fresh", "missing", "stale", "mode", "invalid", "forced"]

__all__ = ["Rule", "STATES", "State", "Verdict", "stamp"]

STATES: dict[State, str] = {
    "fresh": "bytecode is up to date",
    "missing": "no bytecode",
    "stale": "bytecode does not match its source",
    "mode": "bytecode uses another invalidation mode",
    "invalid": "bytecode is unreadable or from another Python",
    "forced": "recompiling on request",
}
"""Why a pyc is, or is not, usable; every key but ``fresh`` means "compile it"."""

_DEFINED_FLAGS = (0, 1, 2, 3)
_MODE_NAMES = {0: "timestamp", 1: "unchecked-hash", 2: "timestamp", 3: "checked-hash"}


class Verdict(Frozen):
    """A pyc's state and, when it is not fresh, why: what was recorded, what was found."""

    __slots__ = ("state", "detail", "field", "recorded", "found")

    state: State
    """A key of :data:`STATES`."""
    detail: str
    """The reason in words: ``source size 1,204 bytes, 1,180 recorded``."""
    field: str | None
    """What differs: ``mtime``, ``size``, ``hash``, ``magic``, ``flags``, ``mode``, ``header``,
    ``source`` (unreadable); None when fresh or missing."""
    recorded: int | str | None
    """The value the pyc holds (a number, a hash in hex, a mode name)."""
    found: int | str | None
    """The value expected from the source or the interpreter."""

    def __init__(self, state: State, detail: str, field: str | None = None,
                 recorded: int | str | None = None, found: int | str | None = None) -> None:
        init(self, "state", state)
        init(self, "detail", detail)
        init(self, "field", field)
        init(self, "recorded", recorded)
        init(self, "found", found)


def _when(seconds: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


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
        elif self.flags is not None:
            flags = self.flags
        elif head[4:8] == b"\0\0\0\0":  # any mode taken, and this pyc is a timestamp one (most are)
            return "fresh" if head[8:16] == source_stamp else "stale"
        else:
            flags = int.from_bytes(head[4:8], "little")
            if flags not in _DEFINED_FLAGS:
                return "invalid"
        if flags & 1:
            return "fresh" if head[8:16] == source_hash(*args) else "stale"
        return "fresh" if head[8:16] == source_stamp else "stale"

    def explain(self, head: bytes, mtime: float, size: int, tag: str, source_hash: Callable[..., bytes],
                *args: Any) -> Verdict:
        """:meth:`state` with its reason, for a source of ``mtime`` and ``size``, in the words
        a user reads (``tag`` names the interpreter: ``cpython-312``). Not on a hot path: asked
        only for pycs found not fresh."""
        try:
            state = self.state(head, stamp(mtime, size), source_hash, *args)
        except OSError as exc:
            return Verdict("stale", f"source cannot be read: {exc.strerror or exc}", "source")
        if state == "fresh":
            return Verdict(state, STATES[state])
        want = int.from_bytes(self.magic[:2], "little")
        if len(head) < 4 or head[:4] != self.magic:
            if not head:
                return Verdict("invalid", "empty file, not a pyc", "header", 0, self.size)
            if len(head) >= 4 and head[2:4] == b"\r\n":
                number = int.from_bytes(head[:2], "little")
                from bytecast.magic import python_for_magic

                py = python_for_magic(number)
                who = f"Python {py[0]}.{py[1]}" if py else "unknown Python"
                return Verdict("invalid", f"wrong magic {number} ({who}) for {tag} ({want})", "magic", number, want)
            return Verdict("invalid", f"not a pyc: starts with {head[:4].hex()}, not the magic {self.magic.hex()}",
                           "magic", head[:4].hex(), self.magic.hex())
        if len(head) < self.size:
            return Verdict("invalid", f"header is {len(head)} bytes, expected {self.size}", "header",
                           len(head), self.size)
        flags = int.from_bytes(head[4:8], "little") if self.size == 16 else 0
        if flags not in _DEFINED_FLAGS:
            return Verdict("invalid", f"undefined flags 0x{flags:x} (defined: 0 to 3)", "flags", flags, None)
        if state == "mode":
            have, asked = _MODE_NAMES[flags], _MODE_NAMES[self.flags or 0]
            return Verdict(state, f"{have} pyc, {asked} asked", "mode", have, asked)
        if flags & 1:
            found = source_hash(*args)
            return Verdict(state, f"source hash {found.hex()} differs from the recorded {head[8:16].hex()}",
                           "hash", head[8:16].hex(), found.hex())
        at = 8 if self.size == 16 else 4
        recorded_mtime = int.from_bytes(head[at:at + 4], "little")
        found_mtime = int(mtime) & 0xFFFFFFFF
        parts = []
        field = "size"
        recorded: int = recorded_mtime
        found_value: int = found_mtime
        if recorded_mtime != found_mtime:
            field = "mtime"
            parts.append(f"source mtime {_when(found_mtime)} differs from the {_when(recorded_mtime)} recorded")
        if self.size >= 12:
            recorded_size = int.from_bytes(head[at + 4:at + 8], "little")
            found_size = size & 0xFFFFFFFF
            if recorded_size != found_size:
                parts.append(f"source size {found_size:,} bytes, {recorded_size:,} recorded")
                if field == "size":
                    recorded, found_value = recorded_size, found_size
        return Verdict(state, "; ".join(parts) or STATES[state], field, recorded, found_value)
