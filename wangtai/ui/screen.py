"""大屏 — the big-screen mode for the leadership wall screen and for meetings (pages/screen.py).

Everything is laid out for a 1920 × 1080 design and scaled to the real screen with CSS ``zoom`` (a tiny
inline script, no external file), so 1366 × 768 projectors and 3840 × 2160 screens show the same picture
without cut-off or overlap. The link is the configuration, so a wall screen is just a bookmark:

    /screen?views=overview,map,campaign,communities&every=20&top=10&area=…&community=…&live=0

- ``views``: slides in order; ``communities`` expands to one slide per community (in the 片区 when
  ``area`` is given), most newcomers first, at most ``top`` of them (``top=0``: all).
- ``every``: seconds per slide (default 20, at least 5; 0 = no rotation).
- ``community`` / ``area``: the shared filter — a meeting about one community or 片区.
- ``live=0``: frozen for a meeting — no automatic refresh and no rotation; ←/→ still switch slides.

Every figure comes from the same named queries as the normal pages, through ``wangtai.ui.data``.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from wangtai import clock, settings
from wangtai.ui import charts, data, maps, memo, tables
from wangtai.ui import format as fmt
from wangtai.ui import kpis as figures_of

STATE_KEY = "wangtai_screen"
DESIGN_W, DESIGN_H = 1920, 1080
VIEWS = {"overview": "总览", "map": "密度地图", "campaign": "登记进度", "communities": "社区轮播"}
DEFAULT_VIEWS = ("overview", "map", "campaign", "communities")
MEETING_VIEWS = ("overview", "map", "campaign")
DEFAULT_EVERY, MIN_EVERY, DEFAULT_TOP = 20, 5, 10
DEFAULT_REFRESH = 30
ZOOM_COOKIE = "wangtai_screen_zoom"  # the screen's size ÷ the 1920 × 1080 design, set by ``script``
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False, "scrollZoom": False}


# ---- the link: what to show ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    views: tuple[str, ...] = DEFAULT_VIEWS
    every: int = DEFAULT_EVERY  # seconds per slide; 0 = no rotation
    live: bool = True
    top: int = DEFAULT_TOP  # communities in the rotation; 0 = all in scope
    refresh: int = DEFAULT_REFRESH  # seconds between live updates of a slide that stays


def _int(value, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def config_from(params: Mapping[str, str], meeting: bool = False, refresh: int = DEFAULT_REFRESH) -> Config:
    """Read the link parameters; unknown views are dropped, nonsense numbers fall back to defaults."""
    raw = str(params.get("views") or "")
    views = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip() in VIEWS))
    if not views:
        views = MEETING_VIEWS if meeting else DEFAULT_VIEWS
    every = _int(params.get("every"), DEFAULT_EVERY)
    every = 0 if every <= 0 else max(MIN_EVERY, min(every, 3600))
    live = str(params.get("live", "1")).strip().lower() not in ("0", "false", "no", "off")
    top = max(0, _int(params.get("top"), DEFAULT_TOP))
    return Config(views=views, every=every, live=live, top=top, refresh=max(0, refresh))


@dataclass(frozen=True)
class Slide:
    view: str
    community_code: str | None = None
    community_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.view}:{self.community_code or ''}"

    @property
    def title(self) -> str:
        return self.community_name if self.view == "communities" else VIEWS[self.view]


def slides(config: Config, filters, share: pd.DataFrame) -> list[Slide]:
    """The rotation: each view once, ``communities`` as one slide per community (not when one is fixed)."""
    out: list[Slide] = []
    for view in config.views:
        if view != "communities":
            out.append(Slide(view))
        elif not filters.community_code and not share.empty:
            ranked = share.sort_values(["newcomers", "community_code"], ascending=[False, True])
            if config.top:
                ranked = ranked.head(config.top)
            pairs = zip(ranked["community_code"], ranked["community_name"], strict=True)
            out += [Slide(view, code, name) for code, name in pairs]
    return out or [Slide("overview")]


def slide_filters(slide: Slide, filters, share: pd.DataFrame):
    """The filter a slide runs its queries under: the shared one, or one community of the rotation."""
    if slide.view != "communities" or not slide.community_code:
        return filters
    row = share[share["community_code"] == slide.community_code]
    area = row["area"].iloc[0] if not row.empty else filters.area
    return replace(
        filters, area=area, community_code=slide.community_code, community_name=slide.community_name
    )


# ---- session state: which slide, paused -----------------------------------------------------------------


def _state(signature: str) -> dict:
    state = st.session_state.get(STATE_KEY)
    if not state or state.get("signature") != signature:
        state = {"signature": signature, "index": 0, "paused": False, "shown_at": time.monotonic()}
        st.session_state[STATE_KEY] = state
    return state


def _step(state: dict, count: int, by: int) -> None:
    state["index"] = (state["index"] + by) % max(count, 1)
    state["shown_at"] = time.monotonic()


def _toggle_pause() -> None:
    state = st.session_state.get(STATE_KEY)
    if state:
        state["paused"] = not state["paused"]
        state["shown_at"] = time.monotonic()


def zoom() -> float:
    """This browser's scale of the 1920 × 1080 design (``script`` keeps it in a cookie): the charts' text
    is drawn at this scale. 1 until the browser has told it (a first visit reloads once)."""
    try:
        value = float(st.context.cookies.get(ZOOM_COOKIE) or 1)
    except Exception:  # no browser request (AppTest), or a cookie that is no number
        return 1.0
    return min(4.0, max(0.25, round(value, 2))) if value == value else 1.0


_ZOOMED: dict[tuple[int, float], tuple[go.Figure, go.Figure]] = {}


def on_screen(fig: go.Figure, scale: float) -> go.Figure:
    """The shared (design-size) figure drawn at the screen's scale; kept per figure and scale."""
    key = (id(fig), scale)
    hit = _ZOOMED.get(key)
    if hit is None or hit[0] is not fig:
        if len(_ZOOMED) > 64:
            _ZOOMED.clear()
        hit = _ZOOMED[key] = (fig, charts.zoomed(fig, scale))
    return hit[1]


