"""[tool.bytecast] in pyproject.toml: settings for what the flags leave unset."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

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
    assert result.returncode == 2 and "jobs must be int" in result.stderr
    (root / "pyproject.toml").write_text("[tool.bytecast\n")
    result = run_cli("check", "src", cwd=root)
    assert result.returncode == 2 and "not valid TOML" in result.stderr and "Traceback" not in result.stderr
