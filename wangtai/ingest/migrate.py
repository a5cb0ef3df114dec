"""Bringing an existing warehouse to the current layout: `wangtai migrate`.

Older warehouses kept fields the current one must not (DATA_CONTRACT.md §5): residents rows held
``birth_date``, exactly the 8 digits the id mask hides, so every id number could be rebuilt from the mask
and the date; ``updated_at`` and the department records' ``received_at`` can fall on a newborn's birth day.
``migrate`` rewrites every warehouse file still holding a removed field (``validate.REMOVED_COLUMNS``) in the
current layout (``birth_date`` → ``birth_year``, an arrival in the birth year emptied, as ingest does now),
each file streamed into a hidden temporary file and renamed over the old one: the old content is gone, the
file keeps its name, so the manifest's ``warehouse_file`` still points at it and its row counts still hold.
It runs under the ingest lock, and a second run finds nothing to do. Readers refuse a warehouse in the old
layout (``wangtai.staging``) until it is migrated.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wangtai.ingest.reasons import column_label
from wangtai.ingest.store import AtomicParquetWriter
from wangtai.ingest.validate import REMOVED_COLUMNS, WAREHOUSE_SCHEMAS, arrival_after_birth_year
from wangtai.paths import DataPaths

MIGRATE_HINT = (
    "数据仓库仍是旧格式：含有已取消保存的个人信息字段（如出生日期 birth_date），与脱敏身份证号合在一起"
    "可还原身份证号，因此暂停读取。请运维人员先运行 `wangtai migrate` 迁移数据仓库，再刷新页面。"
)


@dataclass
class Migration:
    """What one run did."""

    files: list[str] = field(default_factory=list)  # rewritten, relative to the data directory
    removed: set[str] = field(default_factory=set)  # the fields left out
    rows: int = 0
    arrivals_cleared: int = 0
    leftovers_removed: int = 0  # hidden temporary files of killed runs that could hold old rows

    def summary(self) -> str:
        if not self.files and not self.leftovers_removed:
            return "数据仓库已是当前格式，无需迁移。"
        fields = "、".join(
            "出生日期（birth_date，改存出生年份 birth_year）" if name == "birth_date" else column_label(name)
            for name in sorted(self.removed)
        )
        text = (
            f"已迁移 {len(self.files)} 个文件，共 {self.rows} 行：删除字段 {fields or '无'}；"
            f"{self.arrivals_cleared} 行在出生当年的来王台日期已清空。"
            "旧文件已被新文件替换，清单（manifest）中的文件路径与行数不变。"
        )
        if self.leftovers_removed:
            text += f"另删除中断遗留的临时文件 {self.leftovers_removed} 个。"
        return text


def removed_columns_in(path: Path) -> list[str]:
    """The removed fields a warehouse file still holds (read from its footer only)."""
    feed = path.parent.name
    names = set(pq.read_schema(path).names)
    return [name for name in REMOVED_COLUMNS.get(feed, ()) if name in names]


def old_format_files(paths: DataPaths) -> list[Path]:
    """Every warehouse file that still holds a removed field (listed or not in the manifest)."""
    found = []
    for feed in REMOVED_COLUMNS:
        folder = paths.warehouse / feed
        if folder.is_dir():
            found += [p for p in sorted(folder.glob("*.parquet")) if removed_columns_in(p)]
    return found


def _leftovers(paths: DataPaths) -> list[Path]:
    """Hidden temporary files in the folders of removed fields: only a writer holding the ingest lock makes
    them, so under the lock they are leftovers of a killed run (and may hold rows in the old layout)."""
    return [
        p for feed in REMOVED_COLUMNS for p in sorted((paths.warehouse / feed).glob(".*.tmp")) if p.is_file()
    ]


def _residents_batch(batch: pa.RecordBatch) -> tuple[pa.Table, int]:
    """An old residents batch in the current layout, and how many arrival dates were cleared."""
    table = pa.Table.from_batches([batch])
    if "birth_year" in table.column_names:
        years = table.column("birth_year").cast(pa.int32())
    else:
        years = pc.year(table.column("birth_date")).cast(pa.int32())
    years = years.combine_chunks()
    arrival = table.column("arrival_date").combine_chunks().cast(pa.date32())
    kept = arrival_after_birth_year(arrival, years.to_numpy(zero_copy_only=False))
    cleared = kept.null_count - arrival.null_count
    columns = {name: table.column(name) for name in table.column_names}
    columns["birth_year"] = years
    columns["arrival_date"] = kept
    schema = WAREHOUSE_SCHEMAS["residents"]
    return pa.table([columns[name] for name in schema.names], schema=schema), cleared


def _source_records_batch(batch: pa.RecordBatch) -> tuple[pa.Table, int]:
    """An old department-records batch in the current layout: received_at left out."""
    table = pa.Table.from_batches([batch])
    schema = WAREHOUSE_SCHEMAS["source_records"]
    return table.select(schema.names).cast(schema), 0


# feed → how one of its old batches becomes the current layout (one entry per feed of REMOVED_COLUMNS)
CONVERTERS = {"residents": _residents_batch, "source_records": _source_records_batch}


def _rewrite(path: Path) -> tuple[int, int]:
    """Stream one file into the current layout under a hidden name, then rename it over the old one."""
    feed = path.parent.name
    writer = AtomicParquetWriter(path, WAREHOUSE_SCHEMAS[feed])
    rows = cleared = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=200_000):
            table, n = CONVERTERS[feed](batch)
            writer.write(table)
            rows += table.num_rows
            cleared += n
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return rows, cleared


def migrate(paths: DataPaths, waiting: Callable[[str], None] | None = None) -> Migration:
    """Rewrite every warehouse file still holding a removed field, under the ingest lock (``waiting`` is told
    when another run holds it)."""
    from filelock import Timeout

    from wangtai.ingest.core import lock

    done = Migration()
    held = lock(paths)
    try:
        held.acquire(timeout=0)
    except Timeout:
        if waiting:
            waiting("正在入库，等待入库完成后再迁移……")
        held.acquire()
    try:
        for leftover in _leftovers(paths):
            leftover.unlink(missing_ok=True)
            done.leftovers_removed += 1
        for path in old_format_files(paths):
            done.removed.update(removed_columns_in(path))
            rows, cleared = _rewrite(path)
            done.files.append(path.relative_to(paths.root).as_posix())
            done.rows += rows
            done.arrivals_cleared += cleared
        if done.files and (paths.warehouse / "manifest").is_dir():
            # readers key their caches on the manifest folder's mtime (wangtai.staging.data_version)
            os.utime(paths.warehouse / "manifest")
    finally:
        held.release()
    return done
