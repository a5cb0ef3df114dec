"""Plotly figures with Chinese labels and fonts readable on a projector.

Colours follow the Streamlit theme (``st.plotly_chart(..., theme="streamlit")``); only sizes and a few
semantic colours (plan, projection, behind plan) are fixed here. Every builder is ``memo.cached``: the same
data gives back the same (shared, never changed) figure instead of building it again on every rerun.

The builders write the figure's JSON dict directly (``Chart``) instead of going through plotly's graph
objects: ``go.Figure`` / ``update_layout`` / ``px`` validate every property and cost 12–120 ms a figure,
which was most of a page's first render after new data; the dict costs well under a millisecond and
``st.plotly_chart`` sends it without validating again. ``tests/test_memo.py`` checks every builder
against the same figure built the plotly way.
"""

import copy
import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from _plotly_utils.utils import convert_to_base64

from wangtai.ui import format as fmt
from wangtai.ui import memo

FONT = dict(size=15)
ACCENT = "#3DA5FF"
PLAN = "#F5A623"
WARN = "#FF5C5C"
GOOD = "#2ECC71"
SEQUENTIAL = ["#0B3C5D", "#1F6FB2", "#3DA5FF", "#F5A623", "#FF5C5C"]
CHANNEL_COLORS = {"扫码自助": "#3DA5FF", "入户登记": "#2ECC71", "企业批量": "#F5A623", "部门比对": "#B07CFF"}


class Chart(go.Figure):
    """A plotly figure held as the dict ``go.Figure.to_dict()`` would give (arrays base64-encoded).

    ``st.plotly_chart`` takes it as a figure and only calls ``to_dict()`` (the dict itself: shared, never
    changed) and serializes it. ``data`` / ``layout`` (the snapshot, tests) build the validated figure
    once, lazily."""

    def __init__(self, spec: dict) -> None:  # no go.Figure.__init__: that is the validation we avoid
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec

    def to_json(self, *args, **kwargs) -> str:
        return pio.to_json(self._spec, *args, validate=False, **kwargs)

    @functools.cached_property
    def figure(self) -> go.Figure:
        return go.Figure(self._spec)

    @property
    def data(self):
        return self.figure.data

    @property
    def layout(self):
        return self.figure.layout

    def __repr__(self) -> str:
        return f"Chart({len(self._spec.get('data', []))} traces)"


@functools.cache
def _template() -> dict:
    """The default template every ``go.Figure`` carries (shared by all charts, never changed)."""
    return go.Figure().to_dict()["layout"]["template"]


def _array(values) -> np.ndarray:
    """A column as plotly's validators keep it (a numpy array; base64-encoded by ``_chart`` if numeric)."""
    return np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values)


def _labels(values) -> np.ndarray:
    """Names as category labels: plotly reads a few tags in labels (``<a href>`` makes a link), so data
    values are HTML-escaped; plotly shows the entities as the characters."""
    return np.asarray([fmt.html(v) for v in values], dtype=object)


def _axis(title: str | None = None, **more) -> dict:
    axis = (
        {"title": {"text": title, "font": {"size": 15}}}
        if title is not None
        else {"title": {"font": {"size": 15}}}
    )
    return {**axis, **more, "tickfont": {"size": 14}}


BAR_TEXT = 14  # px, the bar labels on the pages (the 大屏's copy: ``restyled``)
MARGIN_R = 16


def label_room(texts, size: int = BAR_TEXT) -> int:
    """Pixels a horizontal bar's outside labels need right of the plot: the widest label, estimated (CJK and
    full-width characters 1 em, the rest 0.62 em — Source Sans digits are ≈ 0.5 em, "%" ≈ 0.8), plus
    plotly's text padding. A margin in pixels holds whatever the chart's width; a longer x range would
    not: its share of the plot shrinks with the plot, and a label at the edge was cut off at 1366 px."""
    widest = max((sum(1.0 if ord(c) >= 0x2E80 else 0.62 for c in str(t)) for t in texts), default=0.0)
    return max(MARGIN_R, round(widest * size) + 8)


def _hbar_axis(title: str, top: float, **more) -> dict:
    """The value axis of horizontal bars whose labels sit right of the bar, in the margin ``label_room``
    keeps: the longest bar may reach the end of the axis (a little headroom only)."""
    return _axis(title, **more, range=[0, top * 1.03])


