"""The messages between the pool and a compile worker: typed here, lists on the wire.

A :class:`Unit` is one source and the pyc files to make of it; an :class:`Outcome` is what
the worker did with it. Both cross the pipe as ``marshal`` (version 2, which every target
reads) of plain lists, in the order :mod:`bytecast.remote.worker` documents; :meth:`Unit.encode`
and :func:`decode_outcome` are the only places that know that order.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, Record, init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = ["Unit", "Outcome", "Failure", "CodeFacts", "decode_outcome", "WARNING_POLICIES"]

WARNING_POLICIES = ("ignore", "show", "error")
"""What a worker does with compiler warnings: drop them, send them back, fail the file."""


class Unit(Record):
    """One source to compile, for one kind of worker, into one or more pyc files (immutable:
    its fields are ``Final``)."""

    __slots__ = ("uid", "path", "dfile", "flags", "hardlink", "outputs", "give_back", "warnings", "facts")

    uid: Final[int]
    """Unique within a run: outcomes name it."""
    path: Final[str]
    """The source file."""
    dfile: Final[str]
    """The path baked into the code objects."""
    flags: Final[int]
    """The PEP 552 flags word of the header: 0 timestamp, 1 unchecked-hash, 3 checked-hash."""
    hardlink: Final[bool]
    """Hard-link a level's pyc to the previous level's when the bytes are equal."""
    outputs: Final[tuple[tuple[int, str], ...]]
    """``(optimization level, pyc path)`` pairs, lowest level first; the path is unused
    (empty) when the bytes are given back."""
    give_back: Final[bool]
    """Send the bytes back instead of writing the files."""
    warnings: Final[str]
    """A :data:`WARNING_POLICIES` word: ``ignore`` compiler warnings, ``show`` them (the
    outcome lists them), or fail the file at the first (``error``, no pyc written)."""
    facts: Final[bool]
    """With ``give_back``: the worker sends :class:`CodeFacts` of the code with its bytes."""

    def __init__(self, uid: int, path: str, dfile: str, flags: int, hardlink: bool,
                 outputs: tuple[tuple[int, str], ...], give_back: bool = False, warnings: str = "ignore",
                 facts: bool = False) -> None:
        self.uid = uid
        self.path = path
        self.dfile = dfile
        self.flags = flags
        self.hardlink = hardlink
        self.outputs = outputs
        self.give_back = give_back
        self.warnings = warnings
        self.facts = facts

    def encode(self) -> list[object]:
        """The unit as the worker reads it: seven fields, then the warnings policy and the
        facts flag when either is not its default (units that need neither stay as they were)."""
        unit: list[object] = [self.uid, self.path, self.dfile, self.flags, self.hardlink,
                              [[level, cfile] for level, cfile in self.outputs], self.give_back]
        if self.warnings != "ignore" or self.facts:
            unit.append(self.warnings)
        if self.facts:
            unit.append(True)
        return unit


class Failure(Frozen):
    """Why a unit failed: an exception class name, its message, where in the source."""

    __slots__ = ("kind", "message", "line", "column")

    kind: str
    message: str
    line: int
    column: int

    def __init__(self, kind: str, message: str, line: int = 0, column: int = 0) -> None:
        init(self, "kind", kind)
        init(self, "message", message)
        init(self, "line", line)
        init(self, "column", column)


class Warned(Frozen):
    """A compiler warning of a unit's source: its category, message and place."""

    __slots__ = ("category", "message", "line", "column")

    category: str
    """The warning's class name: ``SyntaxWarning``, ``DeprecationWarning``..."""
    message: str
    line: int
    """1-based; 0 when the compiler gave none."""
    column: int
    """1-based; 0 when the compiler gave none (the warnings module carries no column)."""

    def __init__(self, category: str, message: str, line: int = 0, column: int = 0) -> None:
        init(self, "category", category)
        init(self, "message", message)
        init(self, "line", line)
        init(self, "column", column)


