"""clean: removes caches as asked, never a source, keeps sourceless modules unless told."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bytecast.clean import clean
from bytecast.engine import Options, compile_tree
from bytecast.place.pycache import cache_path
from bytecast.targets import current
from conftest import env, run_cli


def sources_digest(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.py"))}


def test_default_removes_every_cache_and_no_source(small_tree: Path) -> None:
    compile_tree([str(small_tree)], Options(optimize=(0, 1, 2)))
    before = sources_digest(small_tree)
    foreign = small_tree / "json" / "__pycache__" / "decoder.cpython-312.pyc"
    foreign.write_bytes(b"\xcb\r\r\n" + bytes(12))  # another Python's cache goes too
    report = clean([str(small_tree)])
    assert not report.problems
    assert len(report.files) == 3 * len(before) + 1
    assert not list(small_tree.rglob("*.pyc")) and not list(small_tree.rglob("__pycache__"))
    assert sources_digest(small_tree) == before


def test_legacy_caches_go_sourceless_modules_stay(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    (tmp_path / "mod.pyc").write_bytes(bytes.fromhex("03f30d0a") + b"\0" * 4 + b"c")  # a 2.7 cache
    (tmp_path / "notes.py").write_text("")
    (tmp_path / "notes.pyc").write_text("a user's text file that happens to end in .pyc\n")
    (tmp_path / "lonely.pyc").write_bytes(b"a sourceless module")
    report = clean([str(tmp_path)])
    assert report.files == [str(tmp_path / "mod.pyc")]
    assert (tmp_path / "notes.pyc").exists()  # beside a source, but no magic number: not bytecode
    assert report.kept_sourceless == 1 and (tmp_path / "lonely.pyc").exists()
    report = clean([str(tmp_path)], sourceless=True)
    assert report.files == [str(tmp_path / "lonely.pyc")]
    assert (tmp_path / "mod.py").exists()


def test_orphans_only(small_tree: Path) -> None:
    compile_tree([str(small_tree)])
    gone = small_tree / "json" / "tool.py"
    orphan = cache_path(str(gone), current())
    gone.unlink()
    report = clean([str(small_tree)], orphans=True)
    assert report.files == [orphan]
    assert len(list(small_tree.rglob("*.pyc"))) == len(list(small_tree.rglob("*.py")))


def test_stale_only_by_the_rule_of_the_writer(small_tree: Path) -> None:
    compile_tree([str(small_tree)])
    compile_tree([str(small_tree / "email")], Options(invalidation_mode="checked-hash", force=True))
    touched = small_tree / "json" / "decoder.py"
    st = touched.stat()
    os.utime(touched, (st.st_atime, st.st_mtime + 5))
    edited = small_tree / "email" / "charset.py"
    st = edited.stat()
    edited.write_bytes(edited.read_bytes().replace(b"iso-8859-1", b"iso-8859-X"))
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: only the hash knows
    report = clean([str(small_tree)], stale=True)
    assert sorted(report.files) == sorted([cache_path(str(touched), current()), cache_path(str(edited), current())])
    left = {str(p) for p in small_tree.rglob("*.pyc")}
    every = {cache_path(str(p), current()) for p in small_tree.rglob("*.py")}
    assert left == every - set(report.files)


def test_corrupt_cache_is_stale_foreign_content_stays(small_tree: Path) -> None:
    compile_tree([str(small_tree / "json")])
    pyc = Path(cache_path(str(small_tree / "json" / "decoder.py"), current()))
    pyc.write_bytes(b"\x00\x01")
    notes = pyc.parent / "notes.txt"
    notes.write_text("not ours")
    weird = pyc.parent / "weird.py"
    weird.write_text("x = 1\n")
    report = clean([str(small_tree / "json")], stale=True)
    assert report.files == [str(pyc)]
    report = clean([str(small_tree / "json")])
    assert notes.exists() and weird.exists() and pyc.parent.exists()
    assert not list(pyc.parent.glob("*.pyc"))


def test_dry_run_lists_and_keeps(small_tree: Path) -> None:
    compile_tree([str(small_tree / "json")])
    before = sorted(small_tree.rglob("*.pyc"))
    result = run_cli("clean", "--dry-run", str(small_tree / "json"))
    assert result.returncode == 0
    assert sorted(small_tree.rglob("*.pyc")) == before
    listed = [line.split(" ", 2)[2] for line in result.stdout.splitlines() if line.startswith("would remove /")]
    assert sorted(listed) == [str(p) for p in before]


def test_cli_json_and_excludes(small_tree: Path) -> None:
    compile_tree([str(small_tree)])
    result = run_cli("clean", "--json", "-x", "email/", str(small_tree))
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["ok"] and doc["removed"] and not any("/email/" in p for p in doc["removed"])
    assert list((small_tree / "email").rglob("*.pyc"))
    assert not list((small_tree / "json").rglob("*.pyc"))


def test_clean_a_single_pyc(small_tree: Path) -> None:
    compile_tree([str(small_tree / "json")])
    pyc = cache_path(str(small_tree / "json" / "decoder.py"), current())
    assert clean([pyc]).files == [pyc]
    assert not os.path.exists(pyc)


def test_fifos_are_never_waited_on(small_tree: Path) -> None:
    """A FIFO named like a pyc, or standing where a hashed pyc's source was: clean goes on."""
    import subprocess
    import sys

    from conftest import env

    compile_tree([str(small_tree / "json")], Options(invalidation_mode="checked-hash"))
    source = small_tree / "json" / "tool.py"
    source.unlink()
    os.mkfifo(source)  # its checked-hash pyc must be judged without reading a FIFO
    os.mkfifo(small_tree / "json" / "fake.pyc")  # and beside a "fake.py"
    (small_tree / "json" / "fake.py").write_text("")
    cache = small_tree / "json" / "__pycache__"
    os.mkfifo(cache / "pipe.cpython-311.pyc")
    for args in (["--stale"], ["--stale", "-n"], ["--target", "current", "-n"], ["-n"]):
        done = subprocess.run([sys.executable, "-m", "bytecast", "clean", *args, str(small_tree / "json")],
                              capture_output=True, text=True, timeout=60, env=env())
        assert "Traceback" not in done.stderr and done.returncode in (0, 1), (args, done.stderr)
    report = clean([str(small_tree / "json")], stale=True)
    assert cache_path(str(source), current()) not in report.files  # its source cannot be read: kept