def refresh_seconds() -> int:
    """Seconds between live updates: ``WANGTAI_REFRESH_SECONDS`` as on the other pages (0 = off)."""
    configured = settings.configured("refresh_seconds")
    return DEFAULT_REFRESH if configured is None else max(0, int(configured))


def link_params(filters) -> dict:
    """The shared filter as link parameters (for the way back to the normal pages)."""
    return {k: v for k, v in (("area", filters.area), ("community", filters.community_code)) if v}


def rotating(config: Config, count: int) -> bool:
    return config.live and config.every > 0 and count > 1


def tick_seconds(config: Config, count: int, paused: bool) -> int | None:
    """How often the slide fragment reruns: the slide time while rotating (capped by the live refresh),
    the live refresh while it stays, never when frozen."""
    if not config.live:
        return None
    ticks = [config.refresh] if config.refresh else []
    if rotating(config, count) and not paused:
        ticks.append(config.every)
    return min(ticks) if ticks else None


# ---- the page ---------------------------------------------------------------------------------------------


def show(filters) -> None:
    """Draw the big screen for the shared filter (called by pages/screen.py right after setup)."""
    config = config_from(st.query_params, meeting=bool(filters.community_code), refresh=refresh_seconds())
    share = data.run("community_share", area=filters.area)
    deck = slides(config, filters, share)
    signature = f"{config}|{filters.params}|{[s.key for s in deck]}"
    state = _state(signature)
    from wangtai.ui.setup import freshness_text

    st.html(script(frozen=bool(settings.get("now")), zoom=zoom()), unsafe_allow_javascript=True)

    @st.fragment(run_every=tick_seconds(config, len(deck), state["paused"]))
    def _slide() -> None:
        if (
            rotating(config, len(deck))
            and not state["paused"]
            and time.monotonic() - state["shown_at"] >= config.every - 0.5
        ):
            _step(state, len(deck), 1)
        state["index"] %= len(deck)
        slide = deck[state["index"]]
        scoped = slide_filters(slide, filters, share)
        fresh = freshness_text(data.run("data_freshness"))  # once: the header and the snapshot show it
        with st.container(key="wt_screen", gap="small"):
            _header(slide, scoped, state, config, len(deck), fresh)
            spec = RENDER[slide.view](scoped, share)
            spec["fresh"] = fresh
            _footer(slide, scoped, state, config, len(deck), spec)

    _slide()


