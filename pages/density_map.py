"""密度地图 — newcomer density cells over community boundaries drawn offline, or a share choropleth."""

import streamlit as st

from wangtai.ui import charts, data, maps, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("密度地图", "🗺️")

DENSITY = "网格密度（约 170 × 180 米）"
CHOROPLETH = "社区新市民占比（分级设色）"
MAP_HEIGHT = 680
# The view is fitted to the map column at its narrowest (≈ 620 px on a 1366 px laptop with the sidebar):
# a chosen community wider than tall stays whole there; wider screens just show more around it.
MAP_WIDTH = 600


def controls() -> str:
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        mode = st.segmented_control("图层", [DENSITY, CHOROPLETH], default=DENSITY, key="map_mode")
    with right:
        st.caption("底图为各社区边界（离线绘制，不访问外网）。鼠标悬停查看数字；选中的社区以青色描边并放大。")
    return mode or DENSITY


def side_panel(communities, density, mode: str) -> None:
    if mode == DENSITY:
        st.markdown(maps.legend_html(density["newcomers"], False, "每格新市民"), unsafe_allow_html=True)
        st.metric("有新市民的网格", fmt.num(len(density)), border=True)
        st.metric(
            "最密的网格", fmt.count(density["newcomers"].max() if not density.empty else None), border=True
        )
    else:
        st.markdown(
            maps.legend_html(communities["newcomer_share"], True, "新市民占比"), unsafe_allow_html=True
        )
    if filters.community_code:
        row = communities[communities["community_code"] == filters.community_code]
        if not row.empty:
            r = row.iloc[0]
            st.metric(f"{fmt.md(r.community_name)} 新市民", fmt.count(r.newcomers), border=True)
            st.metric("新市民占比", fmt.pct(r.newcomer_share), border=True)
    top = communities.sort_values("newcomer_share", ascending=False).head(8)
    st.markdown("**占比最高的社区**")
    tables.static(top, {"community_name": ("社区", tables.name), "newcomer_share": ("占比", fmt.pct)})


def build(communities, density, mode: str):
    return maps.chart(
        communities,
        highlight=filters.community_code,
        choropleth=mode == CHOROPLETH,
        density=density if mode == DENSITY else None,
        codes=maps.focus(communities, filters),
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
    )


communities = data.run("community_map")
density = data.scoped("newcomer_density", filters)
mode = controls()
if not charts.empty_note(communities, "社区边界数据"):
    map_column, side = st.columns([5, 2], gap="medium")  # [4, 1] cut the side table's 占比 off at 1366
    with map_column:
        st.pydeck_chart(build(communities, density, mode), height=MAP_HEIGHT, key=f"map_{mode}")
    with side:
        side_panel(communities, density, mode)
