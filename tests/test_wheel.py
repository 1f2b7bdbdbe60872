"""Pyc-only wheels: tags against packaging's own rules, untrusted input, RECORD, reproducible
archives, and real wheels from PyPI installed with pip, uv and installer into real venvs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag

from bytecast.targets import Target, current, resolve
from bytecast.wheels import convert_wheels
from bytecast.wheels.reader import Wheel, WheelError, read_wheel
from bytecast.wheels.record import digest, make_record, verify_record
from bytecast.wheels.tags import output_tags
from conftest import member_stream, run_cli
from interpreters import require
from json_schema import SCHEMAS, errors

PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64")


def _fake_target(minor: int) -> Target:
    # Tags depend on the version only: no interpreter needs to run for them.
    return Target((3, minor), f"cpython-3{minor}", b"\x00\x00\r\n", f"python3.{minor}", release=f"3.{minor}.0")


def _supported(minor: int, platforms: list[str]) -> set[Tag]:
    """What packaging says CPython 3.minor installs (pip's and uv's rule), on ``platforms``."""
    tags = set(cpython_tags((3, minor), abis=[f"cp3{minor}"], platforms=platforms))
    return tags | set(compatible_tags((3, minor), f"cp3{minor}", platforms=platforms))


def _wheel_of(tags: str, requires: str | None = None) -> Wheel:
    return Wheel("x-1.0-TAGS.whl", "x", "1.0", "", frozenset(parse_tag(tags)), "x-1.0.dist-info",
                 True, requires, ())


@pytest.mark.parametrize("tags", [
    "py3-none-any", "py2.py3-none-any", "py311-none-any", "cp311-none-any",
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64", "py3-none-manylinux_2_17_x86_64",
])
def test_output_tags_install_on_the_target_only(tags: str) -> None:
    wheel = _wheel_of(tags)
    platforms = sorted({t.platform for t in wheel.tags} | {"any"})
    minors = [m for m in (11, 12) if wheel.tags & _supported(m, platforms)]
    assert 11 in minors
    for minor in minors:
        out = output_tags(wheel, _fake_target(minor))
        assert out, tags
        assert all(t.interpreter == f"cp3{minor}" and t.abi in ("none", f"cp3{minor}") for t in out)
        assert set(out) <= _supported(minor, platforms)
        for other in range(6, 15):
            if other != minor:
                assert not set(out) & _supported(other, platforms), (tags, minor, other)
        if "manylinux" in tags:  # every platform tag kept
            assert {t.platform for t in out} == {t.platform for t in wheel.tags}


@pytest.mark.parametrize(("tags", "requires", "said"), [
    ("cp312-cp312-manylinux2014_x86_64", None, "do not include Python 3.11"),
    ("py2-none-any", None, "do not include Python 3.11"),
    ("cp313-abi3-manylinux2014_x86_64", None, "do not include Python 3.11"),
    ("py3-none-any", ">=3.12", "Requires-Python >=3.12 excludes Python 3.11.0"),
    ("py3-none-any", "!=3.11.*", "excludes Python 3.11.0"),
    ("py3-none-any", ">=3.x", "is not a version specifier"),
])
def test_a_wheel_not_for_the_target_is_refused(tags: str, requires: str | None, said: str) -> None:
    with pytest.raises(WheelError, match=said.replace(".", r"\.").replace("*", r"\*")):
        output_tags(_wheel_of(tags, requires), _fake_target(11))
    output_tags(_wheel_of(tags.replace("cp312", "cp311").replace("py2", "py3").replace("cp313", "cp39")),
                _fake_target(11))  # the same wheel for 3.11 is taken


# --- small wheels made here: the shapes untrusted input takes -------------------------------------


def _zip(path: Path, members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10))
            info.create_system = 3
            info.external_attr = ((0o120777 if name in links else 0o100644) << 16)
            zf.writestr(info, data)
    return path


def _members(**extra: bytes) -> dict[str, bytes]:
    members = {
        "demo/__init__.py": b"from demo.core import answer\n",
        "demo/core.py": b"def answer():\n    return 42\n",
        "demo/__pycache__/core.cpython-311.pyc": b"stray",
        "demo/data.txt": b"not code\n",
        "demo-1.0.data/scripts/demo-run": b"#!python\nprint('run')\n",
        "demo-1.0.data/data/share/demo/config.py": b"kept = True\n",
        "demo-1.0.data/purelib/demo_extra.py": b"x = 1\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.8\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "demo-1.0.dist-info/RECORD": b"",
    }
    members.update({k.replace("__", "/"): v for k, v in extra.items()})
    return members


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return _zip(tmp_path / "demo-1.0-py3-none-any.whl", _members())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_wheel_layout(demo: Path, tmp_path: Path) -> None:
    before = _sha(demo)
    report = convert_wheels([str(demo)], str(tmp_path / "out"), targets=[current()])
    assert report.ok, report.problems
    assert _sha(demo) == before
    (done,) = report.wheels
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert os.path.basename(done.output) == f"demo-1.0-{py}-none-any.whl"
    with zipfile.ZipFile(done.output) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        wheel_text = zf.read("demo-1.0.dist-info/WHEEL").decode()
        top_level = zf.read("demo-1.0.dist-info/top_level.txt").decode()
        core = zf.read("demo/core.pyc")
        data = zf.read("demo/data.txt")  # staged as an empty file (nothing reads it): its bytes from the input
    assert data == b"not code\n"
    assert sorted(names, key=lambda n: (n.startswith("demo-1.0.dist-info/"), n.endswith("/RECORD"), n)) == names
    assert names[-1] == "demo-1.0.dist-info/RECORD"
    assert not [n for n in names if n.endswith("/") or "__pycache__" in n]
    assert {"demo/__init__.pyc", "demo/core.pyc", "demo-1.0.data/purelib/demo_extra.pyc", "demo/data.txt",
            "demo-1.0.data/scripts/demo-run", "demo-1.0.data/data/share/demo/config.py"} <= set(names)
    assert not {"demo/core.py", "demo/__init__.py", "demo-1.0.data/purelib/demo_extra.py"} & set(names)
    assert core[:4] == current().magic
    assert b"demo-1.0/demo/core.py" in core  # the baked name
    assert [line for line in wheel_text.splitlines() if line.startswith("Tag:")] == [f"Tag: {py}-none-any"]
    assert "Generator: hand" in wheel_text
    assert top_level.splitlines() == ["demo", "demo_extra"]
    assert {i.date_time for i in infos} == {(2024, 5, 6, 7, 8, 10)}  # the input's newest member
    modes = {i.filename: i.external_attr >> 16 for i in infos}
    assert modes["demo-1.0.data/scripts/demo-run"] == 0o100644  # as the input had it
    assert verify_record(done.output, "demo-1.0.dist-info/RECORD") == []


def test_two_conversions_are_the_same_bytes_and_scripts_keep_their_bit(tmp_path: Path) -> None:
    members = _members()
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2023, 1, 2, 3, 4, 6))
            info.create_system = 3
            info.external_attr = (0o100755 if "scripts" in name else 0o100644) << 16
            zf.writestr(info, data)
    outs = []
    for n in (1, 2):
        report = convert_wheels([str(path)], str(tmp_path / f"out{n}"), targets=[current()])
        assert report.ok
        outs.append(Path(report.wheels[0].output))
    assert _sha(outs[0]) == _sha(outs[1])
    with zipfile.ZipFile(outs[0]) as zf:
        assert zf.getinfo("demo-1.0.data/scripts/demo-run").external_attr >> 16 == 0o100755
        assert zf.getinfo("demo/core.pyc").external_attr >> 16 == 0o100644


def test_source_date_epoch_sets_the_timestamp(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    report = convert_wheels([str(demo)], str(tmp_path / "out"), targets=[current()])
    with zipfile.ZipFile(report.wheels[0].output) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_stray_and_ghost_pycs_of_the_input_go_and_a_ghost_is_said(tmp_path: Path) -> None:
    members = _members(**{"demo__ghost.pyc": current().magic + bytes(12) + b"junk",
                          "demo__core.pyc": b"stale bytes beside core.py"})
    path = _zip(tmp_path / "demo-1.0-py3-none-any.whl", members)
    report = convert_wheels([str(path)], str(tmp_path / "out"), targets=[current()])
    assert report.ok, report.problems
    (done,) = report.wheels
    with zipfile.ZipFile(done.output) as zf:
        names = zf.namelist()
        core = zf.read("demo/core.pyc")
    assert "demo/ghost.pyc" not in names and not [n for n in names if "__pycache__" in n]
    assert core != b"stale bytes beside core.py" and core[:4] == current().magic
    assert [w for w in done.warnings if "demo/ghost.pyc" in w], done.warnings


def test_prefix_is_baked(demo: Path, tmp_path: Path) -> None:
    report = convert_wheels([str(demo)], str(tmp_path / "out"), targets=[current()], prefix="/opt/app")
    with zipfile.ZipFile(report.wheels[0].output) as zf:
        code = zf.read("demo/core.pyc")
    assert b"/opt/app/demo/core.py" in code and b"demo-1.0/" not in code


def test_unchanged_members_keep_the_inputs_deflate_stream(tmp_path: Path) -> None:
    from bytecast.place.zipraw import deflate

    members = {**_members(), "demo/table.bin": bytes(range(256)) * 400}
    source = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(source, "w") as zf:  # deflated at level 1, as some tool might
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=1)
    report = convert_wheels([str(source)], str(tmp_path / "out"), targets=[current()])
    assert report.ok, report.problems
    out = Path(report.wheels[0].output)
    for name in ("demo/table.bin", "demo/data.txt", "demo-1.0.data/scripts/demo-run"):
        assert member_stream(out, name) == member_stream(source, name)  # copied, not made again
    assert member_stream(source, "demo/table.bin") != deflate(members["demo/table.bin"])  # level 1 is not level 6
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.read("demo/table.bin") == members["demo/table.bin"]
        wheel_text, core = zf.read("demo-1.0.dist-info/WHEEL"), zf.read("demo/core.pyc")
    for name, data in (("demo-1.0.dist-info/WHEEL", wheel_text), ("demo/core.pyc", core)):  # made: level 6
        assert member_stream(out, name) == deflate(data)
    assert verify_record(str(out), "demo-1.0.dist-info/RECORD") == []


def test_record_verifier_finds_what_is_wrong(demo: Path, tmp_path: Path) -> None:
    report = convert_wheels([str(demo)], str(tmp_path / "out"), targets=[current()])
    good = Path(report.wheels[0].output)
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    record = "demo-1.0.dist-info/RECORD"
    assert members[record].decode().splitlines()[-1] == f"{record},,"
    assert f"demo/core.pyc,{digest(members['demo/core.pyc'])},{len(members['demo/core.pyc'])}" in \
        members[record].decode()
    made = ({k: v for k, v in members.items() if k != record},
            {k: digest(v) for k, v in members.items() if k != record})
    assert verify_record(str(good), record, made) == []
    lying = f"demo/core.pyc,{digest(b'other')},{len(members['demo/core.pyc'])}"  # a row not of these bytes
    text = members[record].decode().replace(
        f"demo/core.pyc,{digest(members['demo/core.pyc'])},{len(members['demo/core.pyc'])}", lying)
    relisted = _zip(tmp_path / "relisted.whl", {**members, record: text.encode()})
    assert verify_record(str(relisted), record, made) == [f"{relisted}: {record}: demo/core.pyc is not what it lists"]
    for change in ("edit", "flip", "drop", "extra"):
        broken = dict(members)
        if change == "edit":
            broken["demo/core.pyc"] += b"\0"
        elif change == "flip":  # the same size: only the CRC-32 in the directory tells
            data = broken["demo/core.pyc"]
            broken["demo/core.pyc"] = data[:-1] + bytes([data[-1] ^ 1])
        elif change == "drop":
            del broken["demo/data.txt"]
        else:
            broken["demo/new.txt"] = b"x"
        path = _zip(tmp_path / f"{change}.whl", broken)
        assert verify_record(str(path), record), change
        # given the bytes it was written from (what the converter does): the same verdicts
        assert verify_record(str(path), record, made) == verify_record(str(path), record), change
    rows = {k: v for k, v in members.items() if k != record}
    digests: dict[str, str] = {}
    assert make_record(rows, record, digests) == members[record]
    assert digests == {name: digest(data) for name, data in rows.items()}


@pytest.mark.parametrize(("name", "members", "said"), [
    ("absolute", {"/etc/evil": b"x"}, "is not a plain relative path"),
    ("dotdot", {"demo/../../evil": b"x"}, "is not a plain relative path"),
    ("backslash", {"demo\\..\\evil": b"x"}, "is not a plain relative path"),
    ("link", {"demo/link": b"/etc/passwd"}, "is a symbolic link"),
    ("no-wheel", {"demo-1.0.dist-info/WHEEL": None}, "demo-1.0.dist-info/WHEEL is missing"),
    ("no-record", {"demo-1.0.dist-info/RECORD": None}, "demo-1.0.dist-info/RECORD is missing"),
    ("no-dist-info", {k: None for k in _members() if "dist-info" in k}, "expected one demo-1.0.dist-info folder"),
    ("version-2", {"demo-1.0.dist-info/WHEEL": b"Wheel-Version: 2.0\n"}, "Wheel-Version 2.0"),
    ("file-and-folder", {"demo/core.py/inner.py": b"x = 1\n"}, "cannot be unpacked"),
])
def test_unsafe_or_broken_wheels_are_one_line_and_the_others_go_on(
        tmp_path: Path, demo: Path, name: str, members: dict[str, bytes | None], said: str) -> None:
    content = _members()
    for key, value in members.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    bad_dir = tmp_path / name
    bad_dir.mkdir()
    bad = _zip(bad_dir / "demo-1.0-py3-none-any.whl", content, links=("demo/link",))
    before = _sha(bad)
    out = tmp_path / "out"
    proc = run_cli("wheel", str(bad), str(demo), "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:0:0: WheelError: ") and said in lines[0], lines
    assert [p.name for p in out.iterdir()] == [f"demo-1.0-cp{sys.version_info[0]}{sys.version_info[1]}-none-any.whl"]
    assert _sha(bad) == before


def test_not_a_zip_and_truncated(tmp_path: Path, demo: Path) -> None:
    junk = tmp_path / "junk-1.0-py3-none-any.whl"
    junk.write_bytes(os.urandom(2000))
    cut = tmp_path / "cut-1.0-py3-none-any.whl"
    cut.write_bytes(demo.read_bytes()[:-300])
    proc = run_cli("wheel", str(junk), str(cut), "--json", "-o", str(tmp_path / "out"))
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert errors(document, SCHEMAS["wheel"]) == [] and document["ok"] is False
    assert [p["path"] for p in document["problems"]] == [str(junk), str(cut)]
    assert all("zip" in p["message"] for p in document["problems"])
    assert proc.stderr == ""  # --json: the problems are in the document


@pytest.mark.parametrize("how", ["crc", "stream"])
def test_a_damaged_member_is_one_line(tmp_path: Path, demo: Path, how: str) -> None:
    import struct

    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = bad_dir / demo.name
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in _members().items():
            info = zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        table = zf.getinfo("demo/data.txt")
    raw = bytearray(bad.read_bytes())
    if how == "crc":  # another CRC-32 in the local header and the directory
        struct.pack_into("<L", raw, table.header_offset + 14, table.CRC ^ 1)
        entry = raw.index(b"demo/data.txt", raw.index(b"PK\x01\x02")) - 46  # its directory entry
        assert raw[entry:entry + 4] == b"PK\x01\x02"
        struct.pack_into("<L", raw, entry + 16, table.CRC ^ 1)
    else:  # its deflate stream broken
        raw[table.header_offset + 30 + len("demo/data.txt")] ^= 0xFF
    bad.write_bytes(bytes(raw))
    proc = run_cli("wheel", str(bad), str(demo), "-o", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "member 'demo/data.txt' cannot be read" in lines[0], lines
    assert len(list((tmp_path / "out").iterdir())) == 1  # the good one is written


def test_usage_errors_exit_2(tmp_path: Path, demo: Path) -> None:
    for args, said in ((["wheel", str(demo)], "-o/--output DIR is required"),
                       (["wheel", str(tmp_path / "missing.whl"), "-o", str(tmp_path)], "no such file"),
                       (["wheel", str(tmp_path), "-o", str(tmp_path / "o")], "not a project"),
                       (["wheel", str(demo), "-o", str(demo)], "not a folder"),
                       (["wheel", str(demo), "-o", str(tmp_path / "o"), "--target", "9.9"], "9.9")):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and said in proc.stderr, proc.stderr


def test_output_never_replaces_the_input(tmp_path: Path) -> None:
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    members = _members()
    members["demo-1.0.dist-info/WHEEL"] = f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {py}-none-any\n".encode()
    path = _zip(tmp_path / f"demo-1.0-{py}-none-any.whl", members)
    before = _sha(path)
    proc = run_cli("wheel", str(path), "-o", str(tmp_path))
    assert proc.returncode == 1 and "would replace the input" in proc.stderr
    assert _sha(path) == before


def test_many_wheels_and_targets_in_one_run_are_each_as_alone(tmp_path: Path, compile_runs: list[int]) -> None:
    """Every wheel and target compiled by one run of the workers; each output the same bytes as
    that wheel converted alone, and a broken wheel fails itself only."""
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    (second,) = resolve([require(other)])
    good = _zip(tmp_path / "demo-1.0-py3-none-any.whl", _members())
    extra = {k.replace("demo", "other"): v.replace(b"demo", b"other") for k, v in _members().items()}
    more = _zip(tmp_path / "other-1.0-py3-none-any.whl", extra)
    broken = tmp_path / "broken"
    broken.mkdir()
    bad = _zip(broken / "demo-1.0-py3-none-any.whl", _members(**{"demo__broken.py": b"def (:\n"}))
    together = convert_wheels([str(good), str(bad), str(more)], str(tmp_path / "together"),
                              targets=[current(), second])
    assert compile_runs == [1]
    assert [p.path for p in together.problems] == [f"{bad}/demo/broken.py"] * 2
    assert "was also written" not in str(together.problems)
    alone = {}
    for path, folder in ((good, "alone1"), (more, "alone2")):
        for target in (current(), second):
            report = convert_wheels([str(path)], str(tmp_path / folder), targets=[target])
            assert report.ok, report.problems
            alone[(str(path), target.label)] = _sha(Path(report.wheels[0].output))
    assert len(compile_runs) == 5
    assert {(w.source, w.target): _sha(Path(w.output)) for w in together.wheels} == alone
    assert len(set(alone.values())) == 4


def test_an_output_that_cannot_be_written_is_one_problem_and_the_others_are_written(
        tmp_path: Path, demo: Path) -> None:
    other = _zip(tmp_path / "other-1.0-py3-none-any.whl",
                 {k.replace("demo", "other"): v.replace(b"demo", b"other") for k, v in _members().items()})
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    out = tmp_path / "out"
    (out / f"demo-1.0-{py}-none-any.whl" / "in-the-way").mkdir(parents=True)
    proc = run_cli("wheel", str(demo), str(other), "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "OSError" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{demo}:0:0: OSError: ") and "cannot be written" in lines[0]
    assert "Traceback" not in proc.stderr
    assert verify_record(str(out / f"other-1.0-{py}-none-any.whl"), "other-1.0.dist-info/RECORD") == []
    assert sorted(p.name for p in out.iterdir()) == [f"demo-1.0-{py}-none-any.whl", f"other-1.0-{py}-none-any.whl"]


def test_syntax_error_writes_no_wheel(tmp_path: Path) -> None:
    path = _zip(tmp_path / "demo-1.0-py3-none-any.whl", _members(**{"demo__broken.py": b"def (:\n"}))
    report = convert_wheels([str(path)], str(tmp_path / "out"), targets=[current()])
    assert not report.wheels
    assert [p.path for p in report.problems] == [f"{path}/demo/broken.py"]
    assert report.problems[0].kind == "SyntaxError"
    assert not list((tmp_path / "out").iterdir())


def test_project_is_built_with_pypa_build(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "hello").mkdir(parents=True)
    (project / "hello" / "__init__.py").write_text("def main():\n    print('hello from bytecode')\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.9,<4"]\nbuild-backend = "flit_core.buildapi"\n'
        '[project]\nname = "hello"\nversion = "0.1"\ndescription = "x"\nrequires-python = ">=3.8"\n'
        '[project.scripts]\nhello = "hello:main"\n')
    proc = run_cli("wheel", str(project), "-o", str(tmp_path / "out"), "--json", timeout=300)
    if proc.returncode == 1 and "build failed" in proc.stderr and ("network" in proc.stderr.lower()
                                                                   or "connection" in proc.stderr.lower()):
        pytest.skip(f"no network for the isolated build: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["built"] == [{"project": str(project), "wheel": "hello-0.1-py3-none-any.whl"}]
    assert errors(document, SCHEMAS["wheel"]) == []
    assert document["wheels"][0]["source"] == str(project / "hello-0.1-py3-none-any.whl")
    with zipfile.ZipFile(document["wheels"][0]["output"]) as zf:
        names = zf.namelist()
        assert "hello/__init__.pyc" in names and "hello/__init__.py" not in names
        assert "hello=hello:main" in zf.read("hello-0.1.dist-info/entry_points.txt").decode()
    assert sorted(p.name for p in project.iterdir()) == ["hello", "pyproject.toml"]  # nothing left in it


# --- real wheels from PyPI ------------------------------------------------------------------------

REAL = {
    "attrs==23.2.0": "3.11",  # pure, no top_level.txt
    "jaraco.functools==4.0.1": "3.11",  # PEP 420 namespace (jaraco)
    "more-itertools==10.2.0": "3.11",  # what jaraco.functools imports
    "pygments==2.17.2": "3.11",  # console script
    "docutils==0.16": "3.11",  # .data/scripts
    "ipykernel==6.29.0": "3.11",  # .data/data
    "virtualenv==20.25.0": "3.11",  # reads its own .py files
    "pyyaml==6.0.1": "3.11",  # native cp311
    "bcrypt==4.1.2": "3.11",  # native abi3 (cp39-abi3)
}


@pytest.fixture(scope="session")
def real_wheels(request: pytest.FixtureRequest) -> dict[str, Path]:
    """The wheels of REAL from PyPI, downloaded once into pytest's cache."""
    cache = request.config.cache
    assert cache is not None
    folder = Path(cache.mkdir("bytecast-real-wheels"))
    found: dict[str, Path] = {}
    for spec, version in REAL.items():
        name, _, release = spec.partition("==")
        stem = name.replace("-", "_").replace(".", "_").lower()
        have = [p for p in folder.glob("*.whl")
                if p.name.lower().replace(".", "_").startswith(f"{stem}-{release.replace('.', '_')}-")]
        if not have:
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary",
                                   ":all:", "--python-version", version, "--platform", PLATFORMS[1], "-d",
                                   str(folder), spec], capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                pytest.skip(f"cannot download {spec} from PyPI (offline?): {proc.stderr.strip()[-200:]}")
            have = [p for p in folder.glob("*.whl")
                    if p.name.lower().replace(".", "_").startswith(f"{stem}-{release.replace('.', '_')}-")]
        found[name] = have[0]
    return found


