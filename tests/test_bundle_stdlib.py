"""A ``--fast-start`` bundle serves the standard-library modules its application loads from its
index, on the interpreter it was built with only, and they are indistinguishable from the
normal ones (tests/data/stdlibapp prints how each of its modules was loaded; the oracle is the
same program run by the same interpreter without a bundle)."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bytecast.bundle import build
from bytecast.targets import resolve
from interpreters import require
from test_bundle import VERSIONS, _built, _env, _offline, _run, _shared

HERE = Path(__file__).parent
STDLIBAPP = HERE / "data" / "stdlibapp"
WANTED = VERSIONS  # every installed 3.9-3.13: the bytes and the guard differ by version
SERVED = {"json", "json.decoder", "textwrap", "email", "email.message"}
"""Modules stdlibapp imports at module level or in its entry function: the bundle holds them."""


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not WANTED:
        pytest.skip("needs one of Python 3.9-3.13 installed")
    return _built(tmp_path_factory, "stdlibapp-fast", [str(STDLIBAPP)], WANTED, script="stdlibapp", fast=True)


def _index(bundle: Path, version: str) -> dict[str, Any]:
    """A target's index of a bundle this test built (ours: marshal.loads is fine), with the
    code of each standard-library module it serves in place of its (offset, size)."""
    with zipfile.ZipFile(bundle) as zf:
        data = zf.read(".bytecast/cpython-" + version.replace(".", ""))
    index = marshal.loads(data)
    assert isinstance(index, dict)
    code = data[len(data) - index["code_size"]:]
    for name, (package, origin, (at, size), *rest) in index.get("stdlib", {}).get("modules", {}).items():
        index["stdlib"]["modules"][name] = (package, origin, code[at:at + size], *rest)
    return index


def _oracle(exe: str) -> dict[str, Any]:
    """What stdlibapp prints when this interpreter runs it without a bundle."""
    program = f"import sys; sys.path.insert(0, {str(STDLIBAPP / 'src')!r}); import stdlibapp; stdlibapp.main()"
    done = subprocess.run([exe, "-I", "-S", "-c", program], capture_output=True, text=True, timeout=60, check=True)
    out = json.loads(done.stdout)
    assert isinstance(out, dict)
    return out


# Run the bundle's own bootstrap on an index changed on the way in (the guard forged).
_FORGED = """\
import marshal, sys, zipfile
archive, tag, forge = sys.argv[1], sys.argv[2], sys.argv[3]
data = zipfile.ZipFile(archive).read(".bytecast/" + tag)
index = marshal.loads(data)
held = index["stdlib"]
if forge == "version":
    held["guard"] = (held["guard"][0] + " (another build)",) + held["guard"][1:]
elif forge == "os.py":
    held["guard"] = held["guard"][:5] + (held["guard"][5] + 1,) + held["guard"][6:]
elif forge in held["modules"]:  # one module's source recorded with another mtime
    package, origin, code, size, mtime, cached = held["modules"][forge]
    held["modules"][forge] = (package, origin, code, size, mtime + 1, cached)
