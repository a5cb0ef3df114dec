"""inbox → validate → pseudonymize → warehouse / quarantine / archive, one manifest row per file."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from wangtai.contract import FEEDS, Feed
from wangtai.ingest.compact import compact
from wangtai.ingest.keys import SeenKeys, duplicate_mask
from wangtai.ingest.reasons import without_values
from wangtai.ingest.reference import ingest_reference
from wangtai.ingest.run import IngestRun
from wangtai.ingest.snapshots import hold_reasons
from wangtai.ingest.store import (
    AtomicParquetWriter,
    copy_from_handle,
    move_file,
    relative,
    write_manifest_row,
)
from wangtai.ingest.validate import (
    WAREHOUSE_SCHEMAS,
    CastFailure,
    as_text,
    cast_batch,
    check_rows,
    warehouse_rows,
)
from wangtai.paths import DataPaths

log = logging.getLogger("wangtai.ingest")

BATCH_ROWS = 500_000  # rows validated at a time: bounds memory for very large files
STABILITY_WAIT = 0.5  # seconds to watch an unreadable file for a writer still writing it
_UNREADABLE = "无法读取，不是完整的 Parquet 文件（可能已损坏或被截断）"

OUTCOME_LABELS = {
    "accepted": "已入库",
    "held": "已暂挂，待人工确认（未成为当前快照）",
    "refused": "整个文件被拒收",
    "duplicate_file": "重复文件（内容与已入库文件相同）",
}


@dataclass
class FileResult:
    batch_id: str
    feed: str
    file_name: str
    rows_in: int
    accepted: int
    quarantined: int
    duplicates: int
    outcome: str
    reason: str | None = None

    def describe(self) -> str:
        label = FEEDS[self.feed].label if self.feed in FEEDS else self.feed
        text = (
            f"[{label}] {self.file_name}：{OUTCOME_LABELS.get(self.outcome, self.outcome)}。"
            f"共 {self.rows_in} 行：入库 {self.accepted} 行，隔离 {self.quarantined} 行，"
            f"重复 {self.duplicates} 行（批次 {self.batch_id}）。"
        )
        return text + (f"原因：{self.reason}" if self.reason else "")


def lock(paths: DataPaths, timeout: float = -1) -> FileLock:
    """The ingest lock: one ingest (or held-snapshot decision) at a time, across processes."""
    paths.state.mkdir(parents=True, exist_ok=True)
    return FileLock(str(paths.state / "ingest.lock"), timeout=timeout)


def inbox_files(paths: DataPaths, feed: str) -> list[Path]:
    """The feed's inbox files ready to read, oldest first (mtime, then name)."""
    folder = paths.feed_inbox(feed)
    if not folder.is_dir():
        return []
    found = []
    for entry in os.scandir(folder):
        if entry.name.startswith(".") or not entry.name.endswith(".parquet"):
            continue
        try:
            if not entry.is_file():
                continue
            found.append((entry.stat().st_mtime_ns, entry.name, Path(entry.path)))
        except FileNotFoundError:
            continue
    return [path for _, _, path in sorted(found)]


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _still_changing(path: Path, opened: os.stat_result) -> bool:
    """True when the file is still being written (or was replaced) — leave it for the next run."""
    time.sleep(STABILITY_WAIT)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return True
    return (now.st_ino, now.st_size, now.st_mtime_ns) != (opened.st_ino, opened.st_size, opened.st_mtime_ns)


def _release(path: Path, handle, opened: os.stat_result, target: Path) -> None:
    """Move the processed inbox file to target; if another file took its name meanwhile, copy ours."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        copy_from_handle(handle, target)
        return
    if (current.st_ino, current.st_size, current.st_mtime_ns) == (
        opened.st_ino,
        opened.st_size,
        opened.st_mtime_ns,
    ):
        move_file(path, target)
    else:
        copy_from_handle(handle, target)


def _quarantine_schema(names: list[str]) -> pa.Schema:
    return pa.schema(
        [(name, pa.string()) for name in names] + [("_row", pa.int64()), ("_reasons", pa.string())]
    )


@dataclass
class _Tally:
    """One file's rows read so far, by fate, and the increment keys accepted from it."""

    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    new_keys: list[pa.Array] = field(default_factory=list)


