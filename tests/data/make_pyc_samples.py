"""Regenerate the sample .pyc headers in tests/data/pyc.

Run from anywhere: ``python tests/data/make_pyc_samples.py``. Uses ``struct`` only, never
bytecast, so the samples check bytecast's reader against an independent writer. Each file
is a header followed by a few bytes standing in for the marshalled code (readers must not
look at them).
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent / "pyc"
BODY = b"\xe3not-marshal"  # never parsed; only proves the reader stops at the header
MTIME = 1_700_000_000
SIZE = 1234
HASH = bytes(range(1, 9))


def magic(number: int) -> bytes:
    return struct.pack("<H", number) + b"\r\n"


SAMPLES = {
    # valid headers, one per layout and mode
    "py15.pyc": magic(20121) + struct.pack("<I", MTIME) + BODY,
    "py27.pyc": magic(62211) + struct.pack("<I", MTIME) + BODY,
    "py36.pyc": magic(3379) + struct.pack("<II", MTIME, SIZE) + BODY,
    "py311-timestamp.pyc": magic(3495) + struct.pack("<III", 0, MTIME, SIZE) + BODY,
    "py311-checked-hash.pyc": magic(3495) + struct.pack("<I", 0b11) + HASH + BODY,
    "py311-unchecked-hash.pyc": magic(3495) + struct.pack("<I", 0b01) + HASH + BODY,
    # importlib reads flags 0b10 (check_source without hash-based) as a timestamp pyc
    "py311-flags-0b10.pyc": magic(3495) + struct.pack("<III", 0b10, MTIME, SIZE) + BODY,
    # unknown magic in the 3.x range: layout by range (16 bytes)
    "unknown-3999.pyc": magic(3999) + struct.pack("<III", 0, MTIME, SIZE) + BODY,
    # broken files
    "empty.pyc": b"",
    "truncated-3.pyc": magic(3495)[:3],
    "truncated-12.pyc": magic(3495) + struct.pack("<II", 0, MTIME),
    "truncated-py36-8.pyc": magic(3379) + struct.pack("<I", MTIME),
    "bad-trailer.pyc": struct.pack("<H", 3495) + b"\n\r" + struct.pack("<III", 0, 0, 0),
    "text.pyc": b"print('not bytecode')\n",
    "unknown-flags.pyc": magic(3495) + struct.pack("<III", 0b100, MTIME, SIZE) + BODY,
}


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(SAMPLES.items()):
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