del sys.argv[1:4]
sys.argv[0] = "-c"
space = {"__name__": "bytecast_bundle_boot", "__builtins__": __builtins__}
exec(marshal.loads(index["boot"]), space)
sys.exit(space["main"](index, archive, data))
"""


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_stdlib_is_served_from_the_index_and_looks_the_same(fast: Path, version: str, tmp_path: Path) -> None:
    if version not in WANTED:
        pytest.skip(f"no Python {version} installed")
    exe = require(version)
    done = _run(fast, env=_env(tmp_path / "cache", exe))
    assert done.returncode == 0, done.stderr
    got, normal = json.loads(done.stdout), _oracle(exe)
    for name in SERVED:
        assert got["loaders"][name] == "StdlibLoader", name  # the bundle's loader served it
        assert normal["loaders"][name] == "SourceFileLoader"
    assert got["loaders"]["colorsys"] == "SourceFileLoader"  # not held: the normal path finder
    assert got["modules"] == normal["modules"]  # __file__, origin, __cached__, __path__, co_filename
    assert got["source"] == normal["source"] == "def dedent(text):"  # inspect.getsource
    assert got["traceback"] == normal["traceback"]  # the stdlib's frames, with their source lines
    assert got["message"] == "text/plain"
    assert got["reloaded"] == ["StdlibLoader", True]  # importlib.reload finds it again
    assert got["gc"] == [50000, True, True] and normal["gc"][0] != 50000  # what --fast-start tunes


@pytest.mark.parametrize("forge", ["version", "os.py", "-O", "none"])
def test_another_interpreter_build_uses_its_own_stdlib(fast: Path, forge: str, tmp_path: Path) -> None:
    version = WANTED[-1]
    exe = require(version)
    tag = "cpython-" + version.replace(".", "")
    flags = ["-O"] if forge == "-O" else []  # the index holds code of level 0: -O must not get it
    done = subprocess.run([exe, *flags, "-I", "-S", "-c", _FORGED, str(fast), tag, forge.strip("-")], capture_output=True,
                          text=True, env=_env(tmp_path / "cache"), timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    if forge == "none":  # the program above, nothing forged: served (so the cases above can fail)
        assert got["loaders"]["json"] == "StdlibLoader"
        return
    assert set(got["loaders"].values()) == {"SourceFileLoader"}  # nothing served: the guard failed
    normal = _oracle(exe) if not flags else None
    if normal is not None:
        assert got["modules"] == normal["modules"]
    else:
        assert got["modules"]["json"]["cached"].endswith(".opt-1.pyc")


def test_a_changed_source_is_loaded_from_itself(fast: Path, tmp_path: Path) -> None:
    version = WANTED[-1]
    exe = require(version)
    tag = "cpython-" + version.replace(".", "")
    done = subprocess.run([exe, "-I", "-S", "-c", _FORGED, str(fast), tag, "textwrap"], capture_output=True,
                          text=True, env=_env(tmp_path / "cache"), timeout=60)
    assert done.returncode == 0, done.stderr
    loaders = json.loads(done.stdout)["loaders"]
    assert loaders["textwrap"] == "SourceFileLoader"  # its source is not the file it was compiled from
    assert loaders["json"] == loaders["email.message"] == "StdlibLoader"  # the others still served


def test_the_table_holds_only_source_modules_compiled_as_the_interpreter_compiles_them(fast: Path) -> None:
    for version in WANTED:
        exe = require(version)
        held = _index(fast, version)["stdlib"]
        modules = held["modules"]
        assert set(modules) >= SERVED and "colorsys" not in modules
        assert held["guard"][1] == "cpython-" + version.replace(".", "")
        # never a frozen, builtin or extension module of that interpreter
        check = "import _imp, sys; print(sorted(n for n in sys.argv[1:] if _imp.is_frozen(n) or _imp.is_builtin(n)))"
        done = subprocess.run([exe, "-I", "-S", "-c", check, *modules], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "[]"
        assert all(origin.endswith(".py") for _, origin, *_ in modules.values())
        # the code is what the interpreter loads from its own __pycache__: equal code objects
        # everywhere, the same bytes on 3.11 and 3.12 (3.9 and 3.10 write marshal's references by
        # refcount; so does 3.13 for a module the process compiling its stdlib had imported:
        # functools and weakref here, which differ in back-references only)
        compare = (
            "import importlib.util, marshal, sys\n"
            "held = marshal.loads(sys.stdin.buffer.read())\n"
            "same = bytes_same = 0\n"
            "for name, (package, origin, code, *_) in held.items():\n"
            "    with open(importlib.util.cache_from_source(origin), 'rb') as f:\n"
            "        own = f.read()[16:]\n"
            "    bytes_same += own == code\n"
            "    same += marshal.loads(own) == marshal.loads(code)\n"
            "print(len(held), same, bytes_same)\n"
        )
        compared = subprocess.run([exe, "-I", "-S", "-c", compare], input=marshal.dumps(modules, 4),
                                  capture_output=True, check=True)
        count, same, bytes_same = map(int, compared.stdout.split())
        assert count == len(modules) and same == count
        if version in ("3.11", "3.12"):
            assert bytes_same == count


def test_inspect_says_how_many_stdlib_modules_each_target_serves(fast: Path) -> None:
    shown = subprocess.run([sys.executable, "-m", "bytecast", "inspect", str(fast)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    header = lines[1].split()
    assert header[-1] == "STDLIB"
    for version, line in zip(WANTED, lines[2:]):
        cells = line.split()
        assert cells[0] == version and int(cells[-1]) == len(_index(fast, version)["stdlib"]["modules"]) > 0


def test_same_inputs_same_bytes_with_the_stdlib(fast: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    again = tmp_path / "again.pyz"
    with _offline(_shared(tmp_path_factory) / "wheelhouse"):
        report = build([str(STDLIBAPP)], str(again), resolve(WANTED), script="stdlibapp", fast=True)
    assert report.ok, report.problems
    assert again.read_bytes() == fast.read_bytes()
    about = {t["target"]: t for t in report.targets}
    for version in WANTED:
        modules = _index(fast, version)["stdlib"]["modules"]
        entry = about["cpython-" + version.replace(".", "")]
        assert entry["stdlib_modules"] == len(modules)
        assert entry["stdlib_bytes"] == sum(len(m[2]) for m in modules.values())


def test_a_default_bundle_holds_no_stdlib(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not WANTED:
        pytest.skip("needs one of Python 3.9-3.13 installed")
    plain = _built(tmp_path_factory, "stdlibapp", [str(STDLIBAPP)], WANTED[-1:], script="stdlibapp")
    assert "stdlib" not in _index(plain, WANTED[-1])


def test_an_entry_module_that_fails_to_import_still_bundles(tmp_path: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    version = WANTED[-1] if WANTED else pytest.skip("needs one of Python 3.9-3.13 installed")
    project = tmp_path / "broken"
    (project / "src" / "broken").mkdir(parents=True)
    (project / "pyproject.toml").write_text((STDLIBAPP / "pyproject.toml").read_text().replace("stdlibapp", "broken"))
    (project / "src" / "broken" / "__init__.py").write_text(
        "import json\nif not __import__('os').environ.get('BROKEN_OK'):\n    raise RuntimeError('needs BROKEN_OK')\n"
        "def main():\n    print(json.dumps(sorted(__import__('sys').modules)[:1]))\n")
    out = tmp_path / "broken.pyz"
    with _offline(_shared(tmp_path_factory) / "wheelhouse"):
        report = build([str(project)], str(out), resolve([version]), script="broken", fast=True)
    assert report.ok, report.problems
    assert any("needs BROKEN_OK" in w.message for w in report.warnings)  # said, as a warning
    assert "json" in _index(out, version)["stdlib"]["modules"]  # what it imported before it failed
    env = dict(_env(tmp_path / "cache", require(version)), BROKEN_OK="1")
    done = _run(out, env=env)
    assert done.returncode == 0 and done.stdout.startswith("["), done.stderr

