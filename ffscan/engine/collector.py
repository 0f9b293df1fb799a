"""When Python's cyclic garbage collector runs during a run.

A run makes millions of AST nodes and summary tuples and frees few cycles (a test checks that
checking a file leaves none). Collecting while one file is checked only rescans its tree again
and again; collecting between files, when the tree is gone, finds what little a check left.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# Collecting the youngest generation every 700 allocations (Python's default) rescans the
# cached summaries again and again. mypy raises the threshold the same way; peak memory is
# unchanged (prefect: 126 MB either way) and a run with the cache is about a third faster.
GC_THRESHOLD = (200_000, 30, 30)


def collect_less() -> None:
    if gc.get_threshold()[0] < GC_THRESHOLD[0]:
        gc.set_threshold(*GC_THRESHOLD)


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block (one file's check, one cache shard's load); the
    collector is left as it was found, also when the block raises."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
