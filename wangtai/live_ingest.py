"""Live data: continuous ingest beside the dashboard, and when a feed counts as stale.

- ``LiveIngest`` — a background thread that polls the inbox (every second by default) and ingests what is
  waiting, under the cross-process ingest lock without waiting for it: when another server process or a
  ``wangtai ingest --watch`` service is ingesting, this poll is skipped. Half-written files are never read
  (hidden temporary names are ignored; a file still changing is left for the next poll); a bad file is
  quarantined by ingest and a file that fails unexpectedly is set aside while the rest go on. While ingest
  is paused by a failure of ours (disk full: ``wangtai.ingest.faults``) it tries again less and less often
  (up to every ``MAX_BACKOFF`` seconds). After every poll it calls ``follow`` (the server's runner catching
  up with the warehouse), whoever ingested: the in-memory tables are brought up to date here, off the
  pages' path, so the first viewer after a new batch does not wait for it.
- ``process_ingest`` — the server process's one ``LiveIngest`` per data directory, started on first call
  and restarted if its thread died; it belongs to the process, not to a visitor or a login.
- ``FEED_INTERVALS`` and ``stale_feeds`` — how often each feed is expected to deliver a file, and which
  feeds have been silent for longer than that. (Kept here rather than in ``wangtai.contract``, which is
  the data contract's own module; move them there if the contract ever states the intervals.)

Environment: ``WANGTAI_LIVE_INGEST=0`` turns the dashboard's own ingest thread off (for deployments that
run ``wangtai ingest --watch`` as a service); ``WANGTAI_INGEST_POLL`` sets the poll interval in seconds.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time as clock_time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pandas as pd

from wangtai import settings
from wangtai.paths import DataPaths

log = logging.getLogger("wangtai.live_ingest")

DEFAULT_POLL = 1.0
MAX_BACKOFF = 60.0  # seconds between tries at most while ingest is paused (e.g. the disk is full)


@dataclass(frozen=True)
class Expected:
    """A feed is expected to deliver a file at least every ``every``, counting only the active hours."""

    every: timedelta
    active_from: time = time(0, 0)
    active_to: time = time(23, 59, 59)

    def describe(self) -> str:
        """约每 10 分钟（07:00–21:00） · 约每天 · 约每 8 天"""
        hours = self.hours()
        return f"{self.rhythm()}（{hours}）" if hours else self.rhythm()

    def rhythm(self) -> str:
        """约每 10 分钟 · 约每 2 小时 · 约每天 · 约每 8 天"""
        minutes = int(self.every.total_seconds() // 60)
        if minutes >= 2 * 24 * 60:
            return f"约每 {minutes // (24 * 60)} 天"
        if minutes >= 24 * 60:
            return "约每天"
        if minutes >= 60:
            return f"约每 {minutes // 60} 小时"
        return f"约每 {minutes} 分钟"

    def hours(self) -> str:
        """The active hours that count (07:00–21:00), or "" when the whole day counts."""
        if self.active_from == time(0, 0) and self.active_to == time(23, 59, 59):
            return ""
        return f"{self.active_from:%H:%M}–{self.active_to:%H:%M}"


# The one place that says how often each feed should arrive. Registrations flow all day while the campaign
# runs (scans are rare at night, so only 07:00–21:00 counts); snapshots and departments' exports are daily;
# the rental-housing survey is weekly. A deployment with other rhythms changes this table.
FEED_INTERVALS: dict[str, Expected] = {
    "registrations": Expected(timedelta(minutes=10), time(7, 0), time(21, 0)),
    "residents": Expected(timedelta(hours=26)),
    "source_records": Expected(timedelta(hours=26)),
    "houses": Expected(timedelta(days=8)),
}


def _active_seconds(start: datetime, end: datetime, expected: Expected) -> float:
    """Seconds between start and end that fall within the feed's active hours of each day."""
    if end <= start:
        return 0.0
    if expected.active_from == time(0, 0) and expected.active_to == time(23, 59, 59):
        return (end - start).total_seconds()
    total = 0.0
    day = start.date()
    while day <= end.date():
        lo = max(start, datetime.combine(day, expected.active_from))
        hi = min(end, datetime.combine(day, expected.active_to))
        if hi > lo:
            total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def is_stale(feed: str, last_arrival: datetime | None, now: datetime) -> bool:
    """True when the feed has delivered nothing for longer than expected (active hours only).

    A feed that never delivered anything is "no data", not stale."""
    expected = FEED_INTERVALS.get(feed)
    if expected is None or last_arrival is None or pd.isna(last_arrival):
        return False
    last = pd.Timestamp(last_arrival).to_pydatetime().replace(tzinfo=None)
    return _active_seconds(last, now, expected) > expected.every.total_seconds()


