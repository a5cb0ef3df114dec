"""Ingest against small hostile fixtures built here (DATA_CONTRACT.md §4, §5; docs/architecture.md)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wangtai.contract import BOUNDS, FEEDS
from wangtai.idnumber import check_char
from wangtai.ingest import IngestError, accept_held, ingest_all, list_held, watch
from wangtai.ingest.pii import mask_names, mask_phones
from wangtai.paths import DataPaths, secret_file
from wangtai.warehouse import live_files

NOW = datetime(2026, 11, 27, 10, 30, 0)
COMMUNITIES = ["370211100200", "370211100201", "370211100001"]
UNITS = ["U-200", "U-201", "U-001", "E-01"]


# ---------------------------------------------------------------- fixtures built in code


def make_id(n: int, region: str = "370211", born: str = "19900101") -> str:
    first17 = f"{region}{born}{n % 1000:03d}"
    return first17 + check_char(first17)


def write_reference(paths: DataPaths) -> None:
    paths.ensure()
    pd.DataFrame(
        {
            "community_code": COMMUNITIES,
            "name": ["王台东村", "王台西村", "台东路社区"],
            "kind": ["村委会", "村委会", "居委会"],
            "area": ["中心片区", "中心片区", "东片区"],
        }
    ).to_parquet(paths.reference / "communities.parquet")
    (paths.reference / "units.csv").write_text(
        "unit_id,name,unit_type,community_code,admin_name,admin_phone,lat,lon\n"
        "U-200,王台东村,网格村,370211100200,王小明,13812345678,36.07,120.00\n"
        "U-201,王台西村,网格村,370211100201,欧阳娜娜,13912345678,36.071,119.99\n"
        "U-001,台东路社区,居委会,370211100001,李四,13712345678,36.08,120.01\n"
        "E-01,某某电子,企业,370211100200,赵六,13612345678,36.06,120.02\n",
        encoding="utf-8",
    )
    square = lambda x, y: {  # noqa: E731
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]],
    }
    features = [
        {"type": "Feature", "properties": {"community_code": c}, "geometry": square(119.99 + i * 0.01, 36.06)}
        for i, c in enumerate(COMMUNITIES)
    ]
    (paths.reference / "boundaries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    (paths.reference / "campaign.toml").write_text(
        'name = "一家亲扫码登记"\nstart = 2026-09-01\ndeadline = 2026-12-31\ntarget_rate = 0.9\n',
        encoding="utf-8",
    )


def residents(n: int, start: int = 0) -> pd.DataFrame:
    idx = range(start, start + n)
    return pd.DataFrame(
        {
            "id_number": [make_id(i, born=f"19{50 + i // 1000 % 50:02d}0101") for i in idx],
            "name": [("欧阳" if i % 5 == 0 else "张") + "三丰" for i in idx],
            "phone": [f"138{i:08d}" if i % 3 else None for i in idx],
            "population_type": ["流动人口" if i % 2 else "户籍人口" for i in idx],
            "community_code": [COMMUNITIES[i % 3] for i in idx],
            "unit_id": [UNITS[i % 4] for i in idx],
            "house_id": [f"H{i % 50:04d}" for i in idx],
            "lat": [36.05 + (i % 100) * 0.0005 for i in idx],
            "lon": [119.98 + (i % 100) * 0.0005 for i in idx],
            "reason": ["务工" if i % 2 else None for i in idx],
            "arrival_date": [date(2025, 1, 1) if i % 2 else None for i in idx],
            "status": ["在住"] * n,
            "updated_at": [NOW - timedelta(days=1)] * n,
        }
    )


def houses(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "house_id": [f"H{i:04d}" for i in range(n)],
            "community_code": [COMMUNITIES[i % 3] for i in range(n)],
            "estate": [None if i % 2 else "王台花园" for i in range(n)],
            "address": [f"王台路{i}号" for i in range(n)],
            "lat": [36.07] * n,
            "lon": [120.0] * n,
            "house_type": ["出租" if i % 2 else "自住" for i in range(n)],
            "archive_status": ["已建档"] * n,
            "occupants": [i % 5 for i in range(n)],
            "surveyed_at": [date(2026, 10, 1)] * n,
        }
    )


def registrations(n: int, start: int = 0) -> pd.DataFrame:
    idx = range(start, start + n)
    return pd.DataFrame(
        {
            "scan_id": [f"S{i:06d}" for i in idx],
            "scanned_at": [NOW - timedelta(hours=1)] * n,
            "id_number": [make_id(i) for i in idx],
            "unit_id": [UNITS[i % 4] for i in idx],
            "channel": ["扫码自助"] * n,
            "site": ["建筑工地"] * n,
        }
    )


def source_records(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"R{i:06d}" for i in range(n)],
            "source": ["公安"] * n,
            "id_number": [make_id(i) for i in range(n)],
            "received_at": [NOW - timedelta(days=2)] * n,
            "detail": ["暂住登记"] * n,
        }
    )


MAKERS = {
    "residents": residents,
    "houses": houses,
    "registrations": registrations,
    "source_records": source_records,
}


def drop(
    paths: DataPaths, feed: str, frame: pd.DataFrame | None, name: str, raw: bytes | None = None
) -> Path:
    """Put a file into the inbox the way a well-behaved writer does (temp name, then rename)."""
    folder = paths.feed_inbox(feed)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    if raw is not None:
        tmp.write_bytes(raw)
    else:
        frame.to_parquet(tmp, index=False)
    target = folder / name
    os.replace(tmp, target)
    return target


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    data = DataPaths(tmp_path / "data")
    write_reference(data)
    return data


def manifest(paths: DataPaths) -> pd.DataFrame:
    files = live_files(paths.warehouse / "manifest")  # a compacted segment, not the files it superseded
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def quarantined_rows(paths: DataPaths, feed: str) -> pd.DataFrame:
    files = sorted(f for f in (paths.quarantine / feed).glob("*.parquet") if "__" not in f.name)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def warehouse(paths: DataPaths, feed: str) -> pd.DataFrame:
    files = live_files(paths.warehouse / feed)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def balanced(result) -> bool:
    return result.rows_in == result.accepted + result.quarantined + result.duplicates


def listing(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- good data


def test_clean_files_accepted_in_every_feed(paths: DataPaths) -> None:
    for feed, maker in MAKERS.items():
        drop(paths, feed, maker(20), f"{feed}_1.parquet")
    results = ingest_all(paths, now=NOW)
    assert [r.feed for r in results] == list(FEEDS)
    for r in results:
        assert r.outcome == "accepted", r.describe()
        assert (r.rows_in, r.accepted, r.quarantined, r.duplicates) == (20, 20, 0, 0)
        assert "已入库" in r.describe()
        assert (paths.archive / r.feed / f"{r.batch_id}__{r.file_name}").exists()
        assert not list(paths.feed_inbox(r.feed).iterdir())
    m = manifest(paths)
    assert list(m.columns[:5]) == ["batch_id", "feed", "file_name", "sha256", "ingested_at"]
    assert (m.rows_in == m.accepted + m.quarantined + m.duplicates).all()
    assert m.batch_id.is_monotonic_increasing
    for batch_id, feed in zip(m.batch_id, m.feed, strict=True):
        assert re.fullmatch(rf"\d{{8}}T\d{{12}}-{feed}-[0-9a-f]{{8}}", batch_id)

    res = warehouse(paths, "residents")
    assert not {"id_number", "name", "phone"} & set(res.columns)
    assert res.person_key.str.fullmatch(r"[0-9a-f]{64}").all()
    row = res.iloc[0]
    assert row.id_masked == make_id(0, born="19500101")[:6] + "********" + make_id(0, born="19500101")[14:]
    assert row.name_masked == "欧阳**"  # 欧阳三丰 → compound surname kept
    assert res.iloc[1].name_masked == "张**"
    assert res.iloc[1].phone_masked == "138****0001"
    assert pd.isna(res.iloc[0].phone_masked)
    assert row.gender in ("男", "女") and row.home_region == "370211"
    # the birth year, never the date: the 8 hidden digits of the mask (DATA_CONTRACT.md §5)
    assert row.birth_year == 1950 and "birth_date" not in res.columns
    assert row.cell_id == int((36.05 // 0.0015) * 1_000_000 + (119.98 // 0.002))
    regs = warehouse(paths, "registrations")
    assert "id_masked" not in regs.columns  # the one id mask kept is the residents' (no query uses another)
    # the same id number (make_id(0): scan S000000, record R000000) gets the same person_key in every feed
    srcs = warehouse(paths, "source_records")
    assert (
        regs.loc[regs.scan_id == "S000000", "person_key"].iloc[0]
        == srcs.loc[srcs.record_id == "R000000", "person_key"].iloc[0]
    )
    assert warehouse(paths, "houses").cell_id.notna().all()


def test_reference_tables(paths: DataPaths) -> None:
    ingest_all(paths, now=NOW)
    ref = paths.warehouse / "reference"
    communities = pd.read_parquet(ref / "communities.parquet")
    assert list(communities.columns) == ["community_code", "community_name", "kind", "area", "assumed"]
    units = pd.read_parquet(ref / "units.parquet")
    assert list(units.columns) == [
        "unit_id", "unit_name", "unit_type", "community_code",
        "admin_name_masked", "admin_phone_masked", "lat", "lon",
    ]  # fmt: skip
    assert units.admin_name_masked.tolist() == ["王**", "欧阳**", "李*", "赵*"]
    assert units.admin_phone_masked.iloc[0] == "138****5678"
    boundaries = pd.read_parquet(ref / "boundaries.parquet")
    assert boundaries.centroid_lat.iloc[0] == pytest.approx(36.065)
    assert json.loads(boundaries.geojson.iloc[0])["type"] == "Polygon"
    campaign = pd.read_parquet(ref / "campaign.parquet")
    assert campaign.start.iloc[0] == date(2026, 9, 1) and campaign.target_rate.iloc[0] == 0.9
    # unchanged sources are not rewritten; a changed one is
    stamps = {p.name: p.stat().st_mtime_ns for p in ref.iterdir()}
    time.sleep(0.01)
    ingest_all(paths, now=NOW)
    assert stamps == {p.name: p.stat().st_mtime_ns for p in ref.iterdir()}
    (paths.reference / "campaign.toml").write_text(
        'name = "一家亲扫码登记"\nstart = 2026-09-01\ndeadline = 2026-12-31\ntarget_rate = 0.8\n',
        encoding="utf-8",
    )
    ingest_all(paths, now=NOW)
    assert pd.read_parquet(ref / "campaign.parquet").target_rate.iloc[0] == 0.8
    assert stamps["units.parquet"] == (ref / "units.parquet").stat().st_mtime_ns


def test_missing_reference_is_a_clear_error(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path).ensure()
    drop(paths, "houses", houses(3), "h.parquet")
    with pytest.raises(IngestError, match="communities"):
        ingest_all(paths, now=NOW)
    assert (paths.feed_inbox("houses") / "h.parquet").exists()


# ---------------------------------------------------------------- whole files refused


def _truncated(frame: pd.DataFrame, tmp: Path) -> bytes:
    frame.to_parquet(tmp)
    data = tmp.read_bytes()
    return data[: len(data) // 2]


def _lat_as_text() -> pd.DataFrame:
    frame = houses(5)
    frame["lat"] = ["36.07", "abc", "36.07", "36.07", "36.07"]
    return frame


def _missing_columns() -> pd.DataFrame:
    return houses(5).drop(columns=["archive_status", "occupants"])


FILE_CASES = {
    "corrupt_bytes": (b"this is not parquet at all \x00\x01", None, ["无法读取", "损坏或被截断"]),
    "truncated": ("truncated", None, ["无法读取", "损坏或被截断"]),
    "missing_column": (None, _missing_columns(), ["缺少必需列", "archive_status", "occupants"]),
    "wrong_type": (None, _lat_as_text(), ["纬度（lat）", "小数", "第 2 行起"]),  # never the value "abc"
    "fractional_int": (None, houses(5).assign(occupants=[2, 3, 1.5, 4, 5]), ["居住人数", "第 3 行起"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_file_refused_whole(paths: DataPaths, case: str, tmp_path: Path) -> None:
    raw, frame, words = FILE_CASES[case]
    if raw == "truncated":
        raw = _truncated(houses(50), tmp_path / "t.parquet")
    drop(paths, "houses", frame, f"{case}.parquet", raw=raw)
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused"
    assert balanced(result) and result.accepted == 0
    assert f"{case}.parquet" in result.reason
    for word in words:
        assert word in result.reason, result.reason
    assert "abc" not in result.reason and "1.5" not in result.reason
    kept = paths.quarantine / "houses" / f"{result.batch_id}__{case}.parquet"
    assert kept.exists()
    assert not (paths.warehouse / "houses").exists() or not list((paths.warehouse / "houses").iterdir())
    row = manifest(paths).iloc[0]
    assert row.outcome == "refused" and row.quarantine_file == f"quarantine/houses/{kept.name}"
    assert pd.isna(row.archive_file) and pd.isna(row.warehouse_file)


def test_extra_columns_ignored_and_castable_types_accepted(paths: DataPaths) -> None:
    frame = houses(4)
    frame["extra"] = "whatever"
    frame["lat"] = frame["lat"].astype(str)  # "36.07" casts to double
    frame["surveyed_at"] = pd.to_datetime(frame["surveyed_at"])  # timestamp → date
    frame["occupants"] = frame["occupants"].astype("int32")
    drop(paths, "houses", frame, "h.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "accepted" and result.accepted == 4, result.describe()
    assert "extra" not in warehouse(paths, "houses").columns


# ---------------------------------------------------------------- rows refused


def _bad(feed: str, n: int, **changes) -> pd.DataFrame:
    frame = MAKERS[feed](n)
    frame = frame.astype(object)
    for column, value in changes.items():
        frame.at[0, column] = value
    return frame


ROW_CASES = {
    "bad_check_char": ("residents", {"id_number": make_id(0, born="19500101")[:17] + "0"}, "校验位错误"),
    "malformed_id": ("residents", {"id_number": "37021119900101"}, "格式错误"),
    "impossible_birth": ("registrations", {"id_number": make_id(1, born="19900230")}, "出生日期"),
    "future_birth": ("registrations", {"id_number": make_id(1, born="20300101")}, "出生日期"),
    "unknown_community": ("houses", {"community_code": "370211999999"}, "未知社区"),
    "unknown_unit": ("registrations", {"unit_id": "NOPE"}, "未知单元"),
    "swapped": ("houses", {"lat": 120.0, "lon": 36.07}, "疑似颠倒"),
    "outside": ("houses", {"lat": 31.2, "lon": 121.5}, "不在王台街道范围内"),
    "future_time": ("registrations", {"scanned_at": NOW + timedelta(minutes=6)}, "超过 5 分钟"),
    "future_date": ("houses", {"surveyed_at": date(2026, 12, 1)}, "将来的日期"),
    "bad_enum": ("registrations", {"channel": "微信"}, "登记渠道（channel）的取值不在允许范围内"),
    "bad_enum_nullable": ("residents", {"reason": "旅游"}, "来王台原因（reason）的取值不在允许范围内"),
    "negative": ("houses", {"occupants": -1}, "不能为负数"),
    "null_required": ("source_records", {"detail": None}, "事项（detail）为空"),
    "empty_required": ("houses", {"address": "  "}, "地址（address）为空"),
    "bad_phone": ("residents", {"phone": "12345"}, "电话（phone）应为 11 位数字"),
}


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_row_refused_with_reason(paths: DataPaths, case: str) -> None:
    feed, changes, words = ROW_CASES[case]
    frame = _bad(feed, 60, **changes)
    drop(paths, feed, frame, f"{case}.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert (result.quarantined, result.accepted, result.duplicates) == (1, 59, 0), result.describe()
    assert balanced(result)
    bad = quarantined_rows(paths, feed)
    assert bad._row.tolist() == [0]
    assert words in bad._reasons.iloc[0], bad._reasons.iloc[0]
    assert all(bad.dtypes[c] != "float64" for c in frame.columns)  # original values kept as text
    assert len(warehouse(paths, feed)) == 59
    m = manifest(paths).iloc[0]
    assert m.quarantine_file == f"quarantine/{feed}/{result.batch_id}.parquet"


def test_all_reasons_of_a_row_are_joined(paths: DataPaths) -> None:
    frame = _bad("houses", 10, community_code="X", occupants=-3, house_type="别墅")
    drop(paths, "houses", frame, "h.parquet")
    ingest_all(paths, now=NOW)
    reasons = quarantined_rows(paths, "houses")._reasons.iloc[0]
    assert reasons.count("；") == 2
    for word in ("未知社区", "不能为负数", "house_type"):
        assert word in reasons


def test_time_within_tolerance_is_accepted(paths: DataPaths) -> None:
    frame = _bad("registrations", 3, scanned_at=NOW + timedelta(minutes=4))
    drop(paths, "registrations", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.accepted == 3


def test_lowercase_x_check_char_is_normalised(paths: DataPaths) -> None:
    ids = [i for i in range(200) if make_id(i).endswith("X")]
    frame = registrations(1, start=ids[0])
    frame["id_number"] = frame["id_number"].str.lower()
    drop(paths, "registrations", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.accepted == 1


# ---------------------------------------------------------------- duplicates


def test_duplicate_key_within_file_keeps_first(paths: DataPaths) -> None:
    frame = pd.concat([registrations(10), registrations(3)], ignore_index=True)
    frame.loc[10:, "channel"] = "入户登记"
    drop(paths, "registrations", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert (result.rows_in, result.accepted, result.duplicates, result.quarantined) == (13, 10, 3, 0)
    assert (warehouse(paths, "registrations").channel == "扫码自助").all()


def test_duplicate_id_within_snapshot(paths: DataPaths) -> None:
    frame = pd.concat([residents(100), residents(1)], ignore_index=True)
    drop(paths, "residents", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert (result.accepted, result.duplicates, result.outcome) == (100, 1, "accepted")


def test_duplicate_key_across_files(paths: DataPaths) -> None:
    drop(paths, "registrations", registrations(10), "a.parquet")
    ingest_all(paths, now=NOW)
    drop(paths, "registrations", registrations(10, start=5), "b.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert (result.accepted, result.duplicates) == (5, 5) and balanced(result)
    assert warehouse(paths, "registrations").scan_id.is_unique


def test_duplicate_file(paths: DataPaths) -> None:
    frame = source_records(7)
    drop(paths, "source_records", frame, "a.parquet")
    [first] = ingest_all(paths, now=NOW)
    data = (paths.archive / "source_records" / f"{first.batch_id}__a.parquet").read_bytes()
    drop(paths, "source_records", None, "a_again.parquet", raw=data)
    [again] = ingest_all(paths, now=NOW)
    assert again.outcome == "duplicate_file" and again.batch_id != first.batch_id
    assert (again.rows_in, again.duplicates, again.accepted) == (7, 7, 0)
    assert "a.parquet" in again.reason
    assert (paths.archive / "source_records" / f"{again.batch_id}__a_again.parquet").exists()
    assert len(warehouse(paths, "source_records")) == 7


# ---------------------------------------------------------------- held snapshots


def _current_residents(paths: DataPaths) -> str:
    m = manifest(paths)
    m = m[m.feed == "residents"]
    decisions = paths.warehouse / "decisions"
    accepted = set()
    if decisions.exists():
        accepted = {b for f in decisions.glob("*.parquet") for b in pd.read_parquet(f).batch_id}
    current = m[(m.outcome == "accepted") | m.batch_id.isin(accepted)]
    return current.sort_values("ingested_at").batch_id.iloc[-1]


def test_shrinking_snapshot_is_held_until_accepted(paths: DataPaths) -> None:
    drop(paths, "residents", residents(100), "r1.parquet")
    [first] = ingest_all(paths, now=NOW)
    drop(paths, "residents", residents(70), "r2.parquet")
    [second] = ingest_all(paths, now=NOW)
    assert second.outcome == "held" and second.accepted == 70
    assert "80%" in second.reason and "r1.parquet" in second.reason
    assert "暂挂" in second.describe()
    assert (paths.warehouse / "residents" / f"{second.batch_id}.parquet").exists()
    assert _current_residents(paths) == first.batch_id
    held = list_held(paths)
    assert held.batch_id.tolist() == [second.batch_id]
    assert held.reason.iloc[0] == second.reason

    accept_held(paths, second.batch_id, operator="王主任")
    assert _current_residents(paths) == second.batch_id
    assert list_held(paths).empty
    decision = pd.read_parquet(next((paths.warehouse / "decisions").glob("*.parquet")))
    assert decision[["batch_id", "decision", "operator"]].values.tolist() == [
        [second.batch_id, "accept", "王主任"]
    ]
    # the 80% rule now measures against the accepted snapshot
    drop(paths, "residents", residents(60), "r3.parquet")
    [third] = ingest_all(paths, now=NOW)
    assert third.outcome == "accepted"


def test_snapshot_with_many_refused_rows_is_held(paths: DataPaths) -> None:
    frame = residents(100).astype(object)
    frame.loc[:2, "community_code"] = "000000000000"  # 3% refused
    drop(paths, "residents", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "held" and result.quarantined == 3
    assert "3.0%" in result.reason and "2%" in result.reason


def test_accept_held_errors(paths: DataPaths) -> None:
    with pytest.raises(IngestError, match="找不到批次"):
        accept_held(paths, "nope", operator="x")
    drop(paths, "houses", houses(10), "h.parquet")
    [result] = ingest_all(paths, now=NOW)
    with pytest.raises(IngestError, match="不是待确认的快照"):
        accept_held(paths, result.batch_id, operator="x")
    drop(paths, "houses", houses(5), "h2.parquet")
    [held] = ingest_all(paths, now=NOW)
    accept_held(paths, held.batch_id, operator="x")
    with pytest.raises(IngestError, match="已被接受"):
        accept_held(paths, held.batch_id, operator="x")


# ---------------------------------------------------------------- idempotency, atomicity, privacy


def test_ingesting_twice_changes_nothing(paths: DataPaths) -> None:
    for feed, maker in MAKERS.items():
        drop(paths, feed, maker(30), f"{feed}.parquet")
    drop(paths, "houses", None, "junk.parquet", raw=b"junk")
    ingest_all(paths, now=NOW)
    before = (
        listing(paths.root / "warehouse"),
        listing(paths.root / "quarantine"),
        listing(paths.root / "archive"),
    )
    assert ingest_all(paths, now=NOW) == []
    after = (
        listing(paths.root / "warehouse"),
        listing(paths.root / "quarantine"),
        listing(paths.root / "archive"),
    )
    assert before == after


def test_leaves_temporary_files_alone_and_accounts_for_every_other_file(paths: DataPaths) -> None:
    drop(paths, "houses", houses(3), ".partial.parquet")
    for name in ("~$登记表.xlsx", "下载中.xlsx.crdownload", "Thumbs.db"):
        (paths.feed_inbox("houses") / name).write_bytes(b"whatever")
    (paths.feed_inbox("houses") / "notes.txt").write_text("hello")  # read as text: no header in it
    [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "notes.txt" and result.outcome == "refused" and "表头" in result.reason
    left = {p.name for p in paths.feed_inbox("houses").iterdir()}
    assert left == {".partial.parquet", "~$登记表.xlsx", "下载中.xlsx.crdownload", "Thumbs.db"}
    assert ingest_all(paths, now=NOW) == []


def test_files_processed_in_time_order(paths: DataPaths) -> None:
    b = drop(paths, "residents", residents(100), "b.parquet")
    a = drop(paths, "residents", residents(100, start=1000), "a.parquet")
    os.utime(b, (1_000_000, 1_000_000))
    os.utime(a, (2_000_000, 2_000_000))
    results = ingest_all(paths, now=NOW)
    assert [r.file_name for r in results] == ["b.parquet", "a.parquet"]
    assert _current_residents(paths) == results[1].batch_id


def test_file_renamed_in_during_ingest_is_never_half_read(paths: DataPaths) -> None:
    """Writers rename complete files into the inbox while ingest runs: each is processed whole or later."""
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 40:
            drop(paths, "registrations", registrations(500, start=i * 500), f"r{i:03d}.parquet")
            written.append(500)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    results = []
    try:
        while thread.is_alive():
            results += ingest_all(paths, now=NOW)
    finally:
        stop.set()
        thread.join()
    results += ingest_all(paths, now=NOW)
    assert all(r.outcome == "accepted" and r.accepted == 500 for r in results), [
        r.describe() for r in results
    ]
    assert sum(r.accepted for r in results) == sum(written)
    assert len(warehouse(paths, "registrations")) == sum(written)


def test_file_still_being_written_is_left_for_next_run(paths: DataPaths, tmp_path: Path) -> None:
    """A non-atomic writer: the file is unreadable and still growing — leave it, don't refuse it."""
    full = tmp_path / "full.parquet"
    registrations(2000).to_parquet(full)
    data = full.read_bytes()
    target = paths.feed_inbox("registrations") / "slow.parquet"
    target.write_bytes(data[:100])

    def finish_writing() -> None:
        time.sleep(0.2)
        with open(target, "ab") as handle:
            handle.write(data[100:])

    thread = threading.Thread(target=finish_writing)
    thread.start()
    first = ingest_all(paths, now=NOW)
    thread.join()
    assert first == []
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "accepted" and result.accepted == 2000


