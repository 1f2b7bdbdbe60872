"""Source hashes: what a hash-based pyc records of its source, for any Python.

``importlib.util.source_hash``: SipHash of the source bytes keyed by the magic word, with
2 compression and 4 finalization rounds on 3.7–3.10 and 1 and 3 from 3.11 on. The running
interpreter's ``_imp.source_hash`` computes its own family; for the other family one rule,
one home, :func:`source_hash`:

- the running interpreter hashes when it is of the same family (C speed);
- else, when the caller has that target interpreter, the target hashes, in one long-lived
  helper process per target (a pipe round trip per file: a compile for 3.9 from 3.11 hashes
  the standard library in well under a second);
- else a pure-Python SipHash (0.75 s per MB of source on 3.11: fine for the files of one
  ``inspect``, slow for a tree).
"""

from __future__ import annotations

import struct
import sys

from bytecast.fileio import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:

    from bytecast.targets import Target

__all__ = ["source_hash", "hash_bytes", "siphash", "close_helpers"]

_M64 = 0xFFFFFFFFFFFFFFFF


def _new_family(version: tuple[int, int]) -> bool:
    return version >= (3, 11)


def hash_bytes(data: bytes, magic: bytes, version: tuple[int, int]) -> bytes:
    """The 8-byte hash that Python ``version`` with ``magic`` records for source ``data``."""
    key = int.from_bytes(magic[:4], "little")
    if _new_family(version) == _new_family(sys.version_info[:2]):
        import _imp

        digest: bytes = _imp.source_hash(key, data)
        return digest
    c, d = (1, 3) if _new_family(version) else (2, 4)
    return siphash(c, d, key, 0, data).to_bytes(8, "little")


def source_hash(path: str, magic: bytes, version: tuple[int, int], target: Target | None = None) -> bytes:
    """The hash Python ``version`` (with ``magic``) records for the source file at ``path``.

    With ``target`` (an interpreter of that version) and another hash family than the running
    one, the target itself hashes. Raises OSError when the file cannot be read (a FIFO or a
    folder included), :class:`~bytecast.errors.WorkerError` when the helper fails.
    """
    if target is not None and not target.is_current and \
            _new_family(version) != _new_family(sys.version_info[:2]):
        from bytecast.process import helper

        got = helper(target, "hash").ask([path])[0]
        if not isinstance(got, bytes):
            read_regular(path)  # the helper could not read it (None): say why, as we would
            raise OSError(0, "cannot be read", path)
        return got
    return hash_bytes(read_regular(path), magic, version)


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash(c_rounds: int, d_rounds: int, k0: int, k1: int, data: bytes) -> int:
    """SipHash-c-d of ``data`` with the key ``(k0, k1)``, as CPython computes it (pure Python)."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    n = len(data)
    end = n - n % 8
    for (m,) in struct.iter_unpack("<Q", data[:end]):
        v3 ^= m
        rounds(c_rounds)
        v0 ^= m
    last = int.from_bytes(data[end:], "little") | ((n & 0xFF) << 56)
    v3 ^= last
    rounds(c_rounds)
    v0 ^= last
    v2 ^= 0xFF
    rounds(d_rounds)
    return v0 ^ v1 ^ v2 ^ v3


# --- helper processes -------------------------------------------------------------------------


def close_helpers() -> None:
    """Stop the source-hash helpers started so far (they also stop when this process ends)."""
    from bytecast.process import close_helpers

    close_helpers("hash")