def stale_feeds(freshness: pd.DataFrame, now: datetime) -> list[dict]:
    """Feeds of the ``data_freshness`` query that are stale: feed, label, last arrival, expected rhythm
    (``expected`` in full; ``rhythm`` and ``hours`` as its two parts)."""
    if freshness.empty or "last_ingested_at" not in freshness:
        return []
    out = []
    for row in freshness.to_dict("records"):
        if is_stale(row["feed"], row.get("last_ingested_at"), now):
            out.append(
                {
                    "feed": row["feed"],
                    "label": row.get("feed_label") or row["feed"],
                    "last_ingested_at": row["last_ingested_at"],
                    "expected": FEED_INTERVALS[row["feed"]].describe(),
                    "rhythm": FEED_INTERVALS[row["feed"]].rhythm(),
                    "hours": FEED_INTERVALS[row["feed"]].hours(),
                }
            )
    return out


# ---- continuous ingest ---------------------------------------------------------------------------------


def live_ingest_enabled() -> bool:
    return settings.get("live_ingest")


def poll_seconds() -> float:
    return settings.get("ingest_poll")


# Threads to stop before the interpreter exits: a daemon thread still running then keeps the runner and its
# DuckDB connection alive through finalization, and DuckDB's bindings (nanobind) print ~40 "leaked" lines.
_RUNNING: weakref.WeakSet[LiveIngest] = weakref.WeakSet()


@atexit.register
def _stop_running() -> None:
    for worker in list(_RUNNING):
        worker.stop(timeout=10)


class LiveIngest:
    """Poll the inbox in a daemon thread and ingest new files; never waits for another process's ingest."""

    def __init__(
        self,
        paths: DataPaths,
        interval: float = DEFAULT_POLL,
        follow: Callable[[], object] | None = None,
        ingest: bool = True,
    ):
        self.paths = paths
        self.interval = interval
        self.follow = follow  # called after every poll: bring what serves the pages up to the warehouse
        self.ingest = ingest  # False: only follow (another process ingests)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.runs = 0  # ingest runs that found something and held the lock
        self.skipped = 0  # polls with files waiting while another process held the lock
        self.last_error: str | None = None
        self.recent: deque = deque(maxlen=50)  # FileResult of the latest files
        self.backoff = 0.0  # seconds to wait before the next try while ingest is paused
        self._next_try = 0.0  # time.monotonic() of that try

    def start(self) -> LiveIngest:
        if self.thread is None or not self.thread.is_alive():
            self.stop_event.clear()
            self.thread = threading.Thread(target=self._loop, name="wangtai-live-ingest", daemon=True)
            self.thread.start()
            _RUNNING.add(self)
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def poll_once(self) -> list | None:
        """One poll: ingest when files are waiting; None when nothing was done (empty inbox or lock held)."""
        from wangtai.ingest import faults
        from wangtai.ingest.core import has_inbox_files, ingest_all

        if clock_time.monotonic() < self._next_try or not has_inbox_files(self.paths):
            return None
        results = ingest_all(self.paths, wait=False)
        if results is None:
            self.skipped += 1
            return None
        self.runs += 1
        self.recent.extend(results)  # (ingest has logged each file's result)
        if faults.load(self.paths).pause is not None:  # each failed try costs a read: space them out
            self.backoff = min(max(self.interval, 2 * self.backoff), MAX_BACKOFF)
            self._next_try = clock_time.monotonic() + self.backoff
        else:
            self.backoff, self._next_try = 0.0, 0.0
        return results

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                if self.ingest:
                    self.poll_once()
                if self.follow is not None:
                    self.follow()
                self.last_error = None
            except Exception as error:  # keep polling: e.g. a broken reference file an administrator fixes
                if str(error) != self.last_error:
                    log.exception("live ingest failed")
                self.last_error = str(error)
            self.stop_event.wait(self.interval)


_workers: dict[str, LiveIngest] = {}
_workers_lock = threading.Lock()


def process_ingest(paths: DataPaths, ingest: bool = True, interval: float | None = None) -> LiveIngest:
    """The process's ingest thread for this data directory: created and started on the first call (from the
    shared page setup before the login gate, or by anything that serves the data directory), restarted
    when its thread died. ``ingest`` False: it only follows (another process ingests)."""
    with _workers_lock:
        worker = _workers.get(str(paths.root))
        if worker is None:
            worker = LiveIngest(paths, poll_seconds() if interval is None else interval, ingest=ingest)
            _workers[str(paths.root)] = worker
        worker.ingest = ingest
        if not worker.alive:
            worker.start()
        return worker


def stop_process_ingest(paths: DataPaths, timeout: float = 10) -> None:
    """Stop and forget the process's thread for this data directory (tests, shutdown)."""
    with _workers_lock:
        worker = _workers.pop(str(paths.root), None)
    if worker is not None:
        worker.stop(timeout)