class _InboxFile:
    """One open inbox file under its batch id: records its manifest row, then moves it out of the inbox."""

    def __init__(self, run: IngestRun, feed: Feed, path: Path, handle, opened: os.stat_result, sha: str):
        self.run = run
        self.feed = feed
        self.path = path
        self.handle = handle
        self.opened = opened  # the inbox file's stat when opened: was it replaced or still written?
        self.sha = sha
        self.name = path.name
        self.now = run.now()
        self.ingested_at = run.next_time(self.now)
        self.batch_id = f"{self.ingested_at:%Y%m%dT%H%M%S%f}-{feed.name}-{sha[:8]}"

    def record(
        self, outcome, rows_in, accepted, quarantined, duplicates, reason, wh=None, qf=None
    ) -> FileResult:
        """Write the manifest row, then move the file to the archive (refused: to quarantine)."""
        paths, feed = self.run.paths, self.feed
        moved = None
        if outcome == "refused":
            qf = paths.quarantine / feed.name / f"{self.batch_id}__{self.name}"
        else:
            moved = paths.archive / feed.name / f"{self.batch_id}__{self.name}"
        row = {
            "batch_id": self.batch_id,
            "feed": feed.name,
            "file_name": self.name,
            "sha256": self.sha,
            "ingested_at": self.ingested_at,
            "rows_in": rows_in,
            "accepted": accepted,
            "quarantined": quarantined,
            "duplicates": duplicates,
            "outcome": outcome,
            "reason": reason,
            "warehouse_file": relative(paths, wh),
            "quarantine_file": relative(paths, qf),
            "archive_file": relative(paths, moved),
        }
        assert rows_in == accepted + quarantined + duplicates
        write_manifest_row(paths, row)  # first the record, then the move (a crash in between is recovered)
        self.run.manifest.append(row)
        _release(self.path, self.handle, self.opened, moved or qf)
        result = FileResult(
            self.batch_id, feed.name, self.name, rows_in, accepted, quarantined, duplicates, outcome, reason
        )
        log.info(result.describe())
        return result

    def refuse(self, rows_in: int, why: str) -> FileResult:
        return self.record("refused", rows_in, 0, rows_in, 0, f"文件 {self.name} 被整体拒收：{why}")

    def unreadable(self, rows_in: int, error: Exception) -> FileResult | None:
        """Refused as unreadable, unless a writer is still writing it (None: left for the next run)."""
        if _still_changing(self.path, self.opened):
            return None
        return self.refuse(rows_in, f"{_UNREADABLE}。详情：{without_values(error)}")

    def duplicate(self, previous: dict) -> FileResult:
        """Recorded as a copy of an earlier accepted or held file (same bytes): every row a duplicate."""
        try:
            self.handle.seek(0)
            rows_in = pq.ParquetFile(self.handle).metadata.num_rows
        except Exception:
            rows_in = 0
        reason = (
            f"文件 {self.name} 与已入库的文件 {previous['file_name']}（批次 {previous['batch_id']}）"
            f"内容完全相同，全部 {rows_in} 行按重复计。"
        )
        return self.record("duplicate_file", rows_in, 0, 0, rows_in, reason)


def _ingest_file(run: IngestRun, feed: Feed, path: Path) -> FileResult | None:
    """Ingest one inbox file. None when it is left for the next run (gone, or still being written), or when
    only a move a crash interrupted was finished."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 — closed by the with below; a vanished file is skipped
    except FileNotFoundError:
        return None
    with handle:
        opened = os.fstat(handle.fileno())
        sha = _sha256(handle)
        pending = run.unfinished(feed.name, sha, path.name)
        if pending is not None:
            _release(path, handle, opened, pending)
            return None
        file = _InboxFile(run, feed, path, handle, opened, sha)
        previous = run.known_file(feed.name, sha)
        if previous is not None:
            return file.duplicate(previous)
        return _ingest_rows(file)


def _ingest_rows(file: _InboxFile) -> FileResult | None:
    """A new file's rows checked and written to the warehouse and quarantine; the whole file refused when it
    cannot be read, lacks a column or has a column that cannot be cast."""
    feed, paths = file.feed, file.run.paths
    try:
        file.handle.seek(0)
        parquet = pq.ParquetFile(file.handle)
        names = parquet.schema_arrow.names
        rows_in = parquet.metadata.num_rows
    except Exception as error:
        return file.unreadable(0, error)
    missing = [c for c in feed.column_names if c not in names]
    if missing:
        return file.refuse(
            rows_in,
            f"缺少必需列 {'、'.join(missing)}（{feed.label}文件应包含：{'、'.join(feed.column_names)}）。",
        )
    warehouse = AtomicParquetWriter(
        paths.warehouse / feed.name / f"{file.batch_id}.parquet", WAREHOUSE_SCHEMAS[feed.name]
    )
    quarantine = AtomicParquetWriter(
        paths.quarantine / feed.name / f"{file.batch_id}.parquet", _quarantine_schema(names)
    )
    known = file.run.existing_keys(feed) if feed.kind == "increment" else []
    existing = pa.concat_arrays(known) if known else None
    try:
        tally = _split_rows(file, parquet, warehouse, quarantine, existing)
    except BaseException as error:
        warehouse.discard()  # whatever went wrong, no half-written file is left behind
        quarantine.discard()
        if isinstance(error, CastFailure):
            return file.refuse(rows_in, f"{error}。")
        if isinstance(error, (pa.ArrowException, OSError, ValueError)):
            return file.unreadable(rows_in, error)
        raise
    return _settle(file, rows_in, tally, warehouse, quarantine)


def _split_rows(
    file: _InboxFile,
    parquet: pq.ParquetFile,
    warehouse: AtomicParquetWriter,
    quarantine: AtomicParquetWriter,
    existing: pa.Array | None,
) -> _Tally:
    """Every row checked, BATCH_ROWS at a time: valid new rows to the warehouse (pseudonymized), invalid ones
    to quarantine as text with their reasons, duplicates only counted."""
    feed, run = file.feed, file.run
    seen, tally = SeenKeys(), _Tally()
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        checked = check_rows(feed, cast_batch(batch, feed, tally.rows), run.reference, file.now)
        dup = _duplicates(checked, batch.num_rows, seen, existing)
        keep = ~checked.bad & ~dup
        if keep.any():
            warehouse.write(warehouse_rows(feed, checked, keep, file.batch_id, run.secret))
            kept = checked.key.filter(pa.array(keep))
            seen.add(kept)
            if feed.kind == "increment":
                tally.new_keys.append(kept.cast(pa.string()))
        if checked.bad.any():
            quarantine.write(_quarantine_rows(batch, checked, tally.rows))
        tally.accepted += int(keep.sum())
        tally.quarantined += int(checked.bad.sum())
        tally.duplicates += int(dup.sum())
        tally.rows += batch.num_rows
    return tally


def _duplicates(checked, n: int, seen: SeenKeys, existing: pa.Array | None) -> np.ndarray:
    """Which of a batch's n rows are valid but duplicates (of a row before them, or in the warehouse)."""
    dup = np.zeros(n, dtype=bool)
    good_idx = np.flatnonzero(~checked.bad)
    if len(good_idx):
        dup[good_idx] = duplicate_mask(checked.key.take(pa.array(good_idx)), seen, existing)
    return dup


