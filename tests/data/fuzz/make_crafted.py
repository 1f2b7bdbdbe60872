"""Regenerate the hand-crafted hostile marshal payloads in this folder.

Each file is "<python>-<what>.bin": marshal data (no pyc header) that the reader must reject
(or read) quickly and cheaply when told it was written by that Python version. Run from
anywhere: python tests/data/fuzz/make_crafted.py
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP031, UP036

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def i32(n):
    return struct.pack("<i", n)


def code311(body_objects):
    # argcount, posonly, kwonly, stacksize, flags, then the objects
    return b"c" + i32(0) * 5 + body_objects


CRAFTED = {
    # CPython allocated gigabytes for this (a tuple declaring 2**31-1 items, 31 bytes long)
    "3.11-huge-tuple": b"(" + i32(0x7FFFFFFF) + b"N" * 26,
    "3.13-huge-list": b"[" + i32(0x7FFFFFFF) + b"N" * 10,
    "3.12-huge-bytes": b"s" + i32(0x7FFFFFFF) + b"xx",
    "3.12-huge-long": b"l" + i32(-0x7FFFFFFF) + b"\x01\x00",
    "3.11-deep-tuples": b"(\x01\x00\x00\x00" * 5000 + b"N",
    "3.11-deep-lists": b"[\x01\x00\x00\x00" * 100000 + b"N",
    "3.11-deep-dicts": b"{N" * 5000 + b"N",
    "3.11-self-ref-tuple": b"\xa8" + i32(1) + b"r" + i32(0),
    "3.13-self-ref-code": b"\xe3" + i32(0) * 5 + b"r" + i32(0) + b"N" * 20,
    "3.11-self-ref-list-in-set": b"<" + i32(1) + b"\xdb" + i32(1) + b"r" + i32(0),
    "3.11-bad-ref": b"r" + i32(12345),
    "3.11-negative-ref": b"r" + i32(-1),
    "3.11-null-in-tuple": b"(" + i32(2) + b"N0",
    "3.12-code-wrong-kinds": code311(
        b"s" + i32(2) + b"\x97\x00" + b")\x00" + b")\x00" + b")\x01z\x01a" + b"s" + i32(5)
        + b"\x20" * 5 + b"z\x01f" + b"z\x01n" + b"z\x01q" + i32(1) + b"s" + i32(0)
        + b"s" + i32(0)),
    "3.13-code-names-not-tuple": code311(b"s" + i32(0) + b")\x00" + b"N" * 12),
    "3.13-lone-surrogate": b"u" + i32(3) + b"\xed\xa0\x80",
    "3.12-bad-utf8": b"u" + i32(2) + b"\xc3\x28",
    "3.12-unnormalized-long": b"l" + i32(2) + b"\x01\x00\x00\x00",
    "3.12-long-digit-overflow": b"l" + i32(1) + b"\xff\xff",
    "3.11-unknown-type": b"\x01",
    "3.11-truncated-code": b"c" + i32(0) * 3,
    "3.11-slice-before-3.14": b":NNN",
    "3.14-slice": b"\xba" + b"NNN",
    "2.7-bad-stringref": b"R" + i32(3),
    "2.7-interned-then-ref": b"(" + i32(2) + b"t" + i32(1) + b"a" + b"R" + i32(0),
    "2.7-huge-string": b"s" + i32(0x7FFFFFF0) + b"x",
    "3.8-float-text-garbage": b"f\x05nan()",
    "3.8-float-underscore": b"f\x031_0",
    "3.11-dict-unhashable-key": b"{" + b"[" + i32(0) + b"N0",
    "3.11-empty": b"",
}


def dag_in(container, levels):
    """``container`` ("<" set, ">" frozenset, "{" dict key) holding a tuple DAG: each tuple
    holds the next one twice (inline, then by reference); a few hundred bytes describing
    2**levels paths, which hashing would walk."""
    # Read order reserves reference numbers outside-in: the outermost tuple gets 0 and the
    # innermost levels-1, so tuple k (counting from the inside) refers to levels-k.
    inner = b"\xa8" + i32(2) + b"NN"
    for k in range(1, levels):
        inner = b"\xa8" + i32(2) + inner + b"r" + i32(levels - k)
    if container == "{":
        return b"{" + inner + b"N0"
    return container.encode("ascii") + i32(1) + inner


def make_code_dag(levels=40):
    """Written by CPython itself (3.8+): code whose consts hold the same child twice, 40
    levels deep. marshal shares the child through references; walking every path would
    take 2**40 steps."""
    import marshal

    def f():
        pass

    code = f.__code__.replace(co_filename="crafted.py")  # no path of the machine that made it
    for k in range(levels):
        code = code.replace(co_consts=(code, code), co_name="n%d" % k)
    return marshal.dumps(code)


def main():
    for name, data in sorted(CRAFTED.items()):
        with open(os.path.join(HERE, name + ".bin"), "wb") as f:
            f.write(data)
    for container, label in (("<", "set"), (">", "frozenset"), ("{", "dict-key")):
        with open(os.path.join(HERE, "3.11-tuple-dag-in-%s.bin" % label), "wb") as f:
            f.write(dag_in(container, 60))
    import sys
    if sys.version_info >= (3, 8):
        name = "%d.%d-shared-code-dag.bin" % sys.version_info[:2]
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(make_code_dag())


if __name__ == "__main__":
    main()
