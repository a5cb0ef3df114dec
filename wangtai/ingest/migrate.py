"""Bringing an existing warehouse to the current layout: `wangtai migrate`.

Older warehouses kept fields the current one must not (DATA_CONTRACT.md §5): residents rows held
``birth_date``, exactly the 8 digits the id mask hides, so every id number could be rebuilt from the mask
and the date; ``updated_at`` and the department records' ``received_at`` can fall on a newborn's birth day.
Registrations rows held a full id mask beside the scan time, and minors' masks showed the sequence digits and
check character, which a newborn's own events (a scan, the ingest of its first snapshot) complete.
``migrate`` rewrites every warehouse file still holding a removed field (``contract.REMOVED_COLUMNS``) or,
among residents, a full mask of a minor, in the current layout (``birth_date`` → ``birth_year``, an arrival
in the birth year emptied, the registrations' ``id_masked`` dropped, a minor's mask shortened, as ingest does
now). A mask cannot be recomputed from a mask, but a minor's can be shortened: who was a minor follows from
the stored birth year and the year of the row's batch (its ``batch_id`` starts with the ingest time). Each
file is streamed into a hidden temporary file and renamed over the old one: the old content is gone, the
file keeps its name, so the manifest's ``warehouse_file`` still points at it and its row counts still hold.
It runs under the ingest lock, and a second run finds nothing to do. Readers refuse a warehouse holding a
removed field (``wangtai.staging``, from the footer alone) until it is migrated; a full mask of a minor is
found by reading the masks, which only ``migrate`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wangtai.contract import REMOVED_COLUMNS
from wangtai.ingest.pii import mask_ids, minors
from wangtai.ingest.reasons import column_label
from wangtai.ingest.store import AtomicParquetWriter
from wangtai.ingest.validate import WAREHOUSE_SCHEMAS, arrival_after_birth_year
from wangtai.paths import DataPaths

MIGRATE_HINT = (
    "数据仓库仍是旧格式：含有已取消保存的个人信息字段（如出生日期 birth_date、一家亲登记中的脱敏身份证号），"
    "与脱敏身份证号或扫码时间合在一起"
    "可还原身份证号，因此暂停读取。请运维人员先运行 `wangtai migrate` 迁移数据仓库，再刷新页面。"
)


@dataclass
class Migration:
    """What one run did."""

    files: list[str] = field(default_factory=list)  # rewritten, relative to the data directory
    removed: set[str] = field(default_factory=set)  # the fields left out
    rows: int = 0
    arrivals_cleared: int = 0
    masks_shortened: int = 0  # full id masks of minors, now without the last four characters
    leftovers_removed: int = 0  # hidden temporary files of killed runs that could hold old rows

    def summary(self) -> str:
        if not self.files and not self.leftovers_removed:
            return "数据仓库已是当前格式，无需迁移。"
        fields = "、".join(_REMOVED_LABELS.get(name, column_label(name)) for name in sorted(self.removed))
        text = (
            f"已迁移 {len(self.files)} 个文件，共 {self.rows} 行：删除字段 {fields or '无'}；"
            f"{self.arrivals_cleared} 行在出生当年的来王台日期已清空；"
            f"{self.masks_shortened} 行未成年人的脱敏身份证号已隐去末四位。"
            "旧文件已被新文件替换，清单（manifest）中的文件路径与行数不变。"
        )
        if self.leftovers_removed:
            text += f"另删除中断遗留的临时文件 {self.leftovers_removed} 个。"
        return text


_REMOVED_LABELS = {
    "birth_date": "出生日期（birth_date，改存出生年份 birth_year）",
    "id_masked": "一家亲登记中的脱敏身份证号（id_masked）",
}


def removed_columns_in(path: Path) -> list[str]:
    """The removed fields a warehouse file still holds (read from its footer only)."""
    feed = path.parent.name
    names = set(pq.read_schema(path).names)
    return [name for name in REMOVED_COLUMNS.get(feed, ()) if name in names]


def _birth_years(table: pa.Table) -> pa.Array:
    if "birth_year" in table.column_names:
        return table.column("birth_year").cast(pa.int32()).combine_chunks()
    return pc.year(table.column("birth_date")).cast(pa.int32()).combine_chunks()


def _minor_masks(table: pa.Table) -> tuple[pa.Array, int]:
    """A residents table's id masks with every minor's shortened (minor in the year of the row's batch), and
    how many were full before."""
    batch_years = pc.cast(pc.utf8_slice_codeunits(table.column("batch_id"), 0, 4), pa.int32())
    minor = minors(
        _birth_years(table).to_numpy(zero_copy_only=False),
        batch_years.combine_chunks().to_numpy(zero_copy_only=False),
    )
    masks = table.column("id_masked").combine_chunks()
    full = pc.fill_null(pc.invert(pc.ends_with(masks, "****")), False).to_numpy(zero_copy_only=False)
    return mask_ids(masks, minor), int((minor & full).sum())


def full_minor_masks_in(path: Path) -> int:
    """How many rows of a residents file show a minor's full id mask (reads three columns)."""
    names = set(pq.read_schema(path).names)
    years = "birth_year" if "birth_year" in names else "birth_date"
    return _minor_masks(pq.read_table(path, columns=["batch_id", "id_masked", years]))[1]


def _needs_rewrite(path: Path) -> bool:
    if removed_columns_in(path):
        return True
    return path.parent.name == "residents" and full_minor_masks_in(path) > 0


def old_format_files(paths: DataPaths) -> list[Path]:
    """Every warehouse file that still holds a removed field or a minor's full id mask (listed or not in the
    manifest)."""
    found = []
    for feed in REMOVED_COLUMNS:
        folder = paths.warehouse / feed
        if folder.is_dir():
            found += [p for p in sorted(folder.glob("*.parquet")) if _needs_rewrite(p)]
    return found


def _leftovers(paths: DataPaths) -> list[Path]:
    """Hidden temporary files in the folders of removed fields: only a writer holding the ingest lock makes
    them, so under the lock they are leftovers of a killed run (and may hold rows in the old layout)."""
    return [
        p for feed in REMOVED_COLUMNS for p in sorted((paths.warehouse / feed).glob(".*.tmp")) if p.is_file()
    ]


@dataclass
class _Converted:
    table: pa.Table
    arrivals_cleared: int = 0
    masks_shortened: int = 0


def _residents_batch(batch: pa.RecordBatch) -> _Converted:
    """An old residents batch in the current layout: the birth year, an arrival in the birth year cleared,
    minors' masks shortened."""
    table = pa.Table.from_batches([batch])
    years = _birth_years(table)
    arrival = table.column("arrival_date").combine_chunks().cast(pa.date32())
    kept = arrival_after_birth_year(arrival, years.to_numpy(zero_copy_only=False))
    masks, shortened = _minor_masks(table)
    columns = {name: table.column(name) for name in table.column_names}
    columns["birth_year"] = years
    columns["arrival_date"] = kept
    columns["id_masked"] = masks
    schema = WAREHOUSE_SCHEMAS["residents"]
    table = pa.table([columns[name] for name in schema.names], schema=schema)
    return _Converted(table, kept.null_count - arrival.null_count, shortened)


def _dropping_batch(feed: str) -> Callable[[pa.RecordBatch], _Converted]:
    """An old batch of a feed whose removed fields are simply left out (department records' received_at,
    registrations' id_masked)."""
    schema = WAREHOUSE_SCHEMAS[feed]

    def convert(batch: pa.RecordBatch) -> _Converted:
        return _Converted(pa.Table.from_batches([batch]).select(schema.names).cast(schema))

    return convert


# feed → how one of its old batches becomes the current layout (one entry per feed of REMOVED_COLUMNS)
CONVERTERS = {
    "residents": _residents_batch,
    "registrations": _dropping_batch("registrations"),
    "source_records": _dropping_batch("source_records"),
}


def _rewrite(path: Path, done: Migration) -> None:
    """Stream one file into the current layout under a hidden name, then rename it over the old one."""
    feed = path.parent.name
    writer = AtomicParquetWriter(path, WAREHOUSE_SCHEMAS[feed])
    tally = Migration()
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=200_000):
            converted = CONVERTERS[feed](batch)
            writer.write(converted.table)
            tally.rows += converted.table.num_rows
            tally.arrivals_cleared += converted.arrivals_cleared
            tally.masks_shortened += converted.masks_shortened
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    done.rows += tally.rows  # counted once the file is in place
    done.arrivals_cleared += tally.arrivals_cleared
    done.masks_shortened += tally.masks_shortened


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
            _rewrite(path, done)
            done.files.append(path.relative_to(paths.root).as_posix())
        if done.files and (paths.warehouse / "manifest").is_dir():
            # readers key their caches on the manifest folder's mtime (wangtai.staging.data_version)
            os.utime(paths.warehouse / "manifest")
    finally:
        held.release()
    return done
