"""import_flow: the conditions an import runs under, from each Python's own bytecode.

The sample's module names are the expectation: ``tc_*`` typing-only, ``ver_*`` guarded by a
version test, ``eh_*`` guarded by an ImportError handler, ``rt_*`` plain. Each installed
interpreter compiles it; its pyc is read with bytecast's own reader.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import interpreters
from bytecast.import_flow import is_version_flag
from bytecast.imports import ImportsReport, scan

FLOW = 'import sys\nimport typing\nfrom typing import TYPE_CHECKING\nimport rt_six as six\nPY314 = sys.version_info >= (3, 14)\nif sys.version_info < (3, 6):\n    raise ImportError("needs 3.6")\nimport rt_after_version_raise\nif TYPE_CHECKING:\n    import tc_plain\n    from tc_from import Thing\nif typing.TYPE_CHECKING:\n    import tc_attr\nelse:\n    import rt_else_of_typing\nif not TYPE_CHECKING:\n    import rt_not_typing\nelse:\n    import tc_else_of_not\nif TYPE_CHECKING and sys.platform == "linux":\n    import tc_and\nif TYPE_CHECKING or sys.platform == "linux":\n    import rt_or\nif sys.version_info >= (3, 14):\n    import ver_compare\nelif sys.version_info[:2] == (3, 8):\n    import ver_elif\nelse:\n    import ver_else\nif PY314:\n    import ver_flag\nif not PY314:\n    import ver_not_flag\nif sys.version_info[0] == 2:\n    import ver_subscript\nif six.PY2:\n    import ver_six\nif sys.hexversion >= 0x30C0000:\n    import ver_hex\nimport rt_after\nfor item in sys.argv:\n    if TYPE_CHECKING:\n        import tc_in_loop\n    import rt_in_loop\nwhile sys.argv:\n    if sys.version_info < (3, 9):\n        import ver_in_while\n    break\ntry:\n    import eh_try\nexcept ImportError:\n    import rt_in_handler\nif TYPE_CHECKING:\n    try:\n        import tc_try_inside\n    except ImportError:\n        pass\nif False:\n    import never_compiled\ndef f(x):\n    if TYPE_CHECKING:\n        import tc_in_function\n        return None\n    import rt_in_function\n    if sys.version_info >= (3, 12):\n        import ver_in_function\n        return 1\n    return 2\nclass C:\n    if TYPE_CHECKING:\n        import tc_in_class\n    import rt_in_class\nasync def g(x):\n    if TYPE_CHECKING:\n        import tc_in_async\n    import rt_in_async\n    with open(x) as fh:\n        if TYPE_CHECKING:\n            import tc_in_with\n        import rt_in_with\n        fh.read()\ndef h(name):\n    import importlib\n    importlib.import_module("%s.base" % name)\n    importlib.import_module("pkg." + name)\n    importlib.import_module("{}.x".format(name))\n    importlib.import_module(name)\n    __import__(name)\n    importlib.import_module("rt_static_call")\n    __import__("rt_static_dunder", globals(), locals(), ["x"], 0)\n    loader = importlib.import_module\n    return loader\nimport rt_last\n'

PY2 = 'import sys\nTYPE_CHECKING = False\nif False:\n    import tc_false\nif TYPE_CHECKING:\n    import tc_plain\nif sys.version_info[0] == 2:\n    import ver_py2\nelse:\n    import ver_py3\nfor x in sys.argv:\n    if sys.version_info < (2, 7):\n        import ver_loop\n    break\nimport rt_last\n'

EXPECTED_DYNAMIC = [("%s.base", 84), ("pkg.", 85), ("{}.x", 86), (None, 87), (None, 88)]


def _compiled(exe: str, text: str, tmp_path: Path) -> Path:
    src = tmp_path / "flow.py"
    src.write_text(text)
    pyc = tmp_path / "flow.pyc"
    subprocess.run([exe, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                    "doraise=True)", str(src), str(pyc)], check=True, timeout=60)
    src.unlink()  # the pyc alone is read
    return pyc


def _wrong(report: ImportsReport) -> list[tuple[str, int | None, str]]:
    wrong = []
    for m in report.modules:
        kind = m.name.split("_", 1)[0]
        if kind not in ("tc", "ver", "eh", "rt"):
            continue
        for s in m.sites:
            got = ("tc" if s.typing_only else "ver" if s.guard == "version check"
                   else "eh" if s.guard == "ImportError handler" else "rt")
            if got != kind or got != "tc" and s.guarded != (got in ("ver", "eh")):
                wrong.append((m.name, s.line, got))
    return wrong


@pytest.mark.parametrize("version", ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_conditions_in_every_version(version: str, tmp_path: Path) -> None:
    exe = interpreters.require(version)
    report = scan([str(_compiled(exe, FLOW, tmp_path))], declared=False)
    names = {m.name for m in report.modules}
    for kind in ("tc", "ver", "eh", "rt"):  # every import the source writes is found
        written = set(re.findall(rf"(?:import |from |\(\")({kind}_\w+)", FLOW))
        assert {n for n in names if n.startswith(kind + "_")} == written, kind
    assert "never_compiled" not in names  # `if False:` bodies are not compiled at all
    assert _wrong(report) == []
    assert [(d.pattern, d.line) for d in report.dynamic] == EXPECTED_DYNAMIC
    assert not any("%" in n or "{" in n or n.endswith(".") for n in names)
    assert {"rt_static_call", "rt_static_dunder"} <= names
    kinds = {m.name: m.kind for m in report.modules}
    assert kinds["tc_plain"] == "typing-only" and kinds["rt_last"] == "missing"
    hard = {m.name for m in report.hard_missing}
    assert not any(n.startswith(("tc_", "ver_", "eh_")) for n in hard) and "rt_after" in hard


def test_python2_if_false_and_version_tests(tmp_path: Path) -> None:
    exe = interpreters.require("2.7")
    report = scan([str(_compiled(exe, PY2, tmp_path))], declared=False)
    assert {m.name for m in report.modules} >= {"tc_false", "tc_plain", "ver_py2", "ver_py3", "ver_loop"}
    assert _wrong(report) == []


def test_running_python_sources(tmp_path: Path) -> None:
    """Sources are compiled by the running Python and judged the same way."""
    src = tmp_path / "flow.py"
    src.write_text(FLOW)
    assert _wrong(scan([str(src)], declared=False)) == []


def test_version_flag_names() -> None:
    for name in ("PY2", "PY3", "PY310", "PY38_PLUS", "IS_PY3", "_PY2", "PYTHON3", "PY3_OR_NEWER"):
        assert is_version_flag(name), name
    for name in ("PYTHON", "PYPY", "PY", "pyproject", "HAS_PY2_LIB", "TYPE_CHECKING"):
        assert not is_version_flag(name), name


def test_many_conditions_stay_linear(tmp_path: Path) -> None:
    """Thousands of tests in one module: bounded work, and nothing is wrongly typing-only."""
    import time

    body = "".join(f"if TYPE_CHECKING:\n    import tc_{k}\nimport rt_{k}\n" for k in range(1500))
    src = tmp_path / "big.py"
    src.write_text("TYPE_CHECKING = False\n" + body)
    started = time.perf_counter()
    report = scan([str(src)], declared=False)
    assert time.perf_counter() - started < 30
    assert not any(s.typing_only for m in report.modules if m.name.startswith("rt_") for s in m.sites)
