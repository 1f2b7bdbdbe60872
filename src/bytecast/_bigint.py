"""Marshalled long digits to an ``int`` in linear time and memory.

A marshalled long is a count of base-2**15 digits, each stored in 16 bits. Converting a
digit at a time costs a Python object per digit (a 20 MB file of one 10-million-digit int
took 1.3 GB); here the 16-bit words are read as one integer and their spare bits squeezed
out by a logarithmic number of whole-integer mask-and-shift rounds, so the peak stays a few
times the size of the digits.
"""

from __future__ import annotations

import struct

__all__ = ["digits_to_int"]

_SMALL = 512
"""Up to this many digits, joining base-2 text is faster than the mask rounds."""


def _lane_mask(width: int, lanes: int) -> int:
    """Low ``width`` bits of each of ``lanes`` lanes ``2 * width`` bits wide (width % 8 == 0)."""
    step = width // 8
    return int.from_bytes((b"\xff" * step + b"\x00" * step) * lanes, "little")


def digits_to_int(raw: bytes) -> int:
    """The non-negative int whose base-2**15 digits are the little-endian 16-bit words of
    ``raw``, least significant first. Raises ValueError if a word is 2**15 or more."""
    count = len(raw) // 2
    if count <= _SMALL:
        digits = struct.unpack(f"<{count}H", raw[:2 * count])
        if digits and max(digits) >= 0x8000:
            raise ValueError("digit out of range")
        if count <= 4:
            value = 0
            for d in reversed(digits):
                value = (value << 15) | d
            return value
        # base-2 text converts in linear time; shifting in a loop would be quadratic
        return int("".join([format(d, "015b") for d in reversed(digits)]), 2)
    if int.from_bytes(raw[1:2 * count:2], "little") & int.from_bytes(b"\x80" * count, "little"):
        raise ValueError("digit out of range")
    parts = [_block(raw[i:i + 2 * _BLOCK]) for i in range(0, 2 * count, 2 * _BLOCK)]
    shift = 15 * _BLOCK
    while len(parts) > 1:  # pairs of neighbours, least significant first
        paired = [parts[i] | (parts[i + 1] << shift) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            paired.append(parts[-1])
        parts = paired
        shift *= 2
    return parts[0]


_BLOCK = 4096
"""Digits converted per block; the masks for one block are made once."""
_MASKS: list[tuple[int, int, int]] = []


def _block(raw: bytes) -> int:
    """One block of at most ``_BLOCK`` digits (zero-padded): pairs of lanes merge in rounds."""
    if not _MASKS:
        width, useful, lanes = 16, 15, _BLOCK
        while lanes > 1:
            lanes //= 2
            low = _lane_mask(width, lanes)
            _MASKS.append((low, low << width, width - useful))
            width, useful = 2 * width, 2 * useful
    value = int.from_bytes(raw, "little")
    for low, high, shift in _MASKS:
        # lanes (lo, hi) of `width` bits, `useful` of them set -> lo | hi << useful
        value = (value & low) | ((value & high) >> shift)
    return value
