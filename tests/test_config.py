"""[tool.bytecast] in pyproject.toml: settings for what the flags leave unset."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import conftest
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


# --- whose settings: the walked project's -----------------------------------------------------


def test_the_walked_projects_settings_apply_from_anywhere(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'exclude = ["email/"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text('[tool.bytecast]\nexclude = ["json/"]\n')
    result = run_cli("compile", "-q", str(root / "src"), cwd=elsewhere)  # not the current folder's
    assert result.returncode == 0, result.stderr
    assert list((root / "src" / "json").rglob("*.pyc")) and not list((root / "src" / "email").rglob("*.pyc"))
    # clean reads it too: the excluded folder is left alone
    assert run_cli("compile", "-q", "--no-config", str(root / "src"), cwd=elsewhere).returncode == 0
    result = run_cli("clean", "-q", str(root / "src"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert list((root / "src" / "email").rglob("*.pyc")) and not list((root / "src" / "json").rglob("*.pyc"))


def test_no_config_and_config_file(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'exclude = ["email/"]\n')
    result = run_cli("compile", "-q", "--no-config", "src", cwd=root)
    assert result.returncode == 0, result.stderr
    assert list((root / "src" / "email").rglob("*.pyc"))
    assert run_cli("clean", "-q", "--no-config", "src", cwd=root).returncode == 0
    assert not list(root.rglob("*.pyc"))
    other = tmp_path / "ci.toml"  # a file of bytecast's own: the keys at its top level
    other.write_text('exclude = ["json/"]\noptimize = [2]\n')
    result = run_cli("compile", "-q", "--config", str(other), "src", cwd=root)
    assert result.returncode == 0, result.stderr
    pycs = list((root / "src").rglob("*.pyc"))
    assert pycs and all(p.name.endswith(".opt-2.pyc") for p in pycs)
    assert not list((root / "src" / "json").rglob("*.pyc"))
    result = run_cli("check", "--config", str(tmp_path / "missing.toml"), "src", cwd=root)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "missing.toml" in result.stderr
    other.write_text("jobs = -3\n")
    result = run_cli("compile", "--config", str(other), "src", cwd=root)
    assert result.returncode == 2 and result.stderr.strip().endswith("ci.toml: jobs: must be 0 or more, not -3")


def test_paths_of_two_projects_take_the_first_ones_settings_and_say_so(tmp_path: Path, small_tree: Path) -> None:
    first = project(tmp_path / "a", small_tree, 'exclude = ["email/"]\n')
    second = project(tmp_path / "b", small_tree, 'exclude = ["json/"]\n')
    result = run_cli("compile", "-q", str(first / "src"), str(second / "src"), cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bytecast: warning: ") and "b/proj/pyproject.toml" in lines[0]
    assert not list(second.rglob("email/**/*.pyc")) and list(second.rglob("json/**/*.pyc"))


def test_reading_settings_needs_no_toml_parser_without_a_bytecast_table(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("A = 1\n")
    probe = ("import sys; from bytecast.cli import main; main(['compile', '-q', sys.argv[1]]); "
             "print(sorted(m for m in ('tomllib', 'tomli', 'packaging') if m in sys.modules))")
    for pyproject in (None, '[project]\nname = "x"\nrequires-python = ">=3.9"\n'):
        if pyproject:
            (tmp_path / "pyproject.toml").write_text(pyproject)
        out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                             env=conftest.env(), timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


# --- the environment ----------------------------------------------------------------------------


def test_environment_sits_between_the_flags_and_the_file() -> None:
    table = Settings("pyproject.toml", {"jobs": 3, "optimize": [1], "exclude": ["a/"], "timeout": 9})
    env = {"BYTECAST_JOBS": "2", "BYTECAST_OPTIMIZE": "0, 2", "BYTECAST_EXCLUDE": "b/,c/", "BYTECAST_TIMEOUT": ""}
    options = merge(FLAGS, table, environ=env)
    assert (options.jobs, options.optimize, options.excludes, options.timeout) == (2, (0, 2), ("a/", "b/", "c/"), 9.0)
    options = merge({**FLAGS, "jobs": 1, "optimize": [1], "excludes": ["d"]}, table, environ=env)
    assert (options.jobs, options.optimize, options.excludes) == (1, (1,), ("a/", "b/", "c/", "d"))
    flags = {**FLAGS, "hardlink_dupes": None, "links": None, "max_depth": None, "invalidation_mode": None}
    options = merge(flags, Settings(None, {}), environ={
        "BYTECAST_HARDLINK_DUPES": "yes", "BYTECAST_LINKS": "none", "BYTECAST_MAX_DEPTH": "3",
        "BYTECAST_INVALIDATION_MODE": "unchecked-hash"})
    assert (options.hardlink_dupes, options.links, options.max_depth, options.invalidation_mode) == \
        (True, "none", 3, "unchecked-hash")


@pytest.mark.parametrize(("env", "expected"), [
    ({"BYTECAST_JOBS": "-3"}, "BYTECAST_JOBS: must be 0 or more, not -3"),
    ({"BYTECAST_JOBS": "many"}, "BYTECAST_JOBS: must be a whole number, not 'many'"),
    ({"BYTECAST_OPTIMIZE": "1,3"}, "BYTECAST_OPTIMIZE: must be 0, 1 or 2, not 3"),
    ({"BYTECAST_TIMEOUT": "0"}, "BYTECAST_TIMEOUT: must be a number of seconds above 0, not 0"),
    ({"BYTECAST_TIMEOUT": "soon"}, "BYTECAST_TIMEOUT: must be a number, not 'soon'"),
    ({"BYTECAST_HARDLINK_DUPES": "maybe"}, "BYTECAST_HARDLINK_DUPES: must be one of 1, true"),
    ({"BYTECAST_LINKS": "some"}, "BYTECAST_LINKS: must be one of inside, all, none"),
    ({"BYTECAST_EXCLUDE": "[z-a]"}, "BYTECAST_EXCLUDE: '[z-a]' is not a valid glob"),
])
def test_a_bad_value_in_the_environment_names_the_variable(env: dict[str, str], expected: str) -> None:
    flags = {**FLAGS, "hardlink_dupes": None}
    with pytest.raises(UsageError) as info:
        merge(flags, Settings("pyproject.toml", {"jobs": 2}), environ=env)
    assert str(info.value).startswith(expected)
    assert info.value.field is None


def test_environment_from_the_command_line(tmp_path: Path, small_tree: Path) -> None:
    root = project(tmp_path, small_tree, 'optimize = [1]\n')
    run_env = {**conftest.env(), "BYTECAST_OPTIMIZE": "2", "BYTECAST_EXCLUDE": "email/,json/decoder.py"}
    result = run_cli("compile", "-q", "src", cwd=root, env=run_env)
    assert result.returncode == 0, result.stderr
    names = [p.name for p in (root / "src").rglob("*.pyc")]
    assert names and all(n.endswith(".opt-2.pyc") for n in names) and not any("decoder" in n for n in names)
    assert not list((root / "src" / "email").rglob("*.pyc"))
    result = run_cli("compile", "-q", "-O0", "src", cwd=root, env=run_env)  # the flag wins
    assert result.returncode == 0 and any(p.name.endswith(f"{sys.implementation.cache_tag}.pyc")
                                          for p in (root / "src").rglob("*.pyc"))
    result = run_cli("check", "src", cwd=root, env={**run_env, "BYTECAST_TARGET": "3.1"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("bytecast: error: BYTECAST_TARGET: 3.1: no such interpreter"), result.stderr
    result = run_cli("check", "src", cwd=root, env={**run_env, "BYTECAST_JOBS": "x", "BYTECAST_NO_CONFIG": "1"})
    assert result.returncode == 0, result.stderr  # check has no --jobs: not its business
    result = run_cli("compile", "src", cwd=root, env={**run_env, "BYTECAST_MAX_DEPTH": "-1"})
    assert result.returncode == 2 and result.stderr == "bytecast: error: BYTECAST_MAX_DEPTH: must be 0 or more, not -1\n"
