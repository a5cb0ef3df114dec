"""The one shared setup: the first line of every page (and of dashboard.py) calls ``setup``.

It sets the page config, the theme CSS, the navigation links, the shared 片区/社区 filter (held in a plain
session key, mirrored into ``?area=…&community=…``), the 实时更新 switch, and the live status badges (data
time, held snapshots, stale feeds, 演示数据); it starts the process's live ingest
thread (wangtai.ui.live_view).
Pages opened directly by URL run it too, so nothing placed here can be skipped (DESIGN.md).
"""

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from wangtai.auth.scope import Scope
from wangtai.ui import bootstrap, chinese, data, live_view, login, search, theme
from wangtai.ui import format as fmt
from wangtai.ui.live_view import freshness_text  # noqa: F401 — kept importable from here
from wangtai.ui.screen import CSS as SCREEN_CSS
from wangtai.ui.style import CSS, PRINT_SCRIPT

APP_NAME = "智慧王台"
FILTER_KEY = "wangtai_filter"
ALL_AREAS = "全部片区"
ALL_COMMUNITIES = "全街道（全部社区）"

# (script path relative to dashboard.py, label, emoji icon). Emoji, not :material: icons (offline).
PAGES = (
    ("dashboard.py", "总览", "🏠"),
    ("pages/community_share.py", "社区占比", "🏘️"),
    ("pages/density_map.py", "密度地图", "🗺️"),
    ("pages/campaign.py", "登记进度", "📈"),
    ("pages/data_status.py", "数据状态", "🩺"),
    ("pages/data_import.py", "数据导入", "📥"),  # 管理员 only (wangtai.auth.roles)
    ("pages/admin.py", "用户与审计", "🔐"),
    ("pages/screen.py", "大屏模式", "🖥️"),  # full screen, rotating; ?screen=1 on any page opens it
)
SCREEN_PAGE = "pages/screen.py"
REPO = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Filters:
    area: str | None = None
    community_code: str | None = None
    community_name: str | None = None
    # What "every community of the 片区 (or of the subdistrict)" is for this user, when it is not the
    # 片区 itself: a user responsible for some of its communities sees only those (their one community's
    # name, or "我负责的社区（N 个）"). None: the 片区 (or the subdistrict) whole.
    mine: str | None = None

    @property
    def params(self) -> dict:
        return {"community_code": self.community_code, "area": self.area}

    @property
    def label(self) -> str:
        """What the page's figures are of: the community, else the 片区 (or the user's part of it)."""
        return self.community_name or self.mine or self.area or "王台街道"

    @property
    def everywhere(self) -> str:
        """What a list of every community in view covers (e.g. "社区新市民占比前 15（…）")."""
        return self.mine or self.area or "全街道"


