"""Fuzz every reader entry point in-process with crafted and mutated pycs.

    python bench/fuzz_readers.py [--count 100000] [--seed 1] [--budget 2.0] [--show 5] [--no-memory]

Makes ``--count`` files: half crafted (random marshal objects and code objects of every
Python the reader accepts, with huge lengths and integers, deep nesting, reference loops,
absurd code fields, surrogates and escapes, hash bombs), half byte flips, cuts and inserts
of real pycs (tests/data/fuzz/seeds) and of the committed hostile inputs. Each goes through
``loads``, ``inspect_pyc``, ``disassemble``, ``find_imports`` and ``imports.scan`` (with its
text listing), under a per-file alarm of ``--budget`` seconds and tracemalloc. A bytecast
error (DataError and its kin, an OSError) is an answer; anything else is a traceback.
Prints tracebacks, hangs, the worst time and the worst peak memory per file, and whether the
goal held: no traceback, no hang, no file over 1 s or over 20x its size + 50 MB.

tracemalloc slows allocation-heavy reads 8-13x (measured on the slowest files), so the times
it gives are not a file's cost: run the same ``--seed`` again with ``--no-memory`` for the
times (the same files, without tracemalloc), and take the memory from the first run.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import struct
import sys
import tempfile
import time
import traceback
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
DATA = os.path.join(HERE, "..", "tests", "data", "fuzz")

from bytecast.disasm import disassemble
from bytecast.errors import BytecastError
from bytecast.imports import find_imports, listing, scan
from bytecast.inspect import inspect_pyc, tree_lines
from bytecast.magic import header_size_for
from bytecast.unmarshal import CodeRecord, loads

MAGICS = {(2, 3): 62021, (2, 4): 62061, (2, 5): 62131, (2, 6): 62161, (2, 7): 62211,
          (3, 0): 3131, (3, 1): 3151, (3, 2): 3180, (3, 3): 3230, (3, 4): 3310,
          (3, 5): 3351, (3, 6): 3379, (3, 7): 3394, (3, 8): 3413, (3, 9): 3425,
          (3, 10): 3439, (3, 11): 3495, (3, 12): 3531, (3, 13): 3571, (3, 14): 3627}
_LOW7 = bytes(b & 0x7F for b in range(256))
SURPRISES = ["\ud800", "\x1b[2J", "\x1b]0;x\x07", "\r", "\x00", "\u202e", "é", "\U0001f600"]


def i32(n: int) -> bytes:
    return struct.pack("<i", max(-2**31, min(2**31 - 1, n)))


class Maker:
    """Random marshal data for one Python version."""

    def __init__(self, rng: random.Random, version: tuple[int, int]) -> None:
        self.rng = rng
        self.version = version
        self.refs = 0
        self.refs_ok = version >= (3, 4)

    def length(self) -> int:
        r = self.rng.random()
        if r < 0.05:
            return self.rng.choice([2**31 - 1, -1, 2**30, 65536])
        return self.rng.randrange(0, 6 if r < 0.9 else 300)

    def flag(self, code: bytes) -> bytes:
        if self.refs_ok and self.rng.random() < 0.3:
            self.refs += 1
            return bytes([code[0] | 0x80]) + code[1:]
        return code

    def text(self) -> bytes:
        rng = self.rng
        s = "".join(rng.choice(SURPRISES + ["a", "b", ".", "os", "_"])
                    for _ in range(rng.randrange(0, 8)))
        raw = s.encode("utf-8", "surrogatepass")
        if self.version[0] == 2:
            return rng.choice([b"s", b"t"]) + i32(len(raw)) + raw
        return self.flag(b"u") + i32(len(raw)) + raw

    def long(self) -> bytes:
        rng = self.rng
        n = rng.choice([1, 3, 5, 40, 2000, 20000]) if rng.random() < 0.9 else self.length()
        raw = bytearray(rng.randbytes(2 * min(max(n, 0), 20000)))
        raw[1::2] = bytes(raw[1::2]).translate(_LOW7)
        if raw:
            raw[-2] |= 1  # a normalized top digit
        digits = bytes(raw)
        return self.flag(b"l") + i32(n * rng.choice([1, -1])) + digits

    def obj(self, depth: int = 0) -> bytes:
        rng = self.rng
        if depth > 6 or rng.random() < 0.35:
            kind = rng.randrange(8)
            if kind == 0:
                return rng.choice([b"N", b"T", b"F", b".", b"S"])
            if kind == 1:
                return self.flag(b"i") + i32(rng.choice([0, 1, -1, 2**31 - 1, rng.randrange(-9, 99)]))
            if kind == 2:
                return self.long()
            if kind == 3:
                return self.text()
            if kind == 4 and self.refs:
                return b"r" + i32(rng.choice([rng.randrange(self.refs), self.refs + 5, -1]))
            if kind == 5:
                return b"g" + struct.pack("<d", rng.random())
            n = self.length()
            return self.flag(b"s") + i32(n) + bytes(rng.randrange(256) for _ in range(min(max(n, 0), 64)))
        kind = rng.randrange(7)
        if kind == 6 or depth == 0 and rng.random() < 0.5:
            return self.code(depth + 1)
        n = self.length()
        items = b"".join(self.obj(depth + 1) for _ in range(min(max(n, 0), 8)))
        if kind == 0:
            return self.flag(b"(") + i32(n) + items
        if kind == 1:
            return self.flag(b"[") + i32(n) + items
        if kind == 2:
            return self.flag(b"{") + items + (b"N" if n % 2 else b"") + b"0"
        if kind == 3:
            return self.flag(b"<") + i32(n) + items
        if kind == 4:
            return self.bomb()
        return self.flag(b">") + i32(n) + items

    def bomb(self) -> bytes:
        """A DAG of tuples in a set (or many keys sharing one tuple)."""
        rng = self.rng
        if not self.refs_ok:
            return b"(" + i32(1000) + b"N" * 1000
        base = self.refs
        levels = rng.randrange(2, 40)
        inner = b"\xa8" + i32(2) + b"NN"
        for k in range(1, levels):
            inner = b"\xa8" + i32(2) + inner + b"r" + i32(base + levels - k)
        self.refs += levels
        count = rng.randrange(1, 400)
        rest = b"".join(b"(" + i32(2) + b"r" + i32(base) + b"i" + i32(k) for k in range(count))
        return b"<" + i32(count + 1) + inner + rest

    def bytecode(self) -> bytes:
        rng = self.rng
        out = bytearray()
        for _ in range(rng.randrange(0, 60)):
            op = rng.choice([144, 71, 100, 83, 108, 75, 110, 124, 9, rng.randrange(256)])
            reps = rng.choice([1, 1, 1, 50, 700]) if op in (144, 71) else 1
            out += bytes([op, rng.choice([0, 1, 255, rng.randrange(256)])]) * reps
        return bytes(out)

    def code(self, depth: int) -> bytes:
        rng = self.rng
        v = self.version
        ints = 4 if v[0] == 2 else 6 if (3, 8) <= v < (3, 11) else 5
        fields = b"".join(i32(rng.choice([0, 1, 3, -1, 2**31 - 1])) for _ in range(ints))
        table = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        if rng.random() < 0.1:
            table += bytes([0x7F]) * rng.choice([10, 1000, 5000]) + b"\x01"
        names = b"(" + i32(2) + self.text() + self.text()
        consts = b"(" + i32(3) + self.obj(depth + 1) + self.obj(depth + 1) + (
            self.code(depth + 1) if depth < 3 and rng.random() < 0.4 else b"N")
        parts = [b"s" + i32(len(c)) + c for c in [self.bytecode()]] + [consts, names]
        if v >= (3, 11):
            parts += [names, b"s" + i32(2) + bytes([rng.choice([0x20, 0x40, 0x80, 0x60]), 0x20]),
                      self.text(), self.text(), self.text(), i32(rng.randrange(-5, 10**6)),
                      b"s" + i32(len(table)) + table, b"s" + i32(len(table)) + table]
        else:
            parts += [names, b"(" + i32(0), b"(" + i32(0), self.text(), self.text(),
                      i32(rng.randrange(-5, 10**6)), b"s" + i32(len(table)) + table]
        if rng.random() < 0.05:  # absurd field: a wrong type somewhere
            parts[rng.randrange(len(parts))] = self.obj(depth + 1)
        return self.flag(b"c") + fields + b"".join(parts)


def pyc(version: tuple[int, int], payload: bytes) -> bytes:
    magic = MAGICS[version]
    return struct.pack("<H", magic) + b"\r\n" + b"\x00" * (header_size_for(magic) - 4) + payload


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        pos = rng.randrange(max(len(buf), 1))
        kind = rng.randrange(5)
        if kind == 0 and buf:
            buf[pos] = rng.randrange(256)
        elif kind == 1:
            del buf[pos:]
        elif kind == 2:
            buf[pos:pos] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"r\x00\x00\x00\x00",
                                       b"\x90\xff" * 100, b"(", b"\xe3", b"\x7f" * 50])
        elif kind == 3 and buf:
            buf[pos:pos + 4] = bytes(rng.randrange(256) for _ in range(4))
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    return bytes(buf)


def seeds() -> list[tuple[tuple[int, int], bytes]]:
    out = []
    for folder in (os.path.join(DATA, "seeds"), os.path.join(DATA, "hostile")):
        for name in sorted(n for n in os.listdir(folder) if n.endswith((".pyc", ".bin"))):
            path = os.path.join(folder, name)
            version = tuple(int(x) for x in name.split("-")[0].replace(".pyc", "").split("."))
            with open(path, "rb") as f:
                data = f.read()
            out.append((version, data if name.endswith(".pyc") else pyc(version, data)))  # type: ignore[arg-type]
    return out


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def exercise(path: str, version: tuple[int, int], data: bytes) -> None:
    """Every reader entry point on one file; bytecast errors are answers."""
    magic = int.from_bytes(data[:2], "little")
    try:
        loads(data, version, start=min(header_size_for(magic), len(data)))
    except BytecastError:
        pass
    try:
        info = inspect_pyc(path)
    except (BytecastError, OSError):
        info = None
    if info is not None and isinstance(info.code, CodeRecord):
        tree_lines(info.tree) if info.tree is not None else None
        try:
            disassemble(info.code)
            find_imports(info.code)
        except BytecastError:
            pass
    listing(scan([path]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds before a hang")
    parser.add_argument("--show", type=int, default=5, help="tracebacks to print")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="time the files without tracemalloc (which slows allocation-heavy reads 8-13x) "
                        "and measure no memory; run the same --seed once each way")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    real = seeds()
    versions = sorted(MAGICS)
    signal.signal(signal.SIGALRM, _alarm)
    tracebacks: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    hangs: list[str] = []
    worst_time = (0.0, "", 0)
    worst_mem = (0.0, "", 0, 0)
    over = 0
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.count):
            if n % 2:
                version, base = rng.choice(real)
                data = mutate(rng, base)
                label = f"#{n} flip of {version[0]}.{version[1]}"
            else:
                version = rng.choice(versions)
                data = pyc(version, Maker(rng, version).obj())
                label = f"#{n} crafted {version[0]}.{version[1]}"
            path = os.path.join(tmp, f"m{n % 10}.pyc")
            with open(path, "wb") as f:
                f.write(data)
            if args.memory:
                tracemalloc.reset_peak()
            base_mem = tracemalloc.get_traced_memory()[0] if args.memory else 0
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, args.budget)
            try:
                exercise(path, version, data)
            except Hang:
                hangs.append(label)
            except Exception:
                signal.setitimer(signal.ITIMER_REAL, 0)
                tb = traceback.format_exc()
                key = tb.strip().splitlines()[-1][:120]
                tracebacks[key] += 1
                examples.setdefault(key, f"{label}\n{tb}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] - base_mem if args.memory else 0
            if elapsed > worst_time[0]:
                worst_time = (elapsed, label, len(data))
            if peak > worst_mem[0]:
                worst_mem = (peak, label, len(data), peak)
            if elapsed > 1.0 or peak > 20 * len(data) + 50 * 2**20:
                over += 1
            if (n + 1) % 5000 == 0:
                print(f"... {n + 1} files, {time.perf_counter() - started:.0f} s", flush=True)
    if args.memory:
        tracemalloc.stop()
    print(f"{args.count} files in {time.perf_counter() - started:.0f} s (seed {args.seed})")
    print(f"tracebacks: {sum(tracebacks.values())} ({len(tracebacks)} distinct)")
    for key, count in tracebacks.most_common(args.show):
        print(f"--- {count}x {key}\n{examples[key]}")
    print(f"hangs (> {args.budget} s): {len(hangs)}" + (f": {', '.join(hangs[:10])}" if hangs else ""))
    print(f"worst time: {worst_time[0]:.3f} s ({worst_time[1]}, {worst_time[2]} bytes)")
    if args.memory:
        print(f"worst peak memory: {worst_mem[0] / 2**20:.1f} MB ({worst_mem[1]}, {worst_mem[2]} bytes)")
    else:
        print("worst peak memory: not measured (--no-memory)")
    print(f"files over 1 s or 20x their size + 50 MB: {over}")
    ok = not tracebacks and not hangs and not over
    print("goal met" if ok else "goal NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
