"""The command line's quick parser reads every command line it accepts as argparse does.

Command lines are generated from argparse's own view of each command (its actions), so the
test does not lean on the declarations the quick parser records. argparse differs between
versions: the same generated lines are also compared under every supported Python installed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bytecast import _quickargs
from bytecast.cli import _parser
from conftest import SRC, env
from interpreters import require

COMMANDS = list(_parser.COMMANDS)
TABLE = _quickargs.declare(_parser.declarers([]))


def _argparse(argv: list[str]) -> dict[str, Any] | None:
    """What argparse makes of ``argv``: its namespace, or None for a usage error or --help."""
    parser = _parser.build_parser(argv)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return vars(parser.parse_args(argv))
        except SystemExit:
            return None


def _actions(command: str) -> list[Any]:
    parser = _parser.build_parser([command])
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert isinstance(sub.choices, dict)
    return list(sub.choices[command]._actions)


def _values(action: Any) -> st.SearchStrategy[str]:
    good = (st.sampled_from([str(c) for c in action.choices]) if action.choices
            else st.integers(-3, 12).map(str) if action.type is int
            else st.sampled_from(["0.5", "2", "1e1", "x"]) if action.type is float
            else st.sampled_from(["src", "a b", "*.py", "/tmp/x"]))
    odd = st.sampled_from(["", "-", "-1", "--json", "-q", "3", "timestamp", "é", "=", "1_0", " 4 "])
    return st.one_of(good, odd)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(COMMANDS))
    tokens: list[str] = [command]
    options = [a for a in _actions(command) if a.option_strings]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["option", "option", "option", "positional", "odd"]))
        if kind == "positional":
            tokens.append(draw(st.sampled_from(["src", "a.pyc", "pkg/mod.py", "", "x=y", "-", "-5"])))
        elif kind == "odd":
            tokens.append(draw(st.sampled_from(["--", "-h", "--help", "--jo", "-qv", "-qf", "--json=1",
                                                "--no", "--version", "-O=1", "---x"])))
        else:
            action = draw(st.sampled_from(options))
            flag = draw(st.sampled_from(action.option_strings))
            if action.nargs == 0:
                tokens.append(flag)
                continue
            value = draw(_values(action))
            form = draw(st.sampled_from(["apart", "equals", "attached"]))
            if form == "apart":
                tokens += [flag, value]
            elif form == "equals":
                tokens.append(f"{flag}={value}")
            else:
                tokens.append(flag + value)
    return tokens


@settings(max_examples=1500, deadline=None)
@given(command_lines())
def test_quick_parser_agrees_with_argparse(argv: list[str]) -> None:
    quick = _quickargs.parse(TABLE, argv)
    if quick is not None:
        assert vars(quick) == _argparse(argv), argv


COMMON = [
    ["compile", "src"],
    ["compile", "-q", "src", "tests"],
    ["compile", "-O0", "-O1", "-O", "2", "-j", "2", "--invalidation-mode", "checked-hash", "src"],
    ["compile", "--jobs=4", "-x", "tests/", "--exclude=*.tmp", "--max-depth", "3", "-f", "--json", "."],
    ["compile", "--target", "3.12", "--target", "all", "--ddir", "/app", "--strip-prefix", "/build", "src"],
    ["compile", "src", "--links", "none", "--timeout", "2.5", "--hardlink-dupes", "-v", "--no-progress"],
    ["compile"],
    ["check", "-q", "."],
    ["check", "--json", "--invalidation-mode=unchecked-hash", "-O", "1", "src"],
    ["clean", "-n", "--stale", "--orphans", "--sourceless", "-x", "keep/", "src"],
    ["clean", "--target", "3.9", "-q", "--json"],
    ["magic", "3.11"],
    ["inspect", "a.pyc"],
    ["imports", "build"],
    ["targets"],
]


@pytest.mark.parametrize("argv", COMMON, ids=" ".join)
def test_common_command_lines_take_the_quick_path(argv: list[str]) -> None:
    quick = _quickargs.parse(TABLE, argv)
    if quick is None:
        # a command whose declarations it cannot read must say so, not guess
        assert not TABLE.commands[argv[0]].supported, argv
        return
    assert vars(quick) == _argparse(argv)


def test_the_busy_commands_are_all_read_quickly() -> None:
    assert all(TABLE.commands[name].supported for name in ("compile", "check", "clean"))


@pytest.mark.parametrize("argv", [["compile", "--help"], ["compile", "--jo", "2"], ["compile", "-qf"],
                                  ["compile", "-O", "3"], ["compile", "a", "-q", "b"], ["compile", "--", "-a"],
                                  ["nothing"], [], ["--version"], ["compile", "-j"], ["check", "--json=yes"]])
def test_what_only_argparse_can_say_is_left_to_it(argv: list[str]) -> None:
    assert _quickargs.parse(TABLE, argv) is None


def test_a_no_op_run_imports_no_argparse_and_no_re(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    subprocess.run([sys.executable, "-m", "bytecast", "compile", "-q", str(tmp_path)], env=env(), check=True)
    script = ("import sys; before = set(sys.modules); from bytecast.cli import main;"
              "rc = main(['compile', '-q', sys.argv[1]]) or main(['check', '-q', sys.argv[1]]);"
              "print(rc, sorted(m for m in ('argparse', 're', 'gettext', 'locale') if m in set(sys.modules) - before))")
    out = subprocess.run([sys.executable, "-S", "-c", script, str(tmp_path)], env=env(), capture_output=True, text=True)
    assert out.stdout.split(None, 1) == ["0", "[]\n"], out.stderr


def test_usage_errors_still_come_from_argparse(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bytecast", "compile", "--jobs", "many", str(tmp_path)],
                         env=env(), capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--jobs" in out.stderr and "invalid int value" in out.stderr


def test_declarations_it_cannot_read_exactly_make_it_step_aside() -> None:
    def add(sub: Any) -> None:
        p = sub.add_parser("odd")
        p.add_argument("-foo", action="store_true")  # one dash, three letters
        p.add_argument("-f", default=None)
        p.set_defaults(handler=None)

    table = _quickargs.declare([add])
    assert not table.commands["odd"].supported
    assert _quickargs.parse(table, ["odd", "-foo"]) is None


# --- the same command lines under every supported Python --------------------------------------

COMPARE = """
import contextlib, io, json, sys
from bytecast import _quickargs
from bytecast.cli import _parser

