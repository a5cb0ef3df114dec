"""Live data: continuous ingest under the cross-process lock, stale feeds, the demo feed, and live sections
that re-query only when the data changed."""

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import copy_data
from wangtai.ingest import ingest_all
from wangtai.ingest.store import read_manifest
from wangtai.live_ingest import FEED_INTERVALS, LiveIngest, is_stale
from wangtai.paths import DataPaths
from wangtai.simulate import Simulator

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 10, 30)


@pytest.fixture
def live_paths(demo_paths: DataPaths, tmp_path: Path) -> DataPaths:
    return copy_data(demo_paths, tmp_path / "data")


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


# ---- stale feeds ----------------------------------------------------------------------------------------


def test_registrations_are_stale_after_ten_quiet_minutes_of_the_working_day() -> None:
    assert not is_stale("registrations", NOW - timedelta(minutes=9), NOW)
    assert is_stale("registrations", NOW - timedelta(minutes=11), NOW)


def test_night_hours_do_not_count_for_registrations() -> None:
    evening = datetime(2026, 11, 26, 20, 55)
    assert not is_stale("registrations", evening, datetime(2026, 11, 27, 7, 4))
    assert is_stale("registrations", evening, datetime(2026, 11, 27, 7, 6))


def test_the_stale_badge_is_short_and_its_tooltip_has_the_active_hours() -> None:
    from wangtai.ui.live_view import stale_badge

    feed = {
        "label": "一家亲扫码登记",
        "last_ingested_at": NOW - timedelta(minutes=42),
        "rhythm": FEED_INTERVALS["registrations"].rhythm(),
        "hours": FEED_INTERVALS["registrations"].hours(),
    }
    label, more = stale_badge(feed, NOW)
    assert label == "一家亲扫码登记 42 分钟无新文件（应约每 10 分钟）"  # fits a 1366 px header
    assert "07:00–21:00" in more and "11月27日 09:48" in more
    daily = {"label": "实有人口", "last_ingested_at": NOW - timedelta(days=3), "rhythm": "约每天"}
    assert stale_badge(daily, NOW)[0] == "实有人口 3 天无新文件（应约每天）"
    assert FEED_INTERVALS["registrations"].describe() == "约每 10 分钟（07:00–21:00）"
    assert FEED_INTERVALS["houses"].describe() == "约每 8 天"


def test_snapshots_are_daily_and_a_feed_without_files_is_not_stale() -> None:
    assert not is_stale("residents", NOW - timedelta(hours=25), NOW)
    assert is_stale("residents", NOW - timedelta(hours=27), NOW)
    assert not is_stale("registrations", None, NOW)
    assert set(FEED_INTERVALS) == {"residents", "houses", "registrations", "source_records"}


