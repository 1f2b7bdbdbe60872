"""Benchmark: bytecast against compileall on a copy of the running interpreter's stdlib.

Prints, side by side in one run, medians of several runs:
  - the floor: CPU seconds of compile() + marshal.dumps over every source already in memory,
    divided by the usable cores (what no tool can beat), measured in one process; and the
    parallel floor: one such process per core, each on an even share, run at once (the
    longest one's CPU seconds). On a machine whose cores slow each other down (SMT siblings,
    a shared host) the parallel floor is the true bound for any tool that uses every core;
  - compileall -q -j0 and bytecast compile, cold (no caches) and no-op (all fresh);
  - both again with checked-hash pycs (the no-op must hash sources, not recompile them);
  - uv (when installed: ``pip install uv``), which compiles what it installs: the corpus is
    packed into a wheel, and uv's compile time is its install with ``--compile-bytecode`` minus
    the same install without it (uv has no no-op compile to compare);
  - clean of every cache (bytecast clean; pyclean too when it is installed), each after a
    sync, so that neither pays for the disk writes of the compile before it;
  - with --scale N: N copies of the stdlib, time and the main process's peak memory
    against one copy (memory must stay flat as the tree grows);
  - with --counters (Linux ``perf stat``): instructions and CPU cycles of the floor, the
    parallel floor and each tool's cold run, against the floor process. Instructions hardly
    vary from run to run: they show the work a tool adds to compiling (its start-up, walk,
    reads, writes, messages). Cycles show what running on every core at once costs besides:
    the parallel floor runs the floor's instructions in more cycles when the cores slow each
    other down. (The floor process here is whole: start-up, walk and reads included.)

--dir puts the corpus on another file system (a tmpfs such as /dev/shm shows the tools'
own overhead; a disk adds what creating ~1,800 files costs there, which no tool avoids).

The corpus is the standard library minus the files the running interpreter cannot compile
(its deliberately broken test files), so a no-op run is a true no-op for every tool.
Every tool runs under the same interpreter: the real binary behind ``sys.executable``, in a
fresh virtual environment made for the run, so .pth files of the machine's site-packages
add no start-up time to any of them. bytecast is imported from this checkout.

    python bench/bench_compile.py [--runs 5] [--scale 10] [--dir /dev/shm] [--counters]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

FLOOR = textwrap.dedent(
    """
    import marshal, os, sys, time, warnings
    warnings.simplefilter("ignore")
    root, share, shares = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths += [os.path.join(folder, n) for n in sorted(files) if n.endswith(".py")]
    paths.sort(key=lambda p: -os.path.getsize(p))  # dealt largest first: even shares
    sources = []
    for path in paths[share::shares]:
        with open(path, "rb") as f:
            sources.append((path, f.read()))
    failed = []
    start = time.process_time()
    for path, data in sources:
        try:
            marshal.dumps(compile(data, path, "exec", dont_inherit=True))
        except Exception:
            failed.append(path)
    print(repr((len(paths), time.process_time() - start, failed)))
    """
)
"""CPU seconds of compile() + marshal.dumps over one share of a tree's sources, in memory.
Runs under any interpreter the benchmarks measure (3.9 and later)."""


def floor(exe: str, tree: Path, share: int = 0, shares: int = 1) -> tuple[int, float, list[str]]:
    """(sources in the tree, CPU seconds, paths that fail to compile) of one floor process."""
    import ast

    out = subprocess.run([exe, "-I", "-S", "-c", FLOOR, str(tree), str(share), str(shares)],
                         capture_output=True, text=True, check=True)
    count, cpu, failed = ast.literal_eval(out.stdout)
    return count, cpu, failed


def parallel_floor(exe: str, tree: Path, shares: int) -> float:
    """The longest CPU time of ``shares`` floor processes run at once, each on an even share."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(shares) as pool:
        return max(cpu for _, cpu, _ in pool.map(lambda i: floor(exe, tree, i, shares), range(shares)))


