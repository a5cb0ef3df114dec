"""总览 — the entry and first page: the big figures, newcomer share per community, campaign vs plan, a map."""

import streamlit as st

from wangtai.ui import charts, data, live, maps
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("总览", "🏠")


def kpis(row: dict) -> list[tuple[str, str, str | None, str]]:
    """(label, value, delta, help) for the KPI row; values formatted exactly as tested."""
    rate_gap = reg_gap = None
    if row.get("registration_rate") is not None and row.get("plan_rate") is not None:
        rate_gap = fmt.pp(row["registration_rate"] - row["plan_rate"])
    if row.get("plan_registered") is not None:
        reg_gap = f"{fmt.signed(row['registered'] - row['plan_registered'])} 人"
    plan_rate, plan_registered = fmt.pct(row.get("plan_rate")), fmt.num(row.get("plan_registered"))
    return [
        ("实有人口", fmt.num(row.get("residents")), None, "现有在住人口（当前实有人口快照）"),
        ("新市民", fmt.num(row.get("newcomers")), None, "流动人口：无本地户籍的在住人口"),
        ("新市民占比", fmt.pct(row.get("newcomer_share")), None, "新市民 ÷ 实有人口"),
        (
            f"登记人数（计划 {plan_registered}）",
            fmt.num(row.get("registered")),
            reg_gap,
            "一家亲扫码登记过的新市民",
        ),
        (f"登记率（计划 {plan_rate}）", fmt.pct(row.get("registration_rate")), rate_gap, "登记人数 ÷ 新市民"),
        (
            "今日扫码",
            fmt.num(row.get("scans_today")),
            f"近1小时 {fmt.num(row.get('scans_last_hour'))}",
            "今天的扫码登记次数",
        ),
        ("新发现", fmt.num(row.get("discovered")), None, "扫码登记了、但不在实有人口中的人"),
        (
            "出租屋建档率",
            fmt.pct(row.get("rental_archive_rate")),
            f"出租屋 {fmt.num(row.get('rentals'))} 套",
            "已建档或已复核的出租屋 ÷ 出租屋",
        ),
    ]


def kpi_rows(row: dict) -> None:
    figures = kpis(row)
    columns = [*st.columns(4, gap="small"), *st.columns(4, gap="small")]
    for column, (label, value, delta, hint) in zip(columns, figures, strict=True):
        signed = bool(delta) and delta[:1] in "+-"
        column.metric(
            label,
            value,
            delta,
            help=hint,
            border=True,
            height=150,
            delta_color="normal" if signed else "off",
            delta_arrow="auto" if signed else "off",
        )


def share_panel() -> None:
    st.subheader(f"社区新市民占比前 15（{filters.area or '全街道'}）")
    share = data.run("community_share", area=filters.area)  # every community in scope, the chosen one marked
    if charts.empty_note(share, "社区数据"):
        return
    ranked = share.sort_values("newcomer_share", ascending=False)
    top = ranked.head(15)
    if filters.community_code and filters.community_code not in set(top["community_code"]):
        top = ranked[ranked["community_code"].isin([*top["community_code"], filters.community_code])]
    charts.show(
        charts.ranked_bars(
            top,
            "community_name",
            "newcomer_share",
            value_title="新市民占比",
            height=440,
            highlight=filters.community_name,
        ),
        key="share",
    )


def progress_fetch() -> dict:
    progress = data.scoped("registration_progress", filters)
    projection = {} if progress.empty else data.first_row(data.scoped("campaign_projection", filters))
    return {"progress": progress, "projection": projection}


def progress_panel(found: dict) -> None:
    st.subheader("一家亲登记进度 vs 计划")
    if charts.empty_note(found["progress"], "登记进度"):
        return
    figure = live.once(
        "progress", lambda: charts.progress_vs_plan(found["progress"], found["projection"], height=440)
    )
    charts.show(figure, key="progress")


def map_panel() -> None:
    st.subheader("新市民占比地图")
    communities = data.run("community_map")
    if charts.empty_note(communities, "地图数据"):
        return
    base = maps.boundaries_layer(communities, highlight=filters.community_code, choropleth=True)
    layers = maps.stack(base, maps.highlight_layer(communities, filters.community_code))
    st.pydeck_chart(
        maps.deck(
            layers, maps.view_for(communities, maps.focus(communities, filters, community=False), 340, 400)
        ),
        height=400,
    )
    st.markdown(maps.legend_html(communities["newcomer_share"], True, "占比"), unsafe_allow_html=True)


# Live parts (wangtai.ui.live): they re-query only when the data version (or the minute) changed.
live.section(
    "overview_kpis",
    lambda: data.first_row(data.scoped("overview", filters)),
    kpi_rows,
    filters.params,
    by_minute=True,
)
left, middle, right = st.columns([4, 4, 3], gap="medium")
with left:
    share_panel()
with middle:
    live.section("overview_progress", progress_fetch, progress_panel, filters.params, by_minute=True)
with right:
    map_panel()
