"""Built figures and maps kept per content (wangtai.ui.memo): the same data gives the same object, other
data another one, and nothing changes a shared figure."""

import base64
import json

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import pydeck as pdk

from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.ui import charts, maps, memo, screen, snapshot
from wangtai.ui import format as fmt
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
        maps.outlines_layer(communities) if density is not None else None,
        maps.highlight_layer(communities, highlight),
        maps.labels_layer(communities, 13, maps.view_for(communities, codes, w, h)),
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
    assert '"tip":"本网格新市民 1,234 人（占 —）"' in expected  # a missing share is a dash; no markup
    without_share = density.drop(columns="newcomer_share")
    assert maps.cells_json(without_share) == json.dumps(
        maps.cells_records(without_share), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    colours = {tuple(r["fill"]) for r in maps.cells_records(density)}
    assert len(colours) == 4  # 1, 12, 100 and 1,234 people: breaks 4, 17, 72, 297 → four classes


# ---- the charts' dicts draw what plotly's validated figures drew --------------------------------------
# The plotly way each builder was written before (go.Figure / update_layout / px): the reference.


def _ref_base(fig, height):
    fig.update_layout(
        height=height,
        font=charts.FONT,
        margin=dict(l=8, r=16, t=36, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, title_text=""),
        hoverlabel=dict(font_size=15),
        separators=".,",
    )
    fig.update_xaxes(tickfont=dict(size=14), title_font=dict(size=15))
    fig.update_yaxes(tickfont=dict(size=14), title_font=dict(size=15))
    fig.update_traces(textfont_size=14, selector=dict(type="bar"))
    return fig


def _ref_bar(x, y, text, color, hover, xaxis, yaxis, height, orientation=None, title=None, margin_r=None):
    bar = dict(x=x, y=y, marker_color=color, text=text, textposition="outside", cliponaxis=False)
    fig = go.Figure(go.Bar(**bar, hovertemplate=hover, **({"orientation": "h"} if orientation else {})))
    fig.update_xaxes(**xaxis)
    fig.update_yaxes(**yaxis)
    if title:
        fig.update_layout(title=dict(text=title, font=dict(size=17)))
    fig = _ref_base(fig, height)
    if margin_r is not None:  # horizontal bars: their outside labels' room, in pixels
        fig.update_layout(margin_r=margin_r)
    return fig


def _room(texts, size=14) -> int:
    """Outside labels' width by hand: 1 em a CJK / full-width character, 0.62 em the rest, + 8 px."""
    widest = max(sum(1.0 if ord(c) >= 0x2E80 else 0.62 for c in t) for t in texts)
    return max(16, round(widest * size) + 8)


def _ref_progress(progress, p, height):
    fig = go.Figure()
    line = dict(mode="lines")
    fig.add_scatter(
        x=progress["day"],
        y=progress["registered_cumulative"],
        name="累计登记",
        **line,
        line=dict(color=charts.ACCENT, width=4),
        hovertemplate="%{x|%-m月%-d日}<br>累计登记 %{y:,}<extra></extra>",
    )
    fig.add_scatter(
        x=progress["day"],
        y=progress["plan_cumulative"],
        name="计划",
        **line,
        line=dict(color=charts.PLAN, width=3, dash="dot"),
        hovertemplate="%{x|%-m月%-d日}<br>计划 %{y:,.0f}<extra></extra>",
    )
    last_day, deadline = pd.Timestamp(progress["day"].iloc[-1]), pd.Timestamp(p["deadline"])
    last = float(progress["registered_cumulative"].iloc[-1])
    end = last + float(p["pace_14d"] or 0) * (deadline - last_day).days
    fig.add_scatter(
        x=[last_day, deadline],
        y=[last, end],
        name="按近14日速度预测",
        **line,
        line=dict(color=charts.GOOD if p["on_track"] else charts.WARN, width=3, dash="dash"),
        hovertemplate="%{x|%-m月%-d日}<br>预测 %{y:,.0f}<extra></extra>",
    )
    target = p["target_registered"]
    fig.add_scatter(
        x=[progress["day"].iloc[0], deadline],
        y=[target, target],
        name="目标",
        **line,
        line=dict(color=charts.PLAN, width=1.5),
        hovertemplate="目标 %{y:,.0f}<extra></extra>",
    )
    fig.add_vline(x=deadline, line_dash="dot", line_color=charts.PLAN, opacity=0.8)
    fig.add_annotation(
        x=deadline,
        y=0.02,
        yref="paper",
        text="截止",
        showarrow=False,
        xanchor="right",
        font=dict(color=charts.PLAN, size=14),
    )
    fig.update_xaxes(title_text="", tickformat="%-m月%-d日")
    fig.update_yaxes(title_text="人数", tickformat=",d", rangemode="tozero")
    return _ref_base(fig, height)


def _ref_daily(daily):
    fig = px.bar(
        daily,
        x="day",
        y="scans",
        color="channel",
        color_discrete_map=charts.CHANNEL_COLORS,
        labels={"day": "日期", "scans": "扫码次数", "channel": "渠道"},
    )
    fig.update_traces(hovertemplate="%{x|%-m月%-d日}<br>%{fullData.name}：%{y:,}<extra></extra>")
    fig.update_xaxes(title_text="", tickformat="%-m月%-d日")
    fig.update_layout(bargap=0.1)
    return _ref_base(fig, 360)


def _ref_heatmap(frame):
    grid = frame.pivot_table(index="weekday", columns="hour", values="scans", aggfunc="sum", fill_value=0)
    grid = grid.reindex(index=range(1, 8), columns=range(24), fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{h}时" for h in grid.columns],
            y=[fmt.weekday(d) for d in grid.index],
            colorscale=charts.SEQUENTIAL,
            colorbar=dict(title="扫码"),
            hovertemplate="%{y} %{x}<br>扫码 %{z:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _ref_base(fig, 330)


def _decoded(figure) -> dict:
    """The figure's JSON with typed arrays decoded: what plotly.js is given, whatever the encoding."""

    def decode(value):
        if isinstance(value, dict) and {"dtype", "bdata"} <= set(value):
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            shape = [int(n) for n in str(value.get("shape", len(array))).split(",")]
            return array.reshape(shape).tolist()
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        return [decode(v) for v in value] if isinstance(value, list) else value

    return decode(json.loads(pio.to_json(figure, validate=False)))


def test_every_chart_draws_what_the_plotly_figure_drew(demo_paths: DataPaths) -> None:
    runner = Runner(demo_paths)
    share = runner.run("community_share", {})
    progress = runner.run("registration_progress", {})
    projection = runner.run("campaign_projection", {}).iloc[0].to_dict()
    sites = runner.run("registration_sites", {}).sort_values("scans", ascending=False)
    composition = runner.run("community_composition", {})
    daily = runner.run("registration_daily", {})
    heat = runner.run("registration_heatmap", {})
    ranked = share.sort_values("newcomer_share")
    marked = share["community_name"].iloc[1]
    pairs = [
        (
            charts.ranked_bars.build(
                share, "community_name", "newcomer_share", value_title="占比", highlight=marked
            ),
            _ref_bar(
                ranked["newcomer_share"],
                ranked["community_name"],
                [fmt.pct(v) for v in ranked["newcomer_share"]],
                [charts.WARN if n == marked else charts.ACCENT for n in ranked["community_name"]],
                "%{y}<br>占比：%{text}<extra></extra>",
                dict(title_text="占比", tickformat=".0%", range=[0, ranked["newcomer_share"].max() * 1.03]),
                dict(title_text="", type="category", automargin=True),
                max(260, 26 * len(share) + 60),
                "h",
                margin_r=_room([fmt.pct(v) for v in ranked["newcomer_share"]]),
            ),
        ),
        (
            charts.column_bars.build(sites, "site", "scans", y_title="扫码次数"),
            _ref_bar(
                sites["site"],
                sites["scans"],
                [fmt.num(v) for v in sites["scans"]],
                charts.ACCENT,
                "%{x}<br>扫码次数：%{text}<extra></extra>",
                dict(title_text="", type="category"),
                dict(title_text="扫码次数", tickformat=",d", range=[0, float(sites["scans"].max()) * 1.2]),
                360,
            ),
        ),
        (
            charts.progress_vs_plan.build(progress, projection, height=440),
            _ref_progress(progress, projection, 440),
        ),
        (charts.stacked_daily.build(daily), _ref_daily(daily)),
        (charts.heatmap.build(heat, height=330), _ref_heatmap(heat)),
    ]
    for dimension in composition["dimension"].unique():
        part = composition[composition["dimension"] == dimension].sort_values("newcomers")
        labels = [
            f"{fmt.num(n)}（{fmt.pct(s)}）" for n, s in zip(part["newcomers"], part["share"], strict=True)
        ]
        reference = _ref_bar(
            part["newcomers"],
            part["category"],
            labels,
            charts.ACCENT,
            "%{y}<br>%{text}<extra></extra>",
            dict(title_text="新市民人数", tickformat=",d", range=[0, float(part["newcomers"].max()) * 1.03]),
            dict(title_text="", type="category", automargin=True),
            max(300, 26 * len(part) + 110),
            "h",
            title=dimension,
            margin_r=_room(labels),
        )
        pairs.append((charts.composition.build(composition, dimension), reference))
    assert len(pairs) > 6
    for chart, reference in pairs:
        assert isinstance(chart, charts.Chart)
        assert _decoded(chart) == _decoded(reference)
        styled = screen._styled.__wrapped__(lambda c=chart: c, 660, 480)  # the 大屏's copy
        hbar = reference.data[0].type == "bar" and reference.data[0].orientation == "h"
        reference.update_layout(
            width=660,
            height=480,
            dragmode=False,
            font=dict(size=18),
            margin=dict(l=8, r=max(24, _room(reference.data[0].text, 17)) if hbar else 24, t=40, b=8),
            legend=dict(font=dict(size=18)),
        )
        reference.update_xaxes(tickfont=dict(size=16), title_font=dict(size=17))
        reference.update_yaxes(tickfont=dict(size=16), title_font=dict(size=17))
        reference.update_traces(textfont_size=17, selector=dict(type="bar"))
        assert _decoded(styled) == _decoded(reference)


def test_a_chart_is_sent_without_plotly_validating_it_again(demo_paths, monkeypatch) -> None:
    """st.plotly_chart validates a dict (go.Figure(**dict)) and copies a go.Figure (to_dict): a Chart is
    handed over as it is, and the validated figure is built only when someone asks for .data/.layout."""
    chart = charts.column_bars.build(pd.DataFrame({"s": ["甲", "乙"], "n": [3, 5]}), "s", "n", y_title="次")
    built, figure = [], go.Figure
    monkeypatch.setattr(charts.go, "Figure", lambda *a, **k: built.append(a) or figure(*a, **k))
    assert plotly.tools.return_figure_from_figure_or_data(chart, validate_figure=True) is chart.to_dict()
    assert built == []
    assert chart.layout.height == 360 and list(chart.data[0].x) == ["甲", "乙"]
    assert len(built) == 1
