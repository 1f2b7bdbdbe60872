"""Compile: turn planned units into pyc bytes with a pool of fresh worker processes.

- :mod:`~bytecast.compiler.protocol`: the typed messages (units, outcomes) and their encoding;
- :mod:`~bytecast.compiler.pool`: the scheduler, which knows workers only by a small protocol;
- :mod:`~bytecast.compiler.workers`: worker processes of any target running
  :mod:`bytecast.remote.worker`.

The workers either write each pyc where the layout says (``__pycache__``: writing in the
worker keeps a cold compile at the machine's limit) or give the bytes back for a layout that
places them itself (see :mod:`bytecast.place`).
"""

from __future__ import annotations

from bytecast.compiler.pool import DEFAULT_TIMEOUT, Lane, PoolConfig, run_feed, run_lanes
from bytecast.compiler.protocol import Failure, Outcome, Unit
from bytecast.compiler.workers import ProcessWorker, spawner

__all__ = ["DEFAULT_TIMEOUT", "Failure", "Lane", "Outcome", "PoolConfig", "ProcessWorker", "Unit", "run_feed",
           "run_lanes", "spawner"]
