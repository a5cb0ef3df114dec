"""inbox → validate → pseudonymize → warehouse / quarantine / archive, one manifest row per file.

Parquet files are read as they always were (``_ingest_rows``); Excel and CSV files through
wangtai.ingest.readers (``_ingest_table``); a file of any other type is refused by its name. Both paths
share the row checks and the verdicts (``_split_rows``, ``_settle``). ``dry_run`` runs the very same path
over a file without writing anything: the upload preview (wangtai.ui.upload).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from wangtai.contract import FEEDS, Feed
from wangtai.ingest import faults, inbox, limits, upkeep
from wangtai.ingest.compact import compact
from wangtai.ingest.errors import IngestError
from wangtai.ingest.faults import OurFault
from wangtai.ingest.keys import SeenKeys, duplicate_mask
from wangtai.ingest.readers import FeedFile, merge_problems, open_feed_file, unsupported_reason
from wangtai.ingest.reasons import without_values
from wangtai.ingest.reference import Reference, ingest_reference
from wangtai.ingest.run import IngestRun
from wangtai.ingest.snapshots import hold_reasons
from wangtai.ingest.store import (
    AtomicParquetWriter,
    relative,
    stored_name,
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
from wangtai.paths import PRIVATE_FILE, DataPaths, private_dir

log = logging.getLogger("wangtai.ingest")

BATCH_ROWS = 500_000  # rows validated at a time: bounds memory for very large files
STABILITY_WAIT = 0.5  # seconds to watch an unreadable file for a writer still writing it
_UNREADABLE = "无法读取，不是完整的 Parquet 文件（可能已损坏或被截断）"
FIRST_ROWS = 5  # an Excel or CSV file's quarantined rows named in its manifest reason
SAMPLE_ROWS = 20  # rows a dry run keeps of what it would write (the upload preview)
ROW_NUMBERS_NOTE = "行号即 Excel 中看到的行号，含标题行和表头行"

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
    private_dir(paths.state)
    return FileLock(str(paths.state / "ingest.lock"), timeout=timeout, mode=PRIVATE_FILE)


def inbox_files(paths: DataPaths, feed: str) -> list[Path]:
    """The feed's inbox entries to process, oldest first (wangtai.ingest.inbox.entries)."""
    return inbox.entries(paths, feed)


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _still_changing(path: Path, opened: os.stat_result) -> bool:
    """True when the file is still being written (or was replaced) — leave it for the next run."""
    time.sleep(STABILITY_WAIT)
    return not inbox.same_entry(path, opened)


def _release(path: Path, handle, opened: os.stat_result, target: Path) -> None:
    """Move the processed inbox file to target (wangtai.ingest.inbox.release); a non-regular entry
    (handle None) is moved as it is and neutralized."""
    if handle is None:
        inbox.move_entry(path, opened, target)
    else:
        inbox.release(path, handle, opened, target)


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
    first_bad: list[tuple[int, str]] = field(default_factory=list)  # (row number, reasons), the first few


class _Sample:
    """A dry run's stand-in for an AtomicParquetWriter: keeps the first rows written, writes nothing."""

    def __init__(self, target: Path, schema: pa.Schema):
        self.target = target
        self.schema = schema
        self.tables: list[pa.Table] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self.rows < SAMPLE_ROWS and table.num_rows:
            part = table.slice(0, SAMPLE_ROWS - self.rows)
            self.tables.append(part)
            self.rows += part.num_rows

    def commit(self) -> None:
        pass

    def discard(self) -> None:
        pass

    def table(self) -> pa.Table | None:
        return pa.concat_tables(self.tables) if self.tables else None


@dataclass
class ReadAs:
    """How an Excel or CSV file was read (for the manifest reason and the upload preview)."""

    format: str | None
    describe: str
    mapping: dict[str, str]  # contract column → the header as written
    absent: list[str]
    unused: list[str]


