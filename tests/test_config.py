"""[tool.bytecast] in pyproject.toml: settings for what the flags leave unset."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from bytecast.config import Settings, merge
from bytecast.errors import UsageError
from bytecast.header import read_header
from conftest import run_cli


def project(tmp_path: Path, small_tree: Path, table: str) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(small_tree / "json", root / "src" / "json")
    shutil.copytree(small_tree / "email", root / "src" / "email")
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.bytecast]\n' + table)
    return root


def test_settings_apply_and_flags_win(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'exclude = ["email/"]\noptimize = [0, 2]\ninvalidation-mode = "unchecked-hash"\n')
    result = run_cli("compile", ".", cwd=root / "src")  # found from a subfolder too
    assert result.returncode == 0, result.stderr
    pycs = sorted(p.name for p in (root / "src").rglob("*.pyc"))
    assert pycs and not list((root / "src" / "email").rglob("*.pyc"))
    tag = sys.implementation.cache_tag
    assert {n.split(".", 1)[1] for n in pycs} == {f"{tag}.pyc", f"{tag}.opt-2.pyc"}
    assert all(read_header(p).mode == "unchecked-hash" for p in (root / "src").rglob("*.pyc"))

    result = run_cli("compile", "--invalidation-mode", "timestamp", "-O1", "src", cwd=root)
    assert result.returncode == 0, result.stderr
    opt1 = list((root / "src").rglob("*.opt-1.pyc"))
    assert opt1 and all(read_header(p).mode == "timestamp" for p in opt1)


def test_bad_settings_are_one_line_usage_errors(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'optimise = [1]\n')
    result = run_cli("compile", "src", cwd=root)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown key 'optimise'" in result.stderr
    (root / "pyproject.toml").write_text("[tool.bytecast]\njobs = 'many'\n")
    result = run_cli("compile", "src", cwd=root)
    assert result.returncode == 2 and "[tool.bytecast] jobs: must be int" in result.stderr
    (root / "pyproject.toml").write_text("[tool.bytecast\n")
    result = run_cli("check", "src", cwd=root)
    assert result.returncode == 2 and "not valid TOML" in result.stderr and "Traceback" not in result.stderr


FLAGS = {"optimize": None, "jobs": None, "excludes": None, "max_depth": None, "timeout": None, "links": None}


def test_merge_flags_win_and_excludes_add_up() -> None:
    table = {"jobs": 3, "optimize": [1], "exclude": ["a/"], "max-depth": 4, "timeout": 9}
    options = merge({**FLAGS, "jobs": 1, "excludes": ["b"]}, Settings("pyproject.toml", table))
    assert (options.jobs, options.optimize, options.excludes, options.max_depth, options.timeout) == \
        (1, (1,), ("a/", "b"), 4, 9.0)
    assert merge({**FLAGS, "optimize": [2]}, Settings("p", {"optimize": 0})).optimize == (2,)


def test_merge_takes_only_the_keys_of_the_command() -> None:
    # clean has no --jobs: a jobs setting, even a bad one, is not its business
    options = merge({"excludes": None, "max_depth": None}, Settings("p", {"jobs": -3, "max-depth": 2}))
    assert options.max_depth == 2 and options.jobs == 0


@pytest.mark.parametrize(("table", "expected"), [
    ({"jobs": -3}, "pyproject.toml: [tool.bytecast] jobs: must be 0 or more, not -3"),
    ({"optimize": 3}, "pyproject.toml: [tool.bytecast] optimize: must be 0, 1 or 2, not 3"),
    ({"max-depth": -1}, "pyproject.toml: [tool.bytecast] max-depth: must be 0 or more, not -1"),
    ({"timeout": 0}, "pyproject.toml: [tool.bytecast] timeout: must be a number of seconds above 0, not 0"),
    ({"exclude": ["[z-a]"]}, "pyproject.toml: [tool.bytecast] exclude: '[z-a]' is not a valid glob"),
    ({"links": "some"}, "pyproject.toml: [tool.bytecast] links: must be one of inside, all, none"),
])
def test_a_bad_value_in_the_file_names_the_file_and_the_key(table: dict[str, object], expected: str) -> None:
    with pytest.raises(UsageError) as info:
        merge(FLAGS, Settings("pyproject.toml", table))
    assert str(info.value).startswith(expected)
    assert info.value.field is None  # the command line must not rename it to a flag


def test_a_bad_flag_keeps_its_field_for_the_command_line() -> None:
    with pytest.raises(UsageError) as info:
        merge({**FLAGS, "jobs": -3}, Settings("pyproject.toml", {"jobs": 2}))
    assert info.value.field == "jobs"


def test_bad_values_in_the_file_from_the_command_line(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, "optimize = 3\n")
    result = run_cli("compile", "src", cwd=root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "bytecast: error: pyproject.toml: [tool.bytecast] optimize: must be 0, 1 or 2, not 3\n"
    (root / "pyproject.toml").write_text("[tool.bytecast]\njobs = -3\n")
    result = run_cli("compile", "src", cwd=root / "src")  # found from below: named as found
    assert result.returncode == 2
    assert result.stderr.strip().endswith("pyproject.toml: [tool.bytecast] jobs: must be 0 or more, not -3")
    assert "--jobs" not in result.stderr
    # a flag given wins, and is then what is judged
    result = run_cli("compile", "-q", "--jobs", "1", "src", cwd=root)
    assert result.returncode == 0, result.stderr


def test_clean_reads_exclude_and_max_depth(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, "jobs = 2\n")
    assert run_cli("compile", "-q", "src", cwd=root).returncode == 0
    (root / "pyproject.toml").write_text('[tool.bytecast]\nexclude = ["email/"]\njobs = -2\n')
    result = run_cli("clean", "src", cwd=root)
    assert result.returncode == 0, result.stderr
    assert list((root / "src" / "email").rglob("*.pyc")) and not list((root / "src" / "json").rglob("*.pyc"))
    (root / "pyproject.toml").write_text("[tool.bytecast]\nmax-depth = -1\n")
    result = run_cli("clean", "src", cwd=root)
    assert result.returncode == 2 and "[tool.bytecast] max-depth: must be 0 or more" in result.stderr


def test_a_target_in_the_file_that_matches_nothing_names_the_file(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'target = "3.1"\n')
    result = run_cli("check", "src", cwd=root)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "pyproject.toml: [tool.bytecast] target: 3.1: no such interpreter" in result.stderr