def _chart(
    traces: list[dict], height: int, *, xaxis: dict, yaxis: dict, margin_r: int = MARGIN_R, **layout
) -> Chart:
    """The figure dict with the shared look (what ``_base`` did with ``update_layout``): sizes, margins,
    legend on top, hover font, ``.``/``,`` separators; bar labels 14 px."""
    for trace in traces:
        if trace["type"] == "bar":
            trace["textfont"] = {"size": BAR_TEXT}
    spec = {
        "data": traces,
        "layout": {
            "template": _template(),
            "xaxis": xaxis,
            "yaxis": yaxis,
            **layout,
            "font": dict(FONT),
            "margin": {"l": 8, "r": margin_r, "t": 36, "b": 8},
            "legend": {
                **layout.get("legend", {}),
                "title": {"text": ""},
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "x": 0,
            },
            "hoverlabel": {"font": {"size": 15}},
            "height": height,
            "separators": ".,",
        },
    }
    convert_to_base64(traces)  # the arrays as plotly sends them (typed arrays), as go.Figure.to_dict() does
    return Chart(spec)


def restyled(chart: Chart, width: int, height: int) -> Chart:
    """A copy at a fixed size in the big-screen fonts (what the 大屏 did with ``update_layout``); the
    shared chart is not changed."""
    source = chart.to_dict()
    layout = {k: v if k == "template" else copy.deepcopy(v) for k, v in source["layout"].items()}
    spec = {"data": copy.deepcopy(source["data"]), "layout": layout}
    layout.update(width=width, height=height, dragmode=False)
    layout["font"] = {**layout.get("font", {}), "size": 18}
    # outside labels of horizontal bars grow with the font: their margin too (see ``label_room``)
    room = max((label_room(t.get("text") or [], 17) for t in spec["data"] if _outside_hbar(t)), default=0)
    layout["margin"] = {**layout.get("margin", {}), "l": 8, "r": max(24, room), "t": 40, "b": 8}
    layout["legend"] = {**layout.get("legend", {}), "font": {"size": 18}}
    for name in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        axis = layout[name]
        axis["tickfont"] = {**axis.get("tickfont", {}), "size": 16}
        axis["title"] = {
            **axis.get("title", {}),
            "font": {**axis.get("title", {}).get("font", {}), "size": 17},
        }
    for trace in spec["data"]:
        if trace.get("type") == "bar":
            trace["textfont"] = {**trace.get("textfont", {}), "size": 17}
    return Chart(spec)


def zoomed(chart: Chart, scale: float) -> Chart:
    """A copy with every font, margin and line width multiplied by ``scale``: the 大屏's box of a chart is
    its design size under the page's CSS zoom, but plotly draws in it in screen pixels (under the zoom it
    would measure the zoomed box), so its text needs the scale to keep its share of the screen at
    1366 × 768 (scale 0.71) or 3840 × 2160 (scale 2), as the KPIs do. The size stays the design size."""
    if abs(scale - 1) < 0.005:
        return chart
    source = chart.to_dict()
    layout = {
        k: v if k == "template" else _scaled(k, copy.deepcopy(v), scale) for k, v in source["layout"].items()
    }
    data = [{k: _scaled(k, copy.deepcopy(v), scale) for k, v in trace.items()} for trace in source["data"]]
    return Chart({"data": data, "layout": layout})


def _scaled(key: str, value, scale: float, inside: str = ""):
    """``value`` (under ``key``) with its font sizes, line widths and margins scaled."""
    if isinstance(value, dict):
        return {k: _scaled(k, v, scale, key) for k, v in value.items()}
    if isinstance(value, list) and key in ("annotations", "shapes"):
        return [_scaled("", v, scale, key) for v in value]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and (
        (key == "size" and inside.endswith("font"))
        or (key == "width" and inside == "line")
        or inside == "margin"
    ):
        return round(value * scale, 2)
    return value


def _outside_hbar(trace: dict) -> bool:
    return (
        trace.get("type") == "bar"
        and trace.get("orientation") == "h"
        and trace.get("textposition") == "outside"
    )


def show(fig: go.Figure, key: str | None = None) -> None:
    st.plotly_chart(for_theme(fig), key=key, config={"displaylogo": False, "displayModeBar": False})


_LIGHT: dict[int, tuple[go.Figure, "Chart"]] = {}


def for_theme(fig: go.Figure) -> go.Figure:
    """The shared figure in the viewer's theme: on the light theme our colours' darker twins
    (wangtai.ui.theme.LIGHT); kept per figure."""
    from wangtai.ui import theme

    if not theme.is_light():
        return fig
    hit = _LIGHT.get(id(fig))
    if hit is None or hit[0] is not fig:
        if len(_LIGHT) > 128:
            _LIGHT.clear()
        hit = _LIGHT[id(fig)] = (fig, Chart(theme.colours(fig.to_dict())))
    return hit[1]


def empty_note(frame: pd.DataFrame, what: str = "数据") -> bool:
    """True (and a note on screen) when there is nothing to draw."""
    if frame is None or frame.empty:
        st.info(f"暂无{what}。", icon="ℹ️")
        return True
    return False


