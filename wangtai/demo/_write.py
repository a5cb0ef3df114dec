"""Atomic writers: write `.<name>.tmp` beside the target, then rename it into place."""

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 250_000
CHUNK = 500_000  # rows whose strings are built at once: bounds memory at millions of rows


def tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


class AtomicParquet:
    """A Parquet file written in row groups under a temporary name, renamed into place on close."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = tmp_path(path)
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")

    def write(self, columns: dict[str, pa.Array]) -> None:
        table = pa.table([columns[f.name] for f in self.schema], schema=self.schema)
        self._writer.write_table(table, row_group_size=ROW_GROUP)
        self.rows += table.num_rows

    def __enter__(self) -> "AtomicParquet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --- vectorized string building -------------------------------------------------------------------


def fixed_ascii(codes: np.ndarray) -> pa.StringArray:
    """A string array from an (n, w) uint8 array of ASCII bytes, without a Python string per row."""
    n, width = codes.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(codes, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data.tobytes()))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) uint8 array (0–9)."""
    out = np.empty((len(values), width), np.uint8)
    rest = values.astype(np.int64)
    for column in range(width - 1, -1, -1):
        rest, out[:, column] = np.divmod(rest, 10)
    return out


def padded(values: np.ndarray, width: int, prefix: str = "") -> pa.StringArray:
    """`prefix` + zero-padded integers, e.g. padded([7], 5, "S") → "S00007"."""
    body = digits(values, width) + ord("0")
    if prefix:
        head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
        body = np.hstack([np.broadcast_to(head, (len(values), len(head))), body])
    return fixed_ascii(body)


def take(words, index: np.ndarray) -> pa.Array:
    return pa.array(list(words), pa.string()).take(pa.array(index))
