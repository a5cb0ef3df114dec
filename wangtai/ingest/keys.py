"""Duplicate rows: keys seen earlier in the same file, or (increment feeds) already in the warehouse."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def first_occurrence(keys: pa.Array) -> np.ndarray:
    """True at each key's first row in ``keys``."""
    n = len(keys)
    table = pa.table({"k": keys, "i": pa.array(np.arange(n, dtype=np.int64))})
    first = table.group_by("k", use_threads=False).aggregate([("i", "min")]).column("i_min")
    mask = np.zeros(n, dtype=bool)
    mask[first.to_numpy()] = True
    return mask


def as_mask(mask: pa.Array) -> np.ndarray:
    """An Arrow boolean array as numpy, null counted as False."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


class SeenKeys:
    """Keys accepted so far from one file. int64 keys (id numbers) live in a sorted numpy array."""

    def __init__(self) -> None:
        self.ints = np.zeros(0, dtype=np.int64)
        self.arrays: list[pa.Array] = []

    def contains(self, keys: pa.Array) -> np.ndarray:
        if pa.types.is_integer(keys.type):
            values = keys.to_numpy(zero_copy_only=False)
            if not len(self.ints):
                return np.zeros(len(values), dtype=bool)
            pos = np.minimum(np.searchsorted(self.ints, values), len(self.ints) - 1)
            return self.ints[pos] == values
        if not self.arrays:
            return np.zeros(len(keys), dtype=bool)
        if len(self.arrays) > 1:
            self.arrays = [pa.concat_arrays(self.arrays)]
        return as_mask(pc.is_in(keys, value_set=self.arrays[0]))

    def add(self, keys: pa.Array) -> None:
        if pa.types.is_integer(keys.type):
            self.ints = np.sort(
                np.concatenate([self.ints, keys.to_numpy(zero_copy_only=False)]), kind="stable"
            )
        else:
            self.arrays.append(keys)


def duplicate_mask(keys: pa.Array, seen: SeenKeys, existing: pa.Array | None) -> np.ndarray:
    """True for each key repeated within ``keys``, accepted earlier from the same file (``seen``), or
    already in the warehouse (``existing``, as strings)."""
    is_dup = ~first_occurrence(keys)
    is_dup |= seen.contains(keys)
    if existing is not None:
        is_dup |= as_mask(pc.is_in(keys.cast(pa.string()), value_set=existing))
    return is_dup