def one_community(frame: pd.DataFrame, label: str, value: str, value_title: str) -> bool:
    """A ranking of one (a staff user's single community): its figure as a tile instead of one bar in an
    empty box. True when shown."""
    if len(frame) != 1:
        return False
    row = frame.iloc[0]
    st.metric(f"{fmt.md(row[label])} · {value_title}", fmt.pct(row[value]), border=True)
    return True


def ranking_height(rows: int, most: int) -> int:
    """A ranking's height: its bars' own (26 px a bar), at most ``most``."""
    return min(most, max(200, 26 * rows + 60))


@memo.cached
def ranked_bars(
    frame: pd.DataFrame,
    label: str,
    value: str,
    *,
    value_title: str,
    percent: bool = True,
    height: int | None = None,
    highlight: str | None = None,
    hover: dict | None = None,
) -> Chart:
    """Horizontal bars, largest at the top; ``highlight`` names the label to mark."""
    data = frame.sort_values(value, ascending=True)
    height = height or max(260, 26 * len(data) + 60)
    colors = [WARN if highlight and lab == highlight else ACCENT for lab in data[label]]
    text = [fmt.pct(v) if percent else fmt.num(v) for v in data[value]]
    bar = {
        "cliponaxis": False,
        "hovertemplate": f"%{{y}}<br>{value_title}：%{{text}}<extra></extra>",
        "marker": {"color": colors},
        "orientation": "h",
        "text": text,
        "textposition": "outside",
        "x": _array(data[value]),
        "y": _labels(data[label]),
        "type": "bar",
    }
    xaxis = _hbar_axis(value_title, float(data[value].max() or 1), tickformat=".0%" if percent else ",d")
    yaxis = _axis("", type="category", automargin=True)
    return _chart([bar], height, xaxis=xaxis, yaxis=yaxis, margin_r=label_room(text))


@memo.cached
def progress_vs_plan(progress: pd.DataFrame, projection: dict | None = None, height: int = 380) -> Chart:
    """Cumulative registered vs plan by day; with ``projection`` a dashed line to the deadline."""
    days = _array(progress["day"])
    traces = [
        _line(
            days,
            _array(progress["registered_cumulative"]),
            "累计登记",
            {"color": ACCENT, "width": 4},
            "%{x|%-m月%-d日}<br>累计登记 %{y:,}<extra></extra>",
        ),
        _line(
            days,
            _array(progress["plan_cumulative"]),
            "计划",
            {"color": PLAN, "dash": "dot", "width": 3},
            "%{x|%-m月%-d日}<br>计划 %{y:,.0f}<extra></extra>",
        ),
    ]
    layout: dict = {}
    if projection and not pd.isna(projection.get("deadline")) and len(progress):
        _add_projection(traces, layout, progress, projection)
    xaxis = _axis("", tickformat="%-m月%-d日")
    yaxis = _axis("人数", tickformat=",d", rangemode="tozero")
    return _chart(traces, height, xaxis=xaxis, yaxis=yaxis, **layout)


def _line(x, y, name: str, line: dict, hover: str) -> dict:
    return {
        "hovertemplate": hover,
        "line": line,
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "type": "scatter",
    }


def _add_projection(traces: list[dict], layout: dict, progress: pd.DataFrame, p: dict) -> None:
    last_day = pd.Timestamp(progress["day"].iloc[-1])
    deadline = pd.Timestamp(p["deadline"])
    last = float(progress["registered_cumulative"].iloc[-1])
    pace = float(p.get("pace_14d") or 0)
    if deadline <= last_day:
        return
    end = last + pace * (deadline - last_day).days
    color = GOOD if p.get("on_track") else WARN
    traces.append(
        _line(
            [last_day, deadline],
            [last, end],
            "按近14日速度预测",
            {"color": color, "dash": "dash", "width": 3},
            "%{x|%-m月%-d日}<br>预测 %{y:,.0f}<extra></extra>",
        )
    )
    target = p.get("target_registered")
    if target and not pd.isna(target):
        traces.append(
            _line(
                [progress["day"].iloc[0], deadline],
                [target, target],
                "目标",
                {"color": PLAN, "width": 1.5},
                "目标 %{y:,.0f}<extra></extra>",
            )
        )
    layout["shapes"] = [
        {
            "line": {"color": PLAN, "dash": "dot"},
            "opacity": 0.8,
            "type": "line",
            "x0": deadline,
            "x1": deadline,
            "xref": "x",
            "y0": 0,
            "y1": 1,
            "yref": "y domain",
        }
    ]
    layout["annotations"] = [
        {
            "font": {"color": PLAN, "size": 14},
            "showarrow": False,
            "text": "截止",
            "x": deadline,
            "xanchor": "right",
            "y": 0.02,
            "yref": "paper",
        }
    ]