class _InboxFile:
    """One open inbox file under its batch id: records its manifest row, then moves it out of the inbox.
    ``dry``: nothing is written or moved; ``record`` only says what would be recorded (``dry_run``)."""

    def __init__(
        self,
        run: IngestRun,
        feed: Feed,
        path: Path,
        handle,
        opened: os.stat_result,
        sha: str,
        dry: bool = False,
        name: str | None = None,
    ):
        self.run = run
        self.feed = feed
        self.path = path
        self.handle = handle
        self.opened = opened  # the inbox file's stat when opened: was it replaced or still written?
        self.sha = sha
        self.dry = dry
        self.name = name or path.name
        self.now = run.now()
        self.ingested_at = run.next_time(self.now)
        self.batch_id = f"{self.ingested_at:%Y%m%dT%H%M%S%f}-{feed.name}-{sha[:8]}"
        self.read_as: ReadAs | None = None
        self.samples: dict[str, _Sample] = {}

    def writer(self, kind: str, schema: pa.Schema) -> AtomicParquetWriter | _Sample:
        """The file's warehouse or quarantine output (a sample in a dry run)."""
        folder = self.run.paths.warehouse if kind == "warehouse" else self.run.paths.quarantine
        target = folder / self.feed.name / f"{self.batch_id}.parquet"
        if self.dry:
            self.samples[kind] = _Sample(target, schema)
            return self.samples[kind]
        return AtomicParquetWriter(target, schema)

    def still_changing(self) -> bool:
        """Is a writer still writing it? (An unreadable file is watched a moment before it is refused.)"""
        return not self.dry and _still_changing(self.path, self.opened)

    def changed_while_read(self) -> bool:
        """Did the bytes of the open file change while it was read (a writer writing it in place)?"""
        if self.dry:
            return False
        now = os.fstat(self.handle.fileno())
        return (now.st_size, now.st_mtime_ns) != (self.opened.st_size, self.opened.st_mtime_ns)

    def record(
        self,
        outcome,
        rows_in,
        accepted,
        quarantined,
        duplicates,
        reason,
        warehouse: AtomicParquetWriter | None = None,
        quarantine: AtomicParquetWriter | None = None,
        stored_as: str | None = None,
    ) -> FileResult:
        """Commit the outputs (the writers given), write the manifest row, then move the file to the archive
        (refused: to quarantine, as ``stored_as`` when given). A failure before the manifest row is written
        takes the committed outputs back: no verdict, the file stays in the inbox."""
        paths, feed = self.run.paths, self.feed
        keep = [writer for writer in (warehouse, quarantine) if writer is not None]
        wh = warehouse.target if warehouse else None
        qf = quarantine.target if quarantine else None
        moved = None
        stored = stored_name(self.batch_id, stored_as or self.name)
        if outcome == "refused":
            qf = paths.quarantine / feed.name / stored
        else:
            moved = paths.archive / feed.name / stored
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
        result = FileResult(
            self.batch_id, feed.name, self.name, rows_in, accepted, quarantined, duplicates, outcome, reason
        )
        if self.dry:
            return result
        committed = []
        try:
            for writer in keep:
                writer.commit()
                committed.append(writer.target)
            write_manifest_row(paths, row)  # the record, then the move (a crash in between is recovered)
        except BaseException:
            for target in committed:
                target.unlink(missing_ok=True)
            raise
        self.run.manifest.append(row)
        _release(self.path, self.handle, self.opened, moved or qf)
        log.info(result.describe())
        return result

    def refuse(self, rows_in: int, why: str) -> FileResult:
        return self.record("refused", rows_in, 0, rows_in, 0, f"文件 {self.name} 被整体拒收：{why}")

    def unreadable(self, rows_in: int, error: Exception) -> FileResult | None:
        """Refused as unreadable, unless a writer is still writing it (None: left for the next run)."""
        if self.still_changing():
            return None
        return self.refuse(rows_in, f"{_UNREADABLE}。详情：{without_values(error)}")

    def duplicate(self, previous: dict) -> FileResult:
        """Recorded as a copy of an earlier accepted or held file (same bytes, so the same rows, counted
        then): every row a duplicate."""
        rows_in = int(previous["rows_in"])
        reason = (
            f"文件 {self.name} 与已入库的文件 {previous['file_name']}（批次 {previous['batch_id']}）"
            f"内容完全相同，全部 {rows_in} 行按重复计。"
        )
        return self.record("duplicate_file", rows_in, 0, 0, rows_in, reason)


