"""The one exception hierarchy of bytecast.

Every error bytecast raises for bad input derives from :class:`BytecastError`; each subclass
also inherits the builtin it resembles, so callers that already catch ``ValueError`` or
``OSError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "BytecastError",
    "UsageError",
    "PycFormatError",
    "UnmarshalError",
    "TargetError",
]


class BytecastError(Exception):
    """Base of every error bytecast raises on purpose."""


class UsageError(BytecastError, ValueError):
    """The caller asked for something that cannot be done (bad option, missing path)."""


class PycFormatError(BytecastError, ValueError):
    """A .pyc header or file is not what the format says it must be."""


class UnmarshalError(BytecastError, ValueError):
    """Marshalled data could not be read; ``offset`` is where reading stopped."""

    def __init__(self, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.offset = offset

    def __str__(self) -> str:
        base = super().__str__()
        return f"at byte {self.offset}: {base}" if self.offset >= 0 else base


class TargetError(BytecastError, LookupError):
    """An interpreter to compile for could not be found or used."""
