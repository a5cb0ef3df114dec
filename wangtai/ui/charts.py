"""Plotly figures with Chinese labels and fonts readable on a projector.

Colours follow the Streamlit theme (``st.plotly_chart(..., theme="streamlit")``); only sizes and a few
semantic colours (plan, projection, behind plan) are fixed here. Every builder is ``memo.cached``: the same
data gives back the same (shared, never changed) figure instead of building it again on every rerun.
"""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from wangtai.ui import format as fmt
from wangtai.ui import memo

FONT = dict(size=15)
ACCENT = "#3DA5FF"
PLAN = "#F5A623"
WARN = "#FF5C5C"
GOOD = "#2ECC71"
SEQUENTIAL = ["#0B3C5D", "#1F6FB2", "#3DA5FF", "#F5A623", "#FF5C5C"]
CHANNEL_COLORS = {"扫码自助": "#3DA5FF", "入户登记": "#2ECC71", "企业批量": "#F5A623", "部门比对": "#B07CFF"}


def show(fig: go.Figure, key: str | None = None) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "displayModeBar": False})


def empty_note(frame: pd.DataFrame, what: str = "数据") -> bool:
    """True (and a note on screen) when there is nothing to draw."""
    if frame is None or frame.empty:
        st.info(f"暂无{what}。", icon="ℹ️")
        return True
    return False


def _base(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        font=FONT,
        margin=dict(l=8, r=16, t=36, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, title_text=""),
        hoverlabel=dict(font_size=15),
        separators=".,",
    )
    fig.update_xaxes(tickfont=dict(size=14), title_font=dict(size=15))
    fig.update_yaxes(tickfont=dict(size=14), title_font=dict(size=15))
    fig.update_traces(textfont_size=14, selector=dict(type="bar"))
    return fig


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
) -> go.Figure:
    """Horizontal bars, largest at the top; ``highlight`` names the label to mark."""
    data = frame.sort_values(value, ascending=True)
    height = height or max(260, 26 * len(data) + 60)
    colors = [WARN if highlight and lab == highlight else ACCENT for lab in data[label]]
    text = [fmt.pct(v) if percent else fmt.num(v) for v in data[value]]
    fig = go.Figure(
        go.Bar(
            x=data[value],
            y=data[label],
            orientation="h",
            marker_color=colors,
            text=text,
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}<br>{value_title}：%{{text}}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title_text=value_title,
        tickformat=".0%" if percent else ",d",
        range=[0, float(data[value].max() or 1) * 1.18],
    )
    fig.update_yaxes(title_text="", type="category", automargin=True)
    return _base(fig, height)


@memo.cached
def progress_vs_plan(progress: pd.DataFrame, projection: dict | None = None, height: int = 380) -> go.Figure:
    """Cumulative registered vs plan by day; with ``projection`` a dashed line to the deadline."""
    fig = go.Figure()
    fig.add_scatter(
        x=progress["day"],
        y=progress["registered_cumulative"],
        name="累计登记",
        mode="lines",
        line=dict(color=ACCENT, width=4),
        hovertemplate="%{x|%m月%d日}<br>累计登记 %{y:,}<extra></extra>",
    )
    fig.add_scatter(
        x=progress["day"],
        y=progress["plan_cumulative"],
        name="计划",
        mode="lines",
        line=dict(color=PLAN, width=3, dash="dot"),
        hovertemplate="%{x|%m月%d日}<br>计划 %{y:,.0f}<extra></extra>",
    )
    if projection and not pd.isna(projection.get("deadline")) and len(progress):
        _add_projection(fig, progress, projection)
    fig.update_xaxes(title_text="", tickformat="%m月%d日")
    fig.update_yaxes(title_text="人数", tickformat=",d", rangemode="tozero")
    return _base(fig, height)