def _header(slide: Slide, filters, state: dict, config: Config, count: int, fresh: str) -> None:
    from wangtai.ui.setup import APP_NAME

    now = clock.now()
    left, middle, right = st.columns([7, 5, 5], vertical_alignment="center", gap="small")
    left.title(f"{APP_NAME} · {fmt.md(filters.label)}")
    if config.live and state["paused"]:
        status = '<span class="wt-dot wt-paused"></span>已暂停'
    elif config.live:
        status = '<span class="wt-dot wt-live"></span>实时'
    else:
        status = '<span class="wt-dot wt-frozen"></span>会议冻结'
    dots = "".join(
        f'<span class="wt-pip{" on" if i == state["index"] else ""}"></span>' for i in range(min(count, 40))
    )
    middle.markdown(
        f'<div class="wt-view"><b>{fmt.html(slide.title)}</b>'
        f'<span class="wt-count">{state["index"] + 1} / {count}</span></div>'
        f"<div class='wt-pips'>{dots}</div>",
        unsafe_allow_html=True,
    )
    right.markdown(
        f'<div class="wt-clock"><span class="wt-date">{fmt.day(now)} {fmt.weekday(now.isoweekday())}</span>'
        f'<span class="wt-time">{now:%H:%M:%S}</span></div>'
        f'<div class="wt-fresh">{fmt.html(fresh)} · {status}</div>',
        unsafe_allow_html=True,
    )


def _footer(slide: Slide, filters, state: dict, config: Config, count: int, spec: dict) -> None:
    from wangtai.ui import snapshot

    with st.container(horizontal=True, key="wt_screen_controls", gap="small", vertical_alignment="center"):
        st.button(
            "上一屏",
            icon="⏮️",
            key="wt_screen_prev",
            shortcut="Left",
            disabled=count < 2,
            on_click=_step,
            args=(state, count, -1),
        )
        if config.live and config.every and count > 1:
            label, icon = ("继续轮播", "▶️") if state["paused"] else ("暂停", "⏸️")
            if st.button(label, icon=icon, key="wt_screen_pause", shortcut="Space", on_click=_toggle_pause):
                st.rerun()  # the whole page: the fragment's tick changes with the pause
        st.button(
            "下一屏",
            icon="⏭️",
            key="wt_screen_next",
            shortcut="Right",
            disabled=count < 2,
            on_click=_step,
            args=(state, count, 1),
        )
        name = f"大屏_{slide.title}_{filters.label}_{clock.now():%Y%m%d_%H%M}"
        from wangtai.ui.login import may_export

        if may_export():  # not for the wall-screen role (wangtai.auth.roles): no exports at all
            for label, build, ext, mime, icon in (
                ("截图 PNG", snapshot.png, "png", "image/png", "📷"),
                ("会议纪要 PDF", snapshot.pdf, "pdf", "application/pdf", "📄"),
            ):
                st.download_button(
                    label,
                    data=lambda build=build: build(spec),  # built on the click, not on every tick
                    file_name=f"{name}.{ext}",
                    mime=mime,
                    icon=icon,
                    key=f"wt_screen_{ext}",
                    on_click="ignore",
                )
        st.page_link("dashboard.py", label="退出大屏", icon="↩️", query_params=link_params(filters) or None)
        st.markdown(
            '<span class="wt-keys">空格 暂停/继续 · ←/→ 切换 · 点击画面暂停 · F 全屏</span>',
            unsafe_allow_html=True,
        )


