"""The demo data generator writes what the source systems would: contract-exact, valid, plausible."""

import csv
import json
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import shape

from wangtai import contract, idnumber
from wangtai.contract import ARROW_TYPES
from wangtai.demo import generate
from wangtai.demo.events import CAMPAIGN_START
from wangtai.paths import DataPaths

NOW = datetime(2026, 11, 27, 10, 30)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    paths = DataPaths(tmp_path_factory.mktemp("demo_clean"))
    generate(paths, residents=4_000, seed=11, bad_rows=0.0, now=NOW)
    return paths


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    paths = DataPaths(tmp_path_factory.mktemp("demo_dirty"))
    generate(paths, residents=4_000, seed=11, bad_rows=0.005, now=NOW)
    return paths


def feed(paths: DataPaths, name: str) -> pd.DataFrame:
    files = sorted(paths.feed_inbox(name).glob("*.parquet"))
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)


def reference(paths: DataPaths, name: str) -> pd.DataFrame:
    return pq.read_table(paths.reference / f"{name}.parquet").to_pandas()


def cells(paths: DataPaths) -> dict[str, shapely.Geometry]:
    collection = json.loads((paths.reference / "boundaries.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["community_code"]: shape(f["geometry"]) for f in collection["features"]}


def invalid_rows(paths: DataPaths, name: str) -> pd.Series:
    """Rows that break DATA_CONTRACT.md §4 (what ingest would refuse), as a boolean Series."""
    frame = feed(paths, name)
    communities = set(reference(paths, "communities").community_code)
    units = set(reference(paths, "units").unit_id)
    bad = pd.Series(False, index=frame.index)
    for column in contract.FEEDS[name].columns:
        values = frame[column.name]
        if not column.nullable:
            bad |= values.isna()
        if column.enum:
            bad |= values.notna() & ~values.isin(column.enum)
    if "id_number" in frame:
        bad |= ~frame.id_number.map(idnumber.is_valid)
    if "community_code" in frame:
        bad |= ~frame.community_code.isin(communities)
    if "unit_id" in frame:
        bad |= ~frame.unit_id.isin(units)
    if "lat" in frame:
        b = contract.BOUNDS
        bad |= ~frame.lat.between(b["lat_min"], b["lat_max"]) | ~frame.lon.between(b["lon_min"], b["lon_max"])
    for column in ("updated_at", "scanned_at", "received_at"):
        if column in frame:
            bad |= frame[column] > pd.Timestamp(NOW)
    if "surveyed_at" in frame:
        bad |= pd.to_datetime(frame.surveyed_at) > pd.Timestamp(NOW)
    if "occupants" in frame:
        bad |= frame.occupants < 0
    return bad


def test_reference_tables(clean: DataPaths):
    communities = reference(clean, "communities")
    assert len(communities) == 85 and communities.community_code.is_unique
    assert communities.community_code.str.fullmatch(r"\d{12}").all()
    assert communities.kind.value_counts().to_dict() == {"村委会": 83, "居委会": 2}
    assumed = communities[communities.assumed]
    assert list(assumed.community_code) == ["370211100002"] and list(assumed.kind) == ["居委会"]
    assert 5 <= communities.area.nunique() <= 6
    assert communities.groupby("area").size().min() >= 5

    units = reference(clean, "units")
    assert len(units) == 155 and units.unit_id.is_unique and units.name.is_unique
    assert units.unit_type.value_counts().to_dict() == {"网格村": 83, "企业": 70, "居委会": 2}
    assert units.community_code.isin(communities.community_code).all()
    assert units.admin_phone.str.fullmatch(r"1\d{10}").all()
    enterprises = units[units.unit_type == "企业"]
    assert enterprises.name.str.match(r"^青岛.+有限公司$").all()
    assert enterprises.name.str.contains("纺").mean() > 0.4  # textile machinery dominates
    assert enterprises.community_code.nunique() <= 8  # in a few industrial parks
    polygons = cells(clean)
    assert all(polygons[u.community_code].contains(shapely.Point(u.lon, u.lat)) for u in units.itertuples())

    campaign = tomllib.loads((clean.reference / "campaign.toml").read_text(encoding="utf-8"))
    assert campaign["name"] == "一家亲扫码登记" and campaign["start"] == CAMPAIGN_START
    assert campaign["deadline"] > campaign["start"] and 0 < campaign["target_rate"] <= 1
    assert campaign["demo"] is True
    assert "合成演示数据" in (clean.reference / "README.txt").read_text(encoding="utf-8")


def test_boundaries_cover_the_subdistrict(clean: DataPaths):
    polygons = cells(clean)
    assert set(polygons) == set(reference(clean, "communities").community_code)
    assert all(
        p.is_valid and p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0 for p in polygons.values()
    )
    union = shapely.union_all(list(polygons.values()))
    b = contract.BOUNDS
    assert union.within(shapely.box(b["lon_min"], b["lat_min"], b["lon_max"], b["lat_max"]))
    overlap = sum(p.area for p in polygons.values()) - union.area
    assert overlap < 1e-9  # a partition: cells do not overlap


def test_schemas_match_the_contract(clean: DataPaths):
    for name, spec in contract.FEEDS.items():
        files = list(clean.feed_inbox(name).glob("*.parquet"))
        assert files, name
        for file in files:
            schema = pq.read_schema(file)
            assert schema.names == spec.column_names, file.name
            assert [str(t) for t in schema.types] == [str(ARROW_TYPES[c.type]) for c in spec.columns], (
                file.name
            )
    leftovers = [p for p in clean.root.rglob(".*") if p.is_file()]
    assert not leftovers  # no temporary files left behind


def test_clean_data_has_no_invalid_rows(clean: DataPaths):
    for name in contract.FEEDS:
        assert not invalid_rows(clean, name).any(), name


def test_bad_rows_are_sprinkled_in_but_stay_under_one_percent_in_snapshots(dirty: DataPaths):
    for name in contract.FEEDS:
        bad = invalid_rows(dirty, name)
        assert bad.any(), name
        if contract.FEEDS[name].kind == "snapshot":
            assert bad.mean() < 0.01, name


def test_residents_are_plausible(clean: DataPaths):
    residents = feed(clean, "residents")
    houses = feed(clean, "houses")
    assert len(residents) == 4_000
    assert residents.id_number.is_unique and residents.id_number.map(idnumber.is_valid).all()
    newcomer = residents.population_type == contract.NEWCOMER
    assert 0.21 < newcomer.mean() < 0.28
    by_community = residents.groupby("community_code").size()
    assert by_community.idxmax() == "370211100001"  # 台东路社区 is the large one
    assert 0.16 < by_community.max() / len(residents) < 0.22
    shares = newcomer.groupby(residents.community_code).mean()
    assert shares.max() > 0.4 and shares.min() < 0.12  # very uneven
    # reason and arrival only for newcomers
    assert residents.reason.notna().eq(newcomer).all()
    assert residents.arrival_date.notna().eq(newcomer).all()
    home = residents.id_number.str[:2]
    assert home[~newcomer].eq("37").mean() > 0.95 and home[newcomer].ne("37").mean() > 0.2
    assert residents.phone.dropna().str.fullmatch(r"1\d{10}").all() and residents.phone.isna().any()
    assert residents.status.value_counts().idxmax() == "在住" and (residents.status == "离开").any()
    assert residents.name.str.len().between(2, 4).all()
    # homes
    assert houses.house_id.is_unique and residents.house_id.isin(houses.house_id).all()
    assert 0.85 < len(houses) / (len(residents) / 2.55) < 1.15
    assert houses[houses.house_type == "出租"].shape[0] > 0.15 * len(houses)
    assert houses[houses.community_code == "370211100001"].estate.nunique() == 26


def test_every_point_lies_in_its_own_community(clean: DataPaths):
    polygons = cells(clean)
    for name in ("residents", "houses"):
        frame = feed(clean, name)
        for code, group in frame.groupby("community_code"):
            inside = shapely.contains_xy(polygons[code], group.lon.to_numpy(), group.lat.to_numpy())
            assert inside.all(), (name, code)


def test_registrations_follow_the_campaign(clean: DataPaths):
    scans = feed(clean, "registrations")
    residents = feed(clean, "residents")
    assert scans.scan_id.is_unique
    assert scans.scanned_at.max() <= pd.Timestamp(NOW)
    assert scans.scanned_at.min() >= pd.Timestamp(CAMPAIGN_START)
    living_new = residents[(residents.population_type == contract.NEWCOMER) & (residents.status == "在住")]
    rate = living_new.id_number.isin(scans.id_number).mean()
    assert 0.55 < rate < 0.8
    assert (~scans.id_number.isin(residents.id_number)).any()  # discovered
    assert scans.id_number.duplicated().any()  # some scanned more than once
    assert set(scans.channel) == set(contract.CHANNELS) and set(scans.site) == set(contract.SITES)
    hours = scans.scanned_at.dt.hour.value_counts()
    assert hours.get(10, 0) > 5 * hours.get(3, 0)
    weekday = scans.scanned_at.dt.dayofweek < 5
    assert weekday.sum() / 5 > (~weekday).sum() / 2  # weekdays busier than weekends
    # files sort by time
    files = sorted(clean.feed_inbox("registrations").glob("*.parquet"))
    firsts = [pq.read_table(f).column("scanned_at").to_pandas().min() for f in files]
    firsts = [t for t in firsts if pd.notna(t)]
    assert firsts == sorted(firsts) and len(files) >= 7


def test_source_records_cover_newcomers_partially(clean: DataPaths):
    records = feed(clean, "source_records")
    residents = feed(clean, "residents")
    assert records.record_id.is_unique
    newcomers = residents[residents.population_type == contract.NEWCOMER].id_number
    coverage = {s: newcomers.isin(g.id_number).mean() for s, g in records.groupby("source")}
    assert set(coverage) == set(contract.SOURCES)
    assert coverage["公安"] > coverage["工信"] > coverage["学校"] and coverage["公安"] < 1


def test_deterministic_for_seed_and_now(tmp_path: Path):
    one, two, other = (DataPaths(tmp_path / n) for n in ("one", "two", "other"))
    generate(one, residents=1_500, seed=3, now=NOW)
    generate(two, residents=1_500, seed=3, now=NOW)
    generate(other, residents=1_500, seed=4, now=NOW)
    files = sorted(p.relative_to(one.root) for p in one.root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two.root) for p in two.root.rglob("*") if p.is_file())
    for rel in files:
        assert (one.root / rel).read_bytes() == (two.root / rel).read_bytes(), rel
    res = next(Path("inbox/residents").joinpath(p.name) for p in one.feed_inbox("residents").iterdir())
    assert (one.root / res).read_bytes() != (other.root / res).read_bytes()


def test_time_anchored_on_now(tmp_path: Path):
    early = DataPaths(tmp_path / "early")
    now = CAMPAIGN_START_DT + timedelta(days=3, hours=11)
    summary = generate(early, residents=1_000, seed=5, bad_rows=0.0, now=now)
    scans = feed(early, "registrations")
    assert len(scans) > 0 and scans.scanned_at.max() <= pd.Timestamp(now)
    assert summary["registered_newcomers"] < 0.2 * summary["newcomers_living"]
    before = DataPaths(tmp_path / "before")
    generate(before, residents=500, seed=5, bad_rows=0.0, now=CAMPAIGN_START_DT - timedelta(days=30))
    assert not list(before.feed_inbox("registrations").glob("*.parquet"))


CAMPAIGN_START_DT = datetime(CAMPAIGN_START.year, CAMPAIGN_START.month, CAMPAIGN_START.day)


def test_province_table_covers_every_home_region(clean: DataPaths):
    path = Path(contract.__file__).resolve().parent / "provinces.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codes = {r["province_code"] for r in rows}
    assert len(rows) == 34 and all(len(c) == 2 and c.isdigit() for c in codes)
    residents = feed(clean, "residents")
    assert set(residents.id_number.str[:2]) <= codes
    assert np.all([r["province_name"] for r in rows])
