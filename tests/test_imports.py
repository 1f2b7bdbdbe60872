"""imports: every module compiled code needs, resolved and classified."""

from __future__ import annotations

import binascii
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import interpreters
from bytecast.cli import main
from bytecast.imports import ImportsReport, find_imports, scan
from bytecast.magic import header_size_for
from bytecast.unmarshal import loads

HERE = Path(__file__).parent


def _pyc_payload(path: str) -> bytes:
    data = Path(path).read_bytes()
    return data[header_size_for(int.from_bytes(data[:2], "little")):]


def show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-"
    if isinstance(value, int):
        return f"i{value}"
    return "u" + binascii.hexlify(value.encode("utf-8", "surrogatepass")).decode()


@pytest.mark.parametrize("version", interpreters.VERSIONS)
def test_matches_interpreters_own_dis(version: str, tmp_path: Path) -> None:
    """For pycs each interpreter wrote, IMPORT_NAME sites equal what its own dis finds."""
    exe = interpreters.interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    major, minor = (int(p) for p in version.split("."))
    ver = (major, minor)
    paths = interpreters.stdlib_pycs(exe, str(tmp_path), every=20)
    out = subprocess.run([exe, str(HERE / "dis_truth.py")], input="\n".join(paths),
                         capture_output=True, text=True, check=True, timeout=600).stdout
    truth: dict[str, Counter[tuple[str, str, str, str]]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("F "):
            current = line[2:]
            truth[current] = Counter()
        elif line.startswith("M "):
            _, _path, lineno, name, level, fromlist = line.split(" ", 5)
            truth[current][(lineno, name, level, fromlist)] += 1
    total = 0
    problems = []
    for path in paths:
        code = loads(_pyc_payload(path), ver)
        ours: Counter[tuple[str, str, str, str]] = Counter()
        for found in find_imports(code):
            if found.how not in ("import", "from"):
                continue
            fromlist = ",".join(show(x) for x in found.fromlist) if found.fromlist else "-"
            ours[(str(found.line), show(found.name), show(found.level), fromlist)] += 1
        total += sum(ours.values())
        if ours != truth[path]:
            problems.append(f"{path}: {sorted((ours - truth[path]).items())[:2]} "
                            f"vs {sorted((truth[path] - ours).items())[:2]}")
    assert total > 100
    assert problems == []


TREE = {
    "app/__init__.py": "",
    "app/main.py": (
        "import os, json\n"
        "from . import util\n"
        "from .util import helper\n"
        "from app.sub import deep\n"
        "try:\n"
        "    import not_installed_mod_xyz\n"
        "except ImportError:\n"
        "    not_installed_mod_xyz = None\n"
        "import rich\n"
        "def f():\n"
        "    import csv\n"
        "    return __import__('fractions')\n"
        "class C:\n"
        "    import decimal\n"
        "import importlib\n"
        "mod = importlib.import_module('statistics')\n"
    ),
    "app/util.py": "helper = 1\n",
    "app/sub/__init__.py": "from . import deep\n",
    "app/sub/deep.py": "from ..util import helper\nimport missing_and_unguarded_xyz\n",
}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for rel, text in TREE.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_scan_sources(tree: Path) -> None:
    report = scan([str(tree / "app")])
    mods = {m.name: m for m in report.modules}
    assert mods["os"].kind == "stdlib" and mods["json"].kind == "stdlib"
    assert mods["app.util"].kind == "local"
    assert mods["app.sub.deep"].kind == "local"
    assert mods["app"].kind == "local"
    assert mods["rich"].kind == "third-party" and mods["rich"].distribution == "rich"
    assert mods["not_installed_mod_xyz"].kind == "missing"
    assert mods["not_installed_mod_xyz"].sites[0].guarded
    assert not mods["missing_and_unguarded_xyz"].sites[0].guarded
    assert mods["csv"].sites[0].scope == "function"
    assert mods["decimal"].sites[0].scope == "class"
    assert mods["fractions"].sites[0].how == "__import__"
    assert mods["statistics"].sites[0].how == "import_module"
    assert mods["os"].sites[0].line == 1 and mods["os"].sites[0].scope == "module"
    assert report.files == 5 and report.problems == ()


def test_scan_pycs_of_other_python(tree: Path) -> None:
    exe = interpreters.interpreter("3.8")
    if exe is None:
        pytest.skip("Python 3.8 is not installed")
    subprocess.run([exe, "-m", "compileall", "-q", "-b", str(tree / "app")], check=True)
    for py in (tree / "app").rglob("*.py"):
        py.unlink()
    report = scan([str(tree / "app")])
    assert report.pythons == ("3.8",)
    mods = {m.name: m for m in report.modules}
    assert mods["app.util"].kind == "local" and mods["os"].kind == "stdlib"


def test_python2_implicit_relative(tmp_path: Path) -> None:
    exe = interpreters.interpreter("2.7")
    if exe is None:
        pytest.skip("Python 2.7 is not installed")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sibling.py").write_text("")
    (pkg / "m.py").write_text("import sibling\nimport StringIO\n")
    subprocess.run([exe, "-m", "compileall", "-q", str(pkg)], check=True)
    for py in pkg.glob("*.py"):
        py.unlink()
    mods = {m.name: m for m in scan([str(pkg)]).modules}
    assert mods["pkg.sibling"].sites[0].implicit_relative
    assert mods["StringIO"].kind == "stdlib"  # stdlib of 2.7, not of the running Python


def test_cli(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["imports", str(tree / "app")]) == 1  # an unguarded import is missing
    out = capsys.readouterr().out
    assert "rich: third-party (rich" in out and "[module, guarded]" in out
    main(["imports", str(tree / "app"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert any(m["name"] == "os" for m in doc["modules"])
    main(["imports", str(tree / "app"), "--requirements"])
    req = capsys.readouterr().out
    assert req.startswith("rich==") and "# missing: missing_and_unguarded_xyz" in req
    assert main(["imports", str(tree / "nope")]) == 2


def test_cli_reports_a_bad_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tree / "bad.pyc"
    bad.write_bytes(b"garbage")
    assert main(["imports", str(bad), str(tree / "app")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{bad}:0:0: PycFormatError: ")
    main(["imports", str(bad), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["problems"][0]["kind"] == "PycFormatError"


def test_pyc_only_distribution(tmp_path: Path) -> None:
    """A distribution that installed only .pyc files is still found through its RECORD, read
    from the venv folder named by ``env`` (nothing of it is run)."""
    import importlib.metadata

    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "fakepkg_xyz").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\nversion_info = 3.11.7\n")
    (site / "fakepkg_xyz" / "__init__.pyc").write_bytes(b"")
    info = site / "fake_dist_xyz-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-dist-xyz\nVersion: 1.2\n")
    (info / "RECORD").write_text("fakepkg_xyz/__init__.pyc,,\n"
                                 "fake_dist_xyz-1.2.dist-info/METADATA,,\n")
    if sys.version_info < (3, 12):  # what the stdlib alone would say
        dist = next(iter(importlib.metadata.distributions(path=[str(site)])))
        assert "fakepkg_xyz" not in (dist.read_text("top_level.txt") or "")
    src = tmp_path / "app.py"
    src.write_text("import fakepkg_xyz.sub\nimport rich\n")
    report = scan([str(src)], env=str(venv))
    mods = {m.name: m for m in report.modules}
    mod = mods["fakepkg_xyz.sub"]
    assert (mod.kind, mod.distribution, mod.version) == ("third-party", "fake-dist-xyz", "1.2")
    assert mods["rich"].kind == "missing"  # installed where bytecast runs, not in that venv
    assert report.environment is not None and report.environment.python == "3.11"


def test_stdlib_is_judged_by_the_bytecode_version() -> None:
    from bytecast.imports import classify_names

    for version in ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"):
        kinds = classify_names(["os", "json.decoder"], version, set())
        assert {k for k, _, _ in kinds.values()} == {"stdlib"}, version
    assert classify_names(["StringIO"], "2.7", set())["StringIO"][0] == "stdlib"
    assert classify_names(["StringIO"], "3.11", set())["StringIO"][0] == "missing"
    assert classify_names(["cgi"], "3.12", set())["cgi"][0] == "stdlib"
    assert classify_names(["cgi"], "3.13", set())["cgi"][0] == "missing"  # PEP 594
    assert classify_names(["tomllib"], "3.10", set())["tomllib"][0] == "missing"


GUARDS = '''\
import plain_a
try:
    import guarded_b
except ImportError:
    guarded_b = None
try:
    from pkg_c import thing
except (ImportError, AttributeError):
    thing = None
try:
    import not_guarded_d
except KeyError:
    pass
def f():
    try:
        import guarded_e
    except ImportError:
        return None
    return __import__("dyn_f")
'''


@pytest.mark.parametrize("version", interpreters.VERSIONS)
def test_scope_and_guards_in_every_version(version: str, tmp_path: Path) -> None:
    exe = interpreters.interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    src = tmp_path / "g.py"
    src.write_text(GUARDS)
    pyc = tmp_path / "g.pyc"
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], "
                    "cfile=sys.argv[2], doraise=True)", str(src), str(pyc)], check=True)
    src.unlink()
    mods = {m.name: m.sites[0] for m in scan([str(pyc)]).modules}
    assert not mods["plain_a"].guarded and mods["plain_a"].line == 1
    assert mods["guarded_b"].guarded and mods["guarded_b"].line == 3
    assert mods["pkg_c"].guarded and mods["pkg_c"].how == "from"
    assert not mods["not_guarded_d"].guarded
    assert mods["guarded_e"].guarded and mods["guarded_e"].scope == "function"
    assert mods["dyn_f"].how == "__import__" and not mods["dyn_f"].guarded


def _pyc35(path: Path) -> None:
    """A minimal 3.5 pyc (magic 3351): the reader accepts it, the disassembler has no table."""
    import struct

    def i32(n: int) -> bytes:
        return struct.pack("<i", n)

    body = (b"c" + i32(0) * 5 + b"s" + i32(4) + b"d\x00\x00S" + b")\x01N" + b")\x00" * 4
            + b"z\x04m.py" + b"z\x08<module>" + i32(1) + b"s" + i32(0))
    path.write_bytes(struct.pack("<H", 3351) + b"\r\n" + i32(0) * 2 + body)


def test_one_bad_file_never_stops_a_scan(tmp_path: Path) -> None:
    """Old, corrupt, foreign, too deep and not-a-file inputs each give one Problem; the
    good file is still scanned."""
    import os

    (tmp_path / "good.py").write_text("import json\n")
    (tmp_path / "corrupt.pyc").write_bytes(b"garbage")
    (tmp_path / "deep.py").write_text("x = " + "1+" * 200_000 + "1\n")  # RecursionError
    (tmp_path / "deeper.py").write_text("x = " + "-" * 200_000 + "1\n")  # MemoryError
    (tmp_path / "syntax.py").write_text("def f(:\n")
    _pyc35(tmp_path / "old.pyc")
    os.mkfifo(tmp_path / "fifo.py")
    report = scan([str(tmp_path)])
    assert [m.name for m in report.modules] == ["json"]
    kinds = {Path(p.path).name: p.kind for p in report.problems}
    assert kinds == {"corrupt.pyc": "PycFormatError", "deep.py": "RecursionError",
                     "deeper.py": "MemoryError", "syntax.py": "SyntaxError",
                     "old.pyc": "DataError", "fifo.py": "OSError"}
    by_name = {Path(p.path).name: p for p in report.problems}
    assert "no opcode table for Python 3.5" in by_name["old.pyc"].message
    assert "not a regular file (a FIFO)" in by_name["fifo.py"].message
    assert by_name["syntax.py"].line == 1
    for problem in report.problems:
        line = str(problem)
        assert line.count("\n") == 0 and line.startswith(problem.path + ":")
        assert "--" not in problem.message  # library messages never name a flag


def test_listing_escapes_names(tmp_path: Path) -> None:
    from bytecast.imports import listing

    src = tmp_path / "m.py"
    src.write_text("__import__('x\\x1b[31m\\ud800')\n")
    report = scan([str(src)])
    assert report.modules[0].name == "x\x1b[31m\ud800"  # the record keeps the name
    assert listing(report)[0] == "x\\x1b[31m\\ud800: missing"


def test_the_scan_walks_as_compile_does(tmp_path: Path) -> None:
    """One walker: excludes, the link policy and depth apply to imports as to compile."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("import json\n")
    (tmp_path / "app" / "tests").mkdir()
    (tmp_path / "app" / "tests" / "t.py").write_text("import unittest\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.py").write_text("import csv\n")
    (tmp_path / "app" / "linked").symlink_to(tmp_path / "outside")
    (tmp_path / "app" / ".hidden").mkdir()
    (tmp_path / "app" / ".hidden" / "h.py").write_text("import zlib\n")

    def names(**kw: Any) -> list[str]:
        return sorted(m.name for m in scan([str(tmp_path / "app")], **kw).modules)

    assert names() == ["json", "unittest"]
    assert names(excludes=["tests/"]) == ["json"]
    assert names(links="all") == ["csv", "json", "unittest"]
    assert names(max_depth=0) == ["json"]


# --- real packages from PyPI -----------------------------------------------------------------

WHEELS = ("requests==2.34.2", "django==5.2.19")
"""Pinned: the assertions below read what these releases hold (TYPE_CHECKING blocks, dynamic
imports of database backends)."""


@pytest.fixture(scope="module")
def wheels(request: pytest.FixtureRequest) -> dict[str, Path]:
    """The wheels of requests and Django, downloaded once into pytest's cache folder."""
    folder = Path(request.config.cache.mkdir("bytecast-pypi-wheels"))
    found = {w.split("==")[0]: sorted(folder.glob(w.replace("==", "-") + "-*.whl"))
             for w in WHEELS}
    if not all(found.values()):
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary",
                               ":all:", "-d", str(folder), *WHEELS], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"cannot download wheels from PyPI (offline?): {done.stderr.strip()[-200:]}")
        found = {w.split("==")[0]: sorted(folder.glob(w.replace("==", "-") + "-*.whl")) for w in WHEELS}
    return {name: paths[0] for name, paths in found.items()}


@pytest.fixture(scope="module")
def venv(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3.12 venv with requests and Django installed, requests and django.db compiled by its
    own interpreter (all of Django would cost the suite half a minute more)."""
    exe = interpreters.require("3.12")
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([exe, "-m", "venv", "--without-pip", str(root)], check=True, timeout=300)
    python = root / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", "--no-compile", *map(str, wheels.values())], check=True, timeout=600,
                   capture_output=True)
    site = _site(root)
    subprocess.run([str(python), "-m", "compileall", "-q", str(site / "requests"), str(site / "django" / "db")],
                   check=True, timeout=600, capture_output=True)
    return root


def _site(venv: Path) -> Path:
    return venv / "lib" / "python3.12" / "site-packages"


def _source_of(pyc: str) -> str:
    p = Path(pyc)
    return str(p.parent.parent / (p.name.split(".")[0] + ".py")) if p.parent.name == "__pycache__" else pyc


def _typing_blocks(tree: Path) -> set[tuple[str, int]]:
    """(source, line) of every import under ``if TYPE_CHECKING:`` (or ``typing.``), by ast."""
    import ast

    def is_tc(test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
                or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")

    out = set()
    for src in tree.rglob("*.py"):
        for node in ast.walk(ast.parse(src.read_bytes())):
            if isinstance(node, ast.If) and is_tc(node.test):
                for inner in node.body:
                    for sub in ast.walk(inner):
                        if isinstance(sub, (ast.Import, ast.ImportFrom)):
                            out.add((str(src), sub.lineno))
    return out


def test_real_packages_typing_only_and_dynamic(venv: Path) -> None:
    """requests and django.db, installed and compiled by a 3.12 venv: what runs only for a type
    checker is typing-only (never missing), Django's backend loading is dynamic."""
    site = _site(venv)
    report = scan([str(site / "requests"), str(site / "django" / "db")], env=str(venv))
    assert report.problems == () and report.pythons == ("3.12",)  # the venv's own pycs
    assert all(".cpython-312.pyc" in s.file for m in report.modules for s in m.sites)
    kinds = {m.name: m.kind for m in report.modules}
    assert kinds["_typeshed"] == "typing-only" and kinds["typing_extensions"] == "typing-only"
    hard = {m.name for m in report.hard_missing}
    assert not hard & {"_typeshed", "typing_extensions", "urllib3.connectionpool"}
    assert {"urllib3", "idna", "certifi", "asgiref.sync", "sqlparse"} <= hard  # real deps, not installed
    assert "charset_normalizer" not in hard and "chardet" not in hard  # requests tries one, then the other
    ours = {(_source_of(s.file), s.line) for m in report.modules for s in m.sites if s.typing_only}
    truth = _typing_blocks(site / "requests") | _typing_blocks(site / "django" / "db")
    assert len(truth) > 20 and ours == truth
    assert not any("%" in name or "{" in name for name in kinds)
    backends = [d for d in report.dynamic if d.file.endswith(".pyc") and d.pattern == "%s.base"]
    assert any(_source_of(d.file).endswith("django/db/utils.py") for d in backends)
    assert kinds["requests"] == "local" and kinds["django.db.models"] == "local"


def test_wheel_is_read_directly(venv: Path, wheels: dict[str, Path]) -> None:
    """A .whl input gives the same imports as the installed package (its sources compiled in
    memory, as loose sources are)."""
    from_wheel = scan([str(wheels["requests"])], env=str(venv), declared=False)
    installed = scan([str(_site(venv) / "requests")], env=str(venv), declared=False)

    def shape(report: ImportsReport) -> set[tuple[str, str, bool]]:
        return {(m.name, m.kind, s.typing_only) for m in report.modules for s in m.sites}

    assert from_wheel.problems == () and from_wheel.files == installed.files
    assert shape(from_wheel) == shape(installed) and len(shape(installed)) > 50
    assert all(s.file.startswith(str(wheels["requests"]) + "/requests/") for m in from_wheel.modules
               for s in m.sites)


def test_declared_dependencies(venv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = venv.parent / "proj"
    (proj / "my_app").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "My.App"\ndependencies = ["Requests>=2", "Unused_Thing[x]>=1; python_version>\'3\'"]\n'
        '[project.optional-dependencies]\ndocs = ["sphinx"]\n')
    (proj / "my_app" / "__init__.py").write_text(
        "import requests\nimport django.conf\nimport my_app.util\ntry:\n    import sqlparse\nexcept ImportError:\n"
        "    sqlparse = None\n")
    (proj / "my_app" / "util.py").write_text("")
    report = scan([str(proj / "my_app")], env=str(venv))
    found = report.declared
    assert found is not None and found.pyproject == str(proj / "pyproject.toml")
    assert found.project == "my-app" and found.declared == ("requests", "sphinx", "unused-thing")
    assert [(u.distribution, u.version, u.modules, u.required) for u in found.undeclared] == [
        ("Django", "5.2.19", ("django.conf",), True)]
    assert [(u.name, u.extra, u.installed) for u in found.unused] == [
        ("sphinx", "docs", False), ("unused-thing", None, False)]
    assert main(["imports", str(proj / "my_app"), "--env", str(venv)]) == 1  # Django is undeclared
    out = capsys.readouterr().out
    assert "imported but not declared: Django 5.2.19 for django.conf" in out
    assert "declared but never imported: unused-thing" in out
    main(["imports", str(proj / "my_app"), "--env", str(venv), "--json", "--requirements"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["declared"]["undeclared"][0]["distribution"] == "Django"
    assert doc["requirements"] == ["Django==5.2.19", "requests==2.34.2",
                                   "# missing: sqlparse (no installed distribution provides it)"]
    assert doc["environment"]["where"] == str(venv)


def test_environments(venv: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    from bytecast.import_classify import default_environment, environment

    exe = interpreters.require("3.12")
    plain = environment(exe)  # asked: an interpreter outside a venv
    assert plain.python == "3.12" and plain.where == os.path.abspath(exe)
    assert any(d.endswith("site-packages") for d in plain.site_dirs)
    assert environment(str(venv / "bin" / "python")).where == str(venv)  # a venv's interpreter: its venv
    assert environment(str(venv)).site_dirs == (str(_site(venv).resolve()),)
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert default_environment([str(tmp_path)]).where == str(venv)
    monkeypatch.delenv("VIRTUAL_ENV")
    assert default_environment([str(_site(venv) / "requests")]).where == str(venv)
    assert default_environment([str(tmp_path)]).where == "the running Python"
    (tmp_path / "m.py").write_text("import json\n")
    for bad in (["--env", str(tmp_path)], ["--env", str(tmp_path / "nope")], ["--python", "3.99"],
                ["--python", "three"]):
        assert main(["imports", str(tmp_path / "m.py"), *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err


def _pyc_of(exe: str, text: str, src: Path, cfile: Path) -> None:
    """``cfile``: ``text`` compiled by ``exe`` as if it were the source ``src``."""
    tmp = src.parent / ("_tmp_" + src.name)
    tmp.write_text(text)
    cfile.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                    "doraise=True)", str(tmp), str(cfile)], check=True, timeout=60)
    tmp.unlink()


def test_the_pyc_the_target_imports(tmp_path: Path) -> None:
    """Beside a source, the target's __pycache__ pyc (else the source); a legacy NAME.pyc only
    without a source — importlib's order."""
    exe38, exe312 = interpreters.require("3.8"), interpreters.require("3.12")
    src = tmp_path / "m.py"
    src.write_text("import from_source\n")
    _pyc_of(exe38, "import from_legacy\n", src, tmp_path / "m.pyc")
    _pyc_of(exe38, "import from_cache_38\n", src, tmp_path / "__pycache__" / "m.cpython-38.pyc")
    _pyc_of(exe312, "import from_cache_312\n", src, tmp_path / "__pycache__" / "m.cpython-312.pyc")

    def read(python: str) -> list[str]:
        return [m.name for m in scan([str(tmp_path)], python, declared=False).modules]

    assert read("3.12") == ["from_cache_312"]
    assert read("3.8") == ["from_cache_38"]
    assert read("3.10") == ["from_source"]  # no pyc of its own: the target compiles the source
    src.unlink()
    assert read("3.12") == ["from_legacy"]  # sourceless: only the legacy pyc is importable


def test_zip_archives_as_zipimport_reads_them(tmp_path: Path) -> None:
    """A .pyz/.zip: a legacy NAME.pyc wins over NAME.py, __pycache__ is never read."""
    import zipfile

    exe = interpreters.require("3.8")
    work = tmp_path / "work"
    work.mkdir()
    _pyc_of(exe, "import from_legacy\n", work / "m.py", work / "m.pyc")
    _pyc_of(exe, "import from_cache\n", work / "m.py", work / "cache.pyc")
    app = tmp_path / "app.pyz"
    with zipfile.ZipFile(app, "w") as zf:
        zf.writestr("__main__.py", "import m\nimport importlib\nimportlib.import_module('json')\n")
        zf.writestr("m.py", "import from_source\n")
        zf.write(work / "m.pyc", "m.pyc")
        zf.write(work / "cache.pyc", "__pycache__/m.cpython-38.pyc")
        zf.writestr("pkg/__init__.py", "from . import sub\n")
        zf.writestr("pkg/sub.py", "import csv\n")
        zf.writestr("../evil.py", "import evil\n")
    report = scan([str(app)], declared=False)
    kinds = {m.name: m.kind for m in report.modules}
    assert kinds == {"from_legacy": "missing", "m": "local", "importlib": "stdlib", "json": "stdlib",
                     "pkg.sub": "local", "pkg": "local", "csv": "stdlib"}
    assert report.pythons == ("3.8", f"{sys.version_info[0]}.{sys.version_info[1]}") and report.files == 4
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    report = scan([str(broken), str(app)], declared=False)
    assert [p.kind for p in report.problems] == ["ArchiveError"] and report.files == 4


def test_a_broken_pyproject_costs_only_the_comparison(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 1\n")
    (tmp_path / "m.py").write_text("import json\n")
    report = scan([str(tmp_path / "m.py")])
    assert [m.name for m in report.modules] == ["json"] and report.declared is None
    assert [(p.path, p.kind) for p in report.problems] == [(str(tmp_path / "pyproject.toml"), "PyprojectError")]
    assert main(["imports", str(tmp_path / "m.py")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid TOML" in err


def test_requirements_leave_out_typing_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rich\n")
    assert main(["imports", str(src), "--requirements"]) == 0
    assert capsys.readouterr().out == ""
    src.write_text("import rich\n")
    main(["imports", str(src), "--requirements"])
    assert capsys.readouterr().out.startswith("rich==")
