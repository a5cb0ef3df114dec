"""`wangtai migrate`: a warehouse written by the old code (residents with birth_date and updated_at and a full
id mask for everyone, registrations with id_masked, department records with received_at) is refused by the
readers, rewritten in place by the command, and then gives exactly the figures of a fresh ingest of the same
inbox. So is one written by the birth-year code (full masks of minors, registrations with id_masked). A
second run has nothing to do."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import copy_data
from wangtai.cli import main
from wangtai.contract import REMOVED_COLUMNS
from wangtai.ingest.core import lock
from wangtai.ingest.migrate import migrate, old_format_files
from wangtai.ingest.pii import load_secret, person_keys
from wangtai.ingest.validate import WAREHOUSE_SCHEMAS
from wangtai.paths import DataPaths
from wangtai.runner import QueryError, Runner
from wangtai.warehouse import live_files

# The layouts the old code wrote (wangtai/ingest/validate.py before the birth year; registrations as both the
# old and the birth-year code wrote them).
OLD_RESIDENTS = pa.schema(
    [
        ("batch_id", pa.string()), ("person_key", pa.string()), ("id_masked", pa.string()),
        ("name_masked", pa.string()), ("phone_masked", pa.string()), ("gender", pa.string()),
        ("birth_date", pa.date32()), ("home_region", pa.string()), ("population_type", pa.string()),
        ("community_code", pa.string()), ("unit_id", pa.string()), ("house_id", pa.string()),
        ("lat", pa.float64()), ("lon", pa.float64()), ("cell_id", pa.int64()), ("reason", pa.string()),
        ("arrival_date", pa.date32()), ("status", pa.string()), ("updated_at", pa.timestamp("us")),
    ]
)  # fmt: skip
OLD_SOURCE_RECORDS = pa.schema(
    [
        ("batch_id", pa.string()), ("record_id", pa.string()), ("source", pa.string()),
        ("person_key", pa.string()), ("received_at", pa.timestamp("us")), ("detail", pa.string()),
    ]
)  # fmt: skip
OLD_REGISTRATIONS = pa.schema(
    [
        ("batch_id", pa.string()), ("scan_id", pa.string()), ("scanned_at", pa.timestamp("us")),
        ("person_key", pa.string()), ("id_masked", pa.string()), ("unit_id", pa.string()),
        ("channel", pa.string()), ("site", pa.string()),
    ]
)  # fmt: skip
FIGURES = (
    ("overview", {}),
    ("community_composition", {}),
    ("community_share", {}),
    ("unit_progress", {}),
    ("source_coverage", {}),
    ("registration_progress", {}),
    ("unregistered_newcomers", {}),
)


def _inbox(raw: DataPaths, feed: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(raw.feed_inbox(feed).glob("*.parquet"))])


def _full_mask(ids: pd.Series) -> pd.Series:
    """370211********123X for everyone, as the old code masked."""
    ids = ids.str.upper()
    return ids.str[:6] + "********" + ids.str[14:]


def _write_birth_year_layout(paths: DataPaths, raw: DataPaths) -> None:
    """Rewrite the warehouse's residents and registrations files as the birth-year code wrote them: a full id
    mask for everyone (minors too), registrations with id_masked."""
    residents = _inbox(raw, "residents").drop_duplicates("id_number", keep="last")
    keys = person_keys(pa.array(residents["id_number"].str.upper()), load_secret()).to_pylist()
    by_key = residents.assign(person_key=keys).set_index("person_key")
    for path in live_files(paths.warehouse / "residents"):
        new = pq.read_table(path).to_pandas()
        new["id_masked"] = _full_mask(by_key.loc[new["person_key"], "id_number"]).to_numpy()
        pq.write_table(
            pa.Table.from_pandas(new, preserve_index=False).cast(WAREHOUSE_SCHEMAS["residents"]), path
        )
    scans = _inbox(raw, "registrations").drop_duplicates("scan_id").set_index("scan_id")["id_number"]
    for path in live_files(paths.warehouse / "registrations"):
        new = pq.read_table(path).to_pandas()
        new["id_masked"] = _full_mask(scans.loc[new["scan_id"]]).to_numpy()
        table = pa.Table.from_pandas(new, preserve_index=False).select(OLD_REGISTRATIONS.names)
        pq.write_table(table.cast(OLD_REGISTRATIONS), path)


def _write_old_layout(paths: DataPaths, raw: DataPaths) -> None:
    """Rewrite the warehouse's files as the old code wrote them: the birth-year layout, and besides the birth
    date (from the raw id number), the raw arrival date, updated_at and received_at as delivered."""
    _write_birth_year_layout(paths, raw)
    residents = _inbox(raw, "residents").drop_duplicates("id_number", keep="last")
    keys = person_keys(pa.array(residents["id_number"].str.upper()), load_secret()).to_pylist()
    by_key = residents.assign(person_key=keys).set_index("person_key")
    for path in live_files(paths.warehouse / "residents"):
        new = pq.read_table(path).to_pandas()
        raw_rows = by_key.loc[new["person_key"]]
        new["birth_date"] = pd.to_datetime(raw_rows["id_number"].str[6:14].to_numpy()).date
        new["arrival_date"] = raw_rows["arrival_date"].to_numpy()
        new["updated_at"] = raw_rows["updated_at"].to_numpy()
        pq.write_table(pa.Table.from_pandas(new, preserve_index=False).select(OLD_RESIDENTS.names)
                       .cast(OLD_RESIDENTS), path)  # fmt: skip
    received = _inbox(raw, "source_records").set_index("record_id")["received_at"]
    for path in live_files(paths.warehouse / "source_records"):
        new = pq.read_table(path).to_pandas()
        new["received_at"] = received.loc[new["record_id"]].to_numpy()
        table = pa.Table.from_pandas(new, preserve_index=False).select(OLD_SOURCE_RECORDS.names)
        pq.write_table(table.cast(OLD_SOURCE_RECORDS), path)


@pytest.fixture
def old(demo_raw: DataPaths, demo_paths: DataPaths, tmp_path: Path) -> DataPaths:
    paths = copy_data(demo_paths, tmp_path / "old")
    _write_old_layout(paths, demo_raw)
    return paths


@pytest.fixture
def birth_year_layout(demo_raw: DataPaths, demo_paths: DataPaths, tmp_path: Path) -> DataPaths:
    paths = copy_data(demo_paths, tmp_path / "birth_year")
    _write_birth_year_layout(paths, demo_raw)
    return paths


def _figures(paths: DataPaths) -> dict[str, pd.DataFrame]:
    runner = Runner(paths)
    return {name: runner.run(name, params) for name, params in FIGURES}


def _warehouse_bytes(paths: DataPaths) -> dict[str, bytes]:
    return {p.relative_to(paths.root).as_posix(): p.read_bytes() for p in sorted(paths.warehouse.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_the_old_layout_is_what_the_old_code_wrote(old: DataPaths):
    """The fixture is faithful: every resident has a birth date, and some a raw arrival in the birth year
    (which the old code kept and the new one does not)."""
    files = old_format_files(old)
    assert {p.parent.name for p in files} == {"residents", "registrations", "source_records"}
    res = pq.read_table(live_files(old.warehouse / "residents")[0]).to_pandas()
    assert res["birth_date"].notna().all() and res["updated_at"].notna().all()
    arrival = pd.to_datetime(res["arrival_date"])
    assert (arrival.dt.year == pd.to_datetime(res["birth_date"]).dt.year).any()
    minors = pd.to_datetime(res["birth_date"]).dt.year > 2026 - 18
    assert minors.any() and res["id_masked"].str.fullmatch(r"\d{6}\*{8}\d{3}[\dX]").all()  # full for minors


def test_readers_refuse_the_old_layout_and_say_what_to_do(old: DataPaths):
    runner = Runner(old)
    with pytest.raises(QueryError) as caught:
        runner.run("overview")
    message = str(caught.value)
    assert "wangtai migrate" in message and "旧格式" in message
    with pytest.raises(QueryError, match="wangtai migrate"):
        runner.run("data_freshness")  # every query: none reads the old files
    migrate(old)
    assert runner.run("overview")["residents"].iloc[0] > 0  # the same runner reads it once migrated


def test_migrate_gives_the_figures_of_a_fresh_ingest(old: DataPaths, demo_paths: DataPaths, capsys):
    assert main(["--data-dir", str(old.root), "migrate"]) == 0
    said = capsys.readouterr().out
    assert "已迁移" in said and "birth_date" in said and "id_masked" in said and "隐去末四位" in said
    assert old_format_files(old) == []
    for feed, removed in REMOVED_COLUMNS.items():
        for path in sorted((old.warehouse / feed).iterdir()):
            assert not path.name.startswith("."), path  # no temporary file left
            schema = pq.read_schema(path)
            assert not set(removed) & set(schema.names), path
            assert schema.remove_metadata().equals(WAREHOUSE_SCHEMAS[feed]), path
    # the migrated files hold what a fresh ingest wrote, row for row
    for feed in REMOVED_COLUMNS:
        for fresh in live_files(demo_paths.warehouse / feed):
            migrated = old.warehouse / feed / fresh.name
            assert pq.read_table(migrated).equals(pq.read_table(fresh)), fresh.name
    # the manifest still names every file, with its rows
    manifest = pd.concat(pd.read_parquet(p) for p in live_files(old.warehouse / "manifest"))
    for row in manifest[manifest["feed"] == "residents"].itertuples():
        assert pq.read_metadata(old.root / row.warehouse_file).num_rows == row.accepted
    fresh, migrated = _figures(demo_paths), _figures(old)
    for name, _ in FIGURES:
        pd.testing.assert_frame_equal(migrated[name], fresh[name], obj=name)
    # nothing left to do, and nothing touched
    before = _warehouse_bytes(old)
    assert main(["--data-dir", str(old.root), "migrate"]) == 0
    assert "无需迁移" in capsys.readouterr().out
    assert _warehouse_bytes(old) == before


def test_migrate_waits_for_the_ingest_lock_and_removes_leftovers(old: DataPaths):
    leftover = old.warehouse / "residents" / ".20261127T000000000000-residents-00000000.parquet.1a2b3c4d.tmp"
    leftover.write_bytes(b"half a file from a killed run")
    done = []
    held = lock(old)
    held.acquire()
    try:
        worker = threading.Thread(target=lambda: done.append(migrate(old)))
        worker.start()
        time.sleep(0.5)
        assert not done and old_format_files(old)  # still waiting: ingest owns the warehouse
    finally:
        held.release()
    worker.join(30)
    assert done and done[0].files and done[0].leftovers_removed == 1
    assert not leftover.exists() and old_format_files(old) == []


def test_migrate_shortens_the_masks_of_minors_and_drops_the_scans_masks(
    birth_year_layout: DataPaths, demo_paths: DataPaths
):
    """The birth-year code's warehouse: no removed field among residents, but minors' masks showed the
    sequence digits and the check character, and every scan kept a full mask. migrate shortens the masks of
    the people under 18 in the year of their row's batch (from the stored birth year: a mask cannot be
    recomputed from a mask), leaves adults' alone, and drops the scans' masks."""
    old = birth_year_layout
    [residents_file] = live_files(old.warehouse / "residents")
    assert residents_file in old_format_files(old)  # found by its masks: its footer is current
    assert (old.warehouse / "registrations") in {p.parent for p in old_format_files(old)}
    with pytest.raises(QueryError, match="wangtai migrate"):
        Runner(old).run("overview")  # the scans' masks are a removed field: refused until migrated
    before = pq.read_table(residents_file).to_pandas()
    minor = before["birth_year"] > 2026 - 18
    assert minor.any() and (~minor).any()
    done = migrate(old)
    assert done.masks_shortened == minor.sum() and "id_masked" in done.removed
    after = pq.read_table(residents_file).to_pandas()
    assert (after["id_masked"][minor] == before["id_masked"][minor].str[:14] + "****").all()
    assert after["id_masked"][minor].str.fullmatch(r"\d{6}\*{12}").all()
    assert (after["id_masked"][~minor] == before["id_masked"][~minor]).all()  # adults: unchanged
    for path in live_files(old.warehouse / "registrations"):
        assert "id_masked" not in pq.read_schema(path).names
    for feed in ("residents", "registrations"):  # what a fresh ingest writes, row for row
        for fresh in live_files(demo_paths.warehouse / feed):
            assert pq.read_table(old.warehouse / feed / fresh.name).equals(pq.read_table(fresh)), fresh.name
    assert old_format_files(old) == [] and not migrate(old).files
