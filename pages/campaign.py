"""登记进度 — the 一家亲 campaign vs plan and its projection, channels, sites, hours; units behind plan.

The behind-plan list and the masked door-to-door list download as Excel and CSV.
"""

import functools

import streamlit as st

from wangtai.ui import charts, data, exports, kpis, live_view, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("登记进度", "📈")


def projection_strip(p: dict, fresh) -> None:
    if not p:
        return
    figures = kpis.campaign(p)  # the same figures as the 大屏 (wangtai.ui.kpis)
    on_track = kpis.on_track(p)
    per_row = 3  # six tiles in one row cut their figures off on a 1366-px laptop
    columns = [column for _ in range(0, len(figures), per_row) for column in st.columns(per_row)]
    for index, (column, kpi) in enumerate(zip(columns, figures, strict=False)):
        last = index == len(figures) - 1  # the projected finish: green on track, red late
        column.metric(
            kpi.label,
            kpi.value,
            kpi.delta,
            delta_color=("green" if on_track else "red") if last else "off",
            delta_arrow=("up" if on_track else "down") if last else "off",
            border=True,
            help=kpi.help,
        )
    tables.definitions(kpis.definitions(figures, fresh))  # the "?" is hidden on a laptop


def progress_section(p: dict, progress) -> None:
    st.subheader("累计登记与计划（虚线为按近14日速度的预测）")
    if not charts.empty_note(progress, "登记进度"):
        charts.show(
            live_view.once("progress", lambda: charts.progress_vs_plan(progress, p, height=400)),
            key="progress",
        )


def activity_section(daily, sites, heat) -> None:
    daily_col, sites_col = st.columns([3, 2], gap="medium")
    with daily_col:
        st.subheader("每日扫码（按渠道）")
        if not charts.empty_note(daily, "扫码数据"):
            charts.show(live_view.once("daily", lambda: charts.stacked_daily(daily)), key="daily")
    with sites_col:
        st.subheader("登记场所")
        if not charts.empty_note(sites, "场所数据"):
            ranked = sites.sort_values("scans", ascending=False)
            figure = live_view.once(
                "sites", lambda: charts.column_bars(ranked, "site", "scans", y_title="扫码次数")
            )
            charts.show(figure, key="sites")
    st.subheader("扫码时段（星期 × 小时）")
    if not charts.empty_note(heat, "时段数据"):
        charts.show(live_view.once("heat", lambda: charts.heatmap(heat, height=330)), key="heat")


def units_section(units) -> None:
    st.subheader("落后计划的单位（缺口最大的在前）")
    if charts.empty_note(units, "单位数据"):
        return
    units = tables.prepared(units, tables.UNIT_COLUMNS).sort_values("gap", ascending=True)  # gaps as shown
    behind = units[units["gap"] < 0]
    plan = units["plan_rate"].dropna()
    today = f"（今日计划登记率 {fmt.pct(plan.iloc[0])}）" if len(plan) else ""
    st.caption(
        f"{fmt.md(filters.label)}：共 {len(units)} 个单位，其中 {len(behind)} 个落后于今日计划{today}。"
    )
    tables.show(units, tables.UNIT_COLUMNS, tables.UNIT_ORDER, height=380)
    exports.download_buttons(units, "落后单位", f"单位登记进度_{filters.label}", "units")


DOOR_PREVIEW_ROWS = 1_000  # on screen; the export has the whole list (a city unit: 150k people)


def door_to_door(units) -> None:
    if units.empty:
        return
    units = tables.prepared(units, tables.UNIT_COLUMNS).sort_values("gap", ascending=True)
    st.subheader("入户名单：某单位未登记的新市民（已脱敏）")
    ids = list(units["unit_id"])
    labels = dict(
        zip(
            units["unit_id"],
            units["unit_name"] + "（较计划 " + units["gap"].map(lambda g: fmt.signed(g, unit="人")) + "）",
            strict=False,
        )
    )
    unit = st.selectbox("选择单位", ids, format_func=lambda u: labels[u], key="door_unit")
    people = data.scoped("unregistered_newcomers", filters, unit_id=unit, limit=DOOR_PREVIEW_ROWS)
    if charts.empty_note(people, "未登记人员（该单位已全部登记）"):
        return
    total = int(people["total"].iloc[0])
    shown = f"，下表显示前 {fmt.num(len(people))} 人；导出含全部" if len(people) < total else ""
    st.caption(f"共 {fmt.num(total)} 人{shown}。仅显示脱敏信息，导出文件同样脱敏，请按个人信息保护要求使用。")
    tables.show(people, tables.UNREGISTERED_COLUMNS, height=320)
    stem = f"入户名单_{labels[unit]}"
    if len(people) >= total:  # the preview is the whole list
        exports.download_buttons(people, "入户名单", stem, "door")
        return
    # the whole list only when asked for: it is read in this script run, where the access checks apply
    everyone = functools.partial(data.scoped, "unregistered_newcomers", filters, unit_id=unit)
    exports.whole_list_buttons(everyone, total, "入户名单", stem, "door", scope=(unit, filters.label))


def fetch() -> dict:
    return {
        "projection": data.first_row(data.scoped("campaign_projection", filters)),
        "progress": data.scoped("registration_progress", filters),
        "daily": data.scoped("registration_daily", filters),
        "sites": data.scoped("registration_sites", filters),
        "heat": data.scoped("registration_heatmap", filters),
        "units": data.scoped("unit_progress", filters),
        "fresh": live_view.freshness(),
    }


def live_part(found: dict) -> None:
    projection_strip(found["projection"], found["fresh"])
    progress_section(found["projection"], found["progress"])
    activity_section(found["daily"], found["sites"], found["heat"])
    units_section(found["units"])


# Everything above the door-to-door list is live (wangtai.ui.live_view): re-queried only when the data
# changed.
live_view.section("campaign", fetch, live_part, filters.params, by_minute=True)
door_to_door(data.scoped("unit_progress", filters))
