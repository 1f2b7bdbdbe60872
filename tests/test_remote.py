"""Tests for bytecast.remote: the scripts other interpreters run, under every installed one, from
disk and from a zipped bytecast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import bytecast.remote
import interpreters
from bytecast.discovery import _parse_answer
from bytecast.remote import SCRIPTS, script_argv, script_text

REMOTE = Path(bytecast.remote.__file__).resolve().parent
PACKAGE = REMOTE.parent

# What the interpreter says of itself, by its own means (2.7 syntax), as the query should.
_SELF = """\
import binascii, os, sys
try:
    from importlib.util import MAGIC_NUMBER as m
except ImportError:
    import imp
    m = imp.get_magic()
i = getattr(sys, "implementation", None)
tag = i.cache_tag if i is not None else "cpython-%d%d" % sys.version_info[:2]
sys.stdout.write("%d.%d.%d %s %s %s" % (sys.version_info[0], sys.version_info[1], sys.version_info[2], tag,
                 binascii.hexlify(m).decode("ascii"), os.path.realpath(sys.executable)))
"""


def run_query(exe: str, script: list[str], cwd: str = "/") -> dict[str, object]:
    done = subprocess.run([exe, "-E", "-s", "-S", *script], capture_output=True, text=True, cwd=cwd,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bytecast-query\t"), done.stdout
    answer = _parse_answer(done.stdout)
    assert isinstance(answer, dict), answer
    return answer


def expected(exe: str) -> dict[str, object]:
    out = subprocess.run([exe, "-E", "-s", "-S", "-c", _SELF], capture_output=True, text=True, check=True,
                         timeout=60, cwd="/").stdout
    release, tag, magic, real = out.split(" ", 3)
    major, minor = (int(x) for x in release.split(".")[:2])
    return {"release": release, "version": [major, minor], "implementation": "cpython",
            "cache_tag": tag, "magic": magic, "executable": real}


@pytest.mark.parametrize("version", interpreters.VERSIONS)
@pytest.mark.parametrize("how", ["path", "text"])
def test_query_under_every_interpreter(version: str, how: str) -> None:
    exe = interpreters.require(version)
    script = script_argv("query") if how == "path" else ["-c", script_text("query")]
    assert (script == [str(REMOTE / "query.py")]) is (how == "path")
    answer = run_query(exe, script)
    assert answer == expected(exe)
    assert answer["version"] == [int(x) for x in version.split(".")]


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.13"])
def test_query_as_text_is_not_shadowed_by_the_current_folder(tmp_path: Path, version: str) -> None:
    """Run with ``-c``, ``sys.path[0]`` is the current folder: the script drops it first."""
    exe = interpreters.require(version)
    for name in ("binascii", "imp", "importlib"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('shadowed: {name}')\n")
    answer = run_query(exe, ["-c", script_text("query")], cwd=str(tmp_path))
    assert answer == expected(exe)


def test_script_argv_names_the_files_on_disk() -> None:
    for name in SCRIPTS:
        (path,) = script_argv(name)
        assert path == os.path.join(str(REMOTE), name + ".py")
        assert Path(path).read_text(encoding="utf-8") == script_text(name)


def test_script_text_refuses_other_names() -> None:
    for name in ("__init__", "nope", "../targets"):
        with pytest.raises(KeyError):
            script_text(name)


@pytest.fixture(scope="module")
def zipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip holding only ``bytecast/`` (sources, no caches), as a zipapp would."""
    dest = tmp_path_factory.mktemp("zipped") / "bytecast.zip"
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                zf.write(path, "bytecast/" + path.relative_to(PACKAGE).as_posix())
    return dest


# Run with -I (no PYTHONPATH, no site): the zip is the only place bytecast can come from.
_FROM_ZIP = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import bytecast, bytecast.remote
print(json.dumps({"file": bytecast.__file__, "argv": {n: bytecast.remote.script_argv(n) for n in sys.argv[2:]}}))
"""


def test_zipped_bytecast_gives_script_text(zipped: Path) -> None:
    done = subprocess.run([sys.executable, "-I", "-c", _FROM_ZIP, str(zipped), *SCRIPTS], capture_output=True,
                          text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["file"].startswith(str(zipped) + os.sep)
    for name in SCRIPTS:
        argv = got["argv"][name]
        assert argv[0] == "-c" and len(argv) == 2
        assert argv[1] == (REMOTE / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("version", ["2.7", "3.9", "3.13"])
def test_query_text_from_the_zip_runs(zipped: Path, version: str) -> None:
    exe = interpreters.require(version)
    done = subprocess.run([sys.executable, "-I", "-c", _FROM_ZIP, str(zipped), "query"], capture_output=True,
                          text=True, timeout=60, cwd="/", check=True)
    argv = json.loads(done.stdout)["argv"]["query"]
    assert run_query(exe, argv) == expected(exe)


@pytest.mark.parametrize("version", interpreters.VERSIONS)
def test_stdlib_names_under_every_interpreter(version: str) -> None:
    """The list of a version's stdlib modules, asked of that interpreter: on 3.10+ each name is
    one of its own ``sys.stdlib_module_names`` (test packages aside)."""
    exe = interpreters.require(version)
    out = subprocess.run([exe, "-E", "-s", "-S", *script_argv("stdlib_names")], capture_output=True, text=True,
                         timeout=60, cwd="/")
    assert out.returncode == 0 and out.stderr == "", out.stderr
    names = set(out.stdout.split())
    assert {"os", "sys", "json", "re"} <= names and "bytecast" not in names
    if version in ("2.7", "3.6", "3.7", "3.8", "3.9"):
        return
    own = subprocess.run([exe, "-c", "import sys; print(' '.join(sys.stdlib_module_names))"], capture_output=True,
                         text=True, timeout=60).stdout.split()
    # CPython ships its example extensions (xxlimited, xxsubtype) in lib-dynload without listing them
    extra = {n for n in names - set(own) if not n.startswith(("_", "test", "xx")) and n not in ("idlelib", "lib2to3")}
    assert not extra, extra
