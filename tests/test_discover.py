"""The one walker: sources, other files, caches; excludes, depth, links; each folder once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bytecast.discover import Entry, Source, walk
from bytecast.errors import UsageError
from bytecast.problem import Problem
from conftest import run_cli


def _tree(root: Path) -> Path:
    for rel, text in {
        "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n", "pkg/data.json": "{}", "pkg/py.typed": "",
        "pkg/sub/deep.py": "", "pkg/sub/native.so": "", "pkg/__pycache__/mod.cpython-311.pyc": "x",
        "pkg/legacy.pyc": "x", "top.py": "", "notes.txt": "",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _walk(paths: list[str], **kw: object) -> tuple[list[tuple[str, str]], list[Problem]]:
    problems: list[Problem] = []
    out: list[tuple[str, str]] = []
    for item in walk(paths, problems, **kw):  # type: ignore[arg-type]
        kind = "source" if isinstance(item, Source) else item.kind
        out.append((kind, item.relpath))
    return out, problems


def test_kinds_select_what_comes(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    sources, _ = _walk([root])
    assert sources == [("source", "pkg/__init__.py"), ("source", "pkg/mod.py"), ("source", "pkg/sub/deep.py"),
                       ("source", "top.py")]
    everything, _ = _walk([root], kinds=("source", "file"))
    assert ("file", "pkg/data.json") in everything and ("file", "pkg/py.typed") in everything
    assert ("file", "pkg/sub/native.so") in everything and ("file", "pkg/legacy.pyc") in everything
    assert not [r for _, r in everything if "__pycache__" in r]  # never entered
    assert [r for k, r in everything if k == "source"] == [r for _, r in sources]
    bytecode, _ = _walk([root], kinds=("bytecode", "cache"))
    assert bytecode == [("cache", "pkg/__pycache__"), ("file", "pkg/legacy.pyc")]


def test_excludes_depth_and_file_arguments(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    got, _ = _walk([root], excludes=("sub/", "*.json"), kinds=("source", "file"))
    assert not [r for _, r in got if r.startswith("pkg/sub") or r.endswith(".json")]
    got, _ = _walk([root], excludes=("/pkg/sub/",))
    assert ("source", "pkg/sub/deep.py") not in got and ("source", "pkg/mod.py") in got
    got, _ = _walk([root], max_depth=1)
    assert [r for _, r in got] == ["pkg/__init__.py", "pkg/mod.py", "top.py"]
    got, _ = _walk([os.path.join(root, "top.py")])
    assert got == [("source", "top.py")]
    with pytest.raises(UsageError, match="not a Python source"):
        _walk([os.path.join(root, "notes.txt")])
    with pytest.raises(UsageError, match="no such file"):
        _walk([os.path.join(root, "nope")])
    got, _ = _walk([os.path.join(root, "notes.txt")], kinds=("file",))
    assert got == [("file", "notes.txt")]


def test_links_follow_the_policy_and_loops_are_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    outside = _tree(tmp_path / "outside")
    (root / "in_link").symlink_to(root / "pkg" / "sub")
    (root / "out_link").symlink_to(outside / "pkg")
    (root / "pkg" / "sub" / "loop").symlink_to(root / "pkg")
    for policy, expect_out in (("inside", False), ("all", True), ("none", False)):
        got, problems = _walk([str(root)], links=policy)
        rels = [r for _, r in got]
        assert ("out_link/mod.py" in rels) == expect_out, policy
        assert rels.count("pkg/sub/deep.py") == 1 and "in_link/deep.py" not in rels  # one folder, walked once
        if policy == "none":
            assert problems == []
        else:
            assert [p.kind for p in problems] == ["SymlinkLoop"] and problems[0].path.endswith("loop")
    with pytest.raises(UsageError, match="link policy"):
        _walk([str(root)], links="some")


def test_a_virtual_environment_is_walked_once(tmp_path: Path) -> None:
    """A venv's ``lib64 -> lib``: every source counted once (it was counted twice)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "mod_a.py").write_text("A = 1\n")
    (site / "pkg").mkdir()
    (site / "pkg" / "__init__.py").write_text("")
    if not (venv / "lib64").is_symlink():
        (venv / "lib64").symlink_to("lib")  # what a 64-bit posix venv holds; made when it did not
    got, problems = _walk([str(venv)])
    real = {os.path.realpath(os.path.join(str(venv), r)) for _, r in got}
    assert len(got) == len(real) >= 2 and problems == []
    assert all(r.startswith("lib" + os.sep) for _, r in got)