def counters(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float] | None:
    """(instructions, cycles) of a command and its children, by ``perf stat``; None when the
    machine cannot count them."""
    try:
        out = subprocess.run(["perf", "stat", "-x", ",", "-e", "instructions,cycles", "--", *argv], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        return None
    found: dict[str, float] = {}
    for line in out.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] in ("instructions", "cycles"):
            try:
                found[fields[2]] = float(fields[0])
            except ValueError:  # "<not supported>", "<not counted>"
                return None
    if len(found) < 2:
        return None
    return found["instructions"], found["cycles"]


def parallel_floor_argv(exe: str, tree: Path, shares: int) -> list[str]:
    """One command running ``shares`` floor processes at once (for counting them together)."""
    each = " ".join(f'"$0" -I -S -c "$1" "$2" {i} {shares} &' for i in range(shares))
    return ["sh", "-c", f"{each} wait", exe, FLOOR, str(tree)]


PEAK = textwrap.dedent(
    """
    import resource, sys
    from bytecast.cli import main
    rc = main(sys.argv[1:])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
    sys.exit(rc)
    """
)


def instructions(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """Instructions of every process of one run of ``cmd``, as callgrind counts them: the same
    every run, whatever else the machine does (``PYTHONHASHSEED=0``; kernel work not counted)."""
    import re

    env = dict(env, PYTHONHASHSEED="0")
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           "--trace-children=yes", *cmd], env=env, cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    counts = [int(n.replace(",", "")) for n in re.findall(r"Collected : ([\d,]+)", done.stderr)]
    if not counts:
        raise RuntimeError(f"callgrind counted nothing: {done.stderr.strip()[-300:]}")
    return float(sum(counts))


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def copy_stdlib(dest: Path) -> Path:
    shutil.copytree(
        sysconfig.get_paths()["stdlib"],
        dest,
        ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc", "*.so"),
        symlinks=True,
    )
    return dest


def drop_broken(tree: Path, py: str, env: dict[str, str]) -> int:
    """Remove the sources this interpreter cannot compile; returns how many."""
    import json

    out = subprocess.run([py, "-m", "bytecast", "compile", "--json", str(tree)], env=env,
                         capture_output=True, text=True)
    broken = {p["path"] for p in json.loads(out.stdout)["problems"]}
    for path in broken:
        os.unlink(path)
    drop_caches(tree)
    return len(broken)