# ---- the slides: each returns the snapshot spec of what it drew -------------------------------------------


def kpis(row: dict) -> list[tuple[str, str, str | None]]:
    """(label, value, sub-line) of the big figures — the overview query's numbers, as on 总览."""
    return [kpi.on_screen for kpi in figures_of.overview(row)]


def _metrics(figures: list[tuple[str, str, str | None]], per_row: int, key: str, height: int = 162) -> None:
    for start in range(0, len(figures), per_row):
        columns = st.columns(per_row, gap="small")
        for column, (label, value, sub) in zip(columns, figures[start : start + per_row], strict=False):
            signed = bool(sub) and any(s in sub for s in (" +", " -"))
            color = "off"
            if signed:
                color = "red" if " -" in sub else "green"
            column.metric(label, value, sub, border=True, delta_color=color, delta_arrow="off", height=height)


@memo.cached
def _styled(build, width: int, height: int, /, *args, **kwargs) -> go.Figure:
    """``build(*args, **kwargs)`` at a fixed design size in the big-screen fonts (under CSS zoom plotly
    would measure the zoomed width): a restyled copy of the pages' shared chart, kept per content itself."""
    return charts.restyled(build(*args, **kwargs), width, height)


def _caption(text: str) -> None:
    """A panel's title (plain text: names in it are escaped here)."""
    st.markdown(f'<div class="wt-panel">{fmt.html(text)}</div>', unsafe_allow_html=True)


def _share_figure(share: pd.DataFrame, filters, n: int, height: int, size: tuple) -> go.Figure | None:
    if share.empty:
        return None
    ranked = share.sort_values("newcomer_share", ascending=False)
    top = ranked.head(n)
    if filters.community_code and filters.community_code not in set(top["community_code"]):
        top = ranked[ranked["community_code"].isin([*top["community_code"], filters.community_code])]
    return _styled(
        charts.ranked_bars,
        *size,
        top,
        "community_name",
        "newcomer_share",
        value_title="新市民占比",
        height=height,
        highlight=filters.community_name,
    )


def _progress_figure(filters, height: int, size: tuple[int, int]) -> go.Figure | None:
    progress = data.scoped("registration_progress", filters)
    if progress.empty:
        return None
    projection = data.first_row(data.scoped("campaign_projection", filters))
    return _styled(charts.progress_vs_plan, *size, progress, projection, height=height)


def _map(
    filters,
    communities: pd.DataFrame,
    density: pd.DataFrame | None,
    key: str,
    height: int,
    width: int,
    area_view: bool = False,
):
    figure = maps.chart(
        communities,
        highlight=filters.community_code,
        choropleth=density is None,
        density=density,
        codes=maps.focus(communities, filters, community=not area_view),
        width=width,
        height=height,
        labels=16 if width >= 1000 else 13,  # design pixels, read from the back of the room
    )
    st.pydeck_chart(figure, height=height, key=key)


def _panel(title: str, fig: go.Figure | None, key: str, what: str) -> None:
    _caption(title)
    if fig is None:
        charts.empty_note(pd.DataFrame(), what)
    else:
        st.plotly_chart(on_screen(fig, zoom()), key=key, config=PLOT_CONFIG, width="content")