class Installed:
    """Converted real wheels and the venvs they went into."""

    def __init__(self, root: Path, wheels: dict[str, Path], out311: dict[str, Path], venvs: dict[str, Path],
                 before: set[str], sha_before: dict[str, str]) -> None:
        self.root = root
        self.wheels = wheels
        self.out311 = out311
        self.venvs = venvs
        self.before = before
        self.sha_before = sha_before


def _uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def _files(venv: Path) -> set[str]:
    return {str(p.relative_to(venv)) for p in venv.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, env=env)


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every xdist worker of this run (each worker has its own base temp below it)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "bytecast-real"


@pytest.fixture(scope="session")
def installed(real_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The real wheels converted for 3.11 and installed with pip, uv and installer, once per run
    (the first xdist worker does it under a lock; the others read what it left)."""
    import fcntl

    py311 = require("3.11")
    root = _shared_root(tmp_path_factory)
    root.mkdir(exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "done.json"
        if not done.exists():
            _install(real_wheels, root, py311, done)
        state = json.loads(done.read_text())
    return Installed(root, real_wheels, {k: Path(v) for k, v in state["out"].items()},
                     {k: Path(v) for k, v in state["venvs"].items()}, set(state["before"]), state["sha"])


def _install(real_wheels: dict[str, Path], root: Path, py311: str, done: Path) -> None:
    sha_before = {n: _sha(p) for n, p in real_wheels.items()}
    report = convert_wheels([str(p) for p in real_wheels.values()], str(root / "out"),
                            targets=resolve([py311]))
    assert report.ok, report.problems
    out = {}
    for name, path in real_wheels.items():
        (converted,) = [w for w in report.wheels if w.source == str(path)]
        out[name] = converted.output
    venvs = {}
    for kind in ("pip", "uv", "installer"):
        venv = root / f"venv-{kind}"
        assert _run(_uv(), "venv", "-q", "--python", py311, venv).returncode == 0
        venvs[kind] = str(venv)
    before = sorted(_files(Path(venvs["pip"])))
    wheels = list(out.values())
    proc = _run(sys.executable, "-m", "pip", "--python", Path(venvs["pip"]) / "bin" / "python", "install", "-q",
                "--no-deps", "--no-index", *wheels)
    assert proc.returncode == 0, proc.stderr
    proc = _run(_uv(), "pip", "install", "-q", "--offline", "--no-deps", "--python",
                Path(venvs["uv"]) / "bin" / "python", *wheels)
    assert proc.returncode == 0, proc.stderr
    import installer

    env = dict(os.environ, PYTHONPATH=str(Path(installer.__file__).parent.parent))
    proc = _run(Path(venvs["installer"]) / "bin" / "python", "-m", "installer", "--validate-record", "all", *wheels,
                env=env)
    assert proc.returncode == 0, proc.stderr
    done.write_text(json.dumps({"out": out, "venvs": venvs, "before": before, "sha": sha_before}))


CHECK = r"""
import json, sys, importlib.metadata as md, bcrypt, yaml, attr, attrs, jaraco.functools, pygments, docutils.core
site = [p for p in sys.path if p.endswith("site-packages")][0]
import os
out = {
    "files": sorted(m.__file__[len(site) + 1:] for m in (attr, attrs, jaraco.functools, pygments, yaml, bcrypt)),
    "yaml": yaml.load("a: [1, 2]", Loader=yaml.CLoader),
    "bcrypt": bcrypt.checkpw(b"pw", bcrypt.hashpw(b"pw", bcrypt.gensalt(4))),
    "attrs": attr.__version__,
    "html": "<p>hi</p>" in docutils.core.publish_string("hi", writer_name="html").decode(),
    "dists": {k: v for k, v in md.packages_distributions().items() if k in ("attr", "attrs", "yaml", "bcrypt", "jaraco", "pygments")},
    "kept": os.path.isfile(os.path.join(site, "virtualenv", "activation", "python", "activate_this.py")),
    "kernel": os.path.isfile(os.path.join(sys.prefix, "share", "jupyter", "kernels", "python3", "kernel.json")),
    "sources": sorted(os.path.relpath(os.path.join(d, f), site) for d, _, fs in os.walk(site) for f in fs
                      if f.endswith(".py") and not d.startswith(os.path.join(site, "_")) and "virtualenv" not in d
                      and not f.startswith("_virtualenv")),
}
print(json.dumps(out))
"""


@pytest.mark.parametrize("kind", ["pip", "uv", "installer"])
def test_real_wheels_install_import_and_run(installed: Installed, kind: str) -> None:
    venv = installed.venvs[kind]
    proc = _run(venv / "bin" / "python", "-c", CHECK)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["files"] == ["attr/__init__.pyc", "attrs/__init__.pyc", "bcrypt/__init__.pyc",
                              "jaraco/functools/__init__.pyc", "pygments/__init__.pyc", "yaml/__init__.pyc"]
    assert found["yaml"] == {"a": [1, 2]} and found["bcrypt"] and found["attrs"] == "23.2.0" and found["html"]
    assert found["dists"] == {"attr": ["attrs"], "attrs": ["attrs"], "yaml": ["PyYAML"], "bcrypt": ["bcrypt"],
                              "jaraco": ["jaraco.functools"], "pygments": ["Pygments"]}
    assert found["kept"] and found["kernel"]
    assert found["sources"] == [], found["sources"]  # no module source went in
    assert _run(venv / "bin" / "pygmentize", "-V").stdout.startswith("Pygments version 2.17.2")
    assert "Docutils 0.16" in _run(venv / "bin" / "python", venv / "bin" / "rst2html.py", "--version").stdout


def test_real_inputs_unchanged_and_tags(installed: Installed) -> None:
    assert {n: _sha(p) for n, p in installed.wheels.items()} == installed.sha_before
    names = {n: p.name for n, p in installed.out311.items()}
    assert names["attrs"].endswith("-cp311-none-any.whl")
    assert names["jaraco.functools"].endswith("-cp311-none-any.whl")
    assert names["pyyaml"] == "PyYAML-6.0.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert names["bcrypt"] == "bcrypt-4.1.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    for path in installed.out311.values():
        wheel = read_wheel(str(path))
        with zipfile.ZipFile(path) as zf:
            text = zf.read(f"{wheel.dist_info}/WHEEL").decode()
        assert {str(t) for t in wheel.tags} == {line[5:] for line in text.splitlines() if line.startswith("Tag: ")}
        assert verify_record(str(path), f"{wheel.dist_info}/RECORD") == []


def test_pip_uninstall_leaves_nothing(installed: Installed) -> None:
    venv = installed.root / f"venv-uninstall-{os.getpid()}"
    py311 = require("3.11")
    assert _run(_uv(), "venv", "-q", "--python", py311, venv).returncode == 0
    before = _files(venv)
    wheels = [str(p) for p in installed.out311.values()]
    pip = (sys.executable, "-m", "pip", "--python", venv / "bin" / "python")
    assert _run(*pip, "install", "-q", "--no-deps", "--no-index", *wheels).returncode == 0
    assert len(_files(venv)) > len(before) + 500
    names = [read_wheel(w).name for w in wheels]
    proc = _run(*pip, "uninstall", "-y", *names)
    assert proc.returncode == 0, proc.stderr
    assert _files(venv) == before
    assert not [p for p in venv.rglob("*") if p.is_dir() and p.name.endswith(".dist-info")
                and not p.name.startswith(("pip", "setuptools", "_virtualenv"))]


def test_other_pythons_refuse_them(installed: Installed) -> None:
    py312 = require("3.12")
    venv = installed.root / f"venv-312-{os.getpid()}"
    assert _run(_uv(), "venv", "-q", "--python", py312, venv).returncode == 0
    for name in ("attrs", "bcrypt"):
        wheel = installed.out311[name]
        proc = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
                    "--no-index", wheel)
        assert proc.returncode != 0 and "is not a supported wheel on this platform" in proc.stderr, proc.stderr
        proc = _run(_uv(), "pip", "install", "--offline", "--no-deps", "--python", venv / "bin" / "python", wheel)
        assert proc.returncode != 0 and "no wheels with a matching Python version tag" in " ".join(proc.stderr.split())
    # the 3.12 conversion of the pure wheel is taken there; the cp311-only wheel is refused for 3.12
    out = installed.root / f"out312-{os.getpid()}"
    proc = run_cli("wheel", str(installed.wheels["attrs"]), str(installed.wheels["pyyaml"]), "-o", str(out),
                   "--target", py312)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("bytecast: warning: ")]
    assert errors == [f"{installed.wheels['pyyaml']}:0:0: WheelError: its tags "
                                        "(cp311-cp311-manylinux2014_x86_64.cp311-cp311-manylinux_2_17_x86_64) do not "
                                        "include Python 3.12 (for cpython-3.12)"]
    (made,) = out.iterdir()
    assert made.name == "attrs-23.2.0-cp312-none-any.whl"
    proc = _run(_uv(), "pip", "install", "-q", "--offline", "--no-deps", "--python", venv / "bin" / "python", made)
    assert proc.returncode == 0, proc.stderr
    proc = _run(venv / "bin" / "python", "-c", "import attr; print(attr.__file__, attr.Factory)")
    assert proc.returncode == 0 and "attr/__init__.pyc" in proc.stdout, proc.stderr
