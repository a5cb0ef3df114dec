"""查找地点: a village or community, an enterprise or a management unit, by its name or its 拼音 initials
("tdl" finds 台东路社区), from the sidebar of every page — and landing on it filtered.

The choice box filters as one types (Streamlit's own search over the option texts), so each option
carries its initials: 「台东路社区（社区 · tdlsq）」. Choosing a community sets the shared filter to it;
choosing a unit sets the filter to its community and opens 登记进度 on that unit's door-to-door list. Only
places in the user's scope are offered: the lists come through the query layer (wangtai.ui.data).
"""

import functools
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from pypinyin import Style, lazy_pinyin

KEY = "wt_search"
GOTO_KEY = "wt_search_goto"
UNIT_PAGE = "pages/campaign.py"
UNIT_KEY = "door_unit"  # the unit picker of 登记进度's door-to-door list


@functools.lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """台东路社区 → 'tdlsq' (letters and digits of the name kept, lower case)."""
    letters = lazy_pinyin(str(name), style=Style.FIRST_LETTER, errors=lambda text: list(text))
    return "".join(c for c in "".join(letters).lower() if c.isalnum())


@dataclass(frozen=True)
class Place:
    kind: str  # 社区 / 村 / 企业 / 网格 … (the unit's type)
    name: str
    community_code: str
    area: str | None = None
    unit_id: str | None = None

    @property
    def key(self) -> str:
        return f"u:{self.unit_id}" if self.unit_id else f"c:{self.community_code}"

    @property
    def label(self) -> str:
        return f"{self.name}（{self.kind} · {initials(self.name)}）"


def places(communities: pd.DataFrame, units: pd.DataFrame) -> list[Place]:
    """Every community, then every unit (enterprises, grids, committees), by name."""
    found: list[Place] = []
    if not communities.empty and "community_code" in communities:
        for row in communities.itertuples(index=False):
            kind = "村" if str(row.community_name).endswith("村") else "社区"
            found.append(Place(kind, str(row.community_name), row.community_code, getattr(row, "area", None)))
    areas = {p.community_code: p.area for p in found}
    if not units.empty and "unit_id" in units:
        for row in units.itertuples(index=False):
            kind = str(getattr(row, "unit_type", "") or "单位")
            area = areas.get(row.community_code)
            found.append(Place(kind, str(row.unit_name), row.community_code, area, row.unit_id))
    return sorted(found, key=lambda p: (p.unit_id is not None, initials(p.name), p.name))


def box(found: list[Place], state: dict, may_open) -> None:
    """The search box (in the sidebar); a choice updates the filter ``state`` and, for a unit, asks for
    登记进度 (``may_open(page)``: this role may open it)."""
    by_key = {p.key: p for p in found}

    def chosen() -> None:
        place = by_key.get(st.session_state.get(KEY))
        st.session_state[KEY] = None  # the box is ready for the next search
        if place is None:
            return
        state["community"], state["area"] = place.community_code, place.area
        if place.unit_id and may_open(UNIT_PAGE):
            st.session_state[UNIT_KEY] = place.unit_id
            st.session_state[GOTO_KEY] = UNIT_PAGE

    st.selectbox(
        "查找地点",
        list(by_key),
        index=None,
        key=KEY,
        format_func=lambda k: by_key[k].label,
        placeholder="名称或拼音首字母",
        on_change=chosen,
        help="例如输入「台东」或「tdl」，选中后各页面即按该地点筛选；选中单位会打开它的入户名单。",
    )


def goto() -> str | None:
    """The page a choice asked for (once)."""
    return st.session_state.pop(GOTO_KEY, None)