def overview_slide(filters, share: pd.DataFrame) -> dict:
    figures = kpis(data.first_row(data.scoped("overview", filters)))
    _metrics(figures, 4, "overview")
    share_fig = _share_figure(share, filters, 12, 490, (660, 480))
    progress_fig = _progress_figure(filters, 490, (660, 480))
    communities = data.run("community_map")
    left, middle, right = st.columns([4, 4, 3], gap="medium")
    with left:
        _panel(
            f"社区新市民占比前 12（{filters.everywhere}）",
            share_fig,
            "wt_s_share",
            "社区数据",
        )
    with middle:
        _panel("一家亲登记进度与计划", progress_fig, "wt_s_progress", "登记进度")
    with right:
        _caption("新市民占比地图")
        if not charts.empty_note(communities, "地图数据"):
            _map(
                replace(filters, community_code=filters.community_code),
                communities,
                None,
                "wt_s_overview_map",
                440,
                480,  # the right column of 3/11 of the 1920 design is ≈ 490 px (520 ran off its sides)
            )
            st.markdown(maps.legend_html(communities["newcomer_share"], True, "占比"), unsafe_allow_html=True)
    return {
        "title": "总览",
        "filters": filters,
        "kpis": figures,
        "charts": [share_fig, progress_fig],
        "map": communities,
        "map_codes": maps.focus(communities, filters, community=False),
    }


def map_slide(filters, share: pd.DataFrame) -> dict:
    communities = data.run("community_map")
    density = data.scoped("newcomer_density", filters)
    row = data.first_row(data.scoped("overview", filters))
    figures = [
        ("新市民", fmt.big(row.get("newcomers"), "人"), None),
        ("新市民占比", fmt.pct(row.get("newcomer_share")), None),
        ("有新市民的网格", fmt.num(len(density)), "网格约 170 × 180 米"),
        ("最密的网格", fmt.count(density["newcomers"].max() if not density.empty else None), None),
    ]
    map_column, side = st.columns([13, 4], gap="medium")
    with map_column:
        _caption("新市民密度（每格约 170 × 180 米，离线绘制社区边界）")
        if not charts.empty_note(communities, "社区边界数据"):
            _map(filters, communities, density, "wt_s_density", 800, 1400)
    with side:
        _metrics(figures, 1, "map")
        if not density.empty:
            st.markdown(maps.legend_html(density["newcomers"], False, "每格新市民"), unsafe_allow_html=True)
    return {
        "title": "密度地图",
        "filters": filters,
        "kpis": figures,
        "charts": [],
        "map": communities,
        "map_codes": maps.focus(communities, filters),
        "density": density,
    }


def campaign_slide(filters, share: pd.DataFrame) -> dict:
    p = data.first_row(data.scoped("campaign_projection", filters))
    on_track = figures_of.on_track(p)
    figures = [kpi.on_screen for kpi in figures_of.campaign(p)]
    columns = st.columns(6, gap="small")
    for index, (column, (label, value, sub)) in enumerate(zip(columns, figures, strict=True)):
        color = ("green" if on_track else "red") if index == 5 else "off"
        # the finish date carries its year ("2027年3月2日"): a smaller figure so it fits its sixth
        with column.container(key="wt_screen_finish" if index == 5 else None):
            st.metric(label, value, sub, border=True, delta_color=color, delta_arrow="off")
    progress_fig = _progress_figure(filters, 600, (1080, 600))
    units = tables.prepared(data.scoped("unit_progress", filters), tables.UNIT_COLUMNS)  # gaps as shown
    behind = units[units["gap"] < 0].sort_values("gap").head(14).copy() if not units.empty else units
    units_fig = None
    if not behind.empty:
        behind["behind"] = -behind["gap"]
        units_fig = _styled(
            charts.ranked_bars,
            720,
            600,
            behind,
            "unit_name",
            "behind",
            value_title="落后今日计划（人）",
            percent=False,
            height=600,
        )
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _panel("累计登记与计划（虚线：按近14日速度预测）", progress_fig, "wt_s_campaign", "登记进度")
    with right:
        title = (
            f"落后计划的单位（{len(units[units['gap'] < 0]) if not units.empty else 0} 个，缺口最大的在前）"
        )
        _panel(title, units_fig, "wt_s_units", "落后单位（全部按计划）")
    return {"title": "登记进度", "filters": filters, "kpis": figures, "charts": [progress_fig, units_fig]}


