"""Built figures and maps kept per content (wangtai.ui.memo): the same data gives the same object, other
data another one, and nothing changes a shared figure."""

import json

import pandas as pd
import pydeck as pdk

from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.ui import charts, maps, memo, screen, snapshot
from wangtai.ui.setup import Filters


def _share() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_name": ["甲村", "乙村", "丙村"],
            "newcomer_share": [0.2, 0.35, 0.1],
            "community_code": list("abc"),
        }
    )


def test_the_same_content_gives_the_same_figure_and_other_content_another() -> None:
    memo.clear()
    first = charts.ranked_bars(_share(), "community_name", "newcomer_share", value_title="占比")
    again = charts.ranked_bars(_share(), "community_name", "newcomer_share", value_title="占比")
    assert again is first  # another frame object with the same values
    changed = _share()
    changed.loc[1, "newcomer_share"] = 0.36
    other = charts.ranked_bars(changed, "community_name", "newcomer_share", value_title="占比")
    assert other is not first
    assert charts.ranked_bars(_share(), "community_name", "newcomer_share", value_title="比例") is not first


def test_the_key_sees_values_order_dtypes_and_columns() -> None:
    frame = _share()
    assert memo.key(frame) == memo.key(frame.copy())
    assert memo.key(frame) != memo.key(frame.iloc[::-1])
    assert memo.key(frame) != memo.key(frame.astype({"newcomer_share": "float32"}))
    assert memo.key(frame) != memo.key(frame.rename(columns={"community_name": "name"}))
    assert memo.key({"a": 1, "b": None}) == memo.key({"b": None, "a": 1})


def test_the_screen_and_the_snapshot_do_not_change_the_pages_shared_figure(demo_paths) -> None:
    runner = Runner(demo_paths)
    progress = runner.run("registration_progress", {})
    projection = runner.run("campaign_projection", {}).iloc[0].to_dict()
    shared = charts.progress_vs_plan(progress, projection, height=440)
    before = shared.to_json()
    styled = screen._styled(charts.progress_vs_plan, 660, 480, progress, projection, height=440)
    assert styled is not shared and styled.layout.width == 660 and styled.layout.height == 480
    spec = {"title": "总览", "filters": Filters(), "kpis": [], "charts": [shared, styled]}
    snapshot.figure(spec)
    assert shared.to_json() == before


def test_a_map_is_built_once_and_its_compact_json_is_pydecks(demo_paths: DataPaths) -> None:
    runner = Runner(demo_paths)
    communities = runner.run("community_map", {})
    density = runner.run("newcomer_density", {})
    deck = maps.chart(communities, density=density, width=1200, height=680)
    assert maps.chart(communities, density=density.copy(), width=1200, height=680) is deck
    plain = pdk.Deck(  # the same deck as pydeck serializes it (indented)
        layers=deck.layers,
        initial_view_state=deck.initial_view_state,
        map_provider=None,
        tooltip=maps.TOOLTIP,
    ).to_json()
    assert json.loads(deck.to_json()) == json.loads(plain)
    assert len(deck.to_json()) < len(plain) / 2
