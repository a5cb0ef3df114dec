"""总览 — the entry and first page: the big figures, newcomer share per community, campaign vs plan, a map."""

import streamlit as st

from wangtai.ui import charts, data, kpis, live_view, maps, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("总览", "🏠")

# The map's view is fitted on the server, which does not know the column's width: it is fitted to the
# narrowest the right column gets (≈ 230 px on a 1366 px laptop with the sidebar open), so the outline is
# whole there and sits with room to spare in a wider column (≈ 380 px at 1920).
MAP_WIDTH, MAP_HEIGHT = 220, 400


def kpi_fetch() -> dict:
    return {"row": data.first_row(data.scoped("overview", filters)), "fresh": live_view.freshness()}


def kpi_rows(found: dict) -> None:
    figures = kpis.overview(found["row"])  # the same figures as the 大屏 (wangtai.ui.kpis)
    columns = [*st.columns(4, gap="small"), *st.columns(4, gap="small")]
    for column, (label, value, delta, hint) in zip(columns, [k.on_page for k in figures], strict=True):
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
    tables.definitions(kpis.definitions(figures, found["fresh"]))  # the "?" is hidden on a laptop


def share_panel() -> None:
    st.subheader(f"社区新市民占比前 15（{fmt.md(filters.everywhere)}）")
    share = data.run("community_share", area=filters.area)  # every community in scope, the chosen one marked
    if charts.empty_note(share, "社区数据"):
        return
    ranked = share.sort_values("newcomer_share", ascending=False)
    top = ranked.head(15)
    if filters.community_code and filters.community_code not in set(top["community_code"]):
        top = ranked[ranked["community_code"].isin([*top["community_code"], filters.community_code])]
    if charts.one_community(top, "community_name", "newcomer_share", "新市民占比"):
        return
    charts.show(
        charts.ranked_bars(
            top,
            "community_name",
            "newcomer_share",
            value_title="新市民占比",
            height=charts.ranking_height(len(top), 440),
            highlight=filters.community_name,
        ),
        key="share",
    )


def progress_fetch() -> dict:
    progress = data.scoped("registration_progress", filters)
    projection = {} if progress.empty else data.first_row(data.scoped("campaign_projection", filters))
    return {"progress": progress, "projection": projection}


def progress_panel(found: dict) -> None:
    st.subheader("一家亲登记进度与计划")
    if charts.empty_note(found["progress"], "登记进度"):
        return
    figure = live_view.once(
        "progress", lambda: charts.progress_vs_plan(found["progress"], found["projection"], height=440)
    )
    charts.show(figure, key="progress")


def map_panel() -> None:
    st.subheader("新市民占比地图")
    communities = data.run("community_map")
    if charts.empty_note(communities, "地图数据"):
        return
    figure = maps.chart(
        communities,
        highlight=filters.community_code,
        choropleth=True,
        codes=maps.focus(communities, filters, community=False),
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        labels=11,  # a narrow map: the names that fit, the communities with most newcomers first
    )
    st.pydeck_chart(figure, height=MAP_HEIGHT)
    st.markdown(maps.legend_html(communities["newcomer_share"], True, "占比"), unsafe_allow_html=True)


# Live parts (wangtai.ui.live_view): they re-query only when the data version (or the minute) changed.
live_view.section(
    "overview_kpis",
    kpi_fetch,
    kpi_rows,
    filters.params,
    by_minute=True,
)
left, middle, right = st.columns([4, 4, 3], gap="medium")
with left:
    share_panel()
with middle:
    live_view.section("overview_progress", progress_fetch, progress_panel, filters.params, by_minute=True)
with right:
    map_panel()
