"""The runner's in-memory tables follow the warehouse incrementally: after a new increment batch lands, a
long-lived runner (appending only the new batch) gives exactly the figures of a freshly started one."""

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import copy_data
from wangtai import clock
from wangtai.bench.worker import land_batch
from wangtai.ingest import ingest_all
from wangtai.paths import DataPaths
from wangtai.runner import Runner

CHECKED = [
    "overview",
    "community_share",
    "unit_progress",
    "registration_progress",
    "registration_sites",
    "source_coverage",
    "data_freshness",
    "registration_daily",
    "registration_heatmap",
    "community_composition",
    "unregistered_newcomers",
]
# What a new 一家亲 batch of people registering for the first time runs, each model from the new rows only:
# nothing person-level is rebuilt, and the composition (which reads no registration day or flag) is not run.
INCREMENTAL = (
    "hot_registrations",
    "roll_scans",
    "roll_sites",
    "hot_first_registrations",
    "hot_newcomers",
    "roll_units",
    "roll_discovered",
)
# Queries whose filters read different in-memory tables (a rollup per community, one for the whole
# subdistrict, person-level rows for a 片区): each filter is checked on its own.
FILTERED = ["overview", "registration_sites", "community_composition", "unregistered_newcomers"]


@pytest.fixture
def live_paths(demo_paths: DataPaths, tmp_path) -> DataPaths:
    return copy_data(demo_paths, tmp_path / "live")


def _units(paths: DataPaths) -> pd.DataFrame:
    return pd.read_parquet(paths.warehouse / "reference" / "units.parquet")


def _cases(paths: DataPaths) -> list[tuple[str, dict]]:
    communities = pd.read_parquet(paths.warehouse / "reference" / "communities.parquet")
    busiest = _units(paths)["community_code"].value_counts().index[0]
    area = communities["area"].value_counts().index[0]  # the 片区 with most communities
    unit = _units(paths)["unit_id"].iloc[0]
    cases = [(name, {}) for name in CHECKED]
    for name in FILTERED:
        cases += [(name, {"community_code": busiest}), (name, {"area": area})]
    cases += [("unregistered_newcomers", {"unit_id": unit, "limit": 5})]
    return cases


def _frames(runner: Runner, cases: list[tuple[str, dict]]) -> dict[str, pd.DataFrame]:
    return {f"{name} {params}": runner.run(name, params) for name, params in cases}


def _people(paths: DataPaths) -> list[str]:
    """Some living newcomers not registered yet, and some people who left (registering: discovered)."""
    residents = pd.concat(pd.read_parquet(p) for p in (paths.archive / "residents").glob("*.parquet"))
    scans = pd.concat(pd.read_parquet(p) for p in (paths.archive / "registrations").glob("*.parquet"))
    residents = residents[~residents["id_number"].isin(scans["id_number"])]
    new = residents[(residents["status"] == "在住") & (residents["population_type"] == "流动人口")]
    gone = residents[residents["status"] != "在住"]
    return [*new["id_number"].head(25), *gone["id_number"].head(5)]


def _land_elsewhere(paths: DataPaths, people: int = 8) -> str:
    """Scans of people registered before: some at the same kind of site but by a unit of another community,
    each twice (their community and site gain a person, the whole subdistrict does not); others by their own
    unit at another kind of site (a person new to that site). Returns one site of the first kind."""
    earlier = pd.read_parquet(sorted((paths.archive / "registrations").glob("*.parquet"))[0])
    units, sites = _units(paths), sorted(earlier["site"].dropna().unique())
    elsewhere, moved = earlier.head(people), earlier.iloc[people : 2 * people]
    home = elsewhere["unit_id"].map(units.set_index("unit_id")["community_code"])
    other = [units.loc[units["community_code"] != code, "unit_id"].iloc[0] for code in home]
    rows = pd.concat(
        [
            elsewhere.assign(unit_id=other),
            elsewhere.assign(unit_id=other),
            moved.assign(site=[next(s for s in sites if s != site) for site in moved["site"]]),
        ]
    )
    n = len(rows)
    table = pa.table(
        {
            "scan_id": [f"ELSEWHERE{os.getpid()}{i:05d}" for i in range(n)],
            "scanned_at": pa.array([clock.now()] * n, pa.timestamp("us")),
            **{column: list(rows[column]) for column in ("id_number", "unit_id", "channel", "site")},
        }
    )
    folder = paths.feed_inbox("registrations")
    pq.write_table(table, folder / ".elsewhere.parquet.tmp")
    os.replace(folder / ".elsewhere.parquet.tmp", folder / "elsewhere.parquet")
    ingest_all(paths)
    return str(elsewhere["site"].iloc[0])


def test_a_new_batch_is_appended_and_figures_match_a_fresh_runner(live_paths: DataPaths) -> None:
    runner = Runner(live_paths)
    cases = _cases(live_paths)
    before = _frames(runner, cases)
    land_batch(live_paths, rows=40)  # people registered before: no flag changes
    land_batch(live_paths, id_numbers=_people(live_paths))  # first registrations and discoveries
    after = _frames(runner, cases)
    assert runner.last_refresh.actions == {
        "hot_manifest": "full",  # the manifest changed: a copy of a small table
        **dict.fromkeys(INCREMENTAL, "incremental"),  # the scans and what they feed: from the new rows
    }
    fresh = _frames(Runner(live_paths), cases)
    for name in after:
        pd.testing.assert_frame_equal(after[name], fresh[name], check_dtype=False, obj=name)
    assert after["data_freshness {}"]["rows"].sum() > before["data_freshness {}"]["rows"].sum()
    assert after["overview {}"]["registered"].iloc[0] > before["overview {}"]["registered"].iloc[0]
    assert after["overview {}"]["discovered"].iloc[0] > before["overview {}"]["discovered"].iloc[0]
    unlisted = (
        before["unregistered_newcomers {}"]["total"].iloc[0] - after["unregistered_newcomers {}"]["total"]
    )
    assert (unlisted == 25).all()  # the 25 newcomers who registered left the door-to-door list


def test_people_at_a_site_in_two_communities_count_once_for_the_subdistrict(live_paths: DataPaths) -> None:
    runner = Runner(live_paths)
    cases = _cases(live_paths)
    _frames(runner, cases)
    site = _land_elsewhere(live_paths)
    after = _frames(runner, cases)
    assert runner.last_refresh.actions["roll_sites"] == "incremental"
    fresh = Runner(live_paths)
    for name, frame in _frames(fresh, cases).items():
        pd.testing.assert_frame_equal(after[name], frame, check_dtype=False, obj=name)
    codes = runner.run("communities")["community_code"]
    per_community = sum(
        runner.run("registration_sites", {"community_code": code}).set_index("site")["people"].get(site, 0)
        for code in codes
    )
    assert runner.run("registration_sites").set_index("site").loc[site, "people"] < per_community
