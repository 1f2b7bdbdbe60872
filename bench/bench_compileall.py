"""Benchmark: ``python -m compileall`` against ``python -m bytecast.compileall``.

Same corpus and method as bench/bench_compile.py: a copy of the running interpreter's stdlib
(absolute paths), every tool under the same interpreter in a fresh virtual environment,
bytecast imported from this checkout (its modules already compiled), medians of several runs.

Measured, each for the stdlib module and for bytecast's, with the same arguments:
  - cold ``-q -j0`` (no caches) and no-op ``-q -j0`` (everything fresh);
  - cold ``-q`` with the default one worker;
  - no-op ``-q -j0 --invalidation-mode checked-hash`` (the stdlib recompiles every file;
    bytecast hashes the sources and compiles nothing, cpython#121577).

    python bench/bench_compileall.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


# The corpus and the way tools are run are the compile benchmark's, so figures compare.
from bench_compile import bench_env, copy_stdlib, drop_caches, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bytecast-bench-")).resolve()
    try:
        py, env = bench_env(work)
        tree = copy_stdlib(work / "stdlib")
        count = sum(1 for _ in tree.rglob("*.py"))
        tools = {"compileall": [py, "-m", "compileall"], "bytecast": [py, "-m", "bytecast.compileall"]}
        cases = {
            "cold -q -j0": (None, ["-q", "-j0"]),
            "no-op -q -j0": (["-q", "-j0"], ["-q", "-j0"]),
            "cold -q (one worker)": (None, ["-q"]),
            "checked-hash no-op -q -j0": (["-q", "-j0", "--invalidation-mode", "checked-hash"],
                                          ["-q", "-j0", "--invalidation-mode", "checked-hash"]),
        }
        rows: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for case, (setup, argv) in cases.items():
                for tool, cmd in tools.items():
                    if setup is None:
                        drop_caches(tree)
                    else:
                        drop_caches(tree)
                        subprocess.run(cmd + setup + [str(tree)], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    rows.setdefault((case, tool), []).append(timed(cmd + argv + [str(tree)], env))

        med = {k: statistics.median(v) for k, v in rows.items()}
        print(f"corpus: {count} files of the Python {sys.version_info[0]}.{sys.version_info[1]} stdlib, "
              f"{os.cpu_count()} CPUs, medians of {args.runs} runs")
        print(f"{'':28s} {'compileall':>11s} {'bytecast':>11s} {'ratio':>7s}")
        for case in cases:
            a, b = med[(case, "compileall")], med[(case, "bytecast")]
            print(f"{case:28s} {a:9.3f} s {b:9.3f} s {a / b:6.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
