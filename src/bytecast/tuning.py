"""Tuning: how a run streams through the stages and how the pool batches its work.

Its own module, apart from the compile stage, because planning reads it too and a no-op run
(everything fresh) must not import the compile stage at all. The defaults were measured on the
standard library (see the README's figures); tests scale them down to small trees.
"""

from __future__ import annotations

from bytecast._frozen import Frozen, init

__all__ = ["PoolConfig", "DEFAULT_CONFIG"]


class PoolConfig(Frozen):
    """How a run streams and the pool batches and schedules (defaults measured on the
    standard library)."""

    __slots__ = ("chunk", "first_chunk", "batch_bytes", "batch_min_bytes", "batch_share", "batch_units", "in_flight",
                 "gather", "low_units", "max_units")

    chunk: int
    """Sources the engine walks and plans at a time: a run holds a few chunks, never the tree."""
    first_chunk: int
    """The first chunk, small, so that workers start as soon as there is work."""
    batch_bytes: int
    """Source bytes in one batch while the feed still has work."""
    batch_min_bytes: int
    """The smallest batch once the feed is done."""
    batch_share: int
    """Once the feed is done, a batch takes at most 1/share of the source left."""
    batch_units: int
    """Units in one batch, at most."""
    in_flight: int
    """Batches queued at each worker, so it never waits for the next one."""
    gather: float
    """Seconds to let outcomes gather while every worker has work queued."""
    low_units: int
    """Take more from the feed when fewer units than this are queued..."""
    max_units: int
    """... and, to keep a busy lane fed, until this many are."""

    def __init__(self, chunk: int = 256, first_chunk: int = 16, batch_bytes: int = 128 * 1024, batch_min_bytes: int = 4 * 1024, batch_share: int = 16,
                 batch_units: int = 64, in_flight: int = 2, gather: float = 0.01, low_units: int = 1024,
                 max_units: int = 32768) -> None:
        if min(chunk, first_chunk, batch_bytes, batch_min_bytes, batch_share, batch_units, in_flight, low_units,
               max_units) < 1:
            raise ValueError("PoolConfig: every count must be 1 or more")
        init(self, "chunk", chunk)
        init(self, "first_chunk", first_chunk)
        init(self, "batch_bytes", batch_bytes)
        init(self, "batch_min_bytes", batch_min_bytes)
        init(self, "batch_share", batch_share)
        init(self, "batch_units", batch_units)
        init(self, "in_flight", in_flight)
        init(self, "gather", gather)
        init(self, "low_units", low_units)
        init(self, "max_units", max_units)


DEFAULT_CONFIG = PoolConfig()
