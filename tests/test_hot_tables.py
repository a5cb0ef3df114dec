"""The runner's in-memory tables follow the warehouse incrementally: after a new increment batch lands, a
long-lived runner (appending only the new batch) gives exactly the figures of a freshly started one."""

import pandas as pd
import pytest

from tests.conftest import copy_data
from wangtai.bench.worker import land_batch
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


@pytest.fixture
def live_paths(demo_paths: DataPaths, tmp_path) -> DataPaths:
    return copy_data(demo_paths, tmp_path / "live")


def _frames(runner: Runner) -> dict[str, pd.DataFrame]:
    return {name: runner.run(name, {}) for name in CHECKED}


def _people(paths: DataPaths) -> list[str]:
    """Some living newcomers not registered yet, and some people who left (registering: discovered)."""
    residents = pd.concat(pd.read_parquet(p) for p in (paths.archive / "residents").glob("*.parquet"))
    scans = pd.concat(pd.read_parquet(p) for p in (paths.archive / "registrations").glob("*.parquet"))
    residents = residents[~residents["id_number"].isin(scans["id_number"])]
    new = residents[(residents["status"] == "在住") & (residents["population_type"] == "流动人口")]
    gone = residents[residents["status"] != "在住"]
    return [*new["id_number"].head(25), *gone["id_number"].head(5)]


def test_a_new_batch_is_appended_and_figures_match_a_fresh_runner(live_paths: DataPaths) -> None:
    runner = Runner(live_paths)
    before = _frames(runner)
    land_batch(live_paths, rows=40)  # people registered before: no flag changes
    land_batch(live_paths, id_numbers=_people(live_paths))  # first registrations and discoveries
    after = _frames(runner)
    assert "update_first_registrations" in runner.last_refresh and "hot_residents" not in runner.last_refresh
    fresh = _frames(Runner(live_paths))
    for name in CHECKED:
        pd.testing.assert_frame_equal(after[name], fresh[name], check_dtype=False, obj=name)
    assert after["data_freshness"]["rows"].sum() > before["data_freshness"]["rows"].sum()
    assert after["overview"]["registered"].iloc[0] > before["overview"]["registered"].iloc[0]
    assert after["overview"]["discovered"].iloc[0] > before["overview"]["discovered"].iloc[0]
