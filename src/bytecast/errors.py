"""The one exception hierarchy of bytecast, and the exit status each error means.

Every error bytecast raises on purpose derives from :class:`BytecastError`; each subclass
also inherits the builtin it resembles, so callers that already catch ``ValueError`` or
``LookupError`` keep working. :attr:`BytecastError.exit_code` is the command line's answer to
it: 2 when the command could not run (a bad option, a missing path, no such interpreter), 1
when the work found a problem in what it read (a bad or foreign ``.pyc``). Messages name the
file they are about and never a command-line flag: the library does not know how it was
called (see :attr:`UsageError.field`).
"""

from __future__ import annotations

__all__ = [
    "BytecastError",
    "UsageError",
    "DataError",
    "PycFormatError",
    "UnmarshalError",
    "TargetError",
    "WorkerError",
]


class BytecastError(Exception):
    """Base of every error bytecast raises on purpose."""

    exit_code = 2
    """The command line's exit status for this error: 2, the command could not run."""


class UsageError(BytecastError, ValueError):
    """The caller asked for something that cannot be done (bad option, missing path).

    ``field`` names the :class:`~bytecast.options.Options` field (or argument) at fault, so
    that the command line can name its flag and a settings file its key.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DataError(BytecastError, ValueError):
    """What was read is not what its format says it must be: a problem of the work (exit 1)."""

    exit_code = 1


class PycFormatError(DataError):
    """A .pyc header or file is not what the format says it must be."""


class UnmarshalError(DataError):
    """Marshalled data could not be read; ``offset`` is where reading stopped."""

    def __init__(self, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.offset = offset

    def __str__(self) -> str:
        base = super().__str__()
        return f"at byte {self.offset}: {base}" if self.offset >= 0 else base


class TargetError(BytecastError, LookupError):
    """An interpreter to compile for could not be found or used."""


class WorkerError(BytecastError, OSError):
    """A helper process (a compile worker, a source-hash helper) could not be started or failed."""

    exit_code = 1
