"""Compaction: many small batch files merged into segments, so that cost does not grow with the batch count.

The live feed lands a file a minute; after a month that is tens of thousands of one-batch files in
``warehouse/registrations`` and ``warehouse/manifest``. Every reader pays per file (ingest reads the
manifest and the keys already ingested; a DuckDB view reads every file's footer), so ingest would slow down
from milliseconds to minutes. Compaction keeps the file count bounded: when a folder holds ``after`` or
more small files, each run of consecutive small files is merged into one segment (``wangtai.warehouse``
says how readers tell live files from superseded ones). Segments are small files too until they pass
``small`` bytes, so they are merged again later: the number of files grows with the logarithm of the
batches, not with the batches.

Nothing is lost or changed: a segment holds exactly the rows of the files it replaces (checked before it is
renamed into place), every row keeps its batch_id, and the inbox files stay in ``archive/``. The files a
segment supersedes are removed ``grace`` seconds after it appeared, so that a reader that listed the folder
just before can still open them. Runs under the ingest lock, at the end of ``ingest_all``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wangtai.contract import FEEDS
from wangtai.ingest.store import write_table
from wangtai.paths import DataPaths
from wangtai.warehouse import SEGMENT_SEP, batch_range, is_segment, parquet_files, split_live

log = logging.getLogger("wangtai.ingest")

COMPACT_AFTER = 32  # small live files in a folder before they are merged
SMALL_BYTES = 8 * 2**20  # a file smaller than this is worth merging
GRACE_SECONDS = 300.0  # superseded files are removed this long after their segment appeared


@dataclass(frozen=True)
class Segment:
    path: Path
    files: int  # files merged into it
    rows: int


def compactable_folders(paths: DataPaths) -> list[Path]:
    """The manifest and the increment feeds: one small file per batch, forever. (Snapshots are replaced
    whole, decisions are rare, quarantined rows are named by the file they came from.)"""
    feeds = [name for name, feed in FEEDS.items() if feed.kind == "increment"]
    return [paths.warehouse / "manifest"] + [paths.warehouse / name for name in feeds]


def compact(
    paths: DataPaths,
    after: int | None = None,
    small: int | None = None,
    grace: float | None = None,
) -> list[Segment]:
    """Remove files superseded long enough ago, then merge small files where enough have gathered.
    (Unset arguments take the module's settings when called, so that a test can change them.)"""
    after = COMPACT_AFTER if after is None else after
    small = SMALL_BYTES if small is None else small
    grace = GRACE_SECONDS if grace is None else grace
    written = []
    for folder in compactable_folders(paths):
        remove_superseded(folder, grace)
        written += compact_folder(folder, after, small)
    return written


def compact_folder(folder: Path, after: int, small: int) -> list[Segment]:
    live = split_live(parquet_files(folder))[0]
    sizes = {path: path.stat().st_size for path in live}
    if sum(1 for size in sizes.values() if size < small) < after:
        return []
    segments = []
    for run in _small_runs(live, sizes, small):
        segments.append(_merge(folder, run))
    return segments


def _small_runs(live: list[Path], sizes: dict[Path, int], small: int) -> list[list[Path]]:
    """Maximal runs of consecutive small files (in batch order), two files or more. Only consecutive files
    may be merged: a segment's range must not swallow a large file lying between them."""
    runs: list[list[Path]] = [[]]
    for path in live:
        if sizes[path] < small:
            runs[-1].append(path)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def _merge(folder: Path, run: list[Path]) -> Segment:
    tables = [pq.read_table(path) for path in run]
    merged = pa.concat_tables(tables, promote_options="permissive")
    expected = sum(table.num_rows for table in tables)
    first, last = batch_range(run[0])[0], batch_range(run[-1])[1]
    target = folder / f"{first}{SEGMENT_SEP}{last}.parquet"
    write_table(merged, target)
    written = pq.read_metadata(target).num_rows
    if written != expected:  # never supersede rows that did not make it into the segment
        target.unlink(missing_ok=True)
        raise RuntimeError(f"compaction of {folder.name}: {written} rows written, {expected} expected")
    log.info("compacted %d files of %s into %s (%d rows)", len(run), folder.name, target.name, written)
    return Segment(target, len(run), written)


def remove_superseded(folder: Path, grace: float) -> int:
    """Delete the files a segment superseded more than ``grace`` seconds ago. Returns how many."""
    live, superseded = split_live(parquet_files(folder))
    segments = [(batch_range(path), path) for path in live if is_segment(path)]
    removed = 0
    now = time.time()
    for path in superseded:
        first, last = batch_range(path)
        cover = next((seg for (lo, hi), seg in segments if lo <= first and last <= hi), None)
        if cover is not None and now - cover.stat().st_mtime >= grace:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