@memo.cached
def stacked_daily(daily: pd.DataFrame, height: int = 360) -> Chart:
    """Scans per day stacked by channel (what ``px.bar(color="channel")`` drew: one trace per channel in
    order of first appearance)."""
    traces = []
    for channel, part in daily.groupby("channel", sort=False, dropna=False):
        traces.append(
            {
                "hovertemplate": "%{x|%-m月%-d日}<br>%{fullData.name}：%{y:,}<extra></extra>",
                "legendgroup": channel,
                "marker": {"color": CHANNEL_COLORS.get(channel), "pattern": {"shape": ""}},
                "name": fmt.html(channel),
                "orientation": "v",
                "showlegend": True,
                "textposition": "auto",
                "x": _array(part["day"]),
                "xaxis": "x",
                "y": _array(part["scans"]),
                "yaxis": "y",
                "type": "bar",
            }
        )
    xaxis = _axis("", anchor="y", domain=[0.0, 1.0], tickformat="%-m月%-d日")
    yaxis = _axis("扫码次数", anchor="x", domain=[0.0, 1.0])
    return _chart(
        traces, height, xaxis=xaxis, yaxis=yaxis, legend={"tracegroupgap": 0}, barmode="relative", bargap=0.1
    )


@memo.cached
def column_bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    y_title: str,
    height: int = 360,
    percent: bool = False,
    color: str = ACCENT,
) -> Chart:
    text = [fmt.pct(v) if percent else fmt.num(v) for v in frame[y]]
    bar = {
        "cliponaxis": False,
        "hovertemplate": f"%{{x}}<br>{y_title}：%{{text}}<extra></extra>",
        "marker": {"color": color},
        "text": text,
        "textposition": "outside",
        "x": _labels(frame[x]),
        "y": _array(frame[y]),
        "type": "bar",
    }
    top = float(frame[y].max() or 1) * 1.2
    yaxis = _axis(y_title, tickformat=".0%" if percent else ",d", range=[0, top])
    xaxis = _axis("", type="category")
    return _chart([bar], height, xaxis=xaxis, yaxis=yaxis)


@memo.cached
def heatmap(frame: pd.DataFrame, height: int = 360) -> Chart:
    """Hour × weekday scans. Weekday 1–7 (Mon = 1) or 0–6 (Sun = 0) both work."""
    days = frame["weekday"].astype(int).to_numpy()
    days = np.where(days == 0, 7, days)
    hours = frame["hour"].astype(int).to_numpy()
    inside = (days >= 1) & (days <= 7) & (hours >= 0) & (hours < 24)
    # A 7 × 24 sum with numpy (pandas' pivot_table + reindex did the same in ~7 ms); kept int64 like it.
    z = np.zeros((7, 24), dtype=np.int64)
    np.add.at(z, (days[inside] - 1, hours[inside]), frame["scans"].to_numpy()[inside].astype(np.int64))
    steps = len(SEQUENTIAL) - 1
    heat = {
        "colorbar": {"title": {"text": "扫码"}},
        "colorscale": [[i / steps, c] for i, c in enumerate(SEQUENTIAL)],
        "hovertemplate": "%{y} %{x}<br>扫码 %{z:,}<extra></extra>",
        "x": [f"{h}时" for h in range(24)],
        "y": [fmt.weekday(d) for d in range(1, 8)],
        "z": z,
        "type": "heatmap",
    }
    return _chart([heat], height, xaxis=_axis(), yaxis=_axis(autorange="reversed"))


@memo.cached
def composition(frame: pd.DataFrame, dimension: str, height: int | None = None) -> Chart:
    """One dimension's categories as horizontal bars; 26 px a category (as ``ranked_bars``) so that plotly
    does not shrink a label to a thin bar's thickness (22 home provinces in 300 px were unreadable)."""
    part = frame[frame["dimension"] == dimension].sort_values("newcomers", ascending=True)
    height = height or max(300, 26 * len(part) + 110)
    text = [f"{fmt.num(n)}（{fmt.pct(s)}）" for n, s in zip(part["newcomers"], part["share"], strict=False)]
    bar = {
        "cliponaxis": False,
        "hovertemplate": "%{y}<br>%{text}<extra></extra>",
        "marker": {"color": ACCENT},
        "orientation": "h",
        "text": text,
        "textposition": "outside",
        "x": _array(part["newcomers"]),
        "y": _labels(part["category"]),
        "type": "bar",
    }
    xaxis = _hbar_axis("新市民人数", float(part["newcomers"].max() or 1), tickformat=",d")
    yaxis = _axis("", type="category", automargin=True)
    title = {"text": dimension, "font": {"size": 17}}
    return _chart([bar], height, xaxis=xaxis, yaxis=yaxis, title=title, margin_r=label_room(text))
