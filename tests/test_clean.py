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
from conftest import run_cli


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