def _ingest_file(run: IngestRun, feed: Feed, path: Path) -> FileResult | None:
    """Ingest one inbox entry. None when it is left for the next run (gone, or still being written), or when
    only a move a crash interrupted was finished. Raises OurFault when a failure of ours stopped it."""
    try:
        handle = inbox.open_file(run.paths, feed.name, path.name)
    except FileNotFoundError:
        return None
    if isinstance(handle, str):
        return _refuse_entry(run, feed, path, handle)
    with handle:
        opened = os.fstat(handle.fileno())
        sha = _sha256(handle)
        pending = run.unfinished(feed.name, sha, path.name)
        if pending is not None:
            _release(path, handle, opened, pending)
            return None
        file = _InboxFile(run, feed, path, handle, opened, sha)
        return _judge(file)


def _judge(file: _InboxFile) -> FileResult | None:
    """A new file's verdict: a copy of a file already in, Parquet as it always was read, or a table."""
    previous = file.run.known_file(file.feed.name, file.sha)
    if previous is not None:
        return file.duplicate(previous)
    if file.name.lower().endswith(".parquet"):
        return _ingest_rows(file)
    return _ingest_table(file)


def _refuse_entry(run: IngestRun, feed: Feed, path: Path, kind: str) -> FileResult | None:
    """A link, folder or special file in the inbox: refused, never read, moved out as it is (its
    quarantine copy is a note, wangtai.ingest.inbox)."""
    try:
        entry = os.lstat(path)
        target = os.readlink(path) if kind == "symlink" else ""
    except FileNotFoundError:
        return None
    # the same entry gets the same digest, so a move a crash interrupted is finished, not recorded twice
    sha = hashlib.sha256(f"{kind}\n{target}".encode()).hexdigest()
    pending = run.unfinished(feed.name, sha, path.name)
    if pending is not None:
        _release(path, None, entry, pending)
        return None
    file = _InboxFile(run, feed, path, None, entry, sha)
    stored_as = path.name if kind == "directory" else f"{path.name}.{kind}.txt"
    reason = f"{path.name} {inbox.KINDS[kind][1]}"
    return file.record("refused", 0, 0, 0, 0, reason, stored_as=stored_as)


def _ingest_rows(file: _InboxFile) -> FileResult | None:
    """A new file's rows checked and written to the warehouse and quarantine; the whole file refused when it
    is beyond the limits (wangtai.ingest.limits), cannot be read, lacks a column or has a column that cannot
    be cast. A failure of ours (OurFault) leaves nothing behind and no verdict."""
    feed = file.feed
    too_big = _beyond_limits(file)
    if too_big is not None:
        return file.refuse(*too_big)
    try:
        file.handle.seek(0)
        parquet = pq.ParquetFile(file.handle)
        names = parquet.schema_arrow.names
        rows_in = parquet.metadata.num_rows
    except Exception as error:
        if faults.is_ours(error):
            raise faults.as_fault(error) from error
        return file.unreadable(0, error)
    missing = [c for c in feed.column_names if c not in names]
    if missing:
        return file.refuse(
            rows_in,
            f"缺少必需列 {'、'.join(missing)}（{feed.label}文件应包含：{'、'.join(feed.column_names)}）。",
        )
    warehouse = file.writer("warehouse", WAREHOUSE_SCHEMAS[feed.name])
    quarantine = file.writer("quarantine", _quarantine_schema(names))
    try:
        tally = _split_rows(file, _parquet_batches(file, parquet), warehouse, quarantine)
    except BaseException as error:
        warehouse.discard()  # whatever went wrong, no half-written file is left behind
        quarantine.discard()
        if faults.is_ours(error):  # the disk, permissions: not the file's fault
            raise faults.as_fault(error) from error
        if isinstance(error, CastFailure):
            return file.refuse(rows_in, f"{error}。")
        if isinstance(error, (pa.ArrowException, OSError, ValueError)):
            return file.unreadable(rows_in, error)
        raise
    return _settle(file, rows_in, tally, warehouse, quarantine)