def community_slide(filters, share: pd.DataFrame) -> dict:
    figures = kpis(data.first_row(data.scoped("overview", filters)))
    _metrics(figures, 4, "community")
    progress_fig = _progress_figure(filters, 420, (1100, 420))
    communities = data.run("community_map")
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _panel(
            f"{filters.label} · 一家亲登记进度与计划",
            progress_fig,
            "wt_s_c_progress",
            "登记进度",
        )
    with right:
        _caption(f"{filters.label} · 新市民密度")
        if not charts.empty_note(communities, "地图数据"):
            density = data.scoped("newcomer_density", filters)
            _map(filters, communities, density, "wt_s_c_map", 440, 720, area_view=True)
    return {
        "title": filters.label,
        "filters": filters,
        "kpis": figures,
        "charts": [progress_fig],
        "map": communities,
        "map_codes": maps.focus(communities, filters),
    }


RENDER = {
    "overview": overview_slide,
    "map": map_slide,
    "campaign": campaign_slide,
    "communities": community_slide,
}


# ---- CSS and the one inline script -----------------------------------------------------------------

CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], footer {{ display: none !important; }}
[data-testid="stMain"] {{ overflow: hidden; }}
.block-container, [data-testid="stMainBlockContainer"] {{
  width: {DESIGN_W}px !important; max-width: {DESIGN_W}px !important; min-width: {DESIGN_W}px !important;
  height: {DESIGN_H}px; padding: 14px 26px 8px 26px !important; margin: 0 !important;
  zoom: var(--wt-zoom, 1); overflow: hidden;
}}
html, body, .stApp, [data-testid="stAppViewContainer"] {{ overflow: hidden !important; }}
[data-testid="stMain"] {{ align-items: center !important; justify-content: center; }}
[data-testid="stElementContainer"]:has([data-testid="stMarkdownContainer"] > style:first-child),
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:first-child),
[data-testid="stElementContainer"]:has(> .stHtml > script:first-child) {{ display: none; }}
/* live updates without flicker: no fading of the elements a fragment is redrawing */
[data-stale="true"], .stale-element, [data-testid="stElementContainer"][data-stale] {{
  opacity: 1 !important; transition: none !important; }}
