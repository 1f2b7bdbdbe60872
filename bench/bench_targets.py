"""Benchmark: one cold compile of the stdlib corpus for 3.9, 3.10, 3.11, 3.12 and 3.13 together.

Corpus: a copy of the running 3.11 standard library (``sysconfig`` stdlib path, no
``site-packages``, no caches) minus the files that fail to compile on any of the five
targets (they are counted and printed; bytecast would report them, the floors skip them).

Printed, medians of ``--runs`` runs:

- the floor of each target: CPU seconds of ``compile()`` + ``marshal.dumps`` over the corpus
  already in memory, measured by that target's own interpreter (``-I -S``), one process;
- sum of the floors / cores (the best a perfect scheduler could do);
- the parallel floor of each target: one such process per core, each on an even share,
  run at once (the longest one's CPU seconds), and their sum: on a machine whose cores slow
  each other down (SMT siblings, a shared host) this is the true bound for a run that keeps
  every core busy;
- bytecast cold wall time for all five targets in one run (``compile --target ...``);
- the ratio of the two (the goal is <= 1.15);
- the no-op wall time of the same command once everything is fresh (the goal is <= 0.1 s).

bytecast runs from a fresh virtual environment (as in bench_compile.py), so .pth files of the
machine's site-packages add no start-up time.

Usage: ``python3 bench/bench_targets.py [--runs N] [--dir /dev/shm]``; interpreters are found
with ``bytecast targets``; a missing one is skipped and said so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compile import bench_env, floor, parallel_floor

PY, ENV = sys.executable, dict(os.environ)  # replaced in main() by a fresh venv's


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "bytecast", *args], env=ENV, capture_output=True, text=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=None, help="folder to hold the corpus (default: the system's temp)")
    args = parser.parse_args()
    global PY, ENV
    venv = tempfile.mkdtemp(prefix="bytecast-bench-venv-")
    PY, ENV = bench_env(Path(venv))
    found = json.loads(cli("targets", "--json").stdout)["targets"]
    exes: dict[str, str] = {}
    for version in VERSIONS:
        for t in sorted(found, key=lambda t: not t["current"]):
            if t["version"].startswith(version + "."):
                exes.setdefault(version, t["executable"])
        if version not in exes:
            print(f"skipped: no Python {version} found")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        corpus = Path(tmp) / "stdlib"
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        shutil.copytree(stdlib, corpus, ignore=lambda d, names: {
            n for n in names if n in ("__pycache__", "site-packages") or not (n.endswith(".py") or os.path.isdir(os.path.join(d, n)))})
        bad: set[str] = set()
        for exe in exes.values():
            _, _, failed = floor(exe, corpus)
            bad.update(failed)
        for path in bad:
            os.unlink(path)
        n = sum(1 for _ in corpus.rglob("*.py"))
        print(f"corpus: the {sys.version_info[0]}.{sys.version_info[1]} standard library, {n} files "
              f"({len(bad)} removed: they fail to compile on one of {', '.join(exes)}); {cores} cores")

        floors: dict[str, list[float]] = {v: [] for v in exes}
        pfloors: dict[str, list[float]] = {v: [] for v in exes}
        walls: list[float] = []
        cpus: list[float] = []
        noops: list[float] = []
        targets = [a for v in exes for a in ("--target", v)]
        for _ in range(args.runs):
            for version, exe in exes.items():
                floors[version].append(floor(exe, corpus)[1])
                pfloors[version].append(parallel_floor(exe, corpus, cores))
            for cache in corpus.rglob("__pycache__"):
                shutil.rmtree(cache)
            import resource

            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = cli("compile", "-q", *targets, str(corpus))
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if out.returncode != 0:
                print(out.stderr[-2000:])
                return 1
            for _ in range(3):
                start = time.perf_counter()
                out = cli("compile", "-q", *targets, str(corpus))
                noops.append(time.perf_counter() - start)
        for version in exes:
            print(f"floor {version:5}  {statistics.median(floors[version]):6.2f} s CPU   "
                  f"parallel floor {statistics.median(pfloors[version]):6.2f} s")
        ideal = sum(statistics.median(f) for f in floors.values()) / cores
        pideal = sum(statistics.median(f) for f in pfloors.values())
        wall = statistics.median(walls)
        print(f"sum of floors / cores   {ideal:6.2f} s")
        print(f"sum of parallel floors  {pideal:6.2f} s  ({pideal / ideal:.2f}x the floors / cores)")
        print(f"bytecast cold, {len(exes)} targets {wall:6.2f} s wall")
        print(f"ratio                   {wall / ideal:6.2f}  (goal <= 1.15)")
        print(f"ratio to parallel       {wall / pideal:6.2f}")
        # CPU does not depend on what else the machine runs; wall does (load average below).
        cpu = statistics.median(cpus)
        print(f"bytecast CPU / floors   {cpu / (ideal * cores):6.2f}  ({cpu:.2f} s CPU)")
        print(f"load average            {os.getloadavg()[0]:6.2f}")
        print(f"no-op, {len(exes)} targets      {statistics.median(noops):6.3f} s  (goal <= 0.1)")
    shutil.rmtree(venv, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