def _ingest_table(file: _InboxFile) -> FileResult | None:
    """An Excel or CSV file (or one of a type that cannot be read: refused by its name) through
    wangtai.ingest.readers: limits first, then the reader's verdict on the whole file, then the rows, checked
    as Parquet rows are. The reader reads the descriptor ingest opened; a file written while it was read
    is left for the next run."""
    why = unsupported_reason(file.name)
    if why is not None:
        return file.refuse(0, f"{why}。")
    why = limits.before_reading_table(file.handle)
    if why is not None:
        return file.refuse(0, why)
    names = file.run.header_names()  # IngestError when reference/column_names.* is broken: set aside
    with open_feed_file(_readable(file), file.feed, names, name=file.name) as found:
        return _read_table(file, found)


def _readable(file: _InboxFile) -> Path:
    """The open descriptor as a path the readers can open (Linux): exactly the bytes hashed, never a file
    renamed into the inbox meanwhile; elsewhere the inbox path (the stat compare after reading guards)."""
    fd_path = Path(f"/proc/self/fd/{file.handle.fileno()}")
    return fd_path if fd_path.exists() else file.path


def _read_table(file: _InboxFile, found: FeedFile) -> FileResult | None:
    feed = file.feed
    if found.refusal is not None:
        if file.changed_while_read() or (found.refusal.unreadable and file.still_changing()):
            return None  # a writer is still writing it (a half-copied CSV): the next run looks again
        return file.refuse(found.num_rows, found.refusal.reason + "。")
    why = limits.rows_counted(found.format, found.num_rows)
    if why is not None:
        return file.refuse(found.num_rows, why)
    file.read_as = ReadAs(found.format, found.describe(), dict(found.mapping), found.absent, found.unused)
    warehouse = file.writer("warehouse", WAREHOUSE_SCHEMAS[feed.name])
    quarantine = file.writer("quarantine", _quarantine_schema(found.text_columns))
    try:
        tally = _split_rows(file, _read_batches(file, found), warehouse, quarantine)
        if file.changed_while_read() or tally.rows != found.num_rows:
            warehouse.discard()
            quarantine.discard()
            return None  # still being written: the next run reads it whole
    except BaseException as error:
        warehouse.discard()
        quarantine.discard()
        if faults.is_ours(error):
            raise faults.as_fault(error) from error
        if isinstance(error, CastFailure):
            return file.refuse(found.num_rows, f"{error}。")
        raise
    return _settle(file, tally.rows, tally, warehouse, quarantine)


def _beyond_limits(file: _InboxFile) -> tuple[int, str] | None:
    """(rows, reason) when the file is refused for its size or shape, judged from its footer alone."""
    why = limits.before_parsing(file.handle)
    if why is not None:
        return 0, why
    try:
        file.handle.seek(0)
        metadata = pq.read_metadata(file.handle)
    except Exception:
        return None  # unreadable: said below, with the reader's words
    why = limits.after_parsing(metadata)
    return None if why is None else (max(0, metadata.num_rows), why)


