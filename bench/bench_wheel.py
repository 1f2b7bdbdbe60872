"""Benchmark: ``bytecast wheel`` against pyc_wheel, wheel-compile and the manual way, on the same
real wheels from PyPI, in one run.

Every tool converts the same set of wheels (downloaded once into --cache) for the running
Python; each run starts from a fresh copy of the inputs (both anchors rewrite their input in
place). Medians of --runs runs, and each one's ratio to the tool-free limit:

  - limit: the modules of every wheel already in memory, compiled with compile() +
    marshal.dumps by one plain process per core on an even share (the longest one's time),
    plus writing every output archive from memory in one process (deflate level 6, as
    bytecast writes). No tool converting wheels does less;
  - limit+read+hash: the same, and the writing process also does what every correct converter
    must and the limit leaves out: it reads (inflates) each input archive and hashes every
    member with sha256 for the RECORD it writes last (the compile share is the limit's);
  - bytecast: ``python -m bytecast wheel W... -o DIR`` (one process for all wheels);
  - pyc_wheel 2.5.1 and wheel-compile 0.4.0: one process per wheel (each takes one), in venvs of
    their own made by this script in --cache (pip install; they are not bytecast's dependencies);
    a wheel a tool refuses still counts the time it took to refuse it;
  - manual: extract each wheel, ``python -m compileall -b -q -j0``, delete the sources, zip again.

Every tool runs with its own modules already compiled (bytecast's are compiled into its
``__pycache__`` once, as an installed bytecast has them). CPU seconds are printed too: user +
system of every process a tool starts; for the limits, the CPU time of their timed parts
(start-up and loading the inputs left out, which favours them).

    python bench/bench_wheel.py [--runs 5] [--cache DIR] [--instructions]
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
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

WHEELS = ("attrs==23.2.0", "pygments==2.17.2", "docutils==0.16", "virtualenv==20.25.0", "pyyaml==6.0.1",
          "bcrypt==4.1.2", "more-itertools==10.2.0", "jaraco.functools==4.0.1")
ANCHORS = {"pyc_wheel": "pyc_wheel==2.5.1", "wheel-compile": "wheel-compile==0.4.0"}

LIMIT_COMPILE = textwrap.dedent(
    """
    import marshal, sys, time, warnings, zipfile
    warnings.simplefilter("ignore")
    share, shares = int(sys.argv[1]), int(sys.argv[2])
    sources = []
    for path in sys.argv[3:]:
        with zipfile.ZipFile(path) as zf:
            for name in sorted(zf.namelist()):
                if name.endswith(".py") and ".data/" not in name:
                    sources.append((name, zf.read(name)))
    mine = sources[share::shares]
    start, cpu = time.perf_counter(), time.process_time()
    for name, data in mine:
        try:
            marshal.dumps(compile(data, name, "exec", dont_inherit=True))
        except SyntaxError:
            pass
    print(time.perf_counter() - start, time.process_time() - cpu)
    """
)

LIMIT_WRITE = textwrap.dedent(
    """
    import sys, time, zipfile
    out = sys.argv[1]
    archives = []
    for n, path in enumerate(sys.argv[2:]):
        with zipfile.ZipFile(path) as zf:
            archives.append([(i.filename, zf.read(i)) for i in zf.infolist() if not i.filename.endswith("/")])
    start, cpu = time.perf_counter(), time.process_time()
    for n, members in enumerate(archives):
        with zipfile.ZipFile(f"{out}/{n}.whl", "w") as zf:
            for name, data in members:
                zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED, 6)
    print(time.perf_counter() - start, time.process_time() - cpu)
    """
)

LIMIT_WRITE_FULL = textwrap.dedent(
    """
    import base64, hashlib, sys, time, zipfile
    out = sys.argv[1]
    start, cpu = time.perf_counter(), time.process_time()
    for n, path in enumerate(sys.argv[2:]):
        with zipfile.ZipFile(path) as zf:
            members = [(i.filename, zf.read(i)) for i in zf.infolist() if not i.filename.endswith("/")]
        rows = []
        with zipfile.ZipFile(f"{out}/{n}.whl", "w") as zf:
            for name, data in members:
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                rows.append(f"{name},sha256={digest},{len(data)}\\n")
                zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED, 6)
            zf.writestr(zipfile.ZipInfo("RECORD", (1980, 1, 1, 0, 0, 0)), "".join(rows), zipfile.ZIP_DEFLATED, 6)
    print(time.perf_counter() - start, time.process_time() - cpu)
    """
)

MANUAL = textwrap.dedent(
    """
    import os, shutil, subprocess, sys, tempfile, zipfile
    out = sys.argv[1]
    for path in sys.argv[2:]:
        work = tempfile.mkdtemp()
        with zipfile.ZipFile(path) as zf:
            zf.extractall(work)
        subprocess.run([sys.executable, "-m", "compileall", "-b", "-q", "-j0", work], stdout=subprocess.DEVNULL)
        for folder, dirs, files in os.walk(work):
            for f in files:
                if f.endswith(".py") and os.path.exists(os.path.join(folder, f + "c")):
                    os.unlink(os.path.join(folder, f))
        with zipfile.ZipFile(os.path.join(out, os.path.basename(path)), "w", zipfile.ZIP_DEFLATED) as zf:
            for folder, dirs, files in os.walk(work):
                for f in files:
                    full = os.path.join(folder, f)
                    zf.write(full, os.path.relpath(full, work))
        shutil.rmtree(work)
    """
)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def download(cache: Path) -> list[Path]:
    folder = cache / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for spec in WHEELS:
        stem = spec.split("==")[0].replace("-", "_").replace(".", "_").lower() + "-" + spec.split("==")[1]
        if not any(p.name.lower().replace(".", "_").startswith(stem.replace(".", "_")) for p in folder.iterdir()):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                            "--python-version", version, "--platform", "manylinux2014_x86_64", "-d", str(folder),
                            spec], check=True)
    return sorted(folder.glob("*.whl"))


def anchor_venv(cache: Path, name: str, requirement: str) -> str:
    venv = cache / f"venv-{name}"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([os.path.realpath(sys.executable), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", requirement], check=True)
    return str(py)


def fresh(inputs: list[Path], work: Path) -> list[str]:
    if work.exists():
        shutil.rmtree(work)
    (work / "in").mkdir(parents=True)
    (work / "out").mkdir()
    copies = []
    for path in inputs:
        shutil.copy2(path, work / "in" / path.name)
        copies.append(str(work / "in" / path.name))
    return copies


def run_timed(argvs: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system) of every process started."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for argv in argvs:
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def limits(inputs: list[str], work: Path, env: dict[str, str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(wall, CPU) of the limit and of the limit with reading and hashing: one compile, two writers."""
    n = cores()
    procs = [subprocess.Popen([sys.executable, "-c", LIMIT_COMPILE, str(i), str(n), *inputs], env=env,
                              stdout=subprocess.PIPE, text=True) for i in range(n)]
    shares = [tuple(map(float, p.communicate()[0].split())) for p in procs]
    compile_wall, compile_cpu = max(w for w, _ in shares), sum(c for _, c in shares)
    found = []
    for script in (LIMIT_WRITE, LIMIT_WRITE_FULL):
        out = subprocess.run([sys.executable, "-c", script, str(work / "out"), *inputs], env=env,
                             capture_output=True, text=True, check=True)
        wall, cpu = map(float, out.stdout.split())
        found.append((compile_wall + wall, compile_cpu + cpu))
    return found[0], found[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bytecast-bench-wheel")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the instructions of bytecast and of the limits' processes once with "
                             "callgrind (whole processes, start-up and loading included: the same every run)")
    args = parser.parse_args()
    inputs = download(args.cache)
    anchors = {name: anchor_venv(args.cache, name, req) for name, req in ANCHORS.items()}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    bytecast_env = dict(env, PYTHONPATH=str(SRC))
    # bytecast's own modules load from bytecode, as they do once installed (the anchors' venvs have theirs)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(SRC)], check=True,
                   env={k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"})
    wc_bin = str(Path(anchors["wheel-compile"]).parent / "wheel_compile")
    names = ("limit", "limit+read+hash", "bytecast", "pyc_wheel", "wheel-compile", "manual")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        for _ in range(args.runs):
            copies = fresh(inputs, work)
            plain, full = limits(copies, work, env)
            times["limit"].append(plain)
            times["limit+read+hash"].append(full)
            copies = fresh(inputs, work)
            times["bytecast"].append(run_timed([[sys.executable, "-m", "bytecast", "wheel", "-q", *copies, "-o",
                                                 str(work / "out")]], bytecast_env))
            copies = fresh(inputs, work)
            times["pyc_wheel"].append(run_timed([[anchors["pyc_wheel"], "-m", "pyc_wheel", "--quiet", "--rename", c]
                                                  for c in copies], env))
            copies = fresh(inputs, work)
            times["wheel-compile"].append(run_timed([[wc_bin, c] for c in copies], env))
            copies = fresh(inputs, work)
            times["manual"].append(run_timed([[sys.executable, "-c", MANUAL, str(work / "out"), *copies]], env))
    modules = 0
    import zipfile

    for path in inputs:
        with zipfile.ZipFile(path) as zf:
            modules += sum(1 for n in zf.namelist() if n.endswith(".py") and ".data/" not in n)
    wall = {name: statistics.median(w for w, _ in values) for name, values in times.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in times.items()}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{len(inputs)} wheels, {modules} modules, Python {sys.version.split()[0]}, {cores()} cores, "
          f"medians of {args.runs} interleaved runs, load average {load} (after)")
    print(f"{'tool':<17}{'seconds':>9}{'x limit':>9}{'x l+r+h':>9}{'CPU s':>9}{'x limit':>9}{'x l+r+h':>9}")
    for name in names:
        print(f"{name:<17}{wall[name]:>9.3f}{wall[name] / wall['limit']:>9.2f}"
              f"{wall[name] / wall['limit+read+hash']:>9.2f}{cpu[name]:>9.3f}{cpu[name] / cpu['limit']:>9.2f}"
              f"{cpu[name] / cpu['limit+read+hash']:>9.2f}")
    if args.instructions:
        count_instructions(inputs, env, bytecast_env)
    return 0


