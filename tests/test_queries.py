"""Every query file on the demo warehouse, and each metric of DATA_CONTRACT.md §6 checked against an
independent pandas computation from the raw reference/ and inbox/ files (joined on the raw id_number, not on
person_key): if ingest, staging or a query drifts from the contract, the two disagree."""

import math
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wangtai import clock
from wangtai.paths import DataPaths
from wangtai.runner import Runner

# The columns each query returns (at least); DATA_CONTRACT.md §6 for the seven, the pages' needs for the rest.
# A query file without an entry here fails test_every_query_is_listed: nothing goes undocumented.
COLUMNS = {
    name: tuple(columns.split())
    for name, columns in {
        "overview": (
            "residents newcomers newcomer_share registered registration_rate discovered scans_today "
            "scans_last_hour rentals rental_archive_rate as_of plan_registered plan_rate"
        ),
        "community_share": (
            "community_code community_name area residents newcomers newcomer_share kind registered "
            "registration_rate"
        ),
        "registration_progress": "day new_registered registered_cumulative plan_cumulative newcomers",
        "unit_progress": (
            "unit_id unit_name unit_type community_code newcomers registered registration_rate "
            "plan_rate gap scans_7d community_name admin_name_masked"
        ),
        "newcomer_density": "cell_id lat lon newcomers",
        "source_coverage": "source newcomers_matched share_of_newcomers",
        "data_freshness": (
            "feed feed_label last_file last_ingested_at rows quarantined_rows held_batches status"
        ),
        "communities": "community_code community_name kind area assumed",
        "area_share": "area communities residents newcomers newcomer_share",
        "community_composition": "dimension category newcomers share",
        "registration_daily": "day channel scans",
        "registration_sites": "site scans people",
        "registration_heatmap": "weekday hour scans",
        "campaign_projection": (
            "campaign_name start deadline target_rate newcomers target_registered registered "
            "days_left pace_14d needed_pace projected_finish on_track"
        ),
        "community_map": (
            "community_code community_name area geojson centroid_lat centroid_lon residents newcomers "
            "newcomer_share"
        ),
        "quarantine_reasons": "feed file_name ingested_at reason rows",
        "held_snapshots": "batch_id feed file_name ingested_at rows_in accepted quarantined reason",
        "unregistered_newcomers": (
            "unit_id unit_name community_code community_name name_masked id_masked phone_masked "
            "house_id arrival_date reason"
        ),
    }.items()
}
ONE_ROW = {"overview", "campaign_projection"}


# -- the independent computation from the raw files ----------------------------------------------------------


def _read_reference(folder: Path, name: str) -> pd.DataFrame:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    if parquet.exists():
        return pd.read_parquet(parquet)
    return pd.read_csv(csv, dtype=str)


