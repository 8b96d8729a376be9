"""Seeded subsampling of records.

Experiments on a budget run on a subset of each test set. The subset must be the same on every
machine and every rerun (so results are comparable and cached outputs stay valid), and it keeps the
input order of the chosen records so that output files stay diffable against the full run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def sample_records(records: Sequence[T], n: int | None, seed: int) -> list[T]:
    """Return ``n`` records chosen without replacement, in their input order.

    ``n=None`` or ``n >= len(records)`` returns all records (a copy of the list). A private
    :class:`random.Random` is used, so the global RNG is neither read nor disturbed and the choice
    depends only on ``(len(records), n, seed)``.
    """
    if n is None:
        return list(records)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int or None, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0 or None, got {n}")
    if n >= len(records):
        return list(records)
    chosen = sorted(random.Random(seed).sample(range(len(records)), n))
    return [records[i] for i in chosen]
