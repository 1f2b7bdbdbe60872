"""Benchmark: ``bytecast bundle`` against the same application in its venv and the other one-file tools.

Two applications, built in a scratch folder (``--work``, kept, or a temporary one):

- ``flake8`` on a two-line file: pure Python, its checks found through entry points;
- ``bundleapp`` (tests/data/bundleapp, copied): PyYAML's CLoader, MarkupSafe's C speedups,
  certifi's data, entry points of its own group, a console script.

Each runs as: its venv (the baseline), a bytecast bundle for 3.11 (default and
``--fast-start``), a bytecast bundle for 3.9-3.13 (whichever are installed; started with
3.11), shiv, pex (``--venv --sh-boot``), zipapp of the sources and of legacy pycs, and
PyInstaller onedir and onefile. shiv, pex and PyInstaller are installed from PyPI into scratch
venvs of the work folder, never into the project's; one that cannot be installed or built is
skipped with the reason printed. Every pip run (the wheelhouse aside) uses ``PIP_FIND_LINKS`` =
a wheelhouse made once with ``pip download`` and ``PIP_NO_INDEX=1``: the index is slow to ask
here, and the build times compare tools, not the network.

Printed, medians of interleaved rounds (the tools in a rotating order each round):

- warm start: CPU of the child (user+sys, ``RUSAGE_CHILDREN``) and its ratio to the venv;
- instructions: ``valgrind --tool=callgrind`` (``--trace-children=yes``, ``PYTHONHASHSEED=0``)
  of every process of one start, and the ratio to the venv (not with ``--quick``);
- first run: the same start with an empty cache (``BYTECAST_CACHE``, ``SHIV_ROOT``,
  ``PEX_ROOT``, onefile's ``TMPDIR`` a fresh folder each time), its ratio to the venv's start
  in the same pass (the venv has no cache: that is a warm start, taken beside the first runs,
  so a change of load between the passes cancels out), and the bytes it leaves under that
  root; for bytecast's bundles, the instructions of a first run too;
- for flake8, whether a file with an error exits 1 (zipapp's ``-m`` drops the return value);
- five versions against one: the 3.11 start of both bundles;
- build time: ``pip install --target`` plus ``bytecast compile`` of that folder against
  ``bytecast bundle`` for the same inputs and one target (wall, medians).

Goals: warm start <= 0.90x the venv (<= 0.80x with --fast-start); first run <= 1.05x (pure)
and <= 1.15x (native extensions); five versions <= 1% over one; build <= 1.2x pip + compile.

Usage: ``python bench/bench_bundle.py [--runs N] [--quick] [--work DIR] [--only NAME]``, run
from the project's venv (bytecast from this checkout). Interpreters:
``$PYENV_ROOT/versions/3.X.Y/bin/python3.X`` (``~/.pyenv`` without PYENV_ROOT), real
binaries rather than pyenv's shims.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compile import instructions  # a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "data" / "bundleapp"
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
MAIN = "3.11"
TOOLS = ["shiv", "pex", "pyinstaller", "wheel==0.37.1"]
"""The anchors, downloaded into the wheelhouse (pex builds a project folder with this wheel pinned)."""


class App:
    """An application measured: what pip installs, its console script, its entry function, and
    what PyInstaller must be told to collect (its plugins are found through entry points)."""

    def __init__(self, inputs: list[str], script: str, entry: str, dists: list[str], packages: list[str]) -> None:
        self.inputs = inputs
        self.script = script
        self.entry = entry
        self.dists = dists
        self.packages = packages


APPS = {
    "flake8": App(["flake8==7.*"], "flake8", "flake8.main.cli:main",
                  ["flake8", "pyflakes", "pycodestyle", "mccabe"], ["flake8", "pyflakes", "pycodestyle", "mccabe"]),
    "bundleapp": App([], "bundleapp", "bundleapp.cli:main",  # inputs: the copy of tests/data/bundleapp
                     ["bundleapp", "PyYAML", "MarkupSafe", "certifi"], ["bundleapp", "yaml", "markupsafe", "certifi"]),
}
GOOD = "import os\n\nprint(os.sep)\n"
BAD = "import os\n"


def pyenv_pythons() -> dict[str, str]:
    """Version -> the newest pyenv build's real binary of it."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found: dict[str, tuple[tuple[int, ...], str]] = {}
    for folder in root.glob("3.*") if root.is_dir() else []:
        m = re.fullmatch(r"(3\.\d+)\.(\d+)", folder.name)
        exe = folder / "bin" / f"python{m.group(1)}" if m else None
        if m and exe and exe.is_file():
            key = tuple(int(p) for p in folder.name.split("."))
            if m.group(1) not in found or key > found[m.group(1)][0]:
                found[m.group(1)] = (key, str(exe))
    return {v: found[v][1] for v in VERSIONS if v in found}


