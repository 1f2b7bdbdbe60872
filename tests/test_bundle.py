"""``bytecast bundle``: one file that runs a real application on every installed Python.

The application (tests/data/bundleapp) is small, but what it uses is real and from PyPI:
PyYAML's and MarkupSafe's C extensions, certifi's package data, entry points of its own
group, ``importlib.resources``, a file opened next to ``__file__``. Bundles are built once per
session (pip installs them: the tests skip, saying so, when PyPI cannot be reached) and shared
by the test workers through a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import marshal
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bytecast.bundle import build
from bytecast.bundlecache import entries, prune
from bytecast.targets import resolve
from interpreters import installed, require
from json_schema import SCHEMAS, errors

HERE = Path(__file__).parent
APP = HERE / "data" / "bundleapp"
VERSIONS = [v for v in ("3.9", "3.10", "3.11", "3.12", "3.13") if v in installed()]


def _shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every test worker of this session sees (xdist gives each its own basetemp)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    folder = root / "bundles"
    folder.mkdir(exist_ok=True)
    return folder


REQUIREMENTS = ["pyyaml>=6", "markupsafe>=2", "certifi", "flake8==7.*", "setuptools>=61", "pillow"]
"""What the bundles of these tests install: downloaded once per session into a wheelhouse
(the index is slow to ask, ~10 s a resolution here), then every build resolves offline."""


def _wheelhouse(folder: Path) -> Path:
    """Wheels of REQUIREMENTS for every installed version, fetched once (under the lock)."""
    house = folder / "wheelhouse"
    if (house / ".done").exists():
        return house
    house.mkdir(exist_ok=True)
    from concurrent.futures import ThreadPoolExecutor

    def fetch(version: str) -> int:
        exe = installed()[version]
        base = ["download", "--quiet", "--disable-pip-version-check", "-d", str(house), *REQUIREMENTS]
        done = subprocess.run([sys.executable, "-m", "pip", "--python", exe, *base], capture_output=True)
        if done.returncode != 0:  # bytecast's pip may not run this Python (pip 26 and 3.9)
            done = subprocess.run([exe, "-m", "pip", *base], capture_output=True)
        return done.returncode

    with ThreadPoolExecutor(len(VERSIONS)) as pool:
        codes = list(pool.map(fetch, VERSIONS))
    if any(codes):
        raise OSError("pip download failed")
    (house / ".done").write_text("")
    return house


def _built(tmp_path_factory: pytest.TempPathFactory, name: str, inputs: list[str], versions: Sequence[str],
           **options: Any) -> Path:
    """A bundle built once per session whatever the number of workers (a lock; the first
    builds, the others wait and take it). Skips when pip cannot install (offline)."""
    folder = _shared(tmp_path_factory)
    out = folder / f"{name}.pyz"
    failed = folder / f"{name}.failed"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists() and not failed.exists():
            try:
                with _offline(_wheelhouse(folder)):
                    report = build(inputs, str(out), resolve(versions), **options)
            except OSError as exc:
                failed.write_text(str(exc))
            else:
                if not report.ok:
                    failed.write_text("; ".join(p.message for p in report.problems))
    if failed.exists():
        pytest.skip(f"cannot build the {name} bundle (PyPI unreachable?): {failed.read_text()[:300]}")
    return out


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if len(VERSIONS) < 2:
        pytest.skip(f"bundles for several Pythons need two of 3.9-3.13 installed, found {VERSIONS}")
    return _built(tmp_path_factory, "bundleapp", [str(APP)], VERSIONS)


@pytest.fixture(scope="session")
def flake8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    versions = [v for v in ("3.11", "3.12") if v in VERSIONS]
    if not versions:
        pytest.skip("no Python 3.11 or 3.12 installed")
    return _built(tmp_path_factory, "flake8", ["flake8==7.*"], versions, script="flake8")


@pytest.fixture(scope="session")
def pillow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not VERSIONS:
        pytest.skip("no Python 3.9-3.13 installed")
    return _built(tmp_path_factory, "pillow", ["pillow"], VERSIONS[-1:], module="PIL")


@contextlib.contextmanager
def _offline(house: Path) -> Iterator[None]:
    """pip resolves from the wheelhouse only, for the time of a build."""
    saved = {k: os.environ.get(k) for k in ("PIP_NO_INDEX", "PIP_FIND_LINKS")}
    os.environ["PIP_NO_INDEX"] = "1"
    os.environ["PIP_FIND_LINKS"] = str(house)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _env(cache: Path, python: str | None = None, path: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BYTECAST"))}
    env["BYTECAST_CACHE"] = str(cache)
    if python:
        env["BYTECAST_PYTHON"] = python
    if path is not None:
        env["PATH"] = path
    return env


def _run(bundle: Path, *args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bundle), *args], capture_output=True, text=True, env=env, timeout=120,
                          cwd=cwd)


def _lines(out: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_one_file_runs_on_every_python(app: Path, version: str, tmp_path: Path) -> None:
    exe = require(version)
    done = _run(app, "3", env=_env(tmp_path / "cache", exe), cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # the app's exit status is the process's
    got = _lines(done.stdout)
    assert got["python"] == version
    assert got["yaml"].endswith("{'a': [1, 2]} True")  # yaml.CLoader: the C extension, not pure Python
    assert got["markupsafe"] == "Markup True"  # the _speedups extension module
    assert got["resources"] == "hello from package data"
    assert got["file"] == "hello from package data"
    assert got["version"] == "1.2.3"  # importlib.metadata
    assert got["plugins"] == "['OK']"  # entry points of the app's own group
    assert got["certifi"].startswith("True ")  # a PyPI package reading its own data
    assert got["host"] == "[]"  # nothing of the host's site-packages
    assert got["argv0"] == app.name
    cached = entries(str(tmp_path / "cache"))
    assert cached and all(e.complete for e in cached)
    for entry in cached:  # read-only, and every file as the bundle recorded it
        assert not os.stat(entry.path).st_mode & 0o222


def test_archive_is_a_valid_zip_and_python_runs_it(app: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(app) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        native = [i for i in zf.infolist() if i.filename.startswith(".bytecast/files/")
                  and zf.read(i)[:4] == b"\x7fELF"]
        assert native and all(i.compress_type == zipfile.ZIP_STORED for i in native)  # no inflating on a first run
        indexes = [i for i in zf.infolist() if i.filename.startswith(".bytecast/cpython-")]
        assert len(indexes) == len(VERSIONS) and all(i.compress_type == zipfile.ZIP_STORED for i in indexes)
    assert "__main__.py" in names and ".bytecast/bundle.json" in names
    assert not any(n.endswith((".py", ".pyc")) and n != "__main__.py" for n in names)  # no sources
    exe = require(VERSIONS[-1])
    done = subprocess.run([exe, str(app), "5"], capture_output=True, text=True,
                          env=_env(tmp_path / "cache"), timeout=120)
    assert done.returncode == 5, done.stderr
    assert _lines(done.stdout)["python"] == VERSIONS[-1]


def test_a_python_it_holds_no_code_for_is_one_line_and_exit_2(app: Path, tmp_path: Path) -> None:
    exe = require("3.8")
    done = subprocess.run([exe, str(app)], capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line
    assert "3.8" in line and "Requires-Python >=3.9" in line
    assert all(v in line for v in VERSIONS)
    done = _run(app, env=_env(tmp_path, exe))  # named by BYTECAST_PYTHON: no hand-over
    assert done.returncode == 2 and "3.8" in done.stderr


def test_preamble_takes_python3_and_hands_over_from_an_unheld_one(app: Path, tmp_path: Path) -> None:
    newest = VERSIONS[-1]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old = installed().get("3.8")
    if old is None:
        pytest.skip("no Python 3.8 installed to play an unheld python3")
    (bin_dir / "python3").symlink_to(old)
    (bin_dir / f"python{newest}").symlink_to(require(newest))
    done = _run(app, env=_env(tmp_path / "cache", path=str(bin_dir)))  # nothing but these two
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)["python"] == newest
    (bin_dir / f"python{newest}").unlink()
    done = _run(app, env=_env(tmp_path / "cache", path=str(bin_dir)))
    assert done.returncode == 2 and "not for cpython 3.8" in done.stderr


def test_flake8_finds_its_plugins_by_entry_points_and_keeps_its_exit_status(flake8: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=1\n")
    done = _run(flake8, str(bad), env=_env(tmp_path / "cache", require("3.11" if "3.11" in VERSIONS else "3.12")))
    assert done.returncode == 1  # flake8 found problems: CI must fail (zipapp -m makes it 0)
    assert "F401 'os' imported but unused" in done.stdout  # pyflakes, a plugin found by entry point
    assert "E225 missing whitespace around operator" in done.stdout  # pycodestyle, another
    version = _run(flake8, "--version", env=_env(tmp_path / "cache"))
    assert "pyflakes" in version.stdout and "pycodestyle" in version.stdout
    assert not (tmp_path / "cache").exists()  # pure Python: nothing extracted, nothing compiled


def test_concurrent_first_runs_share_one_copy(app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    exe = require(VERSIONS[-1])
    procs = [subprocess.Popen([str(app)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(cache, exe)) for _ in range(6)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(code == 0 for _, _, code in results), [err for _, err, _ in results]
    assert len({out for out, _, _ in results}) == 1
    found = entries(str(cache))
    assert all(e.complete for e in found)  # losers removed their temporary copies
    assert len(found) == len({e.name for e in found})
    _check_payloads(app, VERSIONS[-1], cache)


def _payloads(bundle: Path, version: str) -> list[tuple[str, list[tuple[str, str, int, str, int, int]]]]:
    """The payloads the bundle's index lists for ``version`` (a bundle this test built)."""
    tag = "cpython-" + version.replace(".", "")
    with zipfile.ZipFile(bundle) as zf:
        index = marshal.loads(zf.read(f".bytecast/{tag}"))
    return [d[4] for d in index["dists"] if d[4] is not None]