def test_watch_ingests_then_stops(paths: DataPaths) -> None:
    stop = threading.Event()
    lines: list[str] = []
    thread = threading.Thread(target=watch, args=(paths, 0.05, stop), kwargs={"report": lines.append})
    thread.start()
    drop(paths, "houses", houses(3), "h.parquet")
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert lines and "h.parquet" in lines[0]


def test_no_raw_personal_data_in_warehouse(paths: DataPaths) -> None:
    frames = {feed: maker(50) for feed, maker in MAKERS.items()}
    bad = frames["residents"].astype(object)
    bad.at[3, "community_code"] = "bad"
    frames["residents"] = bad
    for feed, frame in frames.items():
        drop(paths, feed, frame, f"{feed}.parquet")
    ingest_all(paths, now=NOW)
    secrets = set()
    for frame in frames.values():
        for column in ("id_number", "name", "phone"):
            if column in frame:
                secrets |= {str(v) for v in frame[column].dropna()}
    # the admins in the units reference
    secrets |= {"王小明", "欧阳娜娜", "13812345678"}
    texts = []
    for file in (paths.warehouse).rglob("*.parquet"):
        table = pq.read_table(file)
        texts += [str(v) for column in table.columns for v in column.to_pylist()]
        texts.append(str(table.schema.metadata))
    blob = "\n".join(texts)
    assert not re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", blob)  # (hex digests excluded)
    leaked = [s for s in secrets if s in blob]
    assert not leaked


