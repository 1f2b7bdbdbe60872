"""Tests for bytecast.options: an Options record refuses every invalid value, naming the field."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bytecast.errors import UsageError
from bytecast.options import DEFAULT_TIMEOUT, LINK_POLICIES, MODES, Options, default_mode
from bytecast.targets import current

INVALID: list[tuple[dict[str, object], str]] = [
    ({"jobs": -1}, "jobs"),
    ({"jobs": 1.5}, "jobs"),
    ({"jobs": True}, "jobs"),
    ({"jobs": "2"}, "jobs"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": 0.0}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"timeout": math.inf}, "timeout"),
    ({"timeout": math.nan}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"timeout": False}, "timeout"),
    ({"timeout": "5"}, "timeout"),
    ({"optimize": [3]}, "optimize"),
    ({"optimize": [-1]}, "optimize"),
    ({"optimize": [0, 1, 7]}, "optimize"),
    ({"optimize": [True]}, "optimize"),
    ({"optimize": [1.0]}, "optimize"),
    ({"invalidation_mode": "checked"}, "invalidation_mode"),
    ({"invalidation_mode": ""}, "invalidation_mode"),
    ({"links": "some"}, "links"),
    ({"links": None}, "links"),
    ({"max_depth": -1}, "max_depth"),
    ({"max_depth": 2.0}, "max_depth"),
    ({"max_depth": False}, "max_depth"),
    ({"ddir": "/d", "strip_prefix": "/s"}, "ddir"),
    ({"ddir": "/d", "prepend_prefix": "/p"}, "ddir"),
    ({"excludes": ["[z-a]"]}, "excludes"),
    ({"excludes": ["ok", ""]}, "excludes"),
    ({"excludes": ["/"]}, "excludes"),
]


@pytest.mark.parametrize(("kwargs", "field"), INVALID, ids=[repr(k) for k, _ in INVALID])
def test_invalid_value_names_its_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(UsageError) as info:
        Options(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    # the same value given later, through replace, is refused the same way
    with pytest.raises(UsageError) as again:
        Options().replace(**kwargs)
    assert again.value.field == field


def test_defaults() -> None:
    o = Options()
    assert o.optimize == ()
    assert o.invalidation_mode is None
    assert o.force is False
    assert o.jobs == 0
    assert o.excludes == ()
    assert o.max_depth is None
    assert o.links == "inside"
    assert o.timeout == DEFAULT_TIMEOUT
    assert o.targets == ()


def test_valid_values_are_kept() -> None:
    o = Options(optimize=iter([2, 0]), invalidation_mode="unchecked-hash", force=1,  # type: ignore[arg-type]
                jobs=4, excludes=iter(["test/", "*.pyw"]), max_depth=0, links="none",
                strip_prefix="/a", prepend_prefix="/b", hardlink_dupes=True, timeout=2,
                targets=iter([current()]))
    assert o.optimize == (2, 0)
    assert o.invalidation_mode == "unchecked-hash"
    assert o.force is True
    assert o.jobs == 4
    assert o.excludes == ("test/", "*.pyw")
    assert o.max_depth == 0
    assert o.links == "none"
    assert (o.ddir, o.strip_prefix, o.prepend_prefix) == (None, "/a", "/b")
    assert o.hardlink_dupes is True
    assert o.timeout == 2.0 and isinstance(o.timeout, float)
    assert o.targets == (current(),)
    assert Options(ddir="/d").ddir == "/d"


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_accepted(mode: str) -> None:
    assert Options(invalidation_mode=mode).resolved_mode() == mode  # type: ignore[arg-type]


@pytest.mark.parametrize("links", LINK_POLICIES)
def test_every_link_policy_accepted(links: str) -> None:
    assert Options(links=links).links == links  # type: ignore[arg-type]


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**64), 2**64))
def test_timeout_accepted_exactly_when_finite_and_positive(value: float) -> None:
    if 0 < value < math.inf:
        assert Options(timeout=value).timeout == float(value)
    else:
        with pytest.raises(UsageError) as info:
            Options(timeout=value)
        assert info.value.field == "timeout"


@given(st.integers(-5, 50))
def test_jobs_and_max_depth_from_zero(value: int) -> None:
    for field in ("jobs", "max_depth"):
        if value >= 0:
            assert getattr(Options(**{field: value}), field) == value  # type: ignore[arg-type]
        else:
            with pytest.raises(UsageError) as info:
                Options(**{field: value})  # type: ignore[arg-type]
            assert info.value.field == field


@given(st.lists(st.integers(-3, 5), max_size=6))
def test_levels(levels: list[int]) -> None:
    if all(0 <= n <= 2 for n in levels):
        o = Options(optimize=levels)
        expected = tuple(sorted(set(levels))) if levels else (min(sys.flags.optimize, 2),)
        assert o.resolved_levels() == expected
    else:
        with pytest.raises(UsageError) as info:
            Options(optimize=levels)
        assert info.value.field == "optimize"


def test_resolved_levels_default_is_the_running_level() -> None:
    assert Options().resolved_levels() == (min(sys.flags.optimize, 2),)
    assert Options(optimize=[2, 0, 2]).resolved_levels() == (0, 2)


def test_resolved_targets() -> None:
    assert Options().resolved_targets() == (current(),)
    other = current().replace(version=(3, 9), cache_tag="cpython-39", is_current=False)
    assert Options(targets=[other]).resolved_targets() == (other,)


def test_default_mode_follows_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert default_mode() == "timestamp"
    assert Options().resolved_mode() == "timestamp"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert default_mode() == "checked-hash"
    assert Options().resolved_mode() == "checked-hash"
    assert Options(invalidation_mode="timestamp").resolved_mode() == "timestamp"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")  # empty: as py_compile, not set
    assert Options().resolved_mode() == "timestamp"


def test_default_mode_agrees_with_py_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    import py_compile

    for value in (None, "0", "1700000000"):
        if value is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
        ours = default_mode().replace("-", "_").upper()
        assert py_compile._get_default_invalidation_mode().name == ours