# ---- one ingest at a time, across processes -------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from wangtai.ingest.core import lock
from wangtai.paths import DataPaths
with lock(DataPaths(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_live_poll_skips_while_another_process_ingests(live_paths: DataPaths) -> None:
    simulator = Simulator(live_paths, seed=3, bad_share=0)
    batch = simulator.registration_batch(5, now=NOW)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(live_paths.root), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "held"
        assert ingest_all(live_paths, wait=False) is None
        worker = LiveIngest(live_paths)
        assert worker.poll_once() is None and worker.skipped == 1
        assert batch.path.exists(), "nothing was read while the other process held the lock"
    finally:
        other.wait(10)
    results = LiveIngest(live_paths).poll_once()
    assert [r.accepted for r in results] == [5]


def test_the_thread_ingests_a_renamed_file_quarantines_a_bad_one_and_ignores_a_half_written_one(
    live_paths: DataPaths,
) -> None:
    inbox = live_paths.feed_inbox("registrations")
    half = inbox / ".still_writing.parquet.tmp"
    half.write_bytes(b"PAR1 not yet")
    (inbox / "broken.parquet").write_bytes(b"this is not parquet")
    batch = Simulator(live_paths, seed=4, bad_share=0).registration_batch(7, now=NOW)
    worker = LiveIngest(live_paths, interval=0.2).start()
    try:
        assert _wait_for(lambda: not (inbox / "broken.parquet").exists() and not batch.path.exists())
    finally:
        worker.stop()
    manifest = {row["file_name"]: row for row in read_manifest(live_paths).to_pylist()}
    assert manifest[batch.path.name]["outcome"] == "accepted"
    assert manifest[batch.path.name]["accepted"] == 7
    assert manifest["broken.parquet"]["outcome"] == "refused" and manifest["broken.parquet"]["reason"]
    assert half.exists() and ".still_writing.parquet.tmp" not in manifest


def test_the_thread_brings_the_runner_up_to_date_before_any_page_asks(
    live_paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wangtai.runner import Runner

    monkeypatch.setenv("WANGTAI_NOW", NOW.isoformat())
    runner = Runner(live_paths)
    before = int(runner.run("overview").iloc[0]["scans_today"])
    changes: list[bool] = []
    worker = LiveIngest(live_paths, interval=0.2, follow=lambda: changes.append(runner.refresh())).start()
    try:
        batch = Simulator(live_paths, seed=8, bad_share=0).registration_batch(7, now=NOW)
        assert _wait_for(lambda: True in changes), "the runner followed the new batch by itself"
    finally:
        worker.stop()
    assert not batch.path.exists()
    assert runner.refresh() is False, "a page asking now finds the tables already current"
    assert int(runner.run("overview").iloc[0]["scans_today"]) == before + 7


def test_the_server_ingests_before_anybody_logs_in(
    live_paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files waiting while the first visitor still looks at the login form are ingested (issue 12, item 9)."""
    from wangtai.live_ingest import stop_process_ingest

    for name, value in {
        "WANGTAI_DATA_DIR": str(live_paths.root),
        "WANGTAI_AUTO_DEMO": "0",
        "WANGTAI_REFRESH_SECONDS": "0",
        "WANGTAI_LIVE_INGEST": "1",
        "WANGTAI_INGEST_POLL": "0.1",
        "WANGTAI_AUTH": "local",  # the login gate is on, and nobody is logged in
    }.items():
        monkeypatch.setenv(name, value)
    batch = Simulator(live_paths, seed=9, bad_share=0).registration_batch(6, now=NOW)
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
    try:
        at.run()
        assert not at.exception
        assert "用户名" in [field.label for field in at.text_input] and not at.metric, "only the login form"
        assert _wait_for(lambda: not batch.path.exists()), "ingested without a login"
    finally:
        stop_process_ingest(live_paths)
    rows = {row["file_name"]: row for row in read_manifest(live_paths).to_pylist()}
    assert rows[batch.path.name]["outcome"] == "accepted" and rows[batch.path.name]["accepted"] == 6


def test_the_live_poll_backs_off_while_ingest_is_paused(live_paths: DataPaths, monkeypatch) -> None:
    """A full disk: each try reads the file again, so the poll spaces its tries out (up to a minute)."""
    import errno
    import os

    import wangtai.ingest.store as store
    from wangtai.ingest import faults

    tries: list[int] = []

    def full(self, *args, **kwargs):
        tries.append(1)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.AtomicParquetWriter, "write", full)
    batch = Simulator(live_paths, seed=10, bad_share=0).registration_batch(6, now=NOW)
    worker = LiveIngest(live_paths, interval=0.05).start()
    try:
        time.sleep(1.5)
    finally:
        worker.stop()
    assert batch.path.exists() and faults.load(live_paths).pause is not None
    assert 1 <= len(tries) <= 6, f"{len(tries)} tries in 1.5 s at a 0.05 s poll: no back-off"
    monkeypatch.undo()
    assert [r.accepted for r in LiveIngest(live_paths).poll_once()] == [6]
    assert faults.load(live_paths).pause is None


# ---- the demo feed --------------------------------------------------------------------------------------


def test_simulated_batches_are_accepted_except_the_deliberately_bad_rows(live_paths: DataPaths) -> None:
    simulator = Simulator(live_paths, seed=5, bad_share=0.2)
    batches = [simulator.registration_batch(40, now=NOW - timedelta(minutes=k)) for k in range(3, 0, -1)]
    assert not list(live_paths.feed_inbox("registrations").glob(".*")), "temporary files renamed away"
    results = {r.file_name: r for r in ingest_all(live_paths)}
    for batch in batches:
        result = results[batch.path.name]
        assert result.accepted == batch.good and result.quarantined == batch.bad
    assert sum(b.bad for b in batches) > 0


def test_one_simulated_batch_in_ten_is_a_clerks_workbook_and_every_row_is_accounted_for(
    live_paths: DataPaths,
) -> None:
    from openpyxl import load_workbook

    simulator = Simulator(live_paths, seed=15, bad_share=0.2)
    batches = [simulator.registration_batch(30, now=NOW - timedelta(minutes=k)) for k in range(10, 0, -1)]
    assert [b.path.suffix for b in batches] == [".parquet"] * 9 + [".xlsx"]
    workbook = batches[-1]
    sheet = load_workbook(workbook.path).active
    assert sheet["A1"].value.startswith("王台街道") and sheet["A2"].value == "扫码编号"
    assert sheet["C3"].data_type == "s" and len(sheet["C3"].value) == 18, "the id number as text"
    assert not list(live_paths.feed_inbox("registrations").glob(".*")), "temporary files renamed away"
    results = {r.file_name: r for r in ingest_all(live_paths)}
    for batch in batches:
        result = results[batch.path.name]
        assert (result.rows_in, result.accepted, result.quarantined, result.duplicates) == (
            batch.rows,
            batch.good,
            batch.bad,
            0,
        ), result.describe()
    assert workbook.bad > 0 and "行号即 Excel 中看到的行号" in results[workbook.path.name].reason
    stored = pq.read_table(
        live_paths.root
        / read_manifest(live_paths)
        .to_pandas()
        .set_index("file_name")
        .loc[workbook.path.name, "quarantine_file"]
    )
    assert min(stored.column("_row").to_pylist()) >= 3, "rows counted as Excel shows them (title, header)"


def test_a_simulated_residents_snapshot_becomes_current_not_held(live_paths: DataPaths) -> None:
    simulator = Simulator(live_paths, seed=6)
    before = pq.read_metadata(simulator.residents_path).num_rows
    path = simulator.residents_snapshot(now=NOW)
    assert pq.read_metadata(path).num_rows > before
    [result] = [r for r in ingest_all(live_paths) if r.feed == "residents"]
    assert result.outcome == "accepted"


# ---- live sections in the app ---------------------------------------------------------------------------


@pytest.fixture
def app_env(demo_paths: DataPaths, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(demo_paths.root))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    monkeypatch.setenv("WANGTAI_LIVE_INGEST", "0")
    monkeypatch.setenv("WANGTAI_AUTH", "off")  # the login gate is tested elsewhere
    return demo_paths


def test_a_rerun_with_unchanged_data_queries_nothing_for_the_live_parts(app_env, monkeypatch) -> None:
    from wangtai.ui import data

    calls: list[str] = []
    original = data.run
    monkeypatch.setattr(data, "run", lambda name, **params: calls.append(name) or original(name, **params))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert calls.count("overview") == 1 and calls.count("data_freshness") == 1
    calls.clear()
    at.run()  # same data version, same minute: the live parts redraw what they drew
    assert not at.exception
    assert "overview" not in calls and "data_freshness" not in calls and "registration_progress" not in calls
    assert "今日扫码" in [m.label for m in at.metric]


def test_live_updates_can_be_paused_from_the_url(app_env) -> None:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
    at.query_params["live"] = "0"
    at.run()
    assert not at.exception
    toggle = at.toggle[0]
    assert toggle.label == "实时更新" and toggle.value is False
    toggle.set_value(True).run()
    assert "live" not in at.query_params
