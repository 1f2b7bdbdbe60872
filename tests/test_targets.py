"""Many interpreters: discovery, --target, exactness against each interpreter's py_compile.

Interpreters are found when the tests run (pyenv's folder, uv's, PATH); a version that is not
installed is skipped with the reason shown by ``pytest -ra``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import interpreters
from bytecast.compiler import Lane, Outcome, ProcessWorker, Unit, run_lanes
from bytecast.engine import Options, check_tree, compile_tree
from bytecast.magic import header_size_for
from bytecast.targets import Target, current, find_interpreters, resolve
from conftest import env, run_cli

VERSIONS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]

if TYPE_CHECKING:
    from bytecast.options import Mode


def _target(version: str) -> Target:
    exe = interpreters.require(version)
    (tgt,) = resolve([exe], cache=False)
    return tgt


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _own_stdlib(exe: str) -> Path:
    out = subprocess.run([exe, "-E", "-s", "-S", "-c", "import os; print(os.path.dirname(os.__file__))"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _tree(exe: str, dest: Path, packages: tuple[str, ...] = ("json", "email")) -> Path:
    """A copy of a few packages of the interpreter's own standard library (no caches)."""
    lib = _own_stdlib(exe)
    for name in packages:
        shutil.copytree(lib / name, dest / name,
                        ignore=lambda d, names: {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))})
    return dest


# Runs in the target: py_compile each (source, cfile, dfile, optimize, mode), the reference.
_ORACLE = textwrap.dedent(
    """
    import json, os, py_compile, sys
    for src, cfile, dfile, opt, mode in json.loads(sys.stdin.read()):
        if sys.version_info < (3,):  # 2.7's py_compile is given byte-string paths
            src, cfile, dfile = [x.encode('utf-8') for x in (src, cfile, dfile)]
        if not os.path.isdir(os.path.dirname(cfile)):
            os.makedirs(os.path.dirname(cfile))
        kw = {}
        if sys.version_info >= (3,):
            kw['optimize'] = opt
        if sys.version_info >= (3, 7):
            kw['invalidation_mode'] = py_compile.PycInvalidationMode[mode]
        try:
            py_compile.compile(src, cfile=cfile, dfile=dfile, doraise=True, **kw)
        except py_compile.PyCompileError:
            sys.stdout.write(src + '\\n')
    """
)


# Runs in the target: same header, and bytes equal or the code objects equal.
_COMPARE = textwrap.dedent(
    """
    import json, marshal, sys
    identical = equal = 0
    bad = []
    for ours, theirs, size in json.loads(sys.stdin.read()):
        a = open(ours, 'rb').read()
        b = open(theirs, 'rb').read()
        if a == b:
            identical += 1
        elif a[:size] == b[:size] and marshal.loads(a[size:]) == marshal.loads(b[size:]):
            equal += 1
        else:
            bad.append(ours)
    sys.stdout.write(json.dumps([identical, equal, bad]))
    """
)


def _compare(tgt: Target, pairs: list[list[object]]) -> tuple[int, int, list[str]]:
    out = subprocess.run([tgt.executable, "-E", "-s", "-S", "-c", _COMPARE], input=json.dumps(pairs),
                         capture_output=True, text=True, check=True)
    identical, equal, bad = json.loads(out.stdout)
    return identical, equal, bad


