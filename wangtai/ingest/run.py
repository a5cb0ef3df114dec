"""The state one ``ingest_all`` call carries from file to file."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wangtai import clock
from wangtai.contract import Feed
from wangtai.ingest.pii import load_secret
from wangtai.ingest.readers import HeaderNames, load_header_names
from wangtai.ingest.reference import Reference
from wangtai.ingest.store import read_decisions, read_manifest
from wangtai.ingest.upkeep import retention_days
from wangtai.paths import DataPaths
from wangtai.warehouse import live_files


class IngestRun:
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
        self._header_names: HeaderNames | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_secret()
        return self._secret

    def header_names(self) -> HeaderNames:
        """The column names Excel and CSV files may use (loaded once, on the first such file). Raises
        IngestError when reference/column_names.* is broken: those files wait, the others go on."""
        if self._header_names is None:
            self._header_names = load_header_names(self.paths.reference)
        return self._header_names

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
        """A file recorded in the manifest whose move out of the inbox did not happen (a crash). A row
        older than the retention whose file is gone was purged (``wangtai purge``): the same file arriving
        again is a new arrival (a duplicate), not an unfinished move."""
        purged_before = self.now().replace(tzinfo=None) - timedelta(days=retention_days(strict=False))
        for row in self.manifest:
            if row["feed"] == feed and row["sha256"] == sha and row["file_name"] == name:
                target = row["archive_file"] or row["quarantine_file"]
                if row["ingested_at"] < purged_before:
                    continue
                if target and not os.path.lexists(self.paths.root / target):
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
