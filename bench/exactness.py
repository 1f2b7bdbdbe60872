"""How exact is "exact to the byte"? bytecast against each interpreter's own ``py_compile``.

For each installed interpreter (2.7, 3.6-3.13; found as the test suite finds them), copy its
standard library (every Nth source with ``--every N``; no ``test`` packages, no caches),
compile it with ``bytecast compile --target THAT-INTERPRETER``, set bytecast's pycs aside, then
compile every source again with that interpreter's ``py_compile``, one fresh process per file
(``PYTHONHASHSEED=0``, no other ``PYTHON*`` variable, as bytecast's workers run), at the same
path, so the same path is baked. Then count, per interpreter:

- identical: the two pycs are the same bytes;
- equal code: the headers are the same bytes and the interpreter's own ``marshal.loads`` gives
  code objects that compare equal (what differs is marshal's FLAG_REF bits, which follow the
  reference counts of the process that wrote the file);
- different: anything else (listed).

With ``--isolated`` the reference runs as bytecast's workers do: ``python -I -S`` (2.7:
``-E -s -S``; 3.6-3.10: ``-s -S``, to keep the hash seed), so only the process's own start-up
is left to differ. Files that fail to compile on either side are left out (counted). Usage:
``python bench/exactness.py [--every N] [--jobs N] [--python 3.12 ...] [--isolated]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from interpreters import installed, stdlib_dir

# Runs in the interpreter measured (2.7 syntax): compares pairs "ours<TAB>theirs" from stdin.
_COMPARE = r"""
import marshal, sys
same = equal = 0
differ = []
for line in sys.stdin:
    ours, theirs = line.rstrip("\n").split("\t")
    a = open(ours, "rb").read()
    b = open(theirs, "rb").read()
    if a == b:
        same += 1
        continue
    size = 16 if sys.version_info >= (3, 7) else 12 if sys.version_info >= (3, 3) else 8
    if a[:size] == b[:size] and marshal.loads(a[size:]) == marshal.loads(b[size:]):
        equal += 1
    else:
        differ.append(theirs)
sys.stdout.write("%d %d\n" % (same, equal))
for path in differ:
    sys.stdout.write(path + "\n")
"""

_PY_COMPILE = "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)"


def _sources(root: Path, every: int) -> list[Path]:
    found = sorted(p for p in root.rglob("*.py")
                   if not {"test", "tests", "site-packages", "idle_test", "lib2to3"} & set(p.relative_to(root).parts))
    return found[::every]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return env


def _pycs(root: Path) -> set[Path]:
    return {p for p in root.rglob("*.py[co]")}


def _flags(version: str, isolated: bool) -> list[str]:
    if not isolated:
        return []
    if version == "2.7":
        return ["-E", "-s", "-S"]  # 2.7 has no hash-order frozensets to keep: the seed may go
    return ["-s", "-S"] if version in ("3.6", "3.7", "3.8", "3.9", "3.10") else ["-I", "-S"]


def measure(version: str, exe: str, every: int, jobs: int, work: Path,
            isolated: bool = False) -> tuple[int, int, int, int, list[str]]:
    """(compared, identical, equal code, left out, different paths) for one interpreter."""
    lib = Path(stdlib_dir(exe))
    tree = work / f"py{version}"
    for src in _sources(lib, every):
        dest = tree / src.relative_to(lib)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    sources = sorted(tree.rglob("*.py"))
    subprocess.run([sys.executable, "-m", "bytecast", "compile", "-q", "--target", exe, str(tree)],
                   capture_output=True, text=True)
    ours_dir = work / f"ours{version}"
    ours: dict[Path, Path] = {}
    for pyc in _pycs(tree):
        kept = ours_dir / pyc.relative_to(tree)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(pyc), kept)
        ours[pyc] = kept

    def reference(src: Path) -> None:
        subprocess.run([exe, *_flags(version, isolated), "-c", _PY_COMPILE, str(src)], env=_env(),
                       capture_output=True)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(reference, sources))
    theirs = _pycs(tree)
    pairs = sorted(set(ours) & theirs)
    left_out = len(sources) - len(pairs)
    stdin = "".join(f"{ours[p]}\t{p}\n" for p in pairs)
    done = subprocess.run([exe, "-c", _COMPARE], input=stdin, capture_output=True, text=True, env=_env(), check=True)
    first, *different = done.stdout.splitlines()
    same, equal = (int(n) for n in first.split())
    return len(pairs), same, equal, left_out, [str(Path(d).relative_to(tree)) for d in different]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--every", type=int, default=1, help="take every Nth source (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="py_compile processes at once")
    parser.add_argument("--python", action="append", default=[], metavar="X.Y", help="only these (repeatable)")
    parser.add_argument("--isolated", action="store_true", help="run py_compile as bytecast's workers run")
    args = parser.parse_args()
    found = installed()
    versions = args.python or [v for v in ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")]
    print(f"{'python':8} {'compared':>8} {'identical':>10} {'equal code':>11} {'different':>10} {'left out':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for version in versions:
            exe = found.get(version)
            if exe is None:
                print(f"{version:8} not installed")
                continue
            compared, same, equal, left_out, different = measure(version, exe, args.every, args.jobs, Path(tmp),
                                                                 args.isolated)
            print(f"{version:8} {compared:8} {same:10} {equal:11} {len(different):10} {left_out:9}", flush=True)
            for path in different[:10]:
                print(f"         different: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
