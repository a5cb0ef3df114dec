"""Parquet inbox files, read as ingest always has: the contract's column names, streamed in batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from wangtai.contract import Feed
from wangtai.ingest.readers.feedfile import FeedFile, ReadBatch, refused
from wangtai.ingest.validate import as_text

BATCH_ROWS = 500_000  # as wangtai.ingest.core: bounds memory for very large files
UNREADABLE = "无法读取，不是完整的 Parquet 文件（可能已损坏或被截断）"


def open_parquet(path: Path, feed: Feed, notes: list[str]) -> FeedFile:
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        rows = parquet.metadata.num_rows
    except Exception as error:
        return refused(path, feed, "parquet", f"{UNREADABLE}。详情：{error}", unreadable=True, notes=notes)
    missing = [c for c in feed.column_names if c not in names]
    if missing:
        why = f"缺少必需列 {'、'.join(missing)}（{feed.label}文件应包含：{'、'.join(feed.column_names)}）"
        return refused(path, feed, "parquet", why, num_rows=rows, notes=notes, text_columns=names)
    return FeedFile(
        path,
        feed,
        "parquet",
        num_rows=rows,
        mapping={c: c for c in feed.column_names},
        unused=[n for n in names if n not in feed.column_names],
        notes=notes,
        text_columns=names,
        _batches=lambda: _batches(path),
    )


def _batches(path: Path):
    start = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        n = batch.num_rows
        yield ReadBatch(
            batch,
            np.arange(start, start + n, dtype=np.int64),
            np.full(n, None, dtype=object),
            lambda batch=batch: pa.RecordBatch.from_pydict(as_text(batch)),
        )
        start += n
