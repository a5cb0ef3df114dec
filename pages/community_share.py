"""社区占比 — newcomer share of every community and 片区, a sortable table, composition, drill-down."""

import streamlit as st

from wangtai.ui import charts, data, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("社区占比", "🏘️")

DIMENSIONS = ("来源地", "原因", "年龄段", "性别")


def rankings(share, areas) -> None:
    by_community, by_area, table = st.tabs(["各社区排名", "各片区", "明细表（可排序）"])
    with by_community:
        if not charts.empty_note(share, "社区数据") and not charts.one_community(
            share, "community_name", "newcomer_share", "新市民占比"
        ):
            figure = charts.ranked_bars(
                share,
                "community_name",
                "newcomer_share",
                value_title="新市民占比",
                highlight=filters.community_name,
            )
            if len(share) > 20:  # a long ranking scrolls in its own box; a short one takes its own height
                with st.container(height=620):
                    charts.show(figure, key="rank_communities")
            else:
                charts.show(figure, key="rank_communities")
    with by_area:
        if not charts.empty_note(areas, "片区数据") and not charts.one_community(
            areas, "area", "newcomer_share", "新市民占比"
        ):
            charts.show(
                charts.ranked_bars(
                    areas,
                    "area",
                    "newcomer_share",
                    value_title="新市民占比",
                    height=charts.ranking_height(len(areas), 360),
                    highlight=filters.area,
                ),
                key="rank_areas",
            )
        if not areas.empty:
            tables.static(areas, tables.AREA_COLUMNS)
    with table:
        if not share.empty:
            tables.show(
                share.sort_values("newcomer_share", ascending=False), tables.COMMUNITY_COLUMNS, height=560
            )


def composition_panel(share) -> None:
    st.subheader("新市民构成")
    names = (
        dict(zip(share["community_code"], share["community_name"], strict=False)) if not share.empty else {}
    )
    options = [None, *sorted(names, key=lambda c: names[c])]
    chosen = st.selectbox(
        "社区",
        options,
        index=options.index(filters.community_code) if filters.community_code in options else 0,
        format_func=lambda c: names[c] if c else f"{filters.everywhere}（全部）",
        key="compose_pick",
    )
    frame = data.run(
        "community_composition", community_code=chosen, area=filters.area if not chosen else None
    )
    if charts.empty_note(frame, "构成数据"):
        return
    # two a row: four in a row left a 1366 px laptop ~130 px a chart, labels cut off and axes unreadable
    columns = [*st.columns(2, gap="medium"), *st.columns(2, gap="medium")]
    for column, dimension in zip(columns, DIMENSIONS, strict=True):
        with column:
            if (frame["dimension"] == dimension).any():
                charts.show(charts.composition(frame, dimension), key=f"compose_{dimension}")


def drill_down(share) -> None:
    st.subheader("下钻：片区 → 社区 → 单位")
    if share.empty:
        return
    areas = sorted(share["area"].dropna().unique())
    left, right = st.columns(2)
    area = left.selectbox(
        "片区", areas, index=areas.index(filters.area) if filters.area in areas else 0, key="drill_area"
    )
    in_area = share[share["area"] == area].sort_values("newcomer_share", ascending=False)
    codes = list(in_area["community_code"])
    names = dict(zip(in_area["community_code"], in_area["community_name"], strict=False))
    shares = dict(zip(in_area["community_code"], in_area["newcomer_share"], strict=False))
    code = right.selectbox(
        "社区",
        codes,
        index=codes.index(filters.community_code) if filters.community_code in codes else 0,
        format_func=lambda c: f"{names[c]}（占比 {fmt.pct(shares[c])}）",
        key="drill_community",
    )
    units = data.run("unit_progress", community_code=code)
    if not charts.empty_note(units, "单位数据"):
        st.caption(f"{fmt.md(names[code])} 的 {len(units)} 个管理单位，落后计划的在前")
        tables.show(units, tables.UNIT_COLUMNS, tables.UNIT_ORDER)


share = data.run("community_share", area=filters.area)  # all communities in scope; the chosen one marked
area_share = data.scoped("area_share", filters)
rankings(share, area_share)
composition_panel(share)
drill_down(data.run("community_share"))