@dataclass
class _CheckedBatch:
    """One batch of a file's rows after the row checks, and how to write its invalid rows to quarantine."""

    checked: object  # validate.Checked
    n: int
    quarantine: Callable[[], pa.Table]  # the invalid rows as text, with _row and _reasons
    rows: np.ndarray | None = None  # Excel/CSV: each row's number in the sheet (None: Parquet, 0-based)


def _parquet_batches(file: _InboxFile, parquet: pq.ParquetFile) -> Iterator[_CheckedBatch]:
    """A Parquet file's rows, BATCH_ROWS at a time, cast to the contract and checked."""
    feed, run, row0 = file.feed, file.run, 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        checked = check_rows(feed, cast_batch(batch, feed, row0), run.reference, file.now)
        yield _CheckedBatch(
            checked, batch.num_rows, lambda b=batch, c=checked, r=row0: _quarantine_rows(b, c, r)
        )
        row0 += batch.num_rows


def _read_batches(file: _InboxFile, found: FeedFile) -> Iterator[_CheckedBatch]:
    """An Excel or CSV file's rows as its reader typed them, checked, with the reader's own problems."""
    feed, run = file.feed, file.run
    for read in found.batches():
        checked = merge_problems(
            check_rows(feed, cast_batch(read.batch, feed), run.reference, file.now), read
        )
        yield _CheckedBatch(
            checked, read.num_rows, lambda r=read, c=checked: _read_quarantine_rows(r, c), read.rows
        )


def _split_rows(
    file: _InboxFile,
    batches: Iterator[_CheckedBatch],
    warehouse: AtomicParquetWriter | _Sample,
    quarantine: AtomicParquetWriter | _Sample,
) -> _Tally:
    """Every row checked: valid new rows to the warehouse (pseudonymized), invalid ones to quarantine as
    text with their reasons, duplicates (of a row before them, or in the warehouse) only counted."""
    feed, run = file.feed, file.run
    known = run.existing_keys(feed) if feed.kind == "increment" else []
    existing = pa.concat_arrays(known) if known else None
    seen, tally = SeenKeys(), _Tally()
    for part in batches:
        checked = part.checked
        dup = _duplicates(checked, part.n, seen, existing)
        keep = ~checked.bad & ~dup
        if keep.any():
            warehouse.write(warehouse_rows(feed, checked, keep, file.batch_id, file.ingested_at, run.secret))
            kept = checked.key.filter(pa.array(keep))
            seen.add(kept)
            if feed.kind == "increment":
                tally.new_keys.append(kept.cast(pa.string()))
        if checked.bad.any():
            quarantine.write(part.quarantine())
            if part.rows is not None and len(tally.first_bad) < FIRST_ROWS:
                bad = np.flatnonzero(checked.bad)[: FIRST_ROWS - len(tally.first_bad)]
                tally.first_bad += [(int(part.rows[i]), checked.reasons[i]) for i in bad]
        tally.accepted += int(keep.sum())
        tally.quarantined += int(checked.bad.sum())
        tally.duplicates += int(dup.sum())
        tally.rows += part.n
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


