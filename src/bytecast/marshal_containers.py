"""Containers and references of the bounded marshal reader.

Sets and dict keys are where crafted data turns a few bytes into a lot of work: a tuple
shared through references expands to an exponentially large tree, and every key holding it
walks that tree to be hashed (and again when its hash collides with another key's). Each key
is charged its expanded size, and the total is bounded by :attr:`Limits.max_hash_work`.
"""

from __future__ import annotations

from typing import Any

from bytecast.marshal_reader import NULL, RESERVED, ReaderCore, describe

__all__ = ["Reader"]

_NULL = NULL
_RESERVED = RESERVED
_COMPOUND = (tuple, frozenset, slice)


class Reader(ReaderCore):
    """A marshal read: the core's primitives and scalars, with containers and references."""

    __slots__ = ()

    def hash_cost(self, value: Any) -> int:
        """How many objects hashing or comparing ``value`` may walk: a tuple, frozenset or
        slice counts everything below it as if nothing were shared (capped just above
        ``max_hash_size``), anything else 1. Tuples shared through references can describe
        an exponentially large tree in a few bytes."""
        if not isinstance(value, _COMPOUND):
            return 1
        memo = self.costs
        known = memo.get(id(value))
        if known is not None:
            return known[1]
        cap = self.limits.max_hash_size + 1
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            item, done = stack.pop()
            if id(item) in memo:
                continue
            kids = (item.start, item.stop, item.step) if type(item) is slice else item
            if done:
                total = 1
                for c in kids:
                    total += memo[id(c)][1] if isinstance(c, _COMPOUND) else 1
                memo[id(item)] = (item, min(total, cap))  # kept alive, so its id stays
                continue
            stack.append((item, True))
            stack.extend((c, False) for c in kids
                         if isinstance(c, _COMPOUND) and id(c) not in memo)
        return memo[id(value)][1]

    def admit(self, item: Any, at: int, hashes: dict[int, int], what: str) -> None:
        """Charge the hashing work of adding ``item`` to a set or dict whose earlier keys'
        hashes are counted in ``hashes``; raise if it is unhashable or over budget."""
        cost = self.hash_cost(item)
        limits = self.limits
        if cost > limits.max_hash_size:
            raise self.fail(f"{what} expands to more than {limits.max_hash_size} objects "
                            "(a tuple shared through references many times over)", at)
        if cost > 1:
            self.charge_hash(cost, at)  # hashing it here
        try:
            h = hash(item)
        except TypeError:
            raise self.fail(f"{what} is unhashable: {describe(item)}", at) from None
        same = hashes.get(h, 0)
        hashes[h] = same + 1
        # the container hashes it again (a scalar's hash is cheap or cached) and compares it
        # with every earlier key of the same hash (crafted ints collide at will)
        self.charge_hash(cost * (same + (cost > 1)), at)

    def charge_hash(self, cost: int, at: int) -> None:
        self.hash_work += cost
        if self.hash_work > self.limits.max_hash_work:
            raise self.fail(
                f"hashing the set elements and dict keys would walk more than "
                f"{self.limits.max_hash_work} objects (many keys sharing large tuples "
                "through references)", at)

    def _items(self, n: int, start: int, what: str) -> list[Any]:
        self.grow(n, start)
        self.enter(start)
        read = self.read
        items = [read() for _ in range(n)]
        self.depth -= 1
        if _NULL in items:
            raise self.fail(f"NULL object inside a {what}", start)
        return items

    def r_tuple(self, flag: int, start: int) -> Any:
        n = self.length("tuple")
        idx = self.reserve(flag)
        v = tuple(self._items(n, start, "tuple"))
        if flag:
            self.refs[idx] = v
        return v

    def r_small_tuple(self, flag: int, start: int) -> Any:
        n = self.take(1, "small tuple length")[0]
        if n > self.end - self.pos:
            raise self.fail(f"small tuple declares {n} items, "
                            f"but only {self.end - self.pos} bytes are left", start)
        idx = self.reserve(flag)
        v = tuple(self._items(n, start, "tuple"))
        if flag:
            self.refs[idx] = v
        return v

    def r_list(self, flag: int, start: int) -> Any:
        n = self.length("list")
        v: list[Any] = []
        if flag:
            self.refs.append(v)  # registered first: a list may contain itself
        self.grow(n, start)
        self.enter(start)
        for _ in range(n):
            item = self.read()
            if item is _NULL:
                raise self.fail("NULL object inside a list", start)
            v.append(item)
        self.depth -= 1
        return v

    def r_dict(self, flag: int, start: int) -> Any:
        v: dict[Any, Any] = {}
        if flag:
            self.refs.append(v)
        self.enter(start)
        hashes: dict[int, int] = {}
        while True:
            key_at = self.pos
            key = self.read()
            if key is _NULL:
                break
            value = self.read_item("a dict value")
            self.grow(1, start)
            self.admit(key, key_at, hashes, "dict key")
            v[key] = value
        self.depth -= 1
        return v

    def r_set(self, flag: int, start: int) -> Any:
        n = self.length("set")
        target: set[Any] = set()
        if flag:
            self.refs.append(target)  # registered first, as CPython does
        target.update(self._elements(n, start, "set element"))
        return target

    def r_frozenset(self, flag: int, start: int) -> Any:
        n = self.length("frozenset")
        idx = self.reserve(flag)
        v = frozenset(self._elements(n, start, "frozenset element"))
        if flag:
            self.refs[idx] = v
        return v

    def _elements(self, n: int, start: int, what: str) -> list[Any]:
        self.grow(n, start)
        self.enter(start)
        items = []
        hashes: dict[int, int] = {}
        for _ in range(n):
            at = self.pos
            item = self.read_item("a " + what)
            self.admit(item, at, hashes, what)
            items.append(item)
        self.depth -= 1
        return items

    def r_slice(self, flag: int, start: int) -> Any:
        if self.version < (3, 14):
            raise self.fail(f"slice objects are not marshalled before 3.14 "
                            f"(reading as {self.version[0]}.{self.version[1]})", start)
        idx = self.reserve(flag)
        self.enter(start)
        v = slice(self.read_item("slice start"), self.read_item("slice stop"),
                  self.read_item("slice step"))
        self.depth -= 1
        if flag:
            self.refs[idx] = v
        return v

    def r_ref(self, flag: int, start: int) -> Any:
        i = self.int32("reference")
        refs = self.refs
        if not 0 <= i < len(refs):
            raise self.fail(f"reference {i} out of range ({len(refs)} objects so far)", start)
        v = refs[i]
        if v is _RESERVED:
            raise self.fail(f"reference {i} points to an object still being read", start)
        return v

    def r_unknown(self, flag: int, start: int) -> Any:
        raise self.fail("type code '?' (unknown object) found in data", start)

