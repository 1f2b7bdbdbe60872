"""WHEEL and METADATA fields read as email.parser reads them: on the metadata of every
distribution installed here, and on the corners of the format."""

from __future__ import annotations

import importlib.metadata
from email.parser import BytesHeaderParser

import pytest

from bytecast.wheels.headers import parse


def _email(text: bytes) -> list[tuple[str, str]]:
    """What pip and installer read: email's fields, a folded value's line ends as ``\\n``."""
    message = BytesHeaderParser().parsebytes(text)
    return [(k, str(v).replace("\r\n", "\n").replace("\r", "\n")) for k, v in message.items()]


def _installed() -> list[bytes]:
    texts = []
    for dist in importlib.metadata.distributions():
        for name in ("METADATA", "WHEEL", "PKG-INFO"):
            text = dist.read_text(name)
            if text is not None:
                texts.append(text.encode("utf-8"))
    return texts


def test_the_fields_of_every_installed_distribution_are_emails() -> None:
    texts = [t for t in _installed() if t.isascii()]  # email keeps other bytes as surrogates
    assert len(texts) > 30  # pytest, pip, packaging, rich... with their WHEEL files
    for text in texts:
        assert parse(text) == _email(text), text[:200]


@pytest.mark.parametrize("text", [
    b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\nTag: py2-none-any\n",
    b"Wheel-Version: 1.0\r\nRoot-Is-Purelib: true\r\n\r\nbody: not a field\r\n",
    b"Name: x\rVersion: 1\r",  # old Mac line ends
    b"Name: x\nLicense: one\n  two\n\tthree\nVersion: 1\n",  # folded, with spaces and a tab
    b"Name: x\r\nLicense: one\r\n two\r\n",  # folded, CRLF
    b"  starts folded\nName: x\n",  # a continuation with no field before it: dropped
    b"Name: x\nnot a field line\nVersion: 1\n",  # ends the headers without a blank line
    b"Name: x\nBad Name: y\nVersion: 1\n",  # a space in the name: not a field, the body starts
    b"From someone\nName: x\n",  # the mbox separator
    b"Name: x\nFrom someone\nVersion: 1\n",  # misplaced: ignored
    b"Name: x\nFrom someone\n",  # at the end: the body
    b"Name: x\n: no name\n  folded onto nothing\nVersion: 1\n",
    b"Name:x\nEmpty:\nSpaces:    \t  y  \n",  # no space after the colon, an empty value, padding kept at the end
    b"Name: x",  # no line end at all
    b"",
    b"\nName: x\n",  # blank first line: no headers
    b"Requires-Python: >=3.8\nRequires-Dist: a; extra == 'b:c'\n",  # a colon in the value
])
def test_the_corners_of_the_format(text: bytes) -> None:
    assert parse(text) == _email(text)
