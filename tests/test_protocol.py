"""Tests for bytecast.compiler.protocol: units as the worker reads them, outcomes as it writes them.

The worker script itself (:mod:`bytecast.remote.worker`) is the other end: a unit is checked by
unpacking it as the worker does and by having the real worker compile it.
"""

from __future__ import annotations

import importlib.util
import marshal
import py_compile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bytecast.remote
from bytecast.compiler.protocol import WARNING_POLICIES, CodeFacts, Failure, Outcome, Unit, Warned, decode_outcome


def load_worker() -> ModuleType:
    path = Path(bytecast.remote.__file__).with_name("worker.py")
    spec = importlib.util.spec_from_file_location("_bytecast_worker_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WORKER = load_worker()

ints = st.integers(0, 2**31 - 1)
texts = st.text(max_size=40)

units = st.builds(
    Unit,
    uid=ints,
    path=texts,
    dfile=texts,
    flags=st.sampled_from([0, 1, 3]),
    hardlink=st.booleans(),
    outputs=st.lists(st.tuples(st.integers(0, 2), texts), max_size=3).map(tuple),
    give_back=st.booleans(),
    warnings=st.sampled_from(WARNING_POLICIES),
    facts=st.booleans(),
)

failures = st.builds(Failure, kind=texts, message=texts, line=ints, column=ints)
outcomes = st.builds(
    Outcome,
    uid=ints,
    written=ints,
    linked=ints,
    failure=st.none() | failures,
    blobs=st.lists(st.tuples(st.integers(0, 2), st.binary(max_size=64)), max_size=3).map(tuple),
    warnings=st.lists(st.builds(Warned, category=texts, message=texts, line=ints, column=ints),
                      max_size=3).map(tuple),
)


def wire(value: Any) -> Any:
    """What crosses the pipe: marshal version 2, as both ends write it."""
    return marshal.loads(marshal.dumps(value, 2))


def worker_form(outcome: Outcome) -> list[object]:
    """An outcome as the worker writes it: ``[uid, written, linked, error, blobs, warnings]``."""
    f = outcome.failure
    error = None if f is None else [f.kind, f.message, f.line, f.column]
    blobs = [[level, data] for level, data in outcome.blobs] or None
    if blobs and outcome.facts:
        blobs = [blob + [[sorted(f.names), sorted(f.strings)]] for blob, f in zip(blobs, outcome.facts)]
    warned = [[w.category, w.message, w.line, w.column] for w in outcome.warnings] or None
    return [outcome.uid, outcome.written, outcome.linked, error, blobs, warned]


@given(units)
def test_unit_round_trip_as_the_worker_unpacks_it(unit: Unit) -> None:
    sent = wire(unit.encode())
    uid, path, dfile, flags, hardlink, outputs, give_back = sent[:7]  # compile_unit's own unpacking
    policy = sent[7] if len(sent) > 7 else "ignore"
    facts = bool(sent[8]) if len(sent) > 8 else False
    back = Unit(uid, path, dfile, flags, hardlink, tuple((level, cfile) for level, cfile in outputs), give_back,
                policy, facts)
    assert back == unit
    assert back.as_dict() == unit.as_dict()


@given(outcomes)
def test_outcome_round_trip(outcome: Outcome) -> None:
    assert decode_outcome(wire(worker_form(outcome))) == outcome


def test_an_outcome_without_warnings_still_decodes() -> None:
    assert decode_outcome([3, 1, 0, None, None]) == Outcome(3, 1)
    assert decode_outcome([3, 1, 0, None, None, [["SyntaxWarning", "m", 2, 0]]]).warnings == (
        Warned("SyntaxWarning", "m", 2, 0),)


def test_a_unit_that_ignores_warnings_is_encoded_as_before() -> None:
    assert len(Unit(1, "p", "", 0, False, ((0, "c"),)).encode()) == 7
    assert Unit(1, "p", "", 0, False, ((0, "c"),), warnings="error").encode()[7] == "error"


@pytest.mark.parametrize("policy", WARNING_POLICIES)
def test_real_worker_records_warnings_as_asked(tmp_path: Path, policy: str) -> None:
    source = tmp_path / "w.py"
    source.write_text("x = 1 is 1\nassert (x, 'always')\n")
    cfile = tmp_path / "w.pyc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the worker's main() sets (pytest makes warnings errors)
        got = decode_outcome(wire(WORKER.compile_unit(
            wire(Unit(1, str(source), "", 0, False, ((0, str(cfile)),), False, policy).encode()))))
    categories = [w.category for w in got.warnings]
    if policy == "ignore":
        assert (got.failure, got.warnings, got.written) == (None, (), 1)
    elif policy == "show":
        assert got.failure is None and got.written == 1 and cfile.exists()
        assert categories == ["SyntaxWarning", "SyntaxWarning"]
        assert [w.line for w in got.warnings] == [1, 2]
        assert "literal" in got.warnings[0].message and "always true" in got.warnings[1].message
    else:  # the first warning fails the file; nothing written
        assert got.failure is not None and got.failure.kind == "SyntaxWarning" and got.failure.line == 1
        assert got.written == 0 and not cfile.exists()
        assert categories == ["SyntaxWarning"] and got.warnings[0].line == 2


def test_outcome_with_facts_round_trip() -> None:
    sent = Outcome(3, blobs=((0, b"pyc"),), facts=(CodeFacts(frozenset({"open"}), frozenset({"x.py"})),))
    assert decode_outcome(wire(worker_form(sent))) == sent
    with pytest.raises(ValueError, match="facts"):
        decode_outcome([3, 0, 0, None, [[0, b"pyc", [["open"], [7]]]]])


def test_worker_says_what_the_code_names(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import linecache\nRUN = 'helper.py'\nDOC = 'not a name'\n\ndef f():\n    return __file__\n")
    unit = Unit(5, str(source), "<t/m.py>", 1, False, ((0, ""),), give_back=True, facts=True)
    outcome = decode_outcome(wire(WORKER.compile_unit(wire(unit.encode()))))
    assert outcome.failure is None and len(outcome.facts) == 1
    assert {"linecache", "__file__"} <= outcome.facts[0].names
    assert outcome.facts[0].strings == {"helper.py"}
    assert marshal.loads(outcome.blobs[0][1][16:]) == compile(source.read_bytes(), "<t/m.py>", "exec", dont_inherit=True)


def test_failure_without_a_place() -> None:
    got = decode_outcome([7, 0, 0, ["OSError", "no such file", None, None], None])
    assert got == Outcome(7, failure=Failure("OSError", "no such file", 0, 0))


def test_real_worker_reads_an_encoded_unit(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    '''doc'''\n    assert f\n")
    dfile = "/baked/m.py"
    unit = Unit(41, str(source), dfile, 0, False, ((0, ""), (2, "")), give_back=True)
    outcome = decode_outcome(wire(WORKER.compile_unit(wire(unit.encode()))))
    assert outcome.uid == 41 and outcome.failure is None
    assert [level for level, _ in outcome.blobs] == [0, 2]
    for level, data in outcome.blobs:
        cfile = tmp_path / f"ref{level}.pyc"
        py_compile.compile(str(source), str(cfile), dfile=dfile, optimize=level, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        assert data == cfile.read_bytes()

    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n")  # the same bytes at levels 0 and 1: the second is a hard link
    written = Unit(42, str(plain), dfile, 3, True, ((0, str(tmp_path / "a.pyc")), (1, str(tmp_path / "b.pyc"))))
    outcome = decode_outcome(wire(WORKER.compile_unit(wire(written.encode()))))
    assert (outcome.uid, outcome.written, outcome.linked, outcome.failure, outcome.blobs) == (42, 1, 1, None, ())
    assert (tmp_path / "a.pyc").read_bytes()[4:8] == (3).to_bytes(4, "little")  # the flags arrived
    assert (tmp_path / "a.pyc").stat().st_ino == (tmp_path / "b.pyc").stat().st_ino  # so did hardlink


def test_real_worker_failure_decodes(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("x = (\n")
    outcome = decode_outcome(wire(WORKER.compile_unit(wire(Unit(3, str(source), "", 0, False, ((0, ""),), True)
                                                                .encode()))))
    assert outcome.failure is not None
    assert outcome.failure.kind == "SyntaxError"
    assert outcome.failure.line == 1
    missing = decode_outcome(wire(WORKER.compile_unit(
        wire(Unit(4, str(tmp_path / "absent.py"), "", 0, False, ((0, ""),), True).encode()))))
    assert missing.failure is not None and missing.failure.kind == "FileNotFoundError"


MALFORMED: list[object] = [
    None,
    "outcome",
    b"\x00" * 5,
    {"uid": 1},
    (1, 0, 0, None, None),
    [],
    [1, 0, 0, None],
    [1, 0, 0, None, None, None, None],
    [1, 0, 0, None, None, 5],
    [1, 0, 0, None, None, [["SyntaxWarning", "m", 1]]],
    [1, 0, 0, None, None, [["SyntaxWarning", "m", "one", 0]]],
    [1, 0, 0, None, None, ["SyntaxWarning"]],
    ["x", 0, 0, None, None],
    [None, 0, 0, None, None],
    [1.5, 0, 0, None, None],
    [True, 0, 0, None, None],
    [1, "two", 0, None, None],
    [1, 0, [], None, None],
    [1, 0, 0, "error", None],
    [1, 0, 0, 5, None],
    [1, 0, 0, ["SyntaxError", "bad"], None],
    [1, 0, 0, ["SyntaxError", "bad", "one", 0], None],
    [1, 0, 0, None, 5],
    [1, 0, 0, None, [[0]]],
    [1, 0, 0, None, [[0, b"", b""]]],
    [1, 0, 0, None, [["zero", b"pyc"]]],
    [1, 0, 0, None, [[0, 5]]],
    [1, 0, 0, None, [[0, "text"]]],
]


@pytest.mark.parametrize("message", MALFORMED, ids=[repr(m)[:40] for m in MALFORMED])
def test_malformed_outcomes_raise_value_error(message: object) -> None:
    with pytest.raises(ValueError):
        decode_outcome(message)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
                    lambda inner: st.lists(inner, max_size=6), max_leaves=20))
def test_arbitrary_messages_decode_or_raise_value_error(message: object) -> None:
    try:
        got = decode_outcome(message)
    except ValueError:
        return
    assert isinstance(got, Outcome)
    assert decode_outcome(wire(worker_form(got))) == got