def test_the_same_folder_named_twice_is_walked_once(tmp_path: Path) -> None:
    root = str(_tree(tmp_path / "t"))
    once, _ = _walk([root])
    twice, _ = _walk([root, root, os.path.join(root, ".")])
    assert once == twice


def test_entries_are_records() -> None:
    assert Entry("a/b", "a", "file") == Entry("a/b", "a", "file") != ("a/b", "a", "file")
    assert Entry("a/b/c.txt", "a", "file").relpath == os.path.join("b", "c.txt")


# --- what a project's tools skip: version control, environments, .gitignore --------------------

PROJECT_SOURCES = ["pkg/__init__.py", "pkg/local_settings.py", "pkg/mod.py", "pkg/sub/real.py", "top.py"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git work tree as users have them: a real venv (``python -m venv``), ``.tox``,
    ``node_modules``, ``.git/hooks`` with a Python hook, ``.gitignore`` files (nested too)."""
    root = tmp_path_factory.mktemp("project")
    git = shutil.which("git")
    if git:
        subprocess.run([git, "init", "-q", str(root)], check=True, timeout=60)
    else:  # the walker reads files, it never runs git: a .git folder is all it looks for
        (root / ".git" / "info").mkdir(parents=True)
    files = {
        ".gitignore": "build/\n*.egg-info/\n/local_settings.py\n__pycache__/\n*.py[cod]\n",
        ".git/hooks/pre-commit.py": "", ".git/info/exclude": "scratch.py\n",
        "pkg/__init__.py": "", "pkg/mod.py": "import json\n", "pkg/local_settings.py": "", "pkg/scratch.py": "",
        "pkg/sub/.gitignore": "generated.py\n", "pkg/sub/generated.py": "", "pkg/sub/real.py": "",
        "local_settings.py": "", "top.py": "import pkg.mod\n",
        "build/lib/pkg/x.py": "", "pkg.egg-info/x.py": "",
        ".tox/py311/lib/t.py": "", ".nox/s/n.py": "", "node_modules/m/x.py": "", ".hg/h.py": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    venv = root / "venv"  # not hidden, not in .gitignore: skipped because it is an environment
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "inside_venv.py").write_text("import os\n")
    if not (venv / "lib64").exists():
        (venv / "lib64").symlink_to("lib")
    return root


def _sources(paths: list[str], **kw: object) -> list[str]:
    got, problems = _walk(paths, **kw)
    assert problems == []
    return sorted(r.replace(os.sep, "/") for k, r in got if k == "source")


def test_a_project_walk_skips_vcs_environments_and_what_gitignore_excludes(project: Path) -> None:
    assert _sources([str(project)]) == PROJECT_SOURCES
    everything = _sources([str(project)], ignore=False)
    for rel in (".git/hooks/pre-commit.py", ".tox/py311/lib/t.py", ".nox/s/n.py", "node_modules/m/x.py", ".hg/h.py",
                "build/lib/pkg/x.py", "pkg.egg-info/x.py", "local_settings.py", "pkg/scratch.py",
                "pkg/sub/generated.py", *PROJECT_SOURCES):
        assert rel in everything, rel
    assert [r for r in everything if r.endswith("inside_venv.py")] == \
        [str(next((project / "venv").glob("lib/python3*/site-packages/inside_venv.py")).relative_to(project))]


def test_a_path_named_is_walked_even_where_the_rules_skip(project: Path) -> None:
    venv = project / "venv"
    assert [os.path.basename(r) for r in _sources([str(venv)])] == ["inside_venv.py"]  # once: lib64 -> lib
    site = str(next(venv.glob("lib/python3*/site-packages")))
    assert _sources([site]) == ["inside_venv.py"]
    assert _sources([str(project / "build")]) == ["lib/pkg/x.py"]  # excluded by .gitignore, named
    assert _sources([str(project / "build" / "lib")]) == ["pkg/x.py"]  # inside an excluded folder
    assert _sources([str(project / ".tox")]) == ["py311/lib/t.py"]
    assert _sources([str(project / ".git")]) == ["hooks/pre-commit.py"]
    assert _sources([str(project / "pkg")]) == ["__init__.py", "local_settings.py", "mod.py", "sub/real.py"]
    assert _sources([str(project / "local_settings.py")]) == ["local_settings.py"]  # a file named is taken


def test_outside_a_work_tree_only_the_default_skips_apply(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.py\n")  # no .git at or above: not a work tree's file
    for rel in ("a.py", ".svn/b.py", "node_modules/c.py", "env/pyvenv.cfg", "env/lib/d.py", "conda/conda-meta/x",
                "conda/lib/e.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert _sources([str(tmp_path)]) == ["a.py"]
    assert _sources([str(tmp_path)], ignore=False) == sorted(["a.py", ".svn/b.py", "conda/lib/e.py", "env/lib/d.py",
                                                               "node_modules/c.py"])


def test_nested_repositories_global_excludes_and_negation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    for rel, text in {".git/info/exclude": "", ".gitignore": "gen_*.py\n!gen_keep.py\n", "gen_a.py": "",
                      "gen_keep.py": "", "g.global.py": "", "inner/.git/HEAD": "", "inner/gen_b.py": "",
                      "inner/i.py": ""}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    home = tmp_path / "home"
    (home / "xdg" / "git").mkdir(parents=True)
    (home / "xdg" / "git" / "ignore").write_text("*.global.py\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    # the outer .gitignore does not reach into a repository of its own
    assert _sources([str(root)]) == ["gen_keep.py", "inner/gen_b.py", "inner/i.py"]
    config = home / "gitconfig"
    config.write_text('[user]\n\tname = x\n[core]\n\texcludesFile = "~/mine"  ; a comment\n')
    (home / "mine").write_text("i.py\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert _sources([str(root)]) == ["g.global.py", "gen_keep.py", "inner/gen_b.py"]


def test_an_ignore_file_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    """git does not follow a .gitignore that is a symbolic link; neither does the walker."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "rules").write_text("*.py\n")
    (tmp_path / ".gitignore").symlink_to(tmp_path / "rules")
    (tmp_path / "a.py").write_text("")
    assert _sources([str(tmp_path)]) == ["a.py"]


def test_commands_in_a_project(project: Path, tmp_path: Path) -> None:
    """compile, check, clean and imports on a project: the venv, .git and the rest left alone;
    --no-ignore takes them; naming the venv compiles it."""
    tree = tmp_path / "p"
    shutil.copytree(project, tree, symlinks=True)
    compiled = run_cli("compile", "--json", str(tree))
    assert compiled.returncode == 0, compiled.stderr
    assert json.loads(compiled.stdout)["summary"]["sources"] == len(PROJECT_SOURCES)
    assert not list((tree / ".git").rglob("__pycache__")) and not list((tree / "venv").rglob("__pycache__"))
    checked = run_cli("check", str(tree))
    assert checked.returncode == 0, checked.stdout  # the venv's uncompiled sources are not asked for
    assert run_cli("check", "--no-ignore", str(tree)).returncode == 1
    venv = run_cli("compile", "--json", str(tree / "venv"))
    assert json.loads(venv.stdout)["summary"]["sources"] == 1
    cleaned = run_cli("clean", "-n", "--json", str(tree))
    removed = sorted(os.path.relpath(p, tree).replace(os.sep, "/") for p in json.loads(cleaned.stdout)["removed"])
    assert len(removed) == len(PROJECT_SOURCES) and not [r for r in removed if r.startswith("venv/")]
    everything = json.loads(run_cli("clean", "-n", "--json", "--no-ignore", str(tree)).stdout)["removed"]
    assert len(everything) == len(PROJECT_SOURCES) + 1
    imports = json.loads(run_cli("imports", "--json", str(tree)).stdout)
    sites = {os.path.relpath(site["file"], tree) for m in imports["modules"] for site in m["sites"]}
    assert imports["summary"]["files"] == len(PROJECT_SOURCES) and len(sites) == 2  # top.py and pkg/mod.py import
    assert not [s for s in sites if s.startswith(("venv", "build", ".git"))]
    imports = json.loads(run_cli("imports", "--json", "--no-ignore", str(tree)).stdout)
    sites = {os.path.relpath(site["file"], tree) for m in imports["modules"] for site in m["sites"]}
    assert imports["summary"]["files"] > len(PROJECT_SOURCES) and [s for s in sites if s.startswith("venv")]
    (tree / "pyproject.toml").write_text("[tool.bytecast]\nno-ignore = true\n")
    assert run_cli("check", str(tree), cwd=tree).returncode == 1  # the key walks everything too