def setup(title: str, icon: str, screen: bool = False) -> Filters | None:
    """Set up the page; returns the shared filter, or stops the script when there is no data yet.

    ``screen=True`` is the 大屏 flavour (pages/screen.py): no sidebar, header or toolbar, the page draws
    its own header. ``?screen=1`` on any page switches to it."""
    if not screen and st.query_params.get("screen") == "1":
        st.switch_page(SCREEN_PAGE, query_params=st.query_params.to_dict())
    if not st.get_option("client.disableDataExport"):  # the tables' own CSV download bypasses the audit
        st.set_option("client.disableDataExport", True)
    if st.get_option("client.toolbarMode") != "minimal":  # no ⋮ menu in English (wangtai.ui.chinese)
        st.set_option("client.toolbarMode", "minimal")
    st.set_page_config(
        page_title=f"{title} · {APP_NAME}",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="collapsed" if screen else "expanded",
        # no menu_items: with client.toolbarMode = "minimal" the ⋮ menu (English: System / Light / Dark /
        # About, "Made with Streamlit") is then not drawn at all
    )
    st.markdown(CSS, unsafe_allow_html=True)
    # Streamlit's own English words in Chinese; expanders open for printing
    st.html(chinese.script() + PRINT_SCRIPT, unsafe_allow_javascript=True)
    if screen:
        st.markdown(SCREEN_CSS, unsafe_allow_html=True)
    page = _calling_page()
    live_view.start_ingest()  # once per server process, before the gate: ingest does not wait for a login
    principal = login.gate(page, PAGES)  # login, then the role may open this page — or st.stop()
    if screen:  # the 大屏 is always dark (its own colours, a wall screen)
        _theme_script(principal, page, theme.DARK)
    _navigation(principal)
    paths = data.data_paths()
    if not bootstrap.ensure_data(paths):
        st.stop()
    communities = data.run("communities")  # already cut to the user's communities by the query layer
    # the scope against *every* community, as the query layer enforces it: against the cut list alone, a
    # user holding one community of a 片区 would seem to hold the whole 片区
    may_open = functools.partial(principal.role.may_open, registered=tuple(p for p, _, _ in PAGES))
    filters = _filter_sidebar(communities, data.user_scope(), None if screen else may_open)
    target = search.goto()  # a unit chosen in 查找地点: its door-to-door list
    if target and target != page:
        st.switch_page(target, query_params=_query_from_state() or None)
    login.page_view(page, filters.area, filters.community_code, filters.label)
    if screen:
        return filters
    live_view.pause_toggle()
    theme.switch(principal.username)
    _theme_script(principal, page, theme.current(principal.username))
    _header(title, icon, filters)
    return filters


def _url_path(page: str) -> str:
    return "" if page == "dashboard.py" else Path(page).stem


def _theme_script(principal: login.Principal, page: str, wanted: str) -> None:
    """The viewer's theme into Streamlit's choice for every page (wangtai.ui.theme)."""
    paths = [_url_path(p) for p, _, _ in PAGES if p != SCREEN_PAGE] if page != SCREEN_PAGE else []
    script = theme.script(principal.username, wanted, paths, _url_path(page))
    st.html(script, unsafe_allow_javascript=True)


def _calling_page() -> str:
    """The page script that called ``setup`` (its path relative to the repository): the role check needs
    to know which page runs, and a page cannot claim to be another."""
    file = sys._getframe(2).f_globals.get("__file__", "")
    try:
        return Path(file).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(file)


def _navigation(principal: login.Principal) -> None:
    allowed = principal.role.allowed_pages(tuple(p for p, _, _ in PAGES))
    with st.sidebar:
        st.markdown(f'<div class="wt-brand">{APP_NAME}</div>', unsafe_allow_html=True)
        st.markdown('<div class="wt-sub">王台街道 · 新市民工作大数据</div>', unsafe_allow_html=True)
        keep = _query_from_state()
        for page, label, icon in PAGES:
            if page in allowed:  # only the pages this role may open
                st.page_link(page, label=label, icon=icon, query_params=keep or None)
        login.user_box(principal)
        st.divider()


# ---- the shared filter ------------------------------------------------------------------------------


def _state() -> dict:
    if FILTER_KEY not in st.session_state:
        params = st.query_params
        st.session_state[FILTER_KEY] = {"area": params.get("area"), "community": params.get("community")}
    return st.session_state[FILTER_KEY]


def _query_from_state() -> dict:
    state = _state()
    return {k: v for k, v in (("area", state["area"]), ("community", state["community"])) if v}