def count_instructions(inputs: list[Path], env: dict[str, str], bytecast_env: dict[str, str]) -> None:
    """bytecast's instructions against the limits' (their compile shares and writers, whole processes)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_compile import instructions  # a sibling script, not a package

    n = cores()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        copies = fresh(inputs, work)
        shares = sum(instructions([sys.executable, "-c", LIMIT_COMPILE, str(i), str(n), *copies], env)
                     for i in range(n))
        plain = shares + instructions([sys.executable, "-c", LIMIT_WRITE, str(work / "out"), *copies], env)
        full = shares + instructions([sys.executable, "-c", LIMIT_WRITE_FULL, str(work / "out"), *copies], env)
        copies = fresh(inputs, work)
        ours = instructions([sys.executable, "-m", "bytecast", "wheel", "-q", *copies, "-o", str(work / "out")],
                            bytecast_env)
        if len(list((work / "out").glob("*.whl"))) != len(inputs):
            raise SystemExit("bench_wheel: bytecast wrote fewer wheels under callgrind")
    print("instructions (callgrind, every process, kernel work not counted):")
    for name, count in (("limit", plain), ("limit+read+hash", full), ("bytecast", ours)):
        print(f"{name:<17}{count / 1e9:>8.2f} G{count / plain:>9.3f}x limit{count / full:>9.3f}x l+r+h")


if __name__ == "__main__":
    sys.exit(main())
