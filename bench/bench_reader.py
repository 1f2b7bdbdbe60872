"""Benchmark bytecast's pure-Python marshal reader over a standard library's pycs.

    python bench/bench_reader.py [--runs 5] [--libdir DIR] [--xdis]

Reads every pyc (all optimization levels, site-packages excluded) into memory first, then
times: the full read with bytecast.unmarshal.loads (MB of pyc per second, median of --runs),
optionally xdis's pure-Python loader on the same bytes, and a header-only inspect of every
file (bytecast.inspect.inspect_pyc(read_code=False), which also looks for the source).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from bytecast.inspect import inspect_pyc
from bytecast.unmarshal import loads, python_for_magic


def _pycs(libdir: str) -> list:
    out = []
    for folder, dirs, files in os.walk(libdir):
        dirs[:] = [d for d in dirs if d != "site-packages"]
        out.extend(os.path.join(folder, f) for f in files if f.endswith(".pyc"))
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--libdir", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--xdis", action="store_true", help="also time xdis if installed")
    args = parser.parse_args()
    paths = _pycs(args.libdir)
    blobs = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        version = python_for_magic(int.from_bytes(data[:2], "little"))
        size = 16 if version and version >= (3, 7) else 12 if version and version >= (3, 3) else 8
        blobs.append((data, size, version))
    total = sum(len(b[0]) for b in blobs)
    print(f"{len(blobs)} pycs, {total / 1e6:.1f} MB under {args.libdir}")

    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for data, size, version in blobs:
            loads(data[size:], version)
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    print(f"bytecast reader: {med:.2f} s, {total / 1e6 / med:.1f} MB/s (median of {args.runs})")

    if args.xdis:
        try:
            from xdis.magics import magic2int
            from xdis.unmarshal import load_code
        except ImportError:
            print("xdis not installed; skipped")
        else:
            import io

            xt = []
            failures = 0
            for _ in range(max(1, args.runs // 2)):
                failures = 0
                start = time.perf_counter()
                for data, size, _version in blobs:
                    try:
                        load_code(io.BytesIO(data[size:]), magic2int(data[:4]))
                    except Exception:
                        failures += 1
                xt.append(time.perf_counter() - start)
            xm = statistics.median(xt)
            print(f"xdis pure loader: {xm:.2f} s, {total / 1e6 / xm:.1f} MB/s "
                  f"({failures} files failed)")

    plain = [p for p in paths if ".opt-" not in p]
    for label, group in (("one pyc per module (no .opt-N)", plain), ("every pyc", paths)):
        ht = []
        for _ in range(args.runs):
            start = time.perf_counter()
            for p in group:
                inspect_pyc(p, read_code=False)
            ht.append(time.perf_counter() - start)
        print(f"header-only inspect, {label}: {len(group)} pycs in "
              f"{statistics.median(ht):.3f} s (median of {args.runs})")


if __name__ == "__main__":
    main()