def corpus_wheel(tree: Path, folder: Path) -> Path:
    """A wheel holding the corpus as one package folder, for uv to install and compile."""
    import zipfile

    folder.mkdir()
    name = "bytecastbenchcorpus"
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as zf:
        records = []
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                arc = f"{name}/{path.relative_to(tree).as_posix()}"
                zf.write(path, arc)
                records.append(arc)
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        records += [f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"]
        zf.writestr(f"{info}/RECORD", "".join(f"{r},,\n" for r in records))
    return folder


def find_uv() -> str | None:
    try:
        from uv import find_uv_bin  # the PyPI package ships the binary
    except ImportError:
        return shutil.which("uv")
    return str(find_uv_bin())


def drop_caches(tree: Path) -> None:
    for cache in list(tree.rglob("__pycache__")):
        shutil.rmtree(cache)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def make_venv(where: Path) -> str:
    real = os.path.realpath(sys.executable)
    subprocess.run([real, "-m", "venv", "--without-pip", str(where)], check=True)
    return str(where / "bin" / "python")


def bench_env(work: Path) -> tuple[str, dict[str, str]]:
    """A fresh venv's python, and the environment every tool runs in (bytecast from this checkout)."""
    py = make_venv(work / "venv")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = str(SRC)
    # bytecast's own modules load from bytecode, as they do once installed
    subprocess.run([py, "-m", "compileall", "-q", str(SRC)], check=True, env=env)
    return py, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=int, default=0, metavar="N", help="also measure N copies of the stdlib")
    parser.add_argument("--dir", default=None, help="folder to hold the corpus (default: the system's temp)")
    parser.add_argument("--counters", action="store_true",
                        help="also count instructions and cycles with perf stat (Linux)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bytecast-bench-", dir=args.dir)).resolve()
    try:
        py, env = bench_env(work)
        tree = copy_stdlib(work / "stdlib")
        broken = drop_broken(tree, py, env)
        n = cores()
        bc = [py, "-m", "bytecast"]
        ca = [py, "-m", "compileall", "-q", "-j0"]

        rows: dict[str, list[float]] = {}

        def floors() -> int:
            """Both floors, measured in each run beside the tools (the machine drifts)."""
            count, cpu, _ = floor(py, tree)
            rows.setdefault("floor", []).append(cpu / n)
            rows.setdefault("parallel floor", []).append(parallel_floor(py, tree, n))
            return count

        def measure(name: str, setup: list[str] | None, argv: list[str]) -> None:
            if setup is None or "checked-hash" in name:
                # compileall keeps a timestamp pyc when asked for checked-hash: start from none
                drop_caches(tree)
            if setup is not None:
                subprocess.run(setup, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if "clean" in name:
                os.sync()  # a clean must not pay for the writeback of the compile before it
            rows.setdefault(name, []).append(timed(argv, env))

        hashed = ["--invalidation-mode", "checked-hash"]
        try:
            import pyclean as _pyclean

            pyclean_env = {**env, "PYTHONPATH": os.path.dirname(os.path.dirname(_pyclean.__file__))}
            pyclean: list[str] | None = [os.path.realpath(sys.executable), "-m", "pyclean", "-q"]
        except ImportError:
            pyclean = None
        uv = find_uv()
        if uv:
            wheels = corpus_wheel(tree, work / "wheels")
            uv_base = [uv, "pip", "install", "-q", "--python", py, "--no-index", "--find-links", str(wheels),
                       "bytecastbenchcorpus"]
            uv_uninstall = [uv, "pip", "uninstall", "-q", "--python", py, "bytecastbenchcorpus"]

        counted: dict[str, list[tuple[float, float]]] = {}

        def count_runs() -> None:
            """Each cold run again under perf stat (apart from the timed runs: perf costs time)."""
            def add(name: str, value: tuple[float, float] | None) -> None:
                if value is not None:
                    counted.setdefault(name, []).append(value)

            add("floor process", counters([py, "-I", "-S", "-c", FLOOR, str(tree), "0", "1"]))
            add(f"parallel floor ({n} processes)", counters(parallel_floor_argv(py, tree, n)))
            drop_caches(tree)
            add("compileall cold", counters(ca + [str(tree)], env))
            drop_caches(tree)
            add("bytecast cold", counters(bc + ["compile", "-q", str(tree)], env))
            if uv:
                subprocess.run(uv_uninstall, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with_compile = counters(uv_base + ["--compile-bytecode"], env)
                subprocess.run(uv_uninstall, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                without = counters(uv_base, env)
                if with_compile and without:
                    add("uv cold (install+compile - install)",
                        (with_compile[0] - without[0], with_compile[1] - without[1]))

        for _ in range(args.runs):
            count = floors()
            if args.counters:
                count_runs()
            measure("compileall cold", None, ca + [str(tree)])
            measure("compileall no-op", ca + [str(tree)], ca + [str(tree)])
            measure("bytecast cold", None, bc + ["compile", "-q", str(tree)])
            measure("bytecast no-op", bc + ["compile", "-q", str(tree)], bc + ["compile", "-q", str(tree)])
            measure("compileall checked-hash no-op", ca + hashed + [str(tree)], ca + hashed + [str(tree)])
            measure("bytecast checked-hash no-op", bc + ["compile", "-q", *hashed, str(tree)],
                    bc + ["compile", "-q", *hashed, str(tree)])
            measure("bytecast clean", bc + ["compile", "-q", str(tree)], bc + ["clean", str(tree)])
            if pyclean:
                subprocess.run(bc + ["compile", "-q", str(tree)], env=env, stdout=subprocess.DEVNULL)
                os.sync()
                rows.setdefault("pyclean clean", []).append(timed(pyclean + [str(tree)], pyclean_env))
            # the same right after the compile, its files still in the page cache
            subprocess.run(bc + ["compile", "-q", str(tree)], env=env, stdout=subprocess.DEVNULL)
            rows.setdefault("bytecast clean, no sync", []).append(timed(bc + ["clean", str(tree)], env))
            if pyclean:
                subprocess.run(bc + ["compile", "-q", str(tree)], env=env, stdout=subprocess.DEVNULL)
                rows.setdefault("pyclean clean, no sync", []).append(timed(pyclean + [str(tree)], pyclean_env))
            if uv:
                # uv compiles what it installs: its compile time is install-with-compile minus install.
                subprocess.run(uv_uninstall, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with_compile = timed(uv_base + ["--compile-bytecode"], env)
                subprocess.run(uv_uninstall, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                rows.setdefault("uv cold (install+compile - install)", []).append(with_compile - timed(uv_base, env))

        med = {k: statistics.median(v) for k, v in rows.items()}
        print(f"corpus: {count} files of the Python {sys.version_info[0]}.{sys.version_info[1]} stdlib "
              f"({broken} that do not compile left out), {n} cores, medians of {args.runs} runs")
        base, pbase = med.pop("floor"), med.pop("parallel floor")
        print(f"{'floor (compile+marshal CPU / cores)':40s} {base:8.3f} s   1.00x floor")
        print(f"{'parallel floor (longest of ' + str(n) + ' at once)':40s} {pbase:8.3f} s   "
              f"{pbase / base:.2f}x floor")
        for name, value in med.items():
            extra = f"   {value / base:.2f}x floor  {value / pbase:.2f}x parallel floor" if " cold" in name else ""
            print(f"{name:40s} {value:8.3f} s{extra}")
        print(f"{'cold: compileall / bytecast':40s} {med['compileall cold'] / med['bytecast cold']:8.2f}x")
        if uv:
            uv_cold = med["uv cold (install+compile - install)"]
            print(f"{'cold: uv / bytecast':40s} {uv_cold / med['bytecast cold']:8.2f}x")
        print(f"{'no-op: compileall / bytecast':40s} {med['compileall no-op'] / med['bytecast no-op']:8.2f}x")
        print(f"{'checked-hash no-op: compileall / bytecast':40s} "
              f"{med['compileall checked-hash no-op'] / med['bytecast checked-hash no-op']:8.2f}x")
        if pyclean:
            for suffix in ("", ", no sync"):
                print(f"{'clean' + suffix + ': pyclean / bytecast':40s} "
                      f"{med['pyclean clean' + suffix] / med['bytecast clean' + suffix]:8.2f}x")

        if counted:
            if "floor process" not in counted:
                print("counters: perf stat cannot count instructions and cycles here")
            else:
                cmed = {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs))
                        for k, vs in counted.items()}
                insn, cyc = cmed["floor process"]
                print(f"perf stat, medians of {args.runs} runs (G = 10^9):")
                for name, (i, c) in cmed.items():
                    print(f"{name:40s} {i / 1e9:7.2f} G instructions {i / insn:6.3f}x   "
                          f"{c / 1e9:7.2f} G cycles {c / cyc:6.3f}x")
        elif args.counters:
            print("counters: perf stat is not installed")

        if args.scale:
            def peak(root: Path) -> tuple[float, int]:
                drop_caches(root)
                start = time.perf_counter()
                out = subprocess.run([py, "-c", PEAK, "compile", "-q", str(root)], env=env,
                                     capture_output=True, text=True)
                wall = time.perf_counter() - start
                return wall, int(out.stderr.strip().splitlines()[-1])

            one_time, one_mem = peak(tree)
            big = work / "scaled"
            big.mkdir()
            for i in range(args.scale):
                shutil.copytree(tree, big / f"copy{i}", ignore=shutil.ignore_patterns("__pycache__"))
            many_time, many_mem = peak(big)
            print(f"{'one copy: cold wall, main peak RSS':40s} {one_time:8.3f} s  {one_mem / 1024:7.1f} MiB")
            print(f"{f'{args.scale} copies: cold wall, main peak RSS':40s} {many_time:8.3f} s  {many_mem / 1024:7.1f} MiB")
            print(f"{'scale: time ratio, memory ratio':40s} {many_time / one_time:8.2f}x  {many_mem / one_mem:7.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
