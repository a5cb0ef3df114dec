"""Which Parquet files of a warehouse folder hold its data now — the one rule every reader follows.

Ingest writes one file per batch, named by its batch id (``<batch_id>.parquet``; batch ids sort by time).
Compaction (``wangtai.ingest.compact``) merges a run of consecutive small files into one *segment* named
by the first and last batch id it holds (``<first>~<last>.parquet``) and renames it into place. From that
moment the files whose batch-id range lies inside the segment's are *superseded*: readers skip them, and
compaction removes them a grace period later (a reader that listed the folder just before may still be
opening them). So a reader sees either the small files or the segment, never both, never neither.
"""

from __future__ import annotations

import os
from pathlib import Path

SEGMENT_SEP = "~"


def batch_range(path: Path) -> tuple[str, str]:
    """The first and last batch id a file holds: (id, id) for a batch's own file, (first, last) for a
    segment."""
    stem = path.name.removesuffix(".parquet")
    first, _, last = stem.partition(SEGMENT_SEP)
    return first, last or first


def is_segment(path: Path) -> bool:
    return SEGMENT_SEP in path.name


def parquet_files(folder: Path) -> list[Path]:
    """Complete Parquet files of a folder, by name: writers use a hidden temporary name and rename."""
    if not folder.is_dir():
        return []
    names = sorted(
        entry.name
        for entry in os.scandir(folder)
        if not entry.name.startswith(".") and entry.name.endswith(".parquet") and entry.is_file()
    )
    return [folder / name for name in names]


def split_live(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(live, superseded): a file is superseded when another file's batch-id range contains its own."""
    # by first batch, and of equal firsts the widest range first (two stable sorts)
    widest_first = sorted(files, key=lambda p: batch_range(p)[1], reverse=True)
    ordered = sorted(widest_first, key=lambda p: batch_range(p)[0])
    live: list[Path] = []
    superseded: list[Path] = []
    reach = ""  # the last batch id covered by the live files so far
    for path in ordered:
        last = batch_range(path)[1]
        if last <= reach:  # sorted by first batch, so its first is inside the reach too
            superseded.append(path)
        else:
            live.append(path)
            reach = max(reach, last)
    return live, superseded


def live_files(folder: Path) -> list[Path]:
    """The files of a folder that hold its data now (superseded ones left out), in batch order."""
    return split_live(parquet_files(folder))[0]