def _reference(tgt: Target, items: list[list[object]], optimize: int = 0) -> set[str]:
    argv = [tgt.executable, "-E", "-s", "-W", "ignore"]
    if tgt.legacy and optimize:
        argv.append("-" + "O" * optimize)
    out = subprocess.run(argv + ["-c", _ORACLE], input=json.dumps(items), capture_output=True,
                         text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("version", VERSIONS)
def test_bytes_equal_the_interpreters_own_py_compile(version: str, tmp_path: Path) -> None:
    tgt = _target(version)
    tree = _tree(tgt.executable, tmp_path / "tree")
    ref = tmp_path / "ref"
    hashed: list[Mode] = ["checked-hash", "unchecked-hash"]
    modes: list[Mode] = ["timestamp", *(hashed if tgt.version >= (3, 7) else [])]
    levels = (0, 1) if tgt.legacy else (0, 1, 2)
    for mode in modes:
        report = compile_tree([str(tree)], Options(targets=(tgt,), optimize=levels, invalidation_mode=mode, force=True))
        assert report.compiled > 20
        by_level: dict[int, list[list[object]]] = {}
        for job in report.jobs:
            cref = ref / mode / os.path.relpath(job.cfile, tree)
            by_level.setdefault(job.optimize if tgt.legacy else 0, []).append(
                [job.source.path, str(cref), job.dfile, job.optimize, mode.upper().replace("-", "_")])
        failed = set()
        for level, items in by_level.items():
            failed |= _reference(tgt, items, level)
        assert failed == set(report.failures)
        pairs: list[list[object]] = [
            [job.cfile, str(ref / mode / os.path.relpath(job.cfile, tree)), header_size_for(int.from_bytes(tgt.magic[:2], "little"))]
            for job in report.jobs if job.source.path not in failed
        ]
        # Headers are always equal. marshal flags an object "referenced" by its reference
        # count, which depends on the state of the process that wrote it (the oracle has run
        # json, the worker has not), so the code bytes may differ there: then the code
        # objects must be equal, as the interpreter loads them.
        identical, equal, bad = _compare(tgt, pairs)
        assert not bad, (version, mode, bad[:3])
        assert identical + equal == len(pairs)
        assert check_tree([str(tree)], Options(targets=(tgt,), optimize=levels, invalidation_mode=mode)).fresh == len(
            [j for j in report.jobs if j.source.path not in failed])


@pytest.mark.parametrize("version", VERSIONS)
def test_each_pyc_is_imported_by_its_own_interpreter_without_sources(version: str, tmp_path: Path) -> None:
    tgt = _target(version)
    tree = _tree(tgt.executable, tmp_path / "tree", ("json",))
    report = compile_tree([str(tree)], Options(targets=(tgt,), optimize=(0,)))
    assert report.ok and report.compiled >= 5
    for job in report.jobs:  # sourceless layout: NAME.pyc where NAME.py was
        legacy = Path(job.source.path).with_suffix(".pyc")
        if Path(job.cfile) != legacy:
            shutil.copyfile(job.cfile, legacy)
        os.unlink(job.source.path)
    for cache in tree.rglob("__pycache__"):
        shutil.rmtree(cache)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import json, json.decoder, json.encoder, json.scanner;"
              "assert json.__file__.endswith('.pyc'), json.__file__;"
              "assert json.loads(json.dumps({'a': [1, 2.5, None]})) == {'a': [1, 2.5, None]}; print('ok')")
    out = subprocess.run([tgt.executable, "-E", "-s", "-S", "-c", script, str(tree)], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# Frozenset constants: marshal writes them in iteration order, which follows the hash seed on
# Python 3.3-3.10 (random in every process unless the seed is fixed).
_SETS = textwrap.dedent(
    """
    def kind(word):
        if word in {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"}:
            return 1
        return word not in {"red", "green", "blue", "cyan", "magenta", "yellow"}
    """
)


@pytest.mark.parametrize("version", VERSIONS)
def test_same_bytes_run_after_run_for_every_target(version: str, tmp_path: Path) -> None:
    tgt = _target(version)
    tree = _tree(tgt.executable, tmp_path / "tree", ("json",))
    for i in range(4):
        (tree / f"sets{i}.py").write_text(_SETS.replace("alpha", f"alpha{i}"))
    runs = []
    for _ in range(3):  # each run starts fresh workers, each with its own hash seed if unfixed
        report = compile_tree([str(tree)], Options(targets=(tgt,), optimize=(0, 1), force=True))
        assert report.ok and report.compiled >= 10
        runs.append({job.cfile: Path(job.cfile).read_bytes() for job in report.jobs})
    assert runs[0] == runs[1] == runs[2]


def _installed(versions: list[str]) -> list[str]:
    return [v for v in versions if interpreters.interpreter(v) is not None]


def test_one_run_for_several_targets_then_no_op(small_tree: Path) -> None:
    versions = _installed(["3.8", "3.10", "3.12", "3.13"])
    if not versions:
        pytest.skip("none of Python 3.8, 3.10, 3.12, 3.13 is installed")
    args = [a for v in versions for a in ("--target", v)] + ["--target", "current"]
    out = run_cli("compile", "--json", *args, str(small_tree), env=_env())
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    tags = {f["target"] for f in doc["files"]}
    assert tags == {current().cache_tag} | {f"cpython-{v.replace('.', '')}" for v in versions}
    assert doc["summary"]["compiled"] == doc["summary"]["pycs"]
    for tag in tags:
        assert list(small_tree.rglob(f"*.{tag}.pyc"))
    again = json.loads(run_cli("compile", "--json", *args, str(small_tree), env=_env()).stdout)
    assert again["summary"]["fresh"] == again["summary"]["pycs"] and again["summary"]["compiled"] == 0
    assert run_cli("check", "-q", *args, str(small_tree), env=_env()).returncode == 0


def test_python2_failures_name_the_target_and_the_rest_compile(tmp_path: Path) -> None:
    tgt27 = _target("2.7")
    (tmp_path / "ok.py").write_text("x = 1\n")
    (tmp_path / "py3only.py").write_text("def f(*, a):\n    return a\n")
    report = compile_tree([str(tmp_path)], Options(targets=(tgt27, current())))
    assert [str(p) for p in report.problems] == [f"{tmp_path / 'py3only.py'}:1:8: SyntaxError: invalid syntax (for cpython-2.7)"]
    assert (tmp_path / "ok.pyc").exists() and not (tmp_path / "py3only.pyc").exists()
    assert (tmp_path / "__pycache__" / f"py3only.{current().cache_tag}.pyc").exists()
    outcomes = {(j.target.cache_tag, os.path.basename(j.source.path)): report.outcome(j) for j in report.jobs}
    assert outcomes[("cpython-27", "py3only.py")] == "failed"
    assert outcomes[(current().cache_tag, "py3only.py")] == "compiled"


def test_hash_based_pycs_of_another_hash_family_are_checked_and_cleaned(tmp_path: Path) -> None:
    # 3.7-3.10 hash with SipHash-2-4, 3.11+ with SipHash-1-3: the target's helper hashes.
    other = _target("3.9" if sys.version_info >= (3, 11) else "3.12")
    src = tmp_path / "m.py"
    src.write_text("A = 1\n")
    opts = Options(targets=(other,), invalidation_mode="checked-hash")
    assert compile_tree([str(tmp_path)], opts).compiled == 1
    assert check_tree([str(tmp_path)], opts).fresh == 1
    st = src.stat()
    src.write_text("A = 2\n")  # same size, same mtime: only the hash sees it
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [j.state for j in check_tree([str(tmp_path)], opts).jobs] == ["stale"]
    pyc = tmp_path / "__pycache__" / f"m.{other.cache_tag}.pyc"
    out = run_cli("clean", "--stale", "--target", other.executable, "-v", str(tmp_path), env=_env())
    assert out.returncode == 0, out.stderr
    assert not pyc.exists()


def test_clean_target_touches_only_that_interpreters_caches(tmp_path: Path) -> None:
    other = _target("3.12" if sys.version_info[:2] != (3, 12) else "3.11")
    (tmp_path / "m.py").write_text("A = 1\n")
    compile_tree([str(tmp_path)], Options(targets=(other, current())))
    out = run_cli("clean", "--target", other.executable, str(tmp_path), env=_env())
    assert out.returncode == 0, out.stderr
    left = sorted(p.name for p in (tmp_path / "__pycache__").iterdir())
    assert left == [f"m.{current().cache_tag}.pyc"]


def test_targets_lists_each_interpreter_once(tmp_path: Path) -> None:
    exe = current().executable
    link = tmp_path / "python-link"
    link.symlink_to(exe)
    out = run_cli("targets", "--json", str(link), env=_env())
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    exes = [t["executable"] for t in doc["targets"]]
    assert len(exes) == len({os.path.realpath(e) for e in exes})
    me = [t for t in doc["targets"] if t["current"]]
    assert len(me) == 1 and me[0]["cache_tag"] == current().cache_tag
    assert me[0]["magic_bytes"] == current().magic.hex()
    for version in _installed(VERSIONS):
        assert any(t["version"].startswith(version + ".") for t in doc["targets"]), version
    human = run_cli("targets", env=_env())
    assert human.returncode == 0 and "CACHE TAG" in human.stdout


def test_answers_are_cached_and_a_shim_resolves_to_its_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bytecast.discovery as targets_mod

    first = find_interpreters()
    assert os.path.exists(targets_mod.cache_file())

    def no_process(paths: object, timeout: float = 0) -> dict[str, object]:
        raise AssertionError(f"asked {paths} although the cache answers")

    monkeypatch.setattr(targets_mod, "_ask_all", no_process)
    assert find_interpreters().targets == first.targets
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    shim = tmp_path / "python-shim"
    shim.write_text(f'#!/bin/sh\nexec "{current().executable}" "$@"\n')
    shim.chmod(0o755)
    (tgt,) = resolve([str(shim)])
    assert tgt.is_current and tgt.executable == current().executable


@pytest.mark.parametrize("spec", ["3.1", "cpython-30", "pypy-99", "/no/such/python"])
def test_unknown_target_is_a_usage_error(spec: str, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("A = 1\n")
    for command in (["compile"], ["check"], ["clean", "--stale"]):
        out = run_cli(*command, "--target", spec, str(tmp_path), env=_env())
        assert out.returncode == 2, (command, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and spec in lines[0], out.stderr
    out = run_cli("compile", "--target", "3.1", str(tmp_path), env=_env())
    assert "found:" in out.stderr and current().release in out.stderr


def test_target_specs() -> None:
    assert resolve(["current"]) == (current(),)
    assert resolve([]) == (current(),)
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert resolve([mine]) == (current(),)
    assert resolve([current().cache_tag, "current"]) == (current(),)
    every = resolve(["all"])
    tags = [t.cache_tag for t in every]
    assert len(tags) == len(set(tags)) and current() in every


def _env() -> dict[str, str]:
    e = env()
    e["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]
    return e


# --- the pool with several lanes ------------------------------------------------------------


def _units(first: int, n: int, tmp: Path) -> list[Unit]:
    out = []
    for i in range(first, first + n):
        path = tmp / f"m{i}.py"
        path.write_text(f"X = {i}\n")
        out.append(Unit(i, str(path), str(path), 0, False, ((0, str(tmp / f"m{i}.pyc")),)))
    return out


def test_lanes_share_slots_and_a_dead_lane_fails_only_its_units(tmp_path: Path) -> None:
    good = _units(0, 30, tmp_path)
    bad = _units(100, 3, tmp_path)
    dead = [sys.executable, "-c", "import sys; sys.exit(3)"]
    outcomes: dict[int, Outcome] = {}
    run_lanes(
        [Lane(ProcessWorker, good, [1] * len(good)), Lane(lambda: ProcessWorker(dead), bad, [1] * len(bad))],
        2, lambda o: outcomes.__setitem__(o.uid, o), timeout=30,
    )
    assert sorted(outcomes) == list(range(30)) + [100, 101, 102]
    assert all(outcomes[i].failure is None for i in range(30))
    for i in (100, 101, 102):
        failure = outcomes[i].failure
        assert failure is not None and failure.kind == "WorkerCrash" and "status 3" in failure.message


def test_a_stuck_foreign_worker_times_out_per_file(tmp_path: Path) -> None:
    stuck = [sys.executable, "-c", "import time; time.sleep(60)"]
    units = _units(0, 2, tmp_path)
    outcomes: list[Outcome] = []
    run_lanes([Lane(lambda: ProcessWorker(stuck), units, [1, 1]), Lane(ProcessWorker, _units(10, 2, tmp_path), [1, 1])],
              2, outcomes.append, timeout=0.5)
    kinds = sorted((o.uid, o.failure.kind if o.failure else None) for o in outcomes)
    assert kinds == [(0, "Timeout"), (1, "Timeout"), (10, None), (11, None)]


# --- the interpreter a user means -------------------------------------------------------------


def _other_version() -> str:
    """An installed 3.x that is not the running one (the default must not be bytecast's own)."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for version in ("3.12", "3.11", "3.13", "3.10"):
        if version != mine and interpreters.interpreter(version):
            return version
    pytest.skip("no installed Python 3.10-3.13 other than the running one")


def _venv(version: str, where: Path) -> Path:
    """A real virtual environment of Python ``version`` holding one package in site-packages."""
    exe = interpreters.require(version)
    subprocess.run([exe, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    site = where / "lib" / f"python{version}" / "site-packages" / "vendored"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("X = 1\n")
    return where


def _tags(folder: Path) -> set[str]:
    return {p.name.split(".")[1] for p in folder.rglob("*.pyc")}


def _no_venv_env() -> dict[str, str]:
    e = _env()
    e.pop("VIRTUAL_ENV", None)
    return e


def test_default_target_is_the_active_venvs_python(tmp_path: Path) -> None:
    version = _other_version()
    venv = _venv(version, tmp_path / "venv")
    tag = "cpython-" + version.replace(".", "")
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("import vendored\n")
    active = {**_no_venv_env(), "VIRTUAL_ENV": str(venv)}
    out = run_cli("compile", str(project), env=active)
    assert out.returncode == 0, out.stderr
    assert _tags(project) == {tag}
    assert out.stderr.startswith(f"compiled 1 file for {tag} in ")
    out = run_cli("check", str(project), env=active)
    assert out.returncode == 0 and f"for {tag} in " in out.stderr, out.stderr
    # no venv active: the running interpreter, as before
    out = run_cli("check", str(project), env=_no_venv_env())
    assert out.returncode == 1 and out.stderr.startswith(f"checked 1 file for {current().cache_tag} in ")
    assert out.stderr.endswith(": 1 missing\n"), out.stderr
    # --target current still means the Python bytecast runs on
    out = run_cli("compile", "-q", "--target", "current", str(project), env=active)
    assert out.returncode == 0 and out.stderr == ""
    assert _tags(project) == {tag, current().cache_tag}


def test_a_walked_path_inside_a_venv_means_that_venvs_python(tmp_path: Path) -> None:
    version = _other_version()
    venv = _venv(version, tmp_path / ".venv")
    site = venv / "lib" / f"python{version}" / "site-packages"
    tag = "cpython-" + version.replace(".", "")
    out = run_cli("compile", str(site), env=_no_venv_env())
    assert out.returncode == 0, out.stderr
    assert _tags(site) == {tag}
    # the environment holding the files wins over an active one: only its Python imports them
    out = run_cli("check", str(site), env={**_no_venv_env(), "VIRTUAL_ENV": sys.prefix})
    assert out.returncode == 0 and f"for {tag} in " in out.stderr, out.stderr


def test_a_removed_venv_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("A = 1\n")
    gone = tmp_path / "gone-venv"
    out = run_cli("compile", str(tmp_path), env={**_no_venv_env(), "VIRTUAL_ENV": str(gone)})
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and f"VIRTUAL_ENV={gone}" in out.stderr, out.stderr
    assert not list(tmp_path.rglob("*.pyc"))


def test_target_a_command_on_path(tmp_path: Path) -> None:
    version = _other_version()
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(interpreters.require(version))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("A = 1\n")
    path_env = {**_no_venv_env(), "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    out = run_cli("compile", "--target", "python3", str(tmp_path / "src"), env=path_env)
    assert out.returncode == 0, out.stderr
    assert _tags(tmp_path / "src") == {"cpython-" + version.replace(".", "")}
    out = run_cli("compile", "--target", "no-such-python9", str(tmp_path / "src"), env=path_env)
    assert out.returncode == 2 and "no-such-python9" in out.stderr and "command on PATH" in out.stderr


def test_target_a_full_version_as_targets_prints_it(tmp_path: Path) -> None:
    version = _other_version()
    exe = interpreters.require(version)
    release = subprocess.run([exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "m.py").write_text("A = 1\n")
    out = run_cli("check", "--target", release, str(tmp_path), env=_no_venv_env())
    assert out.returncode == 1 and f"for cpython-{version.replace('.', '')} in " in out.stderr, out.stderr
    out = run_cli("check", "--target", f"{version}.999", str(tmp_path), env=_no_venv_env())
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"{version}.999: no such interpreter" in out.stderr and release in out.stderr


def _checked_tags(stderr: str) -> set[str]:
    return {line.split(" for ", 1)[1].split(" ", 1)[0] for line in stderr.splitlines() if line.startswith("checked ")}


def test_all_means_what_the_project_supports(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "m.py").write_text("A = 1\n")
    installed = {v: f"cpython-{v.replace('.', '')}" for v in interpreters.installed()}
    # no pyproject: the versions CPython still supports (3.9 on), old ones only when named
    out = run_cli("check", "--target", "all", str(project / "src"), env=_no_venv_env())
    assert out.returncode == 1, out.stderr
    tags = _checked_tags(out.stderr)
    assert {tag for v, tag in installed.items() if tuple(map(int, v.split("."))) >= (3, 9)} <= tags
    assert not tags & {"cpython-27", "cpython-36", "cpython-37", "cpython-38"}
    if "2.7" in installed:
        out = run_cli("check", "--target", "all", "--target", "2.7", str(project / "src"), env=_no_venv_env())
        assert "cpython-27" in _checked_tags(out.stderr), out.stderr
    # requires-python of the project's pyproject.toml decides
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.11,<3.13"\n')
    out = run_cli("check", "--target", "all", str(project / "src"), env=_no_venv_env())
    tags = _checked_tags(out.stderr)
    assert {tag for v, tag in installed.items() if v in ("3.11", "3.12")} <= tags, out.stderr
    assert tags <= {"cpython-311", "cpython-312"}, out.stderr
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=4"\n')
    out = run_cli("check", "--target", "all", str(project / "src"), env=_no_venv_env())
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "proj/pyproject.toml: [project] requires-python = '>=4'" in out.stderr, out.stderr
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = "three"\n')
    out = run_cli("check", "--target", "all", str(project / "src"), env=_no_venv_env())
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "requires-python: 'three' is not a version specifier" in out.stderr, out.stderr


def test_which_agrees_with_shutil_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bytecast.targets import which

    plain, runnable, folder = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for where in (plain, runnable, folder):
        where.mkdir()
    (plain / "tool").write_text("not executable\n")  # skipped: not executable
    (folder / "tool").mkdir()  # skipped: a folder
    (runnable / "tool").write_text("#!/bin/sh\n")
    (runnable / "tool").chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(plain), str(folder), str(runnable), os.environ["PATH"]]))
    for name in ("tool", "python3", "sh", "no-such-command-here"):
        assert which(name) == shutil.which(name), name
    assert which("tool") == str(runnable / "tool")