def by_argparse(argv):
    parser = _parser.build_parser(argv)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return vars(parser.parse_args(argv))
        except SystemExit:
            return None

table = _quickargs.declare(_parser.declarers([]))
wrong = []
with open(sys.argv[1]) as f:
    lines = json.load(f)
for argv in lines:
    quick = _quickargs.parse(table, argv)
    if quick is not None and vars(quick) != by_argparse(argv):
        wrong.append([argv, vars(quick), by_argparse(argv)])
print(json.dumps({"compared": len(lines), "wrong": wrong}))
"""


def _compare_under(exe: str, lines: list[list[str]]) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "lines.json")
        with open(path, "w") as f:
            json.dump(lines, f)
        out = subprocess.run([exe, "-c", COMPARE, path], env={**env(), "PYTHONPATH": SRC},
                             capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_quick_parser_agrees_with_argparse_of_every_python(version: str) -> None:
    exe = require(version)

    @settings(max_examples=12, deadline=None)
    @given(st.lists(command_lines(), min_size=60, max_size=60))
    def agree(lines: list[list[str]]) -> None:
        result = _compare_under(exe, lines)
        assert result["compared"] == len(lines)
        assert result["wrong"] == [], result["wrong"][:3]

    agree()


def test_the_comparison_under_other_pythons_can_fail() -> None:
    # a quick parser that disagrees must be caught by the script the other Pythons run
    lines = [["compile", "-j", "2", "src"], ["compile", "--jobs", "3"]]
    assert _compare_under(sys.executable, lines) == {"compared": 2, "wrong": []}
    script = COMPARE.replace("quick = _quickargs.parse(table, argv)",
                             "quick = _quickargs.parse(table, argv)\n    quick and setattr(quick, 'jobs', 9)")
    broken = subprocess.run([sys.executable, "-c", script, "/dev/stdin"], input=json.dumps(lines),
                            env={**env(), "PYTHONPATH": SRC}, capture_output=True, text=True)
    assert len(json.loads(broken.stdout)["wrong"]) == 2


# --- it fails closed on what it does not model -------------------------------------------------


def _declared(body: Any) -> _quickargs.Declared:
    def add(sub: Any) -> None:
        body(sub)
        sub.commands["odd"].add_argument("-q", "--quiet", action="store_true")

    return _quickargs.declare([add])


@pytest.mark.parametrize("body", [
    lambda sub: sub.add_parser("odd", parents=[object()]),
    lambda sub: sub.add_parser("odd", aliases=["o"]),
    lambda sub: sub.add_parser("odd", argument_default=None),
    lambda sub: sub.add_parser("odd", prefix_chars="-+"),
    lambda sub: sub.add_parser("odd", add_help=False),
    lambda sub: sub.add_parser("odd", allow_abbrev=False),
    lambda sub: sub.add_parser("odd").add_subparsers(dest="inner").add_parser("deeper"),
    lambda sub: sub.add_parser("odd").add_argument_group("g").add_argument("-x"),
    lambda sub: sub.add_parser("odd").add_mutually_exclusive_group().add_argument("-x", action="store_true"),
    lambda sub: sub.add_parser("odd").add_argument("-x", dest="other"),
    lambda sub: sub.add_parser("odd").add_argument("-x", required=True),
    lambda sub: sub.add_parser("odd").add_argument("-x", const=1, nargs="?"),
    lambda sub: sub.add_parser("odd").add_argument("-x", action="count"),
    lambda sub: sub.add_parser("odd").add_argument("-x", action="append"),  # no list default
    lambda sub: sub.add_parser("odd").add_argument("-x", type=lambda s: s),
    lambda sub: sub.add_parser("odd").add_argument("-1", action="store_true"),  # negative-number-like
    lambda sub: sub.add_parser("odd").add_argument("--quiet", action="store_true"),  # dest declared twice
    lambda sub: sub.add_parser("odd").add_argument("--command", default="x"),  # the table's own dest
    lambda sub: sub.add_parser("odd").add_argument("query"),  # one positional: not modelled
    lambda sub: sub.add_parser("odd").set_defaults({"x": 1}),
    lambda sub: sub.add_parser("odd").convert_arg_line_to_args,
])
def test_what_it_does_not_model_makes_it_answer_none(body: Any) -> None:
    table = _declared(body)
    assert _quickargs.parse(table, ["odd"]) is None


def test_a_plain_declaration_is_still_read() -> None:
    # the control for the test above: the same scaffold without the odd call is read
    table = _declared(lambda sub: sub.add_parser("odd", help="h", description="d", epilog="e"))
    assert vars(_quickargs.parse(table, ["odd"]) or _quickargs.Namespace()) == {"command": "odd", "quiet": False}


def test_a_parent_parser_would_lose_its_defaults_so_argparse_reads_it() -> None:
    import argparse

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--level", type=int, default=7)

    def add(sub: Any) -> None:
        sub.add_parser("odd", parents=[parent]).add_argument("-q", action="store_true")

    assert _quickargs.parse(_quickargs.declare([add]), ["odd"]) is None
    real = argparse.ArgumentParser()
    add(real.add_subparsers(dest="command"))
    assert vars(real.parse_args(["odd"])) == {"command": "odd", "level": 7, "q": False}


def test_calls_on_the_table_itself_make_it_answer_none() -> None:
    def add(sub: Any) -> None:
        sub.add_parser("odd")
        sub.required = True
        sub.choices_hint("odd")

    assert _quickargs.parse(_quickargs.declare([add]), ["odd"]) is None


# --- the summary line ---------------------------------------------------------------------------


def test_compile_check_and_clean_end_with_one_summary_line_on_stderr(small_tree: Path) -> None:
    import re

    from conftest import run_cli

    tag = sys.implementation.cache_tag
    tree = str(small_tree)
    sources = len(list(small_tree.rglob("*.py")))
    out = run_cli("compile", "--target", "current", tree)  # piped: the line is there all the same
    assert out.returncode == 0 and out.stdout == ""
    assert re.fullmatch(rf"compiled {sources} files for {tag} in \d+\.\d\d s\n", out.stderr), out.stderr
    assert len(list(small_tree.rglob("*.pyc"))) == sources
    out = run_cli("compile", "--target", "current", tree)
    assert re.fullmatch(rf"compiled 0 files for {tag} in \d+\.\d\d s \({sources} fresh\)\n", out.stderr), out.stderr
    victim = next(small_tree.rglob("*.py"))
    victim.write_text(victim.read_text() + "\n# changed\n")
    out = run_cli("check", "--target", "current", tree)
    assert out.returncode == 1 and out.stdout.count("\n") == 1
    assert re.fullmatch(rf"checked {sources} files for {tag} in \d+\.\d\d s: 1 stale\n", out.stderr), out.stderr
    for command in ("compile", "check", "clean"):
        quiet = run_cli(command, "-q", "--target", "current", tree)
        assert quiet.stderr == "", (command, quiet.stderr)
    out = run_cli("check", "--target", "current", tree)
    assert re.fullmatch(rf"checked {sources} files for {tag} in \d+\.\d\d s: {sources} missing\n", out.stderr)


def test_one_summary_line_per_target(tmp_path: Path) -> None:
    from conftest import run_cli

    other = require("3.12" if sys.version_info[:2] != (3, 12) else "3.11")
    (tmp_path / "m.py").write_text("A = 1\n")
    (tmp_path / "n.py").write_text("B = (\n")  # fails for every target
    out = run_cli("compile", "--target", "current", "--target", other, str(tmp_path))
    assert out.returncode == 1
    summaries = [line for line in out.stderr.splitlines() if line.startswith("compiled ")]
    tags = [sys.implementation.cache_tag, "cpython-3" + ("12" if sys.version_info[:2] != (3, 12) else "11")]
    assert [line.split(" for ")[1].split()[0] for line in summaries] == tags
    assert all(line.startswith("compiled 1 file for ") and line.endswith("(1 failed)") for line in summaries)