.st-key-wt_screen h1 {{ font-size: 40px !important; font-weight: 800; letter-spacing: 0.04em;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.wt-view {{ font-size: 30px; text-align: center; white-space: nowrap; }}
.wt-view b {{ color: #3DA5FF; margin-right: 14px; }}
.wt-count {{ font-size: 20px; opacity: 0.7; font-variant-numeric: tabular-nums; }}
.wt-pips {{ text-align: center; line-height: 10px; margin-top: 4px; }}
.wt-pip {{ display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin: 0 3px;
  background: rgba(127,160,200,0.35); }}
.wt-pip.on {{ background: #3DA5FF; width: 26px; }}
.wt-clock {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
.wt-date {{ font-size: 22px; opacity: 0.85; margin-right: 14px; }}
.wt-time {{ font-size: 40px; font-weight: 800; letter-spacing: 0.02em; }}
.wt-fresh {{ text-align: right; font-size: 19px; opacity: 0.9; white-space: nowrap; }}
.wt-dot {{ display: inline-block; width: 13px; height: 13px; border-radius: 50%; margin: 0 6px 0 4px; }}
.wt-live {{ background: #2ECC71; box-shadow: 0 0 8px #2ECC71; animation: wt-pulse 2s infinite; }}
.wt-paused {{ background: #F5A623; }}
.wt-frozen {{ background: #3DA5FF; }}
@keyframes wt-pulse {{ 50% {{ opacity: 0.35; }} }}
.wt-panel {{ font-size: 24px; font-weight: 700; margin: 2px 0 0 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
.st-key-wt_screen [data-testid="stMetric"] {{ padding: 10px 18px !important; }}
.st-key-wt_screen [data-testid="stMetricLabel"] p {{ font-size: 21px !important; opacity: 0.9; }}
.st-key-wt_screen [data-testid="stMetricLabel"] [data-testid="stTooltipIcon"] {{ display: none; }}
.st-key-wt_screen [data-testid="stMetricValue"] {{ font-size: 58px !important; line-height: 1.08; }}
.st-key-wt_screen [data-testid="stMetricDelta"] {{ font-size: 19px !important; }}
.st-key-wt_screen .st-key-wt_screen_finish [data-testid="stMetricValue"] {{ font-size: 34px !important;
  line-height: 62px; }}
.st-key-wt_screen [data-testid="stMetricDelta"] svg {{ display: none; }}
.st-key-wt_screen .wt-legend {{ font-size: 18px; }}
/* plotly measures its box in zoomed pixels: undo the zoom on the chart box, Streamlit then sizes it */
.st-key-wt_screen [data-testid="stPlotlyChart"] {{ zoom: calc(1 / var(--wt-zoom, 1)); }}
.st-key-wt_screen_controls {{ opacity: 0.55; }}
.st-key-wt_screen_controls:hover {{ opacity: 1; }}
.st-key-wt_screen_controls button p, .st-key-wt_screen_controls [data-testid="stPageLink"] p {{
  font-size: 16px !important; }}
.wt-keys {{ font-size: 15px; opacity: 0.8; white-space: nowrap; }}
</style>
"""


def css() -> str:
    return CSS


def script(frozen: bool, zoom: float = 1.0) -> str:
    """Fit the 1920 × 1080 design to the screen, tick the clock, pause on click, F for full screen.

    The scale also goes into a cookie (``ZOOM_COOKIE``) for the server, which draws the charts' text at
    that scale (plotly draws in screen pixels, not under the CSS zoom); when the server drew at another
    scale (``zoom``: a first visit, a resized window) the page reloads once for it."""
    return (
        "<script>(function(){"
        f"const W={DESIGN_W},H={DESIGN_H},FROZEN={'true' if frozen else 'false'},DRAWN={zoom:g};"
        "const root=document.documentElement; root.dataset.wtDrawn=DRAWN;"
        "function fit(){const z=Math.min(innerWidth/W,innerHeight/H);"
        "root.style.setProperty('--wt-zoom',z);"
        " const r=Math.round(Math.min(4,Math.max(0.25,z))*100)/100;"
        f" document.cookie='{ZOOM_COOKIE}='+r+'; path=/; max-age=31536000; SameSite=Strict';"
        " if(Math.abs(r-DRAWN)>0.015 && sessionStorage.getItem('wt_zoom_reloaded')!==String(r)){"
        "  sessionStorage.setItem('wt_zoom_reloaded',String(r)); location.reload();}"
        "}"
        "fit();"
        "if(window.__wtScreen){return;} window.__wtScreen=true;"
        "let resized=null; addEventListener('resize',function(){clearTimeout(resized);"
        " resized=setTimeout(fit,400);});"
        "const pad=n=>String(n).padStart(2,'0');"
        "setInterval(function(){ if(FROZEN) return;"
        " const t=new Date(new Date().toLocaleString('en-US',{timeZone:'Asia/Shanghai'}));"
        " document.querySelectorAll('.wt-time').forEach(e=>{"
        "  e.textContent=pad(t.getHours())+':'+pad(t.getMinutes())+':'+pad(t.getSeconds());});"
        "},1000);"
        "document.addEventListener('click',function(e){"
        " if(!document.querySelector('.st-key-wt_screen')) return;"
        " if(e.target.closest('button,a,input,textarea,[role=option],[data-testid=stDeckGlJsonChart]'))"
        "  return;"
        " const b=document.querySelector('.st-key-wt_screen_pause button'); if(b) b.click();"
        "},true);"
        "document.addEventListener('keydown',function(e){"
        " if(!document.querySelector('.st-key-wt_screen')) return;"
        " if((e.key==='f'||e.key==='F')&&!e.ctrlKey&&!e.metaKey&&!e.altKey){"
        "  if(document.fullscreenElement){document.exitFullscreen();}"
        "  else if(root.requestFullscreen){root.requestFullscreen().catch(()=>{});}}"
        "});"
        "})();</script>"
    )