def test_arrival_in_the_birth_year_is_not_stored(paths: DataPaths) -> None:
    """A child born here arrives on its birth date: stored beside the birth year and the mask, that date would
    complete the id number. An arrival in the birth year is left empty; a later one is kept as it came."""
    frame = residents(4)
    frame["id_number"] = [make_id(i, born=born) for i, born in enumerate(
        ["20250301", "20250301", "19900101", "20241231"]
    )]  # fmt: skip
    frame["population_type"] = "流动人口"
    frame["arrival_date"] = [date(2025, 3, 1), date(2026, 1, 2), date(2025, 1, 1), date(2024, 12, 31)]
    drop(paths, "residents", frame, "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.accepted == 4
    res = warehouse(paths, "residents")
    assert res.birth_year.tolist() == [2025, 2025, 1990, 2024]
    arrivals = [None if pd.isna(v) else v for v in res.arrival_date]
    assert arrivals == [None, date(2026, 1, 2), date(2025, 1, 1), None]


def test_a_minors_id_mask_hides_the_sequence_and_check_character(paths: DataPaths) -> None:
    """Under 18 in the year of ingest (born after 2008 for an ingest in 2026): 370211************. A stored
    event in the birth year (a scan, the ingest time) bounds a baby's birth date, and the last four
    characters would complete it (DATA_CONTRACT.md §5). An adult's mask is unchanged: 370211********123X."""
    born = ["20081231", "20090101", "20260105", "19900101"]
    frame = residents(len(born))
    frame["id_number"] = [make_id(i, born=b) for i, b in enumerate(born)]
    frame["arrival_date"] = None
    drop(paths, "residents", frame, "r.parquet")
    drop(paths, "registrations", registrations(len(born)).assign(id_number=frame["id_number"]), "s.parquet")
    assert [r.accepted for r in ingest_all(paths, now=NOW)] == [len(born)] * 2
    res = warehouse(paths, "residents")
    ids = frame["id_number"].tolist()
    assert res.birth_year.tolist() == [2008, 2009, 2026, 1990]
    assert (
        res.id_masked.tolist()
        == [
            ids[0][:6] + "********" + ids[0][14:],  # 18 in 2026: an adult
            ids[1][:6] + "*" * 12,  # 17 in 2026
            ids[2][:6] + "*" * 12,
            ids[3][:6] + "********" + ids[3][14:],
        ]
    )
    assert "id_masked" not in warehouse(paths, "registrations").columns


def test_secret_created_private(paths: DataPaths) -> None:
    drop(paths, "registrations", registrations(2), "r.parquet")
    ingest_all(paths, now=NOW)
    key = secret_file()
    assert key.exists() and len(key.read_bytes()) == 32
    assert key.stat().st_mode & 0o777 == 0o600


def test_name_masks() -> None:
    names = pa.array(["张三", "欧阳娜娜", "欧阳", "诸葛亮", "李", None, "买买提·艾力"])
    assert mask_names(names).to_pylist() == ["张*", "欧阳**", "欧*", "诸葛*", "李*", None, "买*****"]


def test_phone_masks() -> None:
    phones = pa.array(["13812345678", "0532-86123456", "12345", None])
    assert mask_phones(phones).to_pylist() == ["138****5678", "053****3456", "****", None]


def test_crash_between_manifest_and_move_is_recovered(paths: DataPaths, monkeypatch) -> None:
    """The manifest row is written before the inbox file moves; a crash in between is finished next run."""
    import wangtai.ingest.core as core

    drop(paths, "houses", houses(5), "h.parquet")
    real = core._release

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "_release", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest_all(paths, now=NOW)
    monkeypatch.setattr(core, "_release", real)
    assert (paths.feed_inbox("houses") / "h.parquet").exists()
    assert ingest_all(paths, now=NOW) == []
    assert not (paths.feed_inbox("houses") / "h.parquet").exists()
    row = manifest(paths).iloc[0]
    assert len(manifest(paths)) == 1 and (paths.root / row.archive_file).exists()


def test_timezone_and_text_timestamps_are_cast(paths: DataPaths) -> None:
    frame = registrations(3)
    frame["scanned_at"] = (
        pd.to_datetime(frame["scanned_at"]).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    )
    drop(paths, "registrations", frame, "tz.parquet")
    text = registrations(2, start=10)
    text["scanned_at"] = text["scanned_at"].astype(str)
    drop(paths, "registrations", text, "text.parquet")
    results = ingest_all(paths, now=NOW)
    assert [r.accepted for r in results] == [3, 2] or [r.accepted for r in results] == [2, 3]
    stored = warehouse(paths, "registrations")
    assert (stored.scanned_at == pd.Timestamp(NOW - timedelta(hours=1))).all()


def test_bounds_constant_matches_fixture() -> None:
    assert BOUNDS["lat_min"] < 36.05 < BOUNDS["lat_max"]