def _read_quarantine_rows(read, checked) -> pa.Table:
    """An Excel or CSV batch's invalid rows as the text that arrived, with their row number as Excel shows
    it (1-based, title and header rows counted) and their reasons."""
    bad = pa.array(checked.bad)
    text = read.text()
    columns = {name: text.column(name).filter(bad) for name in text.schema.names}
    columns["_row"] = pa.array(read.rows[checked.bad], pa.int64())
    columns["_reasons"] = pa.array(checked.reasons[checked.bad], pa.string())
    return pa.table(columns)


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
    keep_wh = feed.kind == "snapshot" or tally.accepted > 0
    keep_qf = tally.quarantined > 0
    if not keep_wh:
        warehouse.discard()
    if not keep_qf:
        quarantine.discard()
    reason = None
    if hold:
        reason = (
            f"{feed.label}快照 {file.name} 暂不作为当前快照：{'；'.join(hold)}。"
            "原快照仍为当前，请人工核实后确认。"
        )
    elif tally.quarantined and tally.first_bad:
        reason = f"{tally.quarantined} 行未通过校验，已隔离：{_first_rows(tally)}（{ROW_NUMBERS_NOTE}）。"
    elif tally.quarantined:
        reason = f"{tally.quarantined} 行未通过校验，已隔离（原因见隔离文件）。"
    if file.read_as is not None:  # how an Excel or CSV file was read: sheet, encoding, the columns' headers
        reason = f"{reason or ''}读取方式：{file.read_as.describe}"
    outcome = "held" if hold else "accepted"
    try:
        result = file.record(
            outcome,
            rows_in,
            tally.accepted,
            tally.quarantined,
            tally.duplicates,
            reason,
            warehouse if keep_wh else None,
            quarantine if keep_qf else None,
        )
    except BaseException:
        warehouse.discard()
        quarantine.discard()
        raise
    if tally.new_keys and not file.dry:
        run.existing_keys(feed).extend(tally.new_keys)
    return result


def _first_rows(tally: _Tally) -> str:
    """第 5 行（…）、第 9 行（…）等 — the first quarantined rows of an Excel or CSV file."""
    shown = "、".join(f"第 {row} 行（{reasons}）" for row, reasons in tally.first_bad)
    return shown + ("等" if tally.quarantined > len(tally.first_bad) else "")


@dataclass
class DryRun:
    """What ingest would record for a file (``result``), how it would read it (``read_as``: Excel and CSV),
    and the first rows it would write: ``accepted`` as the warehouse keeps them (pseudonymized, masked) and
    ``quarantined`` as quarantine keeps them — the text that arrived, raw: mask before showing it."""

    result: FileResult
    read_as: ReadAs | None
    accepted: pa.Table | None
    quarantined: pa.Table | None


def dry_run(
    paths: DataPaths, feed: str, path: Path, name: str | None = None, now: datetime | None = None
) -> DryRun:
    """Run ingest's own path over the file at ``path`` as if it had landed in ``inbox/<feed>/`` as
    ``name`` — type, limits, the reader, every row check, duplicates of rows and files already in, a
    snapshot's hold — without writing or moving anything (the upload preview). Raises IngestError when
    the reference data has not been ingested yet."""
    run = IngestRun(paths, current_reference(paths), now)
    with open(path, "rb") as handle:
        opened = os.fstat(handle.fileno())
        file = _InboxFile(run, FEEDS[feed], Path(path), handle, opened, _sha256(handle), dry=True, name=name)
        result = _judge(file)
    samples = {kind: sample.table() for kind, sample in file.samples.items()}
    return DryRun(result, file.read_as, samples.get("warehouse"), samples.get("quarantine"))


def current_reference(paths: DataPaths) -> Reference:
    """The reference data as the last ingest installed it (warehouse/reference/), read without writing."""
    folder = paths.warehouse / "reference"
    try:
        codes = pq.read_table(folder / "communities.parquet", columns=["community_code"])
        units = pq.read_table(folder / "units.parquet", columns=["unit_id"])
    except (OSError, pa.ArrowException) as error:
        raise IngestError(
            "参考数据（社区、管理单元）尚未入库，无法校验文件；请先把 reference/ 准备好并运行一次入库。"
        ) from error
    return Reference(
        community_codes=codes.column("community_code").combine_chunks(),
        unit_ids=units.column("unit_id").combine_chunks(),
    )