def _quarantine_rows(batch: pa.RecordBatch, checked, row0: int) -> pa.Table:
    """A batch's invalid rows as text, with their 0-based row number in the file and their reasons."""
    bad = pa.array(checked.bad)
    text = {k: v.filter(bad) for k, v in as_text(batch).items()}
    text["_row"] = pa.array(np.flatnonzero(checked.bad) + row0, pa.int64())
    text["_reasons"] = pa.array(checked.reasons[checked.bad], pa.string())
    return pa.table(text)


def _settle(
    file: _InboxFile,
    rows_in: int,
    tally: _Tally,
    warehouse: AtomicParquetWriter,
    quarantine: AtomicParquetWriter,
) -> FileResult:
    """A fully read file's outcome (a snapshot may be held), its files kept or dropped, its manifest row."""
    feed, run = file.feed, file.run
    hold = []
    if feed.kind == "snapshot":
        hold = hold_reasons(
            run.manifest, run.accepted_batches, feed.name, rows_in, tally.accepted, tally.quarantined
        )
    # a snapshot keeps its file even when empty: staging reads it if the snapshot becomes current
    wh = _keep_if(warehouse, feed.kind == "snapshot" or tally.accepted > 0)
    qf = _keep_if(quarantine, tally.quarantined > 0)
    reason = None
    if hold:
        reason = (
            f"{feed.label}快照 {file.name} 暂不作为当前快照：{'；'.join(hold)}。"
            "原快照仍为当前，请人工核实后确认。"
        )
    elif tally.quarantined:
        reason = f"{tally.quarantined} 行未通过校验，已隔离（原因见隔离文件）。"
    outcome = "held" if hold else "accepted"
    result = file.record(
        outcome, rows_in, tally.accepted, tally.quarantined, tally.duplicates, reason, wh, qf
    )
    if tally.new_keys:
        run.existing_keys(feed).extend(tally.new_keys)
    return result


def _keep_if(writer: AtomicParquetWriter, keep: bool) -> Path | None:
    """Commit the written file (its path) or discard it (None)."""
    if keep:
        writer.commit()
        return writer.target
    writer.discard()
    return None


def ingest_all(paths: DataPaths, now: datetime | None = None, wait: bool = True) -> list[FileResult] | None:
    """Ingest reference data, then every inbox file (feed by feed, oldest first). One run at a time.

    With ``wait=False`` return None at once when another run (in any process) holds the lock."""
    paths.ensure()
    held = lock(paths, timeout=-1 if wait else 0)
    try:
        held.acquire()
    except Timeout:
        return None
    try:
        reference = ingest_reference(paths)
        run = IngestRun(paths, reference, now)
        listing = {name: inbox_files(paths, name) for name in FEEDS}  # a snapshot of the inbox, taken once
        results = []
        for name, feed in FEEDS.items():
            for path in listing[name]:
                result = _ingest_file(run, feed, path)
                if result is not None:
                    results.append(result)
        compact(paths)  # keep the file count bounded as batches accumulate (wangtai.ingest.compact)
        return results
    finally:
        held.release()


def has_inbox_files(paths: DataPaths) -> bool:
    return any(inbox_files(paths, name) for name in FEEDS)


def watch(
    paths: DataPaths,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    report: Callable[[str], None] | None = print,
) -> None:
    """Poll the inbox every ``interval`` seconds and ingest when files are waiting, until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            if has_inbox_files(paths):
                for result in ingest_all(paths):
                    if report:
                        report(result.describe())
        except Exception as error:  # keep watching: a broken reference file is fixed by an administrator
            log.exception("ingest failed")
            if report:
                report(f"入库出错：{error}")
        stop.wait(interval)
