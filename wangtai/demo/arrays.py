"""Rows as integer arrays: day and microsecond counts, ranks within groups, shares rounded to totals."""

import numpy as np

DAY_US = 86_400_000_000
EPOCH = np.datetime64("1970-01-01", "D")


def group_rank(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each group of equal keys, in row order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(keys)])
    rank = np.empty(len(keys), np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, counts)
    return rank


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to weights that add up to total (largest remainder)."""
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out