def ingest_all(paths: DataPaths, now: datetime | None = None, wait: bool = True) -> list[FileResult] | None:
    """Ingest reference data, then every inbox file (feed by feed, oldest first). One run at a time.

    With ``wait=False`` return None at once when another run (in any process) holds the lock. A failure of
    ours pauses ingest (wangtai.ingest.faults): the files it concerns stay in the inbox for the next run; a
    file that fails unexpectedly is set aside and the others go on. Either is on 数据状态 and in the log."""
    try:
        paths.ensure()
        held = lock(paths, timeout=-1 if wait else 0)
        held.acquire()
    except Timeout:
        return None
    except OSError as error:  # the data directory or the lock cannot be written
        _pause(paths, error)
        return []
    try:
        return _run(paths, now)
    except OSError as error:
        if not faults.is_ours(error):
            raise
        _pause(paths, error)
        return []
    finally:
        held.release()


def _pause(paths: DataPaths, error: BaseException) -> None:
    status = faults.load(paths)
    faults.paused(status, faults.as_fault(error))
    faults.save(paths, status)


def _run(paths: DataPaths, now: datetime | None) -> list[FileResult]:
    """One run under the lock: every inbox file, each on its own (a failure stays with its file)."""
    status = faults.load(paths)
    before = asdict(status)
    upkeep.before_run(paths)  # leftover temporary files of killed runs; permissions of older folders
    reference = ingest_reference(paths)
    run = IngestRun(paths, reference, now)
    listing = {name: _listing(paths, name, status) for name in FEEDS}  # a snapshot of the inbox, taken once
    faults.forget_gone(status, {faults.file_key(name, p.name) for name in FEEDS for p in listing[name]})
    results: list[FileResult] = []
    fault = None
    for name, feed in FEEDS.items():
        for path in listing[name]:
            if faults.waiting(status, name, path):
                continue
            try:
                result = _ingest_file(run, feed, path)
            except Exception as error:
                if not faults.is_ours(error):
                    faults.set_aside(status, name, path, error)
                    continue
                fault = faults.as_fault(error)
                if fault.stops_run:
                    break
                continue
            status.set_aside.pop(faults.file_key(name, path.name), None)
            if result is not None:
                results.append(result)
        if fault is not None and fault.stops_run:
            break
    if fault is None:
        fault = _compact(paths)
    faults.paused(status, fault)
    if asdict(status) != before:  # a busy inbox runs every second: write only what changed
        faults.save(paths, status)
    return results


def _listing(paths: DataPaths, feed: str, status: faults.Status) -> list[Path]:
    faults.folder_problem(status, feed, inbox.folder_problem(paths, feed))
    return inbox_files(paths, feed)


def _compact(paths: DataPaths) -> OurFault | None:
    """Keep the file count bounded as batches accumulate (wangtai.ingest.compact). Housekeeping: a failure
    is logged (and a failure of ours pauses), the files already ingested stand."""
    try:
        compact(paths)
    except Exception as error:
        if faults.is_ours(error):
            return faults.as_fault(error)
        log.exception("compaction failed")
    return None


def has_inbox_files(paths: DataPaths) -> bool:
    """Is there anything a run would do now: a file waiting (set-aside files wait for their time), or a
    pause to lift (a run that goes through clears it, even with the inbox emptied meanwhile)?"""
    status = faults.load(paths)
    return status.pause is not None or any(
        not faults.waiting(status, name, path) for name in FEEDS for path in inbox_files(paths, name)
    )


def watch(
    paths: DataPaths,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    report: Callable[[str], None] | None = print,
) -> None:
    """Poll the inbox every ``interval`` seconds and ingest when files are waiting, until ``stop`` is set.
    While ingest is paused (a failure of ours) the wait doubles, up to a minute."""
    stop = stop or threading.Event()
    wait = interval
    while not stop.is_set():
        try:
            if has_inbox_files(paths):
                for result in ingest_all(paths):
                    if report:
                        report(result.describe())
            pause = faults.load(paths).pause
            if pause is not None and report and wait == interval:
                report(pause["message"])
            wait = min(2 * wait, 60.0) if pause is not None else interval
        except Exception as error:  # keep watching: a broken reference file is fixed by an administrator
            log.exception("ingest failed")
            if report:
                report(f"入库出错：{error}")
        stop.wait(wait)