def _add_projection(fig: go.Figure, progress: pd.DataFrame, p: dict) -> None:
    last_day = pd.Timestamp(progress["day"].iloc[-1])
    deadline = pd.Timestamp(p["deadline"])
    last = float(progress["registered_cumulative"].iloc[-1])
    pace = float(p.get("pace_14d") or 0)
    if deadline <= last_day:
        return
    end = last + pace * (deadline - last_day).days
    color = GOOD if p.get("on_track") else WARN
    fig.add_scatter(
        x=[last_day, deadline],
        y=[last, end],
        name="按近14日速度预测",
        mode="lines",
        line=dict(color=color, width=3, dash="dash"),
        hovertemplate="%{x|%m月%d日}<br>预测 %{y:,.0f}<extra></extra>",
    )
    target = p.get("target_registered")
    if target and not pd.isna(target):
        fig.add_scatter(
            x=[progress["day"].iloc[0], deadline],
            y=[target, target],
            name="目标",
            mode="lines",
            line=dict(color=PLAN, width=1.5),
            hovertemplate="目标 %{y:,.0f}<extra></extra>",
        )
    fig.add_vline(x=deadline, line_dash="dot", line_color=PLAN, opacity=0.8)
    fig.add_annotation(
        x=deadline,
        y=0.02,
        yref="paper",
        text="截止",
        showarrow=False,
        xanchor="right",
        font=dict(color=PLAN, size=14),
    )


@memo.cached
def stacked_daily(daily: pd.DataFrame, height: int = 360) -> go.Figure:
    fig = px.bar(
        daily,
        x="day",
        y="scans",
        color="channel",
        color_discrete_map=CHANNEL_COLORS,
        labels={"day": "日期", "scans": "扫码次数", "channel": "渠道"},
    )
    fig.update_traces(hovertemplate="%{x|%m月%d日}<br>%{fullData.name}：%{y:,}<extra></extra>")
    fig.update_xaxes(title_text="", tickformat="%m月%d日")
    fig.update_layout(bargap=0.1)
    return _base(fig, height)


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
) -> go.Figure:
    text = [fmt.pct(v) if percent else fmt.num(v) for v in frame[y]]
    fig = go.Figure(
        go.Bar(
            x=frame[x],
            y=frame[y],
            text=text,
            textposition="outside",
            cliponaxis=False,
            marker_color=color,
            hovertemplate=f"%{{x}}<br>{y_title}：%{{text}}<extra></extra>",
        )
    )
    fig.update_yaxes(
        title_text=y_title, tickformat=".0%" if percent else ",d", range=[0, float(frame[y].max() or 1) * 1.2]
    )
    fig.update_xaxes(title_text="", type="category")
    return _base(fig, height)


@memo.cached
def heatmap(frame: pd.DataFrame, height: int = 360) -> go.Figure:
    """Hour × weekday scans. Weekday 1–7 (Mon = 1) or 0–6 (Sun = 0) both work."""
    data = frame.copy()
    days = data["weekday"].astype(int)
    data["weekday"] = (days.where(days != 0, 7)).astype(int)
    grid = data.pivot_table(index="weekday", columns="hour", values="scans", aggfunc="sum", fill_value=0)
    grid = grid.reindex(index=range(1, 8), columns=range(24), fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{h}时" for h in grid.columns],
            y=[fmt.weekday(d) for d in grid.index],
            colorscale=SEQUENTIAL,
            colorbar=dict(title="扫码"),
            hovertemplate="%{y} %{x}<br>扫码 %{z:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _base(fig, height)


@memo.cached
def composition(frame: pd.DataFrame, dimension: str, height: int = 300) -> go.Figure:
    part = frame[frame["dimension"] == dimension].sort_values("newcomers", ascending=True)
    text = [f"{fmt.num(n)}（{fmt.pct(s)}）" for n, s in zip(part["newcomers"], part["share"], strict=False)]
    fig = go.Figure(
        go.Bar(
            x=part["newcomers"],
            y=part["category"],
            orientation="h",
            text=text,
            textposition="outside",
            cliponaxis=False,
            marker_color=ACCENT,
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title_text="新市民人数", tickformat=",d", range=[0, float(part["newcomers"].max() or 1) * 1.45]
    )
    fig.update_yaxes(title_text="", type="category", automargin=True)
    fig.update_layout(title=dict(text=dimension, font=dict(size=17)))
    return _base(fig, height)
