"""RECORD: the list of a wheel's files with their sha256 and size (the wheel spec's format).

:func:`make_record` writes it for the members of an output wheel (RECORD itself unhashed, the
signatures of an older RECORD never listed); :func:`verify_record` reads a written archive back
(its directory and RECORD; the members too, unless the bytes they were written from are given)
and checks it as ``installer --validate-record all`` would, and more: every member listed,
every entry present, hash and size right.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["digest", "make_record", "verify_record"]


def digest(data: bytes) -> str:
    """``sha256=`` and the urlsafe base64 digest without padding, as RECORD holds it."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def make_record(members: dict[str, bytes], record_name: str, digests: dict[str, str] | None = None) -> bytes:
    """The RECORD of ``members`` (name -> bytes, RECORD not among them), sorted, ``\\n`` lines;
    the digest of each member is also put in ``digests`` (name -> ``sha256=...``) when given."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name in sorted(members):
        data = members[name]
        hashed = digest(data)
        if digests is not None:
            digests[name] = hashed
        writer.writerow((name, hashed, len(data)))
    writer.writerow((record_name, "", ""))
    return out.getvalue().encode("utf-8")


def verify_record(path: str, record_name: str,
                  made: tuple[dict[str, bytes], dict[str, str]] | None = None) -> list[str]:
    """What is wrong with the RECORD of the wheel at ``path`` (nothing: an empty list).

    ``made``: the members the archive was written from and the digests :func:`make_record`
    listed for them. A member whose entry in the archive's directory, read back from ``path``,
    has the size and CRC-32 of the bytes those digests were made of holds those bytes: it is
    right when RECORD lists that digest and size, without inflating or hashing it again (a
    conversion's writer did both once already). Anything else is read and hashed, as without
    ``made``."""
    import csv
    import io
    import zipfile
    import zlib

    wrong: list[str] = []
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        try:
            text = zf.read(record_name).decode("utf-8")
        except KeyError:
            return [f"{path}: {record_name} is missing"]
        listed: set[str] = set()
        for row in csv.reader(io.StringIO(text)):
            if len(row) != 3:
                wrong.append(f"{path}: {record_name}: row {row!r} has {len(row)} fields, expected 3")
                continue
            name, hashed, size = row
            if name in listed:
                wrong.append(f"{path}: {record_name}: {name} listed twice")
            listed.add(name)
            if name == record_name:
                if hashed or size:
                    wrong.append(f"{path}: {record_name} lists a hash or size for itself")
                continue
            info = infos.get(name)
            if info is None:
                wrong.append(f"{path}: {record_name} lists {name}, which the archive does not hold")
                continue
            ours, ours_listed = (made[0].get(name), made[1].get(name)) if made is not None else (None, None)
            if (ours is not None and ours_listed is not None and info.file_size == len(ours)
                    and zlib.crc32(ours) == info.CRC):
                right = hashed == ours_listed and size == str(len(ours))
            else:
                data = zf.read(name)
                right = hashed == digest(data) and size == str(len(data))
            if not right:
                wrong.append(f"{path}: {record_name}: {name} is not what it lists")
        wrong.extend(f"{path}: {name} is not in {record_name}" for name in infos if name not in listed)
    return wrong
