"""inbox → validate → pseudonymize → warehouse / quarantine / archive, one manifest row per file."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from wangtai import clock
from wangtai.contract import FEEDS, Feed
from wangtai.ingest.compact import compact
from wangtai.ingest.pii import load_secret
from wangtai.ingest.reference import Reference, ingest_reference
from wangtai.ingest.store import (
    AtomicParquetWriter,
    copy_from_handle,
    move_file,
    read_decisions,
    read_manifest,
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
from wangtai.warehouse import live_files

log = logging.getLogger("wangtai.ingest")

BATCH_ROWS = 500_000  # rows validated at a time: bounds memory for very large files
STABILITY_WAIT = 0.5  # seconds to watch an unreadable file for a writer still writing it
REFUSED_SHARE = 0.02  # a snapshot with more than this share of rows refused is held
SHRINK_RATIO = 0.8  # ... or with fewer accepted rows than this share of the current snapshot's

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


def current_snapshot(manifest: list[dict], accepted_batches: set[str], feed: str) -> dict | None:
    """The current snapshot's manifest row (architecture.md: latest accepted or operator-accepted)."""
    candidates = [
        row
        for row in manifest
        if row["feed"] == feed and (row["outcome"] == "accepted" or row["batch_id"] in accepted_batches)
    ]
    return max(candidates, key=lambda row: row["ingested_at"], default=None)


def _first_occurrence(keys: pa.Array) -> np.ndarray:
    n = len(keys)
    table = pa.table({"k": keys, "i": pa.array(np.arange(n, dtype=np.int64))})
    first = table.group_by("k", use_threads=False).aggregate([("i", "min")]).column("i_min")
    mask = np.zeros(n, dtype=bool)
    mask[first.to_numpy()] = True
    return mask


class _SeenKeys:
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
        return _bool(pc.is_in(keys, value_set=self.arrays[0]))

    def add(self, keys: pa.Array) -> None:
        if pa.types.is_integer(keys.type):
            self.ints = np.sort(
                np.concatenate([self.ints, keys.to_numpy(zero_copy_only=False)]), kind="stable"
            )
        else:
            self.arrays.append(keys)


