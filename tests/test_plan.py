"""Planning: a job per source, target and level, each with its state from the header alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bytecast.discover import Source
from bytecast.engine import compile_tree
from bytecast.options import Options
from bytecast.place.pycache import cache_path
from bytecast.plan import Job, Planner
from bytecast.targets import current, resolve
from interpreters import require


def _source(path: Path) -> Source:
    st = path.stat()
    return Source(str(path), str(path.parent), st.st_mtime, st.st_size)


def _states(path: Path, options: Options = Options()) -> list[str]:
    return [job.state for job in Planner(options).plan([_source(path)])]


def test_states_follow_the_header(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    assert _states(src) == ["missing"]
    compile_tree([str(src)])
    assert _states(src) == ["fresh"]
    assert _states(src, Options(force=True)) == ["forced"]
    assert _states(src, Options(invalidation_mode="checked-hash")) == ["mode"]
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    assert _states(src) == ["stale"]
    pyc = Path(cache_path(str(src), current()))
    pyc.write_bytes(b"\x00" * 20)
    assert _states(src) == ["invalid"]
    pyc.write_bytes(pyc.read_bytes()[:7])
    assert _states(src) == ["invalid"]
    pyc.unlink()
    pyc.mkdir()
    assert _states(src) == ["invalid"]  # a folder where the pyc goes: never a traceback


def test_hash_states_and_a_source_that_cannot_be_hashed(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    hashed = Options(invalidation_mode="checked-hash")
    compile_tree([str(src)], hashed)
    assert _states(src, hashed) == ["fresh"]
    src.write_text("X = 2\n")
    os.utime(src, (0, 0))
    assert _states(src, hashed) == ["stale"]
    source = _source(src)
    src.unlink()
    os.mkfifo(src)  # a FIFO now stands where the source was: hashing it must not block
    assert [j.state for j in Planner(hashed).plan([source])] == ["stale"]


def test_jobs_are_made_per_target_and_level(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    jobs = Planner(Options(optimize=(2, 0, 1))).plan([_source(src)])
    assert [j.optimize for j in jobs] == [0, 1, 2]
    assert all(isinstance(j, Job) and j.dfile == str(src) for j in jobs)
    assert jobs[0] != (jobs[0].source, jobs[0].target)  # a record, not a tuple


@pytest.mark.parametrize("versions", [("3.12", "3.13")])
def test_each_target_bakes_its_own_compileall_rule(versions: tuple[str, str], tmp_path: Path) -> None:
    for version in versions:
        require(version)
    targets = resolve(list(versions))
    src = tmp_path / "a" / "b" / "c.py"
    src.parent.mkdir(parents=True)
    src.write_text("X = 1\n")
    strip = str(tmp_path / "b")  # not a leading prefix of the path
    jobs = Planner(Options(targets=targets, strip_prefix=strip)).plan([_source(src)])
    baked = {j.target.version: j.dfile for j in jobs}
    parts = str(src).split(os.sep)
    kept = list(parts)
    for strip_part, part in zip(strip.split(os.sep), parts):
        if strip_part == part:
            kept.remove(strip_part)
    assert baked[(3, 12)] == os.path.join(*kept)  # up to 3.12: equal parts go wherever they are
    assert baked[(3, 13)] == str(src)  # 3.13: only a leading prefix is stripped; this one is ignored