def _inbox_files(paths: DataPaths, feed: str) -> list[Path]:
    """In the order ingest takes them: oldest first by modification time, then name."""
    files = [p for p in paths.feed_inbox(feed).glob("*.parquet") if not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _fraction(day: date, start: date, deadline: date) -> float:
    return min(1.0, max(0.0, (day - start).days / (deadline - start).days))


@dataclass
class Raw:
    now: datetime
    today: date
    communities: pd.DataFrame
    units: pd.DataFrame
    campaign: dict
    live: pd.DataFrame  # current residents snapshot, status 在住
    newcomers: pd.DataFrame
    registrations: pd.DataFrame  # every scan, once
    first_scan: pd.Series  # id_number → first scanned_at
    source_records: pd.DataFrame
    houses: pd.DataFrame

    @property
    def plan_fraction(self) -> float:
        return _fraction(self.today, self.campaign["start"], self.campaign["deadline"])

    def in_community(self, frame: pd.DataFrame, code: str | None) -> pd.DataFrame:
        return frame if code is None else frame[frame["community_code"] == code]


@pytest.fixture(scope="module")
def raw(demo_raw: DataPaths) -> Raw:
    now = clock.now()
    communities = _read_reference(demo_raw.reference, "communities")
    units = _read_reference(demo_raw.reference, "units")
    campaign = tomllib.loads((demo_raw.reference / "campaign.toml").read_text(encoding="utf-8"))
    for key in ("start", "deadline"):
        value = campaign[key]
        campaign[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
    snapshot = pd.read_parquet(_inbox_files(demo_raw, "residents")[-1])  # the newest file is current
    live = snapshot[snapshot["status"] == "在住"]
    registrations = pd.concat([pd.read_parquet(p) for p in _inbox_files(demo_raw, "registrations")])
    registrations = registrations.drop_duplicates("scan_id")  # re-delivery is harmless
    records = pd.concat([pd.read_parquet(p) for p in _inbox_files(demo_raw, "source_records")])
    return Raw(
        now=now,
        today=now.date(),
        communities=communities,
        units=units,
        campaign=campaign,
        live=live,
        newcomers=live[live["population_type"] == "流动人口"],
        registrations=registrations,
        first_scan=registrations.groupby("id_number")["scanned_at"].min(),
        source_records=records.drop_duplicates("record_id"),
        houses=pd.read_parquet(_inbox_files(demo_raw, "houses")[-1]),
    )


@pytest.fixture(scope="module")
def runner(demo_paths: DataPaths) -> Runner:
    return Runner(demo_paths)


@pytest.fixture(scope="module")
def busy_community(raw: Raw) -> str:
    """The community with the most newcomers: the filter test case."""
    return str(raw.newcomers["community_code"].value_counts().index[0])


def _registered(raw: Raw, people: pd.DataFrame) -> pd.DataFrame:
    return people[people["id_number"].isin(raw.first_scan.index)]


# -- every query ---------------------------------------------------------------------------------------------


def test_every_query_is_listed(runner: Runner):
    assert sorted(COLUMNS) == runner.names()


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_query_runs_with_its_columns_and_grain(runner: Runner, name: str, busy_community: str, raw: Raw):
    spec = runner.spec(name)
    cases = [{}]
    if "community_code" in spec.params:
        cases.append({"community_code": busy_community})
    if "area" in spec.params:
        cases.append({"area": str(raw.communities["area"].iloc[0])})
    for params in cases:
        frame = runner.run(name, params)
        missing = set(COLUMNS[name]) - set(frame.columns)
        assert not missing, f"{name} {params}: missing columns {missing}"
        if name in ONE_ROW:
            assert len(frame) == 1, f"{name} {params}: one row expected"
            continue
        assert spec.key, name
        keys = frame[list(spec.key)]
        assert not keys.isna().any().any(), f"{name} {params}: null key"
        assert not keys.duplicated().any(), f"{name} {params}: key {spec.key} not unique"
    if name not in {"quarantine_reasons", "held_snapshots"}:  # a clean demo refuses and holds nothing
        assert len(runner.run(name)) > 0, f"{name} is empty on the demo"


# -- the seven metrics of DATA_CONTRACT.md §6 ---------------------------------------------------------------


@pytest.mark.parametrize("filtered", [False, True])
def test_overview(runner: Runner, raw: Raw, busy_community: str, filtered: bool):
    code = busy_community if filtered else None
    got = runner.run("overview", {"community_code": code}).iloc[0]
    live = raw.in_community(raw.live, code)
    newcomers = raw.in_community(raw.newcomers, code)
    registered = _registered(raw, newcomers)
    assert got["residents"] == len(live)
    assert got["newcomers"] == len(newcomers)
    assert got["newcomer_share"] == pytest.approx(len(newcomers) / len(live))
    assert got["registered"] == len(registered)
    assert got["registration_rate"] == pytest.approx(len(registered) / len(newcomers))
    assert got["plan_rate"] == pytest.approx(raw.campaign["target_rate"] * raw.plan_fraction)
    assert got["plan_registered"] == pytest.approx(
        raw.campaign["target_rate"] * len(newcomers) * raw.plan_fraction
    )

    # discovered: registered people not among the current residents, placed by the unit of their first scan
    regs = raw.registrations.sort_values(["scanned_at", "scan_id"])
    first = regs.drop_duplicates("id_number").merge(raw.units[["unit_id", "community_code"]], on="unit_id")
    strangers = first[~first["id_number"].isin(raw.live["id_number"])]
    assert got["discovered"] == len(raw.in_community(strangers, code))
    assert len(strangers) > 0

    scans = raw.registrations.merge(raw.units[["unit_id", "community_code"]], on="unit_id")
    scans = raw.in_community(scans, code)
    at = pd.to_datetime(scans["scanned_at"])
    assert got["scans_today"] == int(((at.dt.date == raw.today) & (at <= raw.now)).sum())
    hour = (at > raw.now - timedelta(hours=1)) & (at <= raw.now)
    assert got["scans_last_hour"] == int(hour.sum())

    rentals = raw.in_community(raw.houses, code)
    rentals = rentals[rentals["house_type"] == "出租"]
    assert got["rentals"] == len(rentals)
    archived = rentals["archive_status"].isin(["已建档", "已复核"]).sum()
    assert got["rental_archive_rate"] == pytest.approx(archived / len(rentals))
    assert pd.notna(got["as_of"])


def test_community_share(runner: Runner, raw: Raw):
    share = runner.run("community_share")
    assert len(share) == len(raw.communities) == 85
    assert share["newcomers"].sum() == runner.run("overview")["newcomers"].iloc[0]
    assert share["newcomer_share"].is_monotonic_decreasing
    live = raw.live.groupby("community_code").size()
    newcomers = raw.newcomers.groupby("community_code").size()
    registered = _registered(raw, raw.newcomers).groupby("community_code").size()
    got = share.set_index("community_code")
    for code in raw.communities["community_code"]:
        assert got.loc[code, "residents"] == live.get(code, 0), code
        assert got.loc[code, "newcomers"] == newcomers.get(code, 0), code
        assert got.loc[code, "registered"] == registered.get(code, 0), code
    names = raw.communities.set_index("community_code")["name"]
    assert (got["community_name"] == names.reindex(got.index)).all()
    one_area = str(raw.communities["area"].iloc[0])
    filtered = runner.run("community_share", {"area": one_area})
    assert len(filtered) == (raw.communities["area"] == one_area).sum()


@pytest.mark.parametrize("filtered", [False, True])
def test_registration_progress(runner: Runner, raw: Raw, busy_community: str, filtered: bool):
    code = busy_community if filtered else None
    progress = runner.run("registration_progress", {"community_code": code})
    start, deadline = raw.campaign["start"], raw.campaign["deadline"]
    days = pd.to_datetime(progress["day"]).dt.date
    assert days.iloc[0] == start == date(2026, 3, 15)
    assert days.iloc[-1] == raw.today == date(2026, 11, 27)
    assert len(progress) == (raw.today - start).days + 1
    newcomers = raw.in_community(raw.newcomers, code)
    first = pd.to_datetime(newcomers["id_number"].map(raw.first_scan)).dropna().dt.date
    first = first.clip(lower=start, upper=raw.today)
    expected = first.value_counts().reindex(days, fill_value=0)
    assert progress["new_registered"].tolist() == expected.tolist()
    assert progress["registered_cumulative"].iloc[-1] == len(_registered(raw, newcomers))
    assert progress["registered_cumulative"].is_monotonic_increasing
    assert (progress["newcomers"] == len(newcomers)).all()
    plan = [raw.campaign["target_rate"] * len(newcomers) * _fraction(d, start, deadline) for d in days]
    assert progress["plan_cumulative"].tolist() == pytest.approx(plan)
    overview = runner.run("overview", {"community_code": code}).iloc[0]
    assert progress["plan_cumulative"].iloc[-1] == pytest.approx(overview["plan_registered"])


def test_unit_progress(runner: Runner, raw: Raw):
    units = runner.run("unit_progress")
    assert len(units) == len(raw.units)
    assert units["gap"].is_monotonic_increasing  # behind plan first
    got = units.set_index("unit_id")
    newcomers = raw.newcomers.groupby("unit_id").size()
    registered = _registered(raw, raw.newcomers).groupby("unit_id").size()
    recent = pd.to_datetime(raw.registrations["scanned_at"])
    recent = raw.registrations[(recent > raw.now - timedelta(days=7)) & (recent <= raw.now)]
    scans_7d = recent.groupby("unit_id").size()
    rate = raw.campaign["target_rate"] * raw.plan_fraction
    for unit in raw.units["unit_id"]:
        n, r = newcomers.get(unit, 0), registered.get(unit, 0)
        assert got.loc[unit, "newcomers"] == n, unit
        assert got.loc[unit, "registered"] == r, unit
        assert got.loc[unit, "gap"] == pytest.approx(r - rate * n), unit
        assert got.loc[unit, "scans_7d"] == scans_7d.get(unit, 0), unit
    assert units["newcomers"].sum() == len(raw.newcomers)  # every newcomer has exactly one managing unit


def test_newcomer_density(runner: Runner, raw: Raw, busy_community: str):
    cells = runner.run("newcomer_density")
    lat, lon = raw.newcomers["lat"].to_numpy(), raw.newcomers["lon"].to_numpy()
    cell_id = (np.floor(lat / 0.0015) * 1_000_000 + np.floor(lon / 0.002)).astype("int64")
    expected = pd.Series(cell_id).value_counts()
    got = cells.set_index("cell_id")["newcomers"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    # the centre lies in its cell, and cells are under 250 m across
    assert (np.floor(cells["lat"] / 0.0015) == cells["cell_id"] // 1_000_000).all()
    assert (np.floor(cells["lon"] / 0.002) == cells["cell_id"] % 1_000_000).all()
    diagonal_m = math.hypot(0.0015 * 111_000, 0.002 * 111_000 * math.cos(math.radians(36.1)))
    assert diagonal_m < 250
    one = runner.run("newcomer_density", {"community_code": busy_community})
    assert one["newcomers"].sum() == len(raw.in_community(raw.newcomers, busy_community))


def test_source_coverage(runner: Runner, raw: Raw):
    coverage = runner.run("source_coverage").set_index("source")
    assert set(coverage.index) >= {"公安", "工信", "医院", "学校"}
    for source, group in raw.source_records.groupby("source"):
        matched = raw.newcomers["id_number"].isin(group["id_number"]).sum()
        assert coverage.loc[source, "newcomers_matched"] == matched, source
        assert coverage.loc[source, "share_of_newcomers"] == pytest.approx(matched / len(raw.newcomers))


def test_data_freshness(runner: Runner, raw: Raw, demo_raw: DataPaths):
    fresh = runner.run("data_freshness").set_index("feed")
    assert list(fresh.index) == ["residents", "houses", "registrations", "source_records"]
    assert fresh.loc["residents", "feed_label"] == "实有人口"
    assert (fresh["status"] == "正常").all()
    assert fresh.loc["residents", "rows"] == len(pd.read_parquet(_inbox_files(demo_raw, "residents")[-1]))
    assert fresh.loc["houses", "rows"] == len(raw.houses)
    assert fresh.loc["registrations", "rows"] == len(raw.registrations)
    assert fresh.loc["source_records", "rows"] == len(raw.source_records)
    assert fresh.loc["registrations", "last_file"] == _inbox_files(demo_raw, "registrations")[-1].name
    assert (fresh["quarantined_rows"] == 0).all() and (fresh["held_batches"] == 0).all()


# -- the pages' queries --------------------------------------------------------------------------------------


def test_area_share_and_map_agree_with_community_share(runner: Runner):
    share = runner.run("community_share")
    areas = runner.run("area_share").set_index("area")
    by_area = share.groupby("area")[["residents", "newcomers"]].sum()
    for column in ("residents", "newcomers"):
        assert areas[column].to_dict() == by_area[column].to_dict(), column
    assert areas["communities"].sum() == 85
    assert areas["newcomer_share"].is_monotonic_decreasing
    chart = runner.run("community_map").set_index("community_code")
    assert chart["newcomers"].to_dict() == share.set_index("community_code")["newcomers"].to_dict()
    assert chart["geojson"].notna().all() and chart["centroid_lat"].between(35.9, 36.2).all()


def test_community_composition(runner: Runner, raw: Raw):
    parts = runner.run("community_composition")
    assert set(parts["dimension"]) == {"来源地", "原因", "年龄段", "性别"}
    for dimension, group in parts.groupby("dimension"):
        assert group["newcomers"].sum() == len(raw.newcomers), dimension
        assert group["share"].sum() == pytest.approx(1.0), dimension
    got = parts.set_index(["dimension", "category"])["newcomers"]
    ids = raw.newcomers["id_number"]
    assert got[("来源地", "本市（青岛）")] == ids.str.startswith("3702").sum()
    gender = ids.str[16].astype(int) % 2
    assert got[("性别", "男")] == (gender == 1).sum()
    assert got[("性别", "女")] == (gender == 0).sum()
    reasons = raw.newcomers["reason"].fillna("未填写").value_counts()
    for reason, count in reasons.items():
        assert got[("原因", reason)] == count


AGE_BANDS = ((18, "17岁及以下"), (30, "18–29岁"), (45, "30–44岁"), (60, "45–59岁"), (200, "60岁及以上"))


def _age_bands(newcomers: pd.DataFrame, today: date) -> pd.Series:
    """Age in whole years from the birth year in the raw id number (GB 11643 digits 7–10): the warehouse keeps
    the year only (DATA_CONTRACT.md §5), so the age is this year − birth year."""
    age = today.year - newcomers["id_number"].str[6:10].astype(int)
    band = pd.Series("未知", index=newcomers.index)
    for upper, label in reversed(AGE_BANDS):
        band[age < upper] = label
    return band.value_counts()


def test_community_composition_for_each_filter_with_age_bands(runner: Runner, raw: Raw, busy_community: str):
    area = _areas_with_several_communities(raw)[0]
    in_area = raw.communities.loc[raw.communities["area"] == area, "community_code"]
    cases = [
        ({}, raw.newcomers),
        ({"community_code": busy_community}, raw.in_community(raw.newcomers, busy_community)),
        ({"area": area}, raw.newcomers[raw.newcomers["community_code"].isin(in_area)]),
    ]
    for params, newcomers in cases:
        parts = runner.run("community_composition", params)
        got = parts.set_index(["dimension", "category"])["newcomers"]
        assert got["年龄段"].to_dict() == _age_bands(newcomers, raw.today).to_dict(), params
        assert got["原因"].to_dict() == newcomers["reason"].fillna("未填写").value_counts().to_dict(), params
        gender = newcomers["id_number"].str[16].astype(int) % 2
        assert got["性别"].to_dict() == {"男": (gender == 1).sum(), "女": (gender == 0).sum()}, params
        for dimension, group in parts.groupby("dimension"):
            assert group["newcomers"].sum() == len(newcomers), (params, dimension)
    # the bands move with "now": ten years later, everyone is ten years older
    later = datetime(raw.today.year + 10, raw.today.month, raw.today.day, 10, 30)
    parts = runner.run("community_composition", {"now": later}).set_index(["dimension", "category"])
    assert parts.loc["年龄段", "newcomers"].to_dict() == _age_bands(raw.newcomers, later.date()).to_dict()


def test_the_pandas_baseline_counts_the_same_age_bands(runner: Runner, raw: Raw, demo_paths: DataPaths):
    """The benchmark's pandas baseline reads the warehouse files itself; its year-based ages agree with the
    SQL and with the raw id numbers."""
    from wangtai.bench import baseline

    frames = baseline.load(demo_paths)
    parts = baseline.community_composition(frames, now=raw.now)
    bands = parts[parts["dimension"] == "年龄段"].set_index("category")["newcomers"]
    short = ["17-", "18–29", "30–44", "45–59", "60+"]
    labels = dict(zip(short, [label for _, label in AGE_BANDS], strict=True))
    got = {labels[category]: count for category, count in bands.items() if count}
    sql = runner.run("community_composition").set_index(["dimension", "category"]).loc["年龄段", "newcomers"]
    assert got == sql.to_dict() == _age_bands(raw.newcomers, raw.today).to_dict()


def test_registration_activity(runner: Runner, raw: Raw):
    total = len(raw.registrations)
    daily = runner.run("registration_daily")
    assert daily["scans"].sum() == total
    assert runner.run("registration_heatmap")["scans"].sum() == total
    assert len(runner.run("registration_heatmap")) == 7 * 24
    sites = runner.run("registration_sites").set_index("site")
    expected = raw.registrations.groupby("site").agg(
        scans=("scan_id", "size"), people=("id_number", "nunique")
    )
    for site, row in expected.iterrows():
        assert (sites.loc[site, "scans"], sites.loc[site, "people"]) == (row["scans"], row["people"])
    channels = raw.registrations.groupby("channel").size()
    assert daily.groupby("channel")["scans"].sum().to_dict() == channels.to_dict()


def _areas_with_several_communities(raw: Raw) -> list[str]:
    counts = raw.communities["area"].value_counts()
    return [str(area) for area in counts[counts > 1].index]


def test_registration_sites_for_a_community_and_an_area(runner: Runner, raw: Raw, busy_community: str):
    """Each filter reads its own exact source (a rollup per community, one for the whole subdistrict, the
    scans for a 片区): distinct people per site never add up across communities, so each is checked."""
    scans = raw.registrations.merge(raw.units[["unit_id", "community_code"]], on="unit_id")
    scans = scans.merge(raw.communities[["community_code", "area"]], on="community_code")
    area = _areas_with_several_communities(raw)[0]
    home = raw.communities.set_index("community_code").loc[busy_community, "area"]
    elsewhere = str(raw.communities.loc[raw.communities["area"] != home, "area"].iloc[0])
    cases = [
        ({}, scans),
        ({"community_code": busy_community}, scans[scans["community_code"] == busy_community]),
        ({"area": area}, scans[scans["area"] == area]),
        ({"area": elsewhere, "community_code": busy_community}, scans.iloc[0:0]),  # not in that 片区
    ]
    for params, expected_scans in cases:
        got = runner.run("registration_sites", params).set_index("site")[["scans", "people"]]
        expected = expected_scans.groupby("site").agg(
            scans=("scan_id", "size"), people=("id_number", "nunique")
        )
        pd.testing.assert_frame_equal(
            got.sort_index(),
            expected.sort_index(),
            check_dtype=False,
            check_index_type=False,
            check_names=False,
            obj=str(params),
        )
        assert got["scans"].is_monotonic_decreasing
    # a person at the same kind of site in two communities counts once in the whole (tests/test_hot_tables.py
    # lands such scans; the demo has none)
    per_community = scans.groupby(["community_code", "site"])["id_number"].nunique().groupby("site").sum()
    whole = runner.run("registration_sites").set_index("site")["people"]
    assert (whole <= per_community.reindex(whole.index)).all()


def test_campaign_projection(runner: Runner, raw: Raw):
    p = runner.run("campaign_projection").iloc[0]
    overview = runner.run("overview").iloc[0]
    assert p["newcomers"] == overview["newcomers"] and p["registered"] == overview["registered"]
    assert p["target_registered"] == math.ceil(raw.campaign["target_rate"] * len(raw.newcomers))
    assert p["days_left"] == (raw.campaign["deadline"] - raw.today).days
    first = pd.to_datetime(raw.newcomers["id_number"].map(raw.first_scan)).dropna().dt.date
    recent = ((first > raw.today - timedelta(days=14)) & (first <= raw.today)).sum()
    assert p["pace_14d"] == pytest.approx(recent / 14)
    remaining = max(0, p["target_registered"] - p["registered"])
    assert p["needed_pace"] == pytest.approx(remaining / p["days_left"])
    if remaining and recent:
        finish = raw.today + timedelta(days=math.ceil(remaining / (recent / 14)))
        assert pd.Timestamp(p["projected_finish"]).date() == finish
        assert bool(p["on_track"]) == (finish <= raw.campaign["deadline"])


def test_unregistered_newcomers_is_the_masked_door_to_door_list(runner: Runner, raw: Raw):
    people = runner.run("unregistered_newcomers")
    assert len(people) == len(raw.newcomers) - len(_registered(raw, raw.newcomers))
    units = runner.run("unit_progress").set_index("unit_id")
    unit = units.index[0]  # the unit furthest behind plan
    listed = runner.run("unregistered_newcomers", {"unit_id": unit})
    assert len(listed) == units.loc[unit, "newcomers"] - units.loc[unit, "registered"]
    text = people.astype(str)
    for column in text.columns:
        assert not text[column].str.fullmatch(r"\d{17}[\dX]").any(), column  # no raw id_number
        assert not text[column].str.fullmatch(r"1\d{10}").any(), column  # no raw phone
    assert set(raw.newcomers["name"]).isdisjoint(set(people["name_masked"]))
    # the id mask: 370211********123X, for a minor (under 18 in the year of ingest) 370211************
    ids = raw.newcomers.loc[~raw.newcomers["id_number"].isin(raw.first_scan.index), "id_number"].str.upper()
    minor = ids.str[6:10].astype(int) > raw.now.year - 18
    expected = (ids.str[:6] + "********" + ids.str[14:]).where(~minor, ids.str[:6] + "*" * 12)
    assert sorted(people["id_masked"]) == sorted(expected)
    assert minor.any() and (~minor).any()


def test_unregistered_newcomers_first_rows_and_the_whole_length(runner: Runner, raw: Raw):
    """The page asks for the first rows (``limit``), the export for all (limit null); both carry the whole
    list's length in ``total``, and the first rows are the whole list's first rows."""
    unit = runner.run("unit_progress")["unit_id"].iloc[0]
    for params in ({}, {"unit_id": unit}):
        everyone = runner.run("unregistered_newcomers", params)
        assert everyone.equals(runner.run("unregistered_newcomers", {**params, "limit": None}))
        assert everyone["no"].tolist() == list(range(1, len(everyone) + 1))
        order = ["unit_id", "community_code", "house_id", "id_masked"]
        assert everyone[order].equals(everyone.sort_values(order)[order])
        assert (everyone["total"] == len(everyone)).all()
        for limit in (1, 7, len(everyone) + 5):
            first = runner.run("unregistered_newcomers", {**params, "limit": limit})
            pd.testing.assert_frame_equal(first, everyone.head(limit), obj=f"{params} limit {limit}")
    # the unit's list is its unregistered newcomers' houses, from the raw files
    unregistered = raw.newcomers[~raw.newcomers["id_number"].isin(raw.first_scan.index)]
    houses = unregistered.loc[unregistered["unit_id"] == unit, "house_id"]
    listed = runner.run("unregistered_newcomers", {"unit_id": unit, "limit": 3})
    assert listed["total"].iloc[0] == len(houses)
    assert listed["house_id"].tolist() == sorted(houses)[:3]
