"""Tests for bytecast._frozen: records are immutable, compared by value within one class only."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bytecast._frozen import Frozen, init
from bytecast.errors import UsageError
from bytecast.options import Options


class Point(Frozen):
    __slots__ = ("x", "y")

    x: int
    y: int

    def __init__(self, x: int, y: int = 0) -> None:
        if x < 0:
            raise ValueError("x must be 0 or more")
        init(self, "x", x)
        init(self, "y", y)


class Pair(Frozen):
    """Same fields and values as Point: must still never equal one."""

    __slots__ = ("x", "y")

    x: int
    y: int

    def __init__(self, x: int, y: int = 0) -> None:
        init(self, "x", x)
        init(self, "y", y)


class Labelled(Point):
    """A subclass adds its slots after its base's: fields follow the ``__init__`` order."""

    __slots__ = ("label",)

    label: str

    def __init__(self, x: int, y: int = 0, label: str = "") -> None:
        super().__init__(x, y)
        init(self, "label", label)


ints = st.integers(min_value=0, max_value=2**70)


def test_setting_or_deleting_a_field_raises() -> None:
    p = Point(1, 2)
    with pytest.raises(AttributeError, match="immutable"):
        p.x = 3
    with pytest.raises(AttributeError, match="immutable"):
        del p.x
    with pytest.raises(AttributeError):
        p.z = 1
    assert (p.x, p.y) == (1, 2)


def test_no_instance_dict() -> None:
    assert not hasattr(Point(1), "__dict__")


@given(ints, ints, ints, ints)
def test_equality_is_by_value_and_hash_follows_it(a: int, b: int, c: int, d: int) -> None:
    p, q = Point(a, b), Point(c, d)
    assert (p == q) is ((a, b) == (c, d))
    assert (p != q) is ((a, b) != (c, d))
    assert p == Point(a, b)
    assert hash(p) == hash(Point(a, b))
    if p == q:
        assert hash(p) == hash(q)


@given(ints, ints)
def test_never_equal_to_a_tuple_or_another_record_class(a: int, b: int) -> None:
    p = Point(a, b)
    assert p != (a, b)
    assert (a, b) != p
    assert p != Pair(a, b)
    assert Pair(a, b) != p
    assert (p == Pair(a, b)) is False
    assert p != Labelled(a, b)
    assert Labelled(a, b) != p
    assert p != [a, b]
    assert p != {"x": a, "y": b}
    # usable as distinct keys in one dict
    assert len({p: 1, Pair(a, b): 2, (a, b): 3}) == 3


def test_subclass_fields_in_order() -> None:
    r = Labelled(1, 2, "z")
    assert r._fields == ("x", "y", "label")
    assert r.as_dict() == {"x": 1, "y": 2, "label": "z"}
    assert r == Labelled(1, 2, "z")
    assert r != Labelled(1, 2, "w")


def test_replace_makes_a_new_record_through_init() -> None:
    p = Point(1, 2)
    q = p.replace(y=5)
    assert q == Point(1, 5)
    assert type(q) is Point
    assert p == Point(1, 2)  # the original is untouched
    with pytest.raises(ValueError, match="x must be"):
        p.replace(x=-1)
    with pytest.raises(TypeError, match="no field 'z'"):
        p.replace(z=1)


def test_replace_revalidates_options() -> None:
    opts = Options(jobs=1)
    assert opts.replace(jobs=3).jobs == 3
    with pytest.raises(UsageError) as info:
        opts.replace(jobs=-1)
    assert info.value.field == "jobs"


def test_as_dict_in_field_order_keeps_nested_records() -> None:
    inner = Point(3)
    outer = Labelled(1, 2, "a")
    assert list(outer.as_dict()) == ["x", "y", "label"]
    nested = Pair(inner, 0)  # type: ignore[arg-type]
    assert nested.as_dict()["x"] is inner
    assert Point(**Point(4, 5).as_dict()) == Point(4, 5)


@given(ints, ints, st.text())
def test_pickle_round_trip(a: int, b: int, label: str) -> None:
    for record in (Point(a, b), Labelled(a, b, label)):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(record, protocol))
            assert back == record
            assert type(back) is type(record)


def test_pickle_round_trip_of_options() -> None:
    opts = Options(optimize=[0, 2], jobs=2, excludes=["test/"], timeout=5)
    back = pickle.loads(pickle.dumps(opts))
    assert back == opts
    assert back.excludes == ("test/",)


def test_repr_names_class_and_fields() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert repr(Labelled(1, 2, "a'b")) == "Labelled(x=1, y=2, label=\"a'b\")"
    assert repr(Pair(1)) == "Pair(x=1, y=0)"


def test_hot_records_are_immutable_for_the_type_checker(tmp_path: Path) -> None:
    """Source, Job and Unit are made per source of a tree: plain assignment in ``__init__`` (a
    third of the cost), ``Final`` fields, so that the type checker refuses any later change."""
    from mypy import api

    snippet = tmp_path / "mutate.py"
    snippet.write_text(
        "from bytecast.discover import Source\n"
        "from bytecast.plan import Job\n"
        "from bytecast.compiler.protocol import Unit\n"
        "def f(s: Source, j: Job, u: Unit) -> None:\n"
        "    s.path = 'x'\n"
        "    j.state = 'fresh'\n"
        "    u.uid = 3\n")
    out, _, status = api.run([str(snippet), "--strict", "--no-incremental", "--follow-imports=silent",
                              "--python-version", "3.11"])
    assert status == 1, out
    assert out.count("Cannot assign to final attribute") == 3, out
