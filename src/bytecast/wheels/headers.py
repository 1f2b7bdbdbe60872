"""The header fields of ``WHEEL`` and ``METADATA``, read as ``email.parser`` reads them.

Both files are in the email header format, and pip, installer and packaging read them with
``email.parser``. Importing it costs some 25 ms of CPU (``email.feedparser``, ``email.utils``,
``socket``, ``datetime`` and ``urllib.parse`` come with it), a seventh of converting a small
wheel; bytecast needs three fields of it (``Wheel-Version``, ``Root-Is-Purelib``,
``Requires-Python``). :func:`parse` gives the fields ``BytesHeaderParser`` (policy
``compat32``) gives for the same bytes — a test compares the two on the metadata of every
distribution installed beside bytecast and on the format's corners: a field name is printable
ASCII without a space or a colon; a line starting with a space or a tab continues the field
before it (one with none before it is dropped); the first line that is neither ends the
headers, blank or not; a line starting ``From `` is the mbox separator, not a field;
``\\r\\n``, ``\\r`` and ``\\n`` all end a line. Two differences: the line ends inside a folded
value are ``\\n`` (``email`` keeps each as it was), and bytes that are not UTF-8 are replaced
(U+FFFD), where ``email`` keeps them as surrogates (no field bytecast reads holds either).
"""

from __future__ import annotations

__all__ = ["parse"]

_NAME = frozenset(chr(c) for c in range(0o41, 0o177) if c != ord(":"))


def _in_headers(line: str) -> bool:
    """Whether ``line`` belongs to the headers (``email.feedparser``'s ``headerRE``)."""
    if line.startswith(("From ", " ", "\t")):
        return True
    name, colon, _ = line.partition(":")
    return bool(colon) and all(ch in _NAME for ch in name)


def parse(text: bytes) -> list[tuple[str, str]]:
    """``(name, value)`` of every header field of ``text``, in order (the body is ignored)."""
    lines = text.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block: list[str] = []
    for line in lines:
        if not _in_headers(line):
            break  # the body starts: after a blank line, or at a line that is no field
        block.append(line)
    fields: list[tuple[str, str]] = []
    last = -1  # the field a continuation line adds to; -1: none (it is dropped)
    for number, line in enumerate(block):
        if line.startswith((" ", "\t")):
            if last >= 0:
                name, value = fields[last]
                fields[last] = (name, value + "\n" + line)
            continue
        last = -1
        if line.startswith("From "):
            if number == len(block) - 1 and number:
                break  # at the end of the headers: the body's first line
            continue  # the mbox separator (first line), or misplaced: not a field
        name, _, value = line.partition(":")
        if name:  # ": value" has no name: dropped
            fields.append((name, value.lstrip(" \t")))
            last = len(fields) - 1
    return fields