def _import_with_prefix(exe: str, tree: Path, prefix: Path, *modules: str) -> None:
    """Import ``modules`` from ``tree`` under interpreter ``exe`` with PYTHONPYCACHEPREFIX set, so that
    importlib itself writes their caches under the prefix."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}  # caches written, no user site
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    code = "import sys; sys.path.insert(0, sys.argv[1]); [__import__(m) for m in sys.argv[2:]]"
    subprocess.run([exe, "-S", "-c", code, str(tree), *modules], env=env, check=True, timeout=60)


def test_caches_under_the_pycache_prefix_go_too(tmp_path: Path) -> None:
    import interpreters

    exe = interpreters.require("3.12")
    tree, prefix = tmp_path / "src", tmp_path / "prefix"
    (tree / "pkg").mkdir(parents=True)
    (tree / "top.py").write_text("x = 1\n")
    (tree / "pkg" / "__init__.py").write_text("")
    (tree / "pkg" / "mod.py").write_text("y = 2\n")
    _import_with_prefix(exe, tree, prefix, "top", "pkg.mod")
    mirror = prefix / str(tree.resolve()).lstrip(os.sep)
    written = sorted(p.relative_to(mirror) for p in mirror.rglob("*.pyc"))
    assert [str(p) for p in written] == ["pkg/__init__.cpython-312.pyc", "pkg/mod.cpython-312.pyc",
                                         "top.cpython-312.pyc"]
    assert not list(tree.rglob("__pycache__"))  # the prefix is where they went
    before = sources_digest(tree)

    # --stale keeps fresh ones; --orphans takes those whose source is gone
    (tree / "pkg" / "mod.py").unlink()
    report = clean([str(tree)], orphans=True, pycache_prefix=str(prefix))
    assert report.files == [str(mirror / "pkg" / "mod.cpython-312.pyc")] and not report.problems
    assert (mirror / "top.cpython-312.pyc").exists()

    # without the prefix, clean does not look there; with it, everything goes, sources stay
    assert clean([str(tree)], pycache_prefix=None).files == []
    result = run_cli("clean", "-v", str(tree), env={**env(), "PYTHONPYCACHEPREFIX": str(prefix)})
    assert result.returncode == 0, result.stderr
    assert not mirror.exists() and prefix.is_dir()  # mirror folders left empty go; the prefix stays
    assert (prefix / mirror.relative_to(prefix).parts[0]).is_dir()  # and so do the folders above the mirror
    assert f"removed {mirror / 'top.cpython-312.pyc'}" in result.stdout
    assert sources_digest(tree) == {k: v for k, v in before.items() if not k.endswith("mod.py")}


def test_a_named_pyc_that_stays_says_why(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    compile_tree([str(tmp_path)], Options())
    pyc = cache_path(str(tmp_path / "mod.py"), current(), 0)
    (tmp_path / "lonely.pyc").write_bytes(Path(pyc).read_bytes())
    (tmp_path / "notes.py").write_text("")
    (tmp_path / "notes.pyc").write_text("a user's text file\n")
    result = run_cli("clean", "--stale", pyc, str(tmp_path / "lonely.pyc"), str(tmp_path / "notes.pyc"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"kept {pyc}: the pyc is not stale",
        f"kept {tmp_path / 'lonely.pyc'}: a sourceless module, no lonely.py beside it (see --sourceless)",
        f"kept {tmp_path / 'notes.pyc'}: not bytecode (no magic number), a file of the user's",
    ]
    assert os.path.exists(pyc) and (tmp_path / "lonely.pyc").exists()
    report = clean([pyc, str(tmp_path / "lonely.pyc")], sourceless=True)
    assert report.files == [pyc, str(tmp_path / "lonely.pyc")] and report.kept == []
    assert not os.path.exists(pyc)


def test_clean_help_gives_its_own_target_default() -> None:
    result = run_cli("clean", "--help")
    assert result.returncode == 0
    described = " ".join(result.stdout.split()).split("--target SPEC ")[-1]  # the option, not the usage
    assert "(default: the caches of every Python version" in described and "current (default)" not in described
