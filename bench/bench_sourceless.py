"""Benchmark: a sourceless tree of a real application, bytecast against the manual way.

The input is an application with its dependencies (flask and what it needs, installed by pip
into a folder, with RECORD and all). Each run makes a fresh OUT from it, three ways, and the
medians of several runs are printed with their ratios:

  - ``bytecast sourceless IN -o OUT``: copy, compile (every core), read every pyc back with
    bytecast's own reader, find the files to keep, remove sources, rewrite RECORD, rename;
  - the manual way: ``cp -a IN OUT``, ``python -m compileall -q -b -j0 OUT``, then delete every
    ``.py`` and ``__pycache__`` (no check, nothing kept, RECORD left wrong);
  - the tool-free limit: ``cp -a IN OUT``, then one plain process per core, each compiling an
    even share of the modules (largest first, dealt round) and writing its ``NAME.pyc`` files
    (temporary file + rename) and removing the sources. No tool does less and ships the tree;
  - limit+check: the same, each process also doing per module what a tree safe to ship needs
    and the limit leaves out: the pyc read back and compared with the bytes written, loaded
    with ``marshal.loads`` and hashed with sha256 (RECORD lists it).

Every command runs under the same interpreter (the real binary behind ``sys.executable``, in a
fresh virtual environment, bytecast from this checkout). Wall and CPU seconds (user + system of
the command and every process it started) are both printed: on a shared machine the wall time
mostly says how busy the other users are.

    python bench/bench_sourceless.py [--runs 5] [--dir /dev/shm] [--app flask] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compile import bench_env, cores, instructions  # a sibling script, not a package

LIMIT = textwrap.dedent(
    """
    import importlib.util, marshal, os, sys
    source, root, share, shares = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rels = []
    for folder, dirs, files in os.walk(source):  # IN, which nobody changes: the same list in every share
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rels += [os.path.relpath(os.path.join(folder, n), source) for n in sorted(files) if n.endswith(".py")]
    rels.sort(key=lambda r: -os.path.getsize(os.path.join(source, r)))  # dealt largest first: even shares
    head = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little")
    for path in [os.path.join(root, r) for r in rels[share::shares]]:
        with open(path, "rb") as f:
            data = f.read()
        body = marshal.dumps(compile(data, path, "exec", dont_inherit=True))
        cfile = path + "c"
        tmp = cfile + ".tmp"
        with open(tmp, "wb") as f:
            f.write(head + importlib.util.source_hash(data) + body)
        os.replace(tmp, cfile)
        os.unlink(path)
    """
)
"""One share of the limit: compile, write NAME.pyc atomically (unchecked-hash), remove the source."""

LIMIT_CHECKED = LIMIT.replace(
    "    os.replace(tmp, cfile)\n",
    "    os.replace(tmp, cfile)\n"
    "    with open(cfile, 'rb') as f:\n"
    "        back = f.read()\n"
    "    assert back == head + importlib.util.source_hash(data) + body\n"
    "    marshal.loads(back[16:])\n"
    "    hashlib.sha256(back).digest()\n",
).replace("import importlib.util, marshal, os, sys", "import hashlib, importlib.util, marshal, os, sys")
"""The limit, and what a tree safe to ship needs of each module that it leaves out: the pyc read
back and compared, loaded (``marshal.loads``) and hashed (sha256, for RECORD)."""
assert "sha256" in LIMIT_CHECKED and "hashlib" in LIMIT_CHECKED  # the limit's text changed: say so here

MANUAL = ('cp -a "$1" "$2" && "$0" -m compileall -q -b -j0 "$2" >/dev/null && '
          'find "$2" -name "*.py" -delete && find "$2" -name __pycache__ -prune -exec rm -rf {} +')


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of a command, and the CPU seconds (user + system) of it and its children:
    on a shared machine the wall time says how busy the others are, the CPU time what it costs."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def install_app(py: str, app: str, dest: Path, env: dict[str, str]) -> int:
    """Install ``app`` and its dependencies into ``dest`` with pip; returns how many modules."""
    done = subprocess.run([py, "-m", "pip", "install", "-q", "--no-compile", "--target", str(dest), app],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench_sourceless: pip could not install {app}: "
                         f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")
    for cache in dest.rglob("__pycache__"):
        shutil.rmtree(cache)
    return sum(1 for _ in dest.rglob("*.py"))


def limit_argv(py: str, inp: Path, out: Path, shares: int, script: str = LIMIT) -> list[str]:
    each = " ".join(f'"$0" -I -S -c "$1" "$2" "$3" {i} {shares} &' for i in range(shares))
    return ["sh", "-c", f'cp -a "$2" "$3" && {{ {each} wait; }}', py, script, str(inp), str(out)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", default=None, help="folder to hold the trees (default: the system's temp)")
    parser.add_argument("--app", default="flask", help="what pip installs as the application (default flask)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions once with callgrind (every process; "
                             "the same every run: the steadiest figure on a shared machine)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sourceless-", dir=args.dir))
    try:
        py, env = bench_env(work)
        pip_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        inp = work / "app"
        modules = install_app(os.path.realpath(sys.executable), args.app, inp, pip_env)
        n = cores()
        runs: dict[str, list[float]] = {"bytecast": [], "manual": [], "limit": [], "limit+check": []}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        argvs = {
            "bytecast": lambda out: [py, "-m", "bytecast", "sourceless", str(inp), "-o", str(out), "-q"],
            "manual": lambda out: ["sh", "-c", MANUAL, py, str(inp), str(out)],
            "limit": lambda out: limit_argv(py, inp, out, n),
            "limit+check": lambda out: limit_argv(py, inp, out, n, LIMIT_CHECKED),
        }
        for i in range(args.runs):
            for name, argv in argvs.items():
                out = work / f"out-{name}-{i}"
                wall, used = timed(argv(out), env)
                runs[name].append(wall)
                cpu[name].append(used)
                left = sum(1 for _ in out.rglob("*.py"))
                pycs = sum(1 for _ in out.rglob("*.pyc"))
                if pycs + (left if name == "bytecast" else 0) != modules:  # bytecast keeps what is data
                    raise SystemExit(f"bench_sourceless: {name} made {pycs} pycs of {modules} modules")
                if i == 0:
                    print(f"  {name:<9} {pycs} pyc, {left} .py left")
                shutil.rmtree(out)
        print(f"{args.app} and its dependencies: {modules} modules, {n} cores, median of {args.runs} runs")
        for label, table in (("wall", runs), ("CPU", cpu)):
            med = {name: statistics.median(times) for name, times in table.items()}
            for name in table:
                spread = f"{min(table[name]):.3f}-{max(table[name]):.3f}"
                print(f"  {label:<4} {name:<9} {med[name]:.3f} s  ({spread})")
            print(f"  {label:<4} bytecast / manual: {med['bytecast'] / med['manual']:.2f}x   "
                  f"bytecast / limit: {med['bytecast'] / med['limit']:.2f}x   "
                  f"bytecast / limit+check: {med['bytecast'] / med['limit+check']:.2f}x   "
                  f"manual / limit: {med['manual'] / med['limit']:.2f}x")
        if args.instructions:
            counted = {}
            for name, argv in argvs.items():
                out = work / f"out-{name}-callgrind"
                counted[name] = instructions(argv(out), env)
                if sum(1 for _ in out.rglob("*.pyc")) + sum(1 for _ in out.rglob("*.py")) != modules:
                    raise SystemExit(f"bench_sourceless: {name} did not make every pyc under callgrind")
                shutil.rmtree(out)
            print("  instructions (callgrind, every process, kernel work not counted):")
            for name, count in counted.items():
                print(f"  {name:<12} {count / 1e9:.3f} G  {count / counted['limit']:.3f}x limit  "
                      f"{count / counted['limit+check']:.3f}x limit+check")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