def _bool(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


class _Run:
    """State of one ingest_all call: the manifest so far, the clock, the secret, known keys."""

    def __init__(self, paths: DataPaths, reference: Reference, now: datetime | None):
        self.paths = paths
        self.reference = reference
        self.fixed_now = now
        self.manifest = read_manifest(paths).to_pylist()
        self.accepted_batches = {
            row["batch_id"] for row in read_decisions(paths).to_pylist() if row["decision"] == "accept"
        }
        self.last_time = max((row["ingested_at"] for row in self.manifest), default=None)
        self._secret: bytes | None = None
        self._keys: dict[str, list[pa.Array]] = {}

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_secret()
        return self._secret

    def now(self) -> datetime:
        return self.fixed_now if self.fixed_now is not None else clock.now()

    def next_time(self, now: datetime) -> datetime:
        """ingested_at: the clock, but strictly after every batch so far (batch ids sort by time)."""
        stamp = now.replace(tzinfo=None)
        if self.last_time is not None and stamp <= self.last_time:
            stamp = self.last_time + timedelta(microseconds=1)
        self.last_time = stamp
        return stamp

    def known_file(self, feed: str, sha: str) -> dict | None:
        for row in self.manifest:
            if row["feed"] == feed and row["sha256"] == sha and row["outcome"] in ("accepted", "held"):
                return row
        return None

    def unfinished(self, feed: str, sha: str, name: str) -> Path | None:
        """A file recorded in the manifest whose move out of the inbox did not happen (a crash)."""
        for row in self.manifest:
            if row["feed"] == feed and row["sha256"] == sha and row["file_name"] == name:
                target = row["archive_file"] or row["quarantine_file"]
                if target and not (self.paths.root / target).exists():
                    return self.paths.root / target
        return None

    def existing_keys(self, feed: Feed) -> list[pa.Array]:
        """Keys of an increment feed already in the warehouse (only batches in the manifest count), read from
        the feed's live files: a batch's own file or the segment compaction merged it into."""
        if feed.name not in self._keys:
            batches = pa.array(
                sorted(
                    row["batch_id"]
                    for row in self.manifest
                    if row["feed"] == feed.name and row["warehouse_file"]
                ),
                pa.string(),
            )
            arrays = []
            for path in live_files(self.paths.warehouse / feed.name):
                table = pq.read_table(path, columns=["batch_id", feed.key])
                table = table.filter(pc.is_in(table.column("batch_id"), value_set=batches))
                arrays.append(table.column(feed.key).combine_chunks().cast(pa.string()))
            self._keys[feed.name] = arrays
        return self._keys[feed.name]


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


def _ingest_file(run: _Run, feed: Feed, path: Path) -> FileResult | None:
    try:
        handle = open(path, "rb")  # noqa: SIM115 — closed by the with below; a vanished file is skipped
    except FileNotFoundError:
        return None
    with handle:
        opened = os.fstat(handle.fileno())
        sha = _sha256(handle)
        name = path.name
        pending = run.unfinished(feed.name, sha, name)
        if pending is not None:
            _release(path, handle, opened, pending)
            return None
        now = run.now()
        ingested_at = run.next_time(now)
        batch_id = f"{ingested_at:%Y%m%dT%H%M%S%f}-{feed.name}-{sha[:8]}"
        paths = run.paths

        def finish(
            outcome, rows_in, accepted, quarantined, duplicates, reason, wh=None, qf=None
        ) -> FileResult:
            moved = None
            if outcome == "refused":
                qf = paths.quarantine / feed.name / f"{batch_id}__{name}"
            else:
                moved = paths.archive / feed.name / f"{batch_id}__{name}"
            row = {
                "batch_id": batch_id,
                "feed": feed.name,
                "file_name": name,
                "sha256": sha,
                "ingested_at": ingested_at,
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
            write_manifest_row(
                paths, row
            )  # first the record, then the move (a crash in between is recovered)
            run.manifest.append(row)
            _release(path, handle, opened, moved or qf)
            result = FileResult(
                batch_id, feed.name, name, rows_in, accepted, quarantined, duplicates, outcome, reason
            )
            log.info(result.describe())
            return result

        previous = run.known_file(feed.name, sha)
        if previous is not None:
            try:
                handle.seek(0)
                rows_in = pq.ParquetFile(handle).metadata.num_rows
            except Exception:
                rows_in = 0
            reason = (
                f"文件 {name} 与已入库的文件 {previous['file_name']}（批次 {previous['batch_id']}）"
                f"内容完全相同，全部 {rows_in} 行按重复计。"
            )
            return finish("duplicate_file", rows_in, 0, 0, rows_in, reason)

        def refuse(rows_in: int, why: str) -> FileResult:
            return finish("refused", rows_in, 0, rows_in, 0, f"文件 {name} 被整体拒收：{why}")

        unreadable = "无法读取，不是完整的 Parquet 文件（可能已损坏或被截断）"
        try:
            handle.seek(0)
            parquet = pq.ParquetFile(handle)
            names = parquet.schema_arrow.names
            rows_in = parquet.metadata.num_rows
        except Exception as error:
            if _still_changing(path, opened):
                return None
            return refuse(0, f"{unreadable}。详情：{error}")
        missing = [c for c in feed.column_names if c not in names]
        if missing:
            return refuse(
                rows_in,
                f"缺少必需列 {'、'.join(missing)}"
                f"（{feed.label}文件应包含：{'、'.join(feed.column_names)}）。",
            )

        wh_path = paths.warehouse / feed.name / f"{batch_id}.parquet"
        q_path = paths.quarantine / feed.name / f"{batch_id}.parquet"
        warehouse = AtomicParquetWriter(wh_path, WAREHOUSE_SCHEMAS[feed.name])
        quarantine = AtomicParquetWriter(q_path, _quarantine_schema(names))
        existing = run.existing_keys(feed) if feed.kind == "increment" else []
        existing_set = pa.concat_arrays(existing) if existing else None
        seen = _SeenKeys()
        accepted = quarantined = duplicates = row0 = 0
        new_keys: list[pa.Array] = []
        try:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                n = batch.num_rows
                checked = check_rows(feed, cast_batch(batch, feed), run.reference, now)
                good = ~checked.bad
                dup = np.zeros(n, dtype=bool)
                good_idx = np.flatnonzero(good)
                if len(good_idx):
                    keys = checked.key.take(pa.array(good_idx))
                    is_dup = ~_first_occurrence(keys)
                    is_dup |= seen.contains(keys)
                    if existing_set is not None:
                        is_dup |= _bool(pc.is_in(keys.cast(pa.string()), value_set=existing_set))
                    dup[good_idx] = is_dup
                keep = good & ~dup
                if keep.any():
                    warehouse.write(warehouse_rows(feed, checked, keep, batch_id, run.secret))
                    kept = checked.key.filter(pa.array(keep))
                    seen.add(kept)
                    if feed.kind == "increment":
                        new_keys.append(kept.cast(pa.string()))
                if checked.bad.any():
                    bad = pa.array(checked.bad)
                    text = {k: v.filter(bad) for k, v in as_text(batch).items()}
                    text["_row"] = pa.array(np.flatnonzero(checked.bad) + row0, pa.int64())
                    text["_reasons"] = pa.array(checked.reasons[checked.bad], pa.string())
                    quarantine.write(pa.table(text))
                accepted += int(keep.sum())
                quarantined += int(checked.bad.sum())
                duplicates += int(dup.sum())
                row0 += n
        except CastFailure as error:
            warehouse.discard()
            quarantine.discard()
            return refuse(rows_in, f"{error}。")
        except (pa.ArrowException, OSError, ValueError) as error:
            warehouse.discard()
            quarantine.discard()
            if _still_changing(path, opened):
                return None
            return refuse(rows_in, f"{unreadable}。详情：{error}")
        except BaseException:
            warehouse.discard()
            quarantine.discard()
            raise

        outcome, reasons = "accepted", []
        if feed.kind == "snapshot":
            if rows_in and quarantined > REFUSED_SHARE * rows_in:
                reasons.append(
                    f"拒收 {quarantined} 行，占 {quarantined / rows_in:.1%}，超过 {REFUSED_SHARE:.0%}"
                )
            current = current_snapshot(run.manifest, run.accepted_batches, feed.name)
            if current is not None and accepted < SHRINK_RATIO * current["accepted"]:
                reasons.append(
                    f"入库 {accepted} 行，不到当前快照（{current['file_name']}，{current['accepted']} 行）的 "
                    f"{SHRINK_RATIO:.0%}"
                )
            if reasons:
                outcome = "held"
        if feed.kind == "snapshot" or accepted:
            warehouse.commit()
        else:
            warehouse.discard()
            wh_path = None
        if quarantined:
            quarantine.commit()
        else:
            quarantine.discard()
            q_path = None
        reason = None
        if reasons:
            reason = (
                f"{feed.label}快照 {name} 暂不作为当前快照：{'；'.join(reasons)}。"
                "原快照仍为当前，请人工核实后确认。"
            )
        elif quarantined:
            reason = f"{quarantined} 行未通过校验，已隔离（原因见隔离文件）。"
        result = finish(outcome, rows_in, accepted, quarantined, duplicates, reason, wh_path, q_path)
        if new_keys:
            run.existing_keys(feed).extend(new_keys)
        return result


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
        run = _Run(paths, reference, now)
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
