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


def _pydeck_reference(communities, density, highlight=None, choropleth=False, codes=None, w=1200, h=680):
    """The map as pydeck itself serializes it, the cells as a DataFrame layer (how it was built before)."""
    layers = maps.stack(
        maps.boundaries_layer(communities, highlight=highlight, choropleth=choropleth),
        pdk.Layer(
            "PolygonLayer",
            maps.cells_frame(density),
            id="cells",
            pickable=True,
            stroked=False,
            filled=True,
            get_polygon="polygon",
            get_fill_color="fill",
            auto_highlight=True,
        )
        if density is not None
        else None,
        maps.highlight_layer(communities, highlight),
    )
    view = maps.view_for(communities, codes, w, h)
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, tooltip=maps.TOOLTIP).to_json()


def test_a_map_is_built_once_and_its_compact_json_is_pydecks(demo_paths: DataPaths) -> None:
    runner = Runner(demo_paths)
    communities = runner.run("community_map", {})
    density = runner.run("newcomer_density", {})
    code = communities["community_code"].iloc[2]
    deck = maps.chart(communities, density=density, width=1200, height=680)
    assert maps.chart(communities, density=density.copy(), width=1200, height=680) is deck
    plain = _pydeck_reference(communities, density)
    assert json.loads(deck.to_json()) == json.loads(plain)
    assert deck.to_json() == json.dumps(json.loads(plain), ensure_ascii=False, separators=(",", ":"))
    assert len(deck.to_json()) < len(plain) / 2
    chosen = maps.chart(communities, highlight=code, choropleth=True, codes=[code], width=340, height=400)
    assert json.loads(chosen.to_json()) == json.loads(
        _pydeck_reference(communities, None, code, True, [code], 340, 400)
    )


def test_the_cells_json_is_json_dumps_of_the_records() -> None:
    density = pd.DataFrame(
        {
            "cell_id": [1, 2, 3, 4],
            "lat": [36.06075, 36.06225, 36.0, 35.9805],
            "lon": [120.001, 120.003, 119.999, 120.0010000000001],
            "newcomers": [1, 12, 100, 1234],
            "residents": [4, 40, 300, 5000],
            "newcomer_share": [0.25, 0.3, 1.0, float("nan")],
        }
    )
    expected = json.dumps(
        maps.cells_records(density), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert maps.cells_json(density) == expected
    assert '"tip":"本网格新市民 <b>1,234</b> 人（占 —）' in expected  # a missing share is a dash
    without_share = density.drop(columns="newcomer_share")
    assert maps.cells_json(without_share) == json.dumps(
        maps.cells_records(without_share), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    colours = {tuple(r["fill"]) for r in maps.cells_records(density)}
    assert len(colours) == 4  # 1, 12, 100 and 1,234 people: breaks 4, 17, 72, 297 → four classes