def du(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def run(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None, check: bool = True,
        timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join([os.path.basename(cmd[0]), *cmd[1:3]])}... exited {done.returncode}: {tail}")
    return done


def cpu_of(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """CPU seconds (user+sys) of the child and its descendants it waited for, and its status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.returncode


class Variant:
    """One way to run an application: its command, and how to give it an empty cache."""

    def __init__(self, name: str, cmd: list[str], cache: str | None = None) -> None:
        self.name = name
        self.cmd = cmd
        self.cache = cache
        """The environment variable naming its cache root (None: it has none)."""


class Row:
    """What was measured of one variant: seconds, instructions, bytes left, exit status."""

    def __init__(self) -> None:
        self.warm: list[float] = []
        self.first: list[float] = []
        self.ins: list[float] = []
        self.first_ins: list[float] = []
        self.left = 0
        self.status: int | None = None


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, work: Path, pythons: dict[str, str]) -> None:
        self.work = work
        self.pythons = pythons
        self.py = pythons[MAIN]
        self.house = work / "wheelhouse"
        base = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PEX_ROOT", "SHIV_ROOT",
                             "BYTECAST_CACHE", "PYTHONDONTWRITEBYTECODE")}
        base["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        self.online = base
        self.env = dict(base, PIP_FIND_LINKS=str(self.house), PIP_NO_INDEX="1",
                        BYTECAST_PYTHON=self.py, BYTECAST_CACHE=str(work / "cache" / "bytecast"),
                        SHIV_ROOT=str(work / "cache" / "shiv"), PEX_ROOT=str(work / "cache" / "pex"),
                        TMPDIR=str(work / "cache" / "tmp"))
        for var in ("BYTECAST_CACHE", "SHIV_ROOT", "PEX_ROOT", "TMPDIR"):
            Path(self.env[var]).mkdir(parents=True, exist_ok=True)
        self.skipped: list[str] = []

    # --- setting up ---------------------------------------------------------------------

    def wheelhouse(self) -> None:
        """Wheels of every input and tool for every version, downloaded once."""
        if (self.house / ".done").exists():
            return
        self.house.mkdir(parents=True, exist_ok=True)
        wanted = ["flake8==7.*", "pyyaml>=6", "markupsafe>=2", "certifi", "setuptools>=61"]
        for exe in self.pythons.values():
            run([exe, "-m", "pip", "download", "-q", "-d", str(self.house), *wanted], self.online)
        done = run([self.py, "-m", "pip", "download", "-q", "-d", str(self.house), *TOOLS], self.online, check=False)
        if done.returncode != 0:
            print(f"note: could not download {', '.join(TOOLS)}: {done.stderr.strip()[-200:]}")
        (self.house / ".done").write_text("")

    def venv(self, name: str, packages: Sequence[str]) -> Path | None:
        """A venv of the main Python with ``packages`` (kept in the work folder), or None."""
        folder = self.work / "venvs" / name
        if (folder / ".done").exists():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        run([self.py, "-m", "venv", str(folder)], self.env)
        done = run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *packages], self.env, check=False)
        if done.returncode != 0:
            print(f"note: venv {name}: pip failed: {done.stderr.strip()[-300:]}")
            return None
        (folder / ".done").write_text("")
        return folder

    def inputs(self, app: str) -> list[str]:
        if app == "bundleapp":
            copy = self.work / "src" / "bundleapp"
            if not copy.exists():
                shutil.copytree(APP, copy)
            return [str(copy)]
        return list(APPS[app].inputs)

    def bytecast(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([sys.executable, "-m", "bytecast", *args], self.env)

    def variants(self, app: str, only: str | None) -> list[Variant]:
        """Every way to run ``app`` that could be built (the others printed as skipped)."""
        spec = APPS[app]
        inputs = self.inputs(app)
        script, entry = spec.script, spec.entry
        out = self.work / "apps" / app
        out.mkdir(parents=True, exist_ok=True)
        made: list[Variant] = []

        def attempt(name: str, make: Callable[[], Variant]) -> None:
            if only and name != "venv" and not name.startswith(only):
                return
            try:
                made.append(make())
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                self.skipped.append(f"{app}: {name}: {e}")

        def venv() -> Variant:
            folder = self.venv(f"app-{app}", inputs)
            if folder is None:
                raise RuntimeError("pip could not install it")
            return Variant("venv", [str(folder / "bin" / script)])

        def bundle(name: str, targets: Sequence[str], *extra: str) -> Callable[[], Variant]:
            def make() -> Variant:
                path = out / f"{name.replace(' ', '-')}.pyz"
                # built again at every run, unlike the other tools' builds a kept --work folder
                # reuses: they are what is measured, by the code of this checkout
                tmp = path.with_suffix(".tmp")
                self.bytecast("bundle", *inputs, "-c", script, "-o", str(tmp), "-q",
                              *(a for t in targets for a in ("--target", self.pythons[t])), *extra)
                tmp.replace(path)
                return Variant(name, ["/bin/sh", str(path)], "BYTECAST_CACHE")
            return make

        def staged() -> Path:
            """The inputs installed by pip into one folder (sources only)."""
            folder = out / "target"
            if not (folder / ".done").exists():
                shutil.rmtree(folder, ignore_errors=True)
                run([self.py, "-m", "pip", "install", "-q", "--no-compile", "--target", str(folder), *inputs],
                    self.env)
                (folder / ".done").write_text("")
            return folder

        def zipapp(pycs: bool) -> Callable[[], Variant]:
            def make() -> Variant:
                path = out / ("zipapp-pyc.pyz" if pycs else "zipapp-src.pyz")
                if not path.exists():
                    tree = out / ("zip-pyc" if pycs else "zip-src")
                    shutil.rmtree(tree, ignore_errors=True)
                    shutil.copytree(staged(), tree, ignore=shutil.ignore_patterns(".done", "bin"))
                    if pycs:
                        run([self.py, "-m", "compileall", "-q", "-b", str(tree)], self.env)
                        for source in tree.rglob("*.py"):
                            source.unlink()
                    run([self.py, "-m", "zipapp", str(tree), "-m", entry, "-p", self.py, "-o", str(path)], self.env)
                variant = Variant("zipapp " + ("pycs" if pycs else "sources"), [self.py, str(path)])
                self.works(variant, app)
                return variant
            return make

        def shiv() -> Variant:
            path = out / "app.shiv"
            if not path.exists():
                tools = self.venv("shiv", ["shiv"])
                if tools is None:
                    raise RuntimeError("shiv could not be installed")
                run([str(tools / "bin" / "shiv"), "-c", script, "-o", str(path), "-p", self.py, *inputs], self.env)
            return Variant("shiv", [self.py, str(path)], "SHIV_ROOT")

        def pex() -> Variant:
            path = out / "app.pex"
            if not path.exists():
                tools = self.venv("pex", ["pex"])
                if tools is None:
                    raise RuntimeError("pex could not be installed")
                run([str(tools / "bin" / "pex"), *inputs, "-c", script, "-o", str(path), "--venv", "--sh-boot",
                     "--python", self.py, "--no-pypi", "-f", str(self.house)], self.env)
            return Variant("pex", ["/bin/sh", str(path)], "PEX_ROOT")

        def pyinstaller(onefile: bool) -> Callable[[], Variant]:
            def make() -> Variant:
                kind = "onefile" if onefile else "onedir"
                dist = out / f"pyi-{kind}"
                exe = dist / script if onefile else dist / script / script
                if not exe.exists():
                    tools = self.venv(f"pyinstaller-{app}", ["pyinstaller", *inputs])
                    if tools is None:
                        raise RuntimeError("PyInstaller could not be installed")
                    module, _, function = entry.partition(":")
                    starter = out / f"{script}_main.py"
                    starter.write_text(f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n")
                    collect = [a for p in spec.packages for a in ("--collect-all", p)]
                    meta = [a for d in spec.dists for a in ("--copy-metadata", d)]
                    run([str(tools / "bin" / "pyinstaller"), "--noconfirm", "--log-level", "WARN",
                         "--onefile" if onefile else "--onedir", "--name", script, "--distpath", str(dist),
                         "--workpath", str(out / f"pyi-build-{kind}"), "--specpath", str(out), *collect, *meta,
                         str(starter)], self.env)
                variant = Variant(f"pyinstaller {kind}", [str(exe)], "TMPDIR" if onefile else None)
                self.works(variant, app)
                return variant
            return make

        attempt("venv", venv)
        attempt("bytecast", bundle("bytecast", [MAIN]))
        attempt("bytecast fast-start", bundle("bytecast fast-start", [MAIN], "--fast-start"))
        attempt("bytecast 5 versions", bundle("bytecast 5 versions", list(self.pythons)))
        attempt("shiv", shiv)
        attempt("pex", pex)
        attempt("zipapp sources", zipapp(False))
        attempt("zipapp pycs", zipapp(True))
        attempt("pyinstaller onedir", pyinstaller(False))
        attempt("pyinstaller onefile", pyinstaller(True))
        return made

    def works(self, variant: Variant, app: str) -> None:
        """Raises when the variant cannot run the application (zipapp and C extensions)."""
        done = run([*variant.cmd, *self.args(app)], self.env, cwd=self.work, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            raise RuntimeError(f"does not run ({done.returncode}): {' '.join(tail)[:160]}")

    def args(self, app: str, bad: bool = False) -> list[str]:
        if app != "flake8":
            return []
        path = self.work / ("bad.py" if bad else "good.py")
        path.write_text(BAD if bad else GOOD)
        return [str(path)]

    # --- measuring ----------------------------------------------------------------------

    def fresh(self, variant: Variant, n: int) -> tuple[dict[str, str], Path | None]:
        if variant.cache is None:
            return self.env, None
        root = self.work / "first" / f"{variant.name.replace(' ', '-')}-{n}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        return dict(self.env, **{variant.cache: str(root)}), root

    def measure(self, app: str, variants: list[Variant], runs: int, icount: int) -> dict[str, Row]:
        args = self.args(app)
        rows = {v.name: Row() for v in variants}
        for v in variants:  # warm every cache (and the page cache) once
            cpu_of([*v.cmd, *args], self.env, self.work)
        for r in range(runs):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for v in order:
                rows[v.name].warm.append(cpu_of([*v.cmd, *args], self.env, self.work)[0])
            for v in order:
                env, root = self.fresh(v, r)
                rows[v.name].first.append(cpu_of([*v.cmd, *args], env, self.work)[0])
                if root is not None:
                    rows[v.name].left = du(root)
                    shutil.rmtree(root, ignore_errors=True)
        for _ in range(icount):
            for v in variants:
                try:
                    rows[v.name].ins.append(instructions([*v.cmd, *args], self.env, self.work))
                except RuntimeError as e:
                    self.skipped.append(f"{app}: {v.name}: instructions: {e}")
            for v in variants:
                if v.name.startswith("bytecast") and v.cache:
                    env, root = self.fresh(v, runs)
                    try:
                        rows[v.name].first_ins.append(instructions([*v.cmd, *args], env, self.work))
                    except RuntimeError as e:
                        self.skipped.append(f"{app}: {v.name}: first-run instructions: {e}")
                    if root is not None:
                        shutil.rmtree(root, ignore_errors=True)
        if app == "flake8":
            bad = self.args(app, bad=True)
            for v in variants:
                rows[v.name].status = cpu_of([*v.cmd, *bad], self.env, self.work)[1]
        return rows

    def build_times(self, app: str, runs: int) -> tuple[float, float]:
        """Median wall seconds: pip install --target + bytecast compile, and bytecast bundle."""
        inputs = self.inputs(app)
        spent: dict[str, list[float]] = {"pip": [], "bundle": []}
        for r in range(runs):
            for side in (["pip", "bundle"] if r % 2 == 0 else ["bundle", "pip"]):
                scratch = Path(tempfile.mkdtemp(dir=self.work))
                start = time.perf_counter()
                if side == "pip":
                    run([sys.executable, "-m", "pip", "--python", self.py, "install", "-q", "--no-compile",
                         "--target", str(scratch / "t"), *inputs], self.env)
                    self.bytecast("compile", "-q", "--target", self.py, str(scratch / "t"))
                else:
                    self.bytecast("bundle", *inputs, "-c", APPS[app].script, "-o", str(scratch / "a.pyz"),
                                  "-q", "--target", self.py)
                spent[side].append(time.perf_counter() - start)
                shutil.rmtree(scratch, ignore_errors=True)
        return statistics.median(spent["pip"]), statistics.median(spent["bundle"])


def table(app: str, rows: dict[str, Row]) -> list[str]:
    base = rows["venv"]
    warm0, ins0, same_pass = med(base.warm), med(base.ins), med(base.first)
    lines = [f"{app}:",
             f"  {'tool':<22}{'warm CPU':>10}{'ratio':>8}{'instructions':>15}{'ratio':>8}"
             f"{'first':>9}{'ratio':>8}{'left on disk':>14}{'exit 1':>8}"]
    for name, row in rows.items():
        warm, first, ins = med(row.warm), med(row.first), med(row.ins)
        status = row.status
        cells = [
            f"{warm * 1000:8.1f}ms" if warm is not None else f"{'-':>10}",
            f"{warm / warm0:7.3f}x" if warm and warm0 else f"{'-':>8}",
            f"{ins / 1e6:13.1f}M" if ins else f"{'-':>14}",
            f"{ins / ins0:7.3f}x" if ins and ins0 else f"{'-':>8}",
            f"{first * 1000:7.1f}ms" if first is not None else f"{'-':>9}",
            f"{first / same_pass:7.3f}x" if first and same_pass else f"{'-':>8}",
            f"{row.left:>14,}" if name != "venv" else f"{'-':>14}",
            f"{'yes' if status == 1 else f'no ({status})':>8}" if status is not None else "",
        ]
        lines.append(f"  {name:<22}" + "".join(cells))
    counted = []
    for name, row in rows.items():
        first_ins = med(row.first_ins)
        if first_ins and ins0:
            counted.append(f"{name} {first_ins / 1e6:.1f}M {first_ins / ins0:.3f}x")
    if counted:
        lines.append("  first run, instructions (ratio to the venv's): " + ", ".join(counted))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds of CPU timing (default 9)")
    parser.add_argument("--icount-runs", type=int, default=1, help="callgrind runs per tool (default 1)")
    parser.add_argument("--build-runs", type=int, default=3, help="rounds of build timing (default 3)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, no callgrind, one build round")
    parser.add_argument("--work", default=None, help="folder for venvs, wheels and builds (kept; default temporary)")
    parser.add_argument("--only", default=None, metavar="NAME",
                        help="only this tool (bytecast, shiv, pex, zipapp, pyinstaller) or app (flake8, bundleapp)")
    args = parser.parse_args()
    runs, icount, builds = (3, 0, 1) if args.quick else (args.runs, args.icount_runs, args.build_runs)
    if icount and not shutil.which("valgrind"):
        print("note: no valgrind: instructions are not counted")
        icount = 0

    pythons = pyenv_pythons()
    if MAIN not in pythons:
        print(f"needs Python {MAIN} under $PYENV_ROOT/versions (found: {', '.join(pythons) or 'none'})")
        return 2
    temporary = args.work is None
    work = Path(args.work or tempfile.mkdtemp(prefix="bytecast-bench-bundle-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    apps = [args.only] if args.only in APPS else list(APPS)
    tool = None if args.only in APPS else args.only
    try:
        bench = Bench(work, pythons)
        bench.wheelhouse()
        results = {}
        for app in apps:
            variants = bench.variants(app, tool)
            if not variants or variants[0].name != "venv":
                print(f"{app}: no venv to compare with: {'; '.join(bench.skipped)}")
                continue
            results[app] = bench.measure(app, variants, runs, icount)
        timings = {app: bench.build_times(app, builds) for app in apps if builds and tool in (None, "bytecast")}
        load = os.getloadavg()

        release = Path(pythons[MAIN]).parent.parent.name
        print(f"Python {release}, {os.cpu_count()} cores, load average "
              f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (after the runs); medians of {runs} interleaved "
              f"rounds; instructions: callgrind, {icount} run(s)" + (" (skipped)" if not icount else ""))
        print("warm = CPU (user+sys) of a start with a warm cache; first = the same with an empty cache, "
              "ratio to the venv's start in the same pass; left on disk = bytes under the cache root after one first run")
        for app, rows in results.items():
            print("\n".join(table(app, rows)))
            one, five = rows.get("bytecast"), rows.get("bytecast 5 versions")
            if one and five:
                w = statistics.median(five.warm) / statistics.median(one.warm)
                extra = (f", instructions {statistics.median(five.ins) / statistics.median(one.ins):.4f}x"
                         if one.ins and five.ins else "")
                print(f"  5 versions ({', '.join(pythons)}) / 1 version, 3.11 start: CPU {w:.3f}x{extra}"
                      " (goal <= 1.01x)")
        for app, (pip, bundle) in timings.items():
            print(f"build {app} for {MAIN} (wall, medians of {builds}; PIP_FIND_LINKS wheelhouse, PIP_NO_INDEX=1): "
                  f"pip install --target + bytecast compile {pip:.2f} s, bytecast bundle {bundle:.2f} s, "
                  f"{bundle / pip:.2f}x (goal <= 1.2x)")
        for line in bench.skipped:
            print(f"skipped: {line.replace(str(work), '<work>').replace(sys.executable, 'python')}")
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