def _check_payloads(bundle: Path, version: str, cache: Path) -> None:
    """Every complete folder in the cache holds exactly its files, each with its hash."""
    for digest, files in _payloads(bundle, version):
        folder = cache / digest
        if not folder.exists():
            continue
        held = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        assert held == sorted(f[0] for f in files)
        for relpath, _, size, sha256, _, crc in files:
            data = (folder / relpath).read_bytes()
            assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256 and zlib.crc32(data) == crc


def test_a_first_run_killed_at_any_instant_is_repaired_by_the_next(app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    exe = require(VERSIONS[-1])
    env = _env(cache, exe)
    for delay in (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12):
        proc = subprocess.Popen([str(app)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check_payloads(app, VERSIONS[-1], cache)  # never a half-written folder under its final name
        for entry in entries(str(cache)):
            if entry.complete:
                prune(everything=True, root=str(cache))  # start again: kill the next run earlier or later
                break
    done = _run(app, env=env)
    assert done.returncode == 0, done.stderr
    _check_payloads(app, VERSIONS[-1], cache)
    leftovers = [e for e in entries(str(cache)) if not e.complete]
    removed = prune(root=str(cache), now=time.time() + 7200)  # a killed run's folder, hours later
    assert {e.name for e in removed} == {e.name for e in leftovers}
    assert all(e.complete for e in entries(str(cache)))


def test_an_unwritable_cache_falls_back_to_a_private_folder_removed_at_exit(app: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = _env(Path("/proc/bytecast-cannot-write-here"), require(VERSIONS[-1]))
    env["TMPDIR"] = str(tmp)
    done = _run(app, env=env)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)["yaml"].endswith("True")
    assert list(tmp.iterdir()) == []


def test_a_damaged_file_in_the_bundle_is_one_line_exit_2_and_never_cached(app: Path, tmp_path: Path) -> None:
    version = VERSIONS[-1]
    (digest, files), = [p for p in _payloads(app, version) if any(f[0].endswith(".so") for f in p[1])][:1]
    member = max(files, key=lambda f: f[2])[1]  # the largest native library: stored, not deflated
    damaged = tmp_path / "damaged.pyz"
    data = bytearray(app.read_bytes())
    with zipfile.ZipFile(app) as zf:
        info = zf.getinfo(member)
    assert info.compress_type == zipfile.ZIP_STORED
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.file_size // 2] ^= 0xFF  # one byte of the library's code
    damaged.write_bytes(bytes(data))
    damaged.chmod(0o755)
    cache = tmp_path / "cache"
    done = _run(damaged, env=_env(cache, require(version)))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "damaged" in done.stderr and member in done.stderr, done.stderr
    assert not (cache / digest).exists()  # nothing under its final name, no leftover
    assert [e.name for e in entries(str(cache)) if not e.complete] == []
    assert _run(app, env=_env(cache, require(version))).returncode == 0  # the good copy still runs


def test_a_libs_folder_keeps_its_layout_beside_the_extensions_that_link_to_it(pillow: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = _run(pillow, env=_env(cache, require(VERSIONS[-1])))  # python -m PIL: Pillow's own report
    assert done.returncode == 0, done.stderr
    assert "--- JPEG support ok" in done.stdout  # _imaging finds libjpeg in pillow.libs by its RPATH
    held = [p.relative_to(cache) for p in cache.rglob("*.so*")]
    libs = {p.parts[0] for p in held if p.parts[1] == "pillow.libs" and p.name.startswith("libjpeg")}
    imaging = {p.parts[0] for p in held if p.parts[1:-1] == ("PIL",) and p.name.startswith("_imaging.")}
    assert len(libs) == 1 and libs == imaging  # one folder: PIL/ and pillow.libs/ side by side


def test_same_inputs_same_bytes(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, flake8: Path) -> None:
    version = "3.12" if "3.12" in VERSIONS else VERSIONS[-1]
    first = _built(tmp_path_factory, f"repro-{version}", ["flake8==7.*"], [version], script="flake8")
    second = tmp_path / "again.pyz"
    with _offline(_shared(tmp_path_factory) / "wheelhouse"):
        report = build(["flake8==7.*"], str(second), resolve([version]), script="flake8")
    assert report.ok, report.problems
    assert first.read_bytes() == second.read_bytes()
    assert report.sha256 == hashlib.sha256(second.read_bytes()).hexdigest()


def test_fast_start_runs_the_same(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, flake8: Path) -> None:
    version = "3.12" if "3.12" in VERSIONS else VERSIONS[-1]
    fast = _built(tmp_path_factory, f"fast-{version}", ["flake8==7.*"], [version], script="flake8", fast=True)
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=1\n")
    env = _env(tmp_path / "cache", require(version))
    slow, quick = _run(flake8, str(bad), env=env), _run(fast, str(bad), env=env)
    assert quick.returncode == slow.returncode == 1
    assert quick.stdout == slow.stdout and "F401" in quick.stdout  # buffered output flushed at the fast exit


def test_cli_inspect_and_cache(app: Path, tmp_path: Path) -> None:
    env = _env(tmp_path / "cache")
    bytecast = [sys.executable, "-m", "bytecast"]
    shown = subprocess.run([*bytecast, "inspect", "--json", str(app)], capture_output=True, text=True, env=env)
    assert shown.returncode == 0, shown.stderr
    assert errors(json.loads(shown.stdout), SCHEMAS["inspect"]) == []
    about = json.loads(shown.stdout)["files"][0]["bundle"]
    assert [t["python"] for t in about["targets"]] == VERSIONS
    assert {d["name"] for d in about["targets"][0]["distributions"]} >= {"bundleapp", "PyYAML", "MarkupSafe", "certifi"}
    assert any(n.startswith("yaml/_yaml.") for n in about["targets"][0]["native"])
    text = subprocess.run([*bytecast, "inspect", str(app)], capture_output=True, text=True, env=env)
    assert "bundle of bundleapp" in text.stdout and "bundleapp.cli:main" in text.stdout
    _run(app, env=_env(tmp_path / "cache", require(VERSIONS[-1])))
    listed = subprocess.run([*bytecast, "cache", "--json"], capture_output=True, text=True, env=env)
    assert errors(json.loads(listed.stdout), SCHEMAS["cache"]) == []
    names = {e["name"] for e in json.loads(listed.stdout)["entries"]}
    assert names == {e.name for e in entries(str(tmp_path / "cache"))} and names
    pruned = subprocess.run([*bytecast, "cache", "--prune", "--all"], capture_output=True, text=True, env=env)
    assert pruned.returncode == 0 and f"removed {len(names)} folder" in pruned.stderr
    assert entries(str(tmp_path / "cache")) == []
    bad = subprocess.run([*bytecast, "cache", "--all"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_errors_are_one_line(tmp_path: Path) -> None:
    bytecast = [sys.executable, "-m", "bytecast", "bundle"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    missing = subprocess.run([*bytecast, "no-such-distribution-bytecast-test==0.0.1", "-o", str(tmp_path / "x.pyz"),
                              "--target", VERSIONS[-1] if VERSIONS else "current", "--json"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert missing.returncode == 1
    doc = json.loads(missing.stdout)
    assert errors(doc, SCHEMAS["bundle"]) == [] and doc["ok"] is False and doc["output"] is None
    assert "Traceback" not in missing.stderr
    assert len(doc["problems"]) == 1 and "no-such-distribution-bytecast-test" in doc["problems"][0]["message"]
    assert not (tmp_path / "x.pyz").exists()  # complete or absent
    usage = subprocess.run([*bytecast, str(APP), "-c", "a", "-m", "b", "-o", "x.pyz"], capture_output=True,
                           text=True, env=env)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1