class CodeFacts(Frozen):
    """What the code of one pyc names, from the code object the target interpreter compiled
    (trusted: bytecast's own worker, not bytes read from a file)."""

    __slots__ = ("names", "strings")

    names: frozenset[str]
    """Every name the module's code objects use (``co_names``, nested code included)."""
    strings: frozenset[str]
    """Every text constant of that code that ends in ``py``."""

    def __init__(self, names: frozenset[str], strings: frozenset[str]) -> None:
        init(self, "names", names)
        init(self, "strings", strings)


class Outcome(Frozen):
    """What a worker did with one unit."""

    __slots__ = ("uid", "written", "linked", "failure", "blobs", "warnings", "facts")

    uid: int
    written: int
    """Files written."""
    linked: int
    """Files hard-linked to an equal file of a lower level."""
    failure: Failure | None
    """Why the unit failed; None when every file was made."""
    blobs: tuple[tuple[int, bytes], ...]
    """``(level, pyc bytes)`` for a unit that asked for its bytes back; else empty."""
    warnings: tuple[Warned, ...]
    """The compiler's warnings, each once, for a unit that asked for them; else empty."""
    facts: tuple[CodeFacts, ...]
    """One per blob for a unit that asked for facts (its bytes checked); else empty."""

    def __init__(self, uid: int, written: int = 0, linked: int = 0, failure: Failure | None = None,
                 blobs: tuple[tuple[int, bytes], ...] = (), warnings: tuple[Warned, ...] = (),
                 facts: tuple[CodeFacts, ...] = ()) -> None:
        init(self, "uid", uid)
        init(self, "written", written)
        init(self, "linked", linked)
        init(self, "failure", failure)
        init(self, "blobs", blobs)
        init(self, "warnings", warnings)
        init(self, "facts", facts)


def decode_outcome(message: object) -> Outcome:
    """An outcome from the worker's list; ValueError for anything else (a protocol bug)."""
    if not isinstance(message, list) or len(message) not in (5, 6):
        raise ValueError(f"not an outcome: {message!r:.80}")
    uid, written, linked, error, blobs = message[:5]
    noted = message[5] if len(message) == 6 else None
    failure = None
    if error is not None:
        kind, text, line, column = _quad(error, "error")
        failure = Failure(kind, text, line, column)
    warned: tuple[Warned, ...] = ()
    if noted is not None:
        if not isinstance(noted, list):
            raise ValueError(f"not an outcome's warnings: {noted!r:.80}")
        warned = tuple(Warned(*_quad(item, "warning")) for item in noted)
    got: tuple[tuple[int, bytes], ...] = ()
    facts: tuple[CodeFacts, ...] = ()
    if blobs is not None:
        if not isinstance(blobs, list) or not all(
                isinstance(b, list) and len(b) in (2, 3) and isinstance(b[1], bytes) for b in blobs):
            raise ValueError(f"not an outcome's blobs: {blobs!r:.80}")
        got = tuple((_count(b[0]), b[1]) for b in blobs)
        if any(len(b) == 3 for b in blobs):
            facts = tuple(_facts(b[2] if len(b) == 3 else None) for b in blobs)
    return Outcome(_count(uid), _count(written), _count(linked), failure, got, warned, facts)


def _quad(item: object, what: str) -> tuple[str, str, int, int]:
    """``[kind, message, line, column]`` of an error or a warning."""
    if not isinstance(item, list) or len(item) != 4:
        raise ValueError(f"not an outcome's {what}: {item!r:.80}")
    kind, text, line, column = item
    return str(kind), str(text), _count(line or 0), _count(column or 0)


def _facts(message: object) -> CodeFacts:
    if (not isinstance(message, list) or len(message) != 2
            or not all(isinstance(part, list) and all(isinstance(s, str) for s in part) for part in message)):
        raise ValueError(f"not a blob's facts: {message!r:.80}")
    return CodeFacts(frozenset(message[0]), frozenset(message[1]))


def _count(value: object) -> int:
    # int() would take 1.5, True and "7" (and TypeError for None): none is what a worker sends
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a whole number in an outcome: {value!r:.80}")
    return value