def _mirror_to_url() -> None:
    wanted = _query_from_state()
    for key in ("area", "community"):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def _filter_sidebar(communities: pd.DataFrame, scope: Scope | None = None, may_open=None) -> Filters:
    """The 片区/社区 choice (and 查找地点 above it, given ``may_open``: which pages this role may open). A
    user restricted to some communities is offered only those (no 全部 option unless they hold a whole
    片区); the query layer enforces the same scope whatever the state says."""
    state = _state()
    restricted = scope is not None and not scope.unrestricted
    if communities.empty or "community_code" not in communities:
        if restricted:
            st.sidebar.warning("您的账号还没有分配负责的社区或片区，请联系管理员。", icon="👤")
        return Filters()
    names = dict(zip(communities["community_code"], communities["community_name"], strict=False))
    area_of = dict(zip(communities["community_code"], communities["area"], strict=False))
    areas = sorted(a for a in communities["area"].dropna().unique())
    if state["community"] not in names:  # unknown code from a link (or outside the user's scope): ignore it
        state["community"] = None
    if state["area"] not in areas:
        state["area"] = None
    if state["community"] and state["area"] and area_of[state["community"]] != state["area"]:
        state["area"] = area_of[state["community"]]
    if restricted:
        _into_scope(state, scope, names, area_of)

    def whole(area: str | None) -> bool:  # may this user see "every community" of ``area``?
        return not restricted or area in scope.areas

    with st.sidebar:
        if may_open is not None:
            search.box(search.places(communities, data.run("unit_progress")), state, may_open)
        st.markdown("**筛选**（所有页面生效）")
        area_options = [None, *areas] if not restricted else areas
        area = st.selectbox(
            "片区",
            area_options,
            index=area_options.index(state["area"]),
            format_func=lambda a: a or ALL_AREAS,
        )
        if area != state["area"]:
            state["area"] = area
            if state["community"] and area and area_of[state["community"]] != area:
                state["community"] = None
        codes = [c for c in names if not state["area"] or area_of[c] == state["area"]]
        codes.sort(key=lambda c: names[c])
        options = [None, *codes] if whole(state["area"]) else codes
        community = st.selectbox(
            "社区",
            options,
            index=options.index(state["community"]) if state["community"] in options else 0,
            format_func=lambda c: names[c] if c else (ALL_COMMUNITIES if not restricted else "本片区全部"),
        )
        if community != state["community"]:
            state["community"] = community
    _mirror_to_url()
    code = state["community"]
    mine = _mine(scope, state["area"], names, area_of) if restricted else None
    return Filters(
        area=state["area"], community_code=code, community_name=names.get(code) if code else None, mine=mine
    )


def _mine(scope: Scope, area: str | None, names: dict, area_of: dict) -> str | None:
    """The label of a restricted user's communities in ``area`` (all of theirs when None), unless they hold
    the 片区 whole (None: the 片区's own name is right)."""
    if area is not None and area in scope.areas:
        return None
    inside = [c for c in names if area is None or area_of[c] == area]
    return names[inside[0]] if len(inside) == 1 else f"我负责的社区（{len(inside)} 个）"


def _into_scope(state: dict, scope: Scope, names: dict, area_of: dict) -> None:
    """A restricted user's filter always names something inside their scope: a whole 片区 they hold, or
    one of their communities."""
    if state["community"] is None and state["area"] not in scope.areas:
        if state["area"] is None:
            state["area"], state["community"] = scope.default()
        else:
            inside = sorted((c for c in names if area_of[c] == state["area"]), key=lambda c: names[c])
            state["community"] = inside[0] if inside else None
    if state["community"] not in names:
        state["community"] = None
    if state["community"] and not state["area"]:
        state["area"] = area_of[state["community"]]


# ---- header: title, scope, freshness and demo badges ------------------------------------------------


def _header(title: str, icon: str, filters: Filters) -> None:
    left, right = st.columns([5, 4], vertical_alignment="center")
    left.title(f"{icon} {title} · {fmt.md(filters.label)}")
    with right:
        # 实时/已暂停, data time, held snapshots, stale feeds (and the printed page's first line): live
        live_view.status(demo=is_demo(), scope=filters.label)


def is_demo() -> bool:
    """The built-in synthetic data set: a ``demo`` column from the query layer, else campaign.toml's flag."""
    campaign = data.run("campaign_projection")
    if not campaign.empty and "demo" in campaign:
        return bool(campaign["demo"].iloc[0])
    return bootstrap.reference_says_demo(data.data_paths())
