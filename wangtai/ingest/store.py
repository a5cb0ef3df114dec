"""Files ingest writes: atomic Parquet writes and moves, the manifest and the decisions."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wangtai.paths import DataPaths
from wangtai.warehouse import live_files

MANIFEST_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("feed", pa.string()),
        ("file_name", pa.string()),
        ("sha256", pa.string()),
        ("ingested_at", pa.timestamp("us")),
        ("rows_in", pa.int64()),
        ("accepted", pa.int64()),
        ("quarantined", pa.int64()),
        ("duplicates", pa.int64()),
        ("outcome", pa.string()),
        ("reason", pa.string()),
        ("warehouse_file", pa.string()),
        ("quarantine_file", pa.string()),
        ("archive_file", pa.string()),
    ]
)

DECISION_SCHEMA = pa.schema(
    [
        ("decision_id", pa.string()),
        ("batch_id", pa.string()),
        ("decision", pa.string()),
        ("decided_at", pa.timestamp("us")),
        ("operator", pa.string()),
    ]
)


def temp_name(target: Path) -> Path:
    """A hidden temporary name in the target's folder (readers skip names starting with '.')."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def write_table(table: pa.Table, target: Path, metadata: dict[str, str] | None = None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    tmp = temp_name(target)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class AtomicParquetWriter:
    """Streams record batches into a hidden temp file; commit() renames it into place, discard() drops it."""

    def __init__(self, target: Path, schema: pa.Schema):
        self.target = target
        self.schema = schema
        self.rows = 0
        self._tmp: Path | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = temp_name(self.target)
            self._writer = pq.ParquetWriter(self._tmp, self.schema)
        if table.num_rows:
            self._writer.write_table(table.cast(self.schema))
            self.rows += table.num_rows

    def commit(self) -> None:
        if self._writer is None:
            self.write(self.schema.empty_table())
        self._writer.close()
        self._writer = None
        os.replace(self._tmp, self.target)
        self._tmp = None

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def move_file(source: Path, target: Path) -> None:
    """Rename source to target; across file systems copy to a hidden temp name, rename, then unlink."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        tmp = temp_name(target)
        try:
            shutil.copy2(source, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        source.unlink()


def copy_from_handle(handle, target: Path) -> None:
    """Copy an open file (from its start) to target atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        handle.seek(0)
        with open(tmp, "wb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _read_folder(folder: Path, schema: pa.Schema) -> pa.Table:
    files = live_files(folder)
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(p).select(schema.names).cast(schema) for p in files])


def read_manifest(paths: DataPaths) -> pa.Table:
    return _read_folder(paths.warehouse / "manifest", MANIFEST_SCHEMA)


def read_decisions(paths: DataPaths) -> pa.Table:
    return _read_folder(paths.warehouse / "decisions", DECISION_SCHEMA)


def write_manifest_row(paths: DataPaths, row: dict) -> None:
    table = pa.Table.from_pylist([row], schema=MANIFEST_SCHEMA)
    write_table(table, paths.warehouse / "manifest" / f"{row['batch_id']}.parquet")


def write_decision_row(paths: DataPaths, row: dict) -> None:
    table = pa.Table.from_pylist([row], schema=DECISION_SCHEMA)
    write_table(table, paths.warehouse / "decisions" / f"{row['decision_id']}.parquet")


def relative(paths: DataPaths, path: Path | None) -> str | None:
    return None if path is None else path.relative_to(paths.root).as_posix()
