"""Live screens: parts of a page that update by themselves, without reloading, flicker or greying out.

- ``start_ingest()`` — one background thread per server process and data directory
  (``wangtai.live_ingest.process_ingest``), started by the shared setup before the login gate: it ingests new
  inbox files (``WANGTAI_LIVE_INGEST=0`` turns that off) and keeps the runner's in-memory tables up to the
  warehouse. ``ingest_problems()``: a pause of ingest (disk full …) or files set aside, for 数据状态.
- ``section(key, fetch, draw, params)`` — a fragment that ticks every few seconds
  (``WANGTAI_REFRESH_SECONDS``, default 2; 0 = never). Each tick compares the cheap data version (and the
  minute, for "today" figures) with what this session last drew: unchanged → it redraws the same values
  from the session without running a query (the same elements, so nothing moves on screen); changed →
  ``fetch`` runs once and the new values are drawn in place. ``once(name, build)`` keeps what ``draw``
  builds (plotly figures) between ticks. Filters, scroll position and open tabs stay: only the fragment
  reruns.
- ``pause_toggle()`` — 实时更新 on/off in the sidebar, held in a plain session key and mirrored as
  ``?live=0``; paused fragments do not tick at all.
- ``status(...)`` — the ● 实时 / ⏸ 已暂停 badge, the data's time, held snapshots and stale feeds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from wangtai import clock, settings
from wangtai.ingest import faults
from wangtai.live_ingest import LiveIngest, live_ingest_enabled, process_ingest, stale_feeds
from wangtai.paths import DataPaths
from wangtai.ui import data, login
from wangtai.ui import format as fmt

REFRESH_ENV = "WANGTAI_REFRESH_SECONDS"
DEFAULT_REFRESH = 2
PAUSE_KEY = "wangtai_live_paused"
STORE_KEY = "wangtai_live_drawn"
VERSION_TTL = 0.25  # seconds: many sessions ticking together share one look at the warehouse

_version_memo: dict[str, tuple[float, str]] = {}
_version_lock = threading.Lock()
_drawing = threading.local()  # the memo of the live section being drawn (see ``once``)


# ---- the server side: one ingest thread per process -----------------------------------------------------


def start_ingest() -> LiveIngest:
    """Start (once per process) the thread that ingests new inbox files, unless turned off, and brings the
    runner up to date after each poll. Called by the shared setup before the login gate: ingest does not
    wait for anybody to log in (wangtai.live_ingest.process_ingest)."""
    root = data.data_paths().root
    worker = process_ingest(DataPaths(root), ingest=live_ingest_enabled())
    worker.follow = data.runner_for(str(root)).refresh  # the pages' runner (new if its cache was cleared)
    return worker


def ingest_problems() -> list[str]:
    """Why ingest is paused or a file was set aside (wangtai.ingest.faults), one Chinese line each."""
    return faults.load(data.data_paths()).messages()


def ingest_note() -> str:
    """One line for operators: is this server process ingesting new inbox files by itself?"""
    if not live_ingest_enabled():
        return "本看板进程不自动入库（WANGTAI_LIVE_INGEST=0），由 `wangtai ingest --watch` 服务入库。"
    worker = start_ingest()
    text = (
        f"本看板进程每 {worker.interval:g} 秒检查一次收件箱，新文件自动入库"
        "（多个进程时同一时刻只有一个在入库）。"
    )
    if worker.last_error:
        text += f" 最近一次入库出错：{worker.last_error}"
    return text


# ---- what changed: the data version (memoized briefly across sessions) and the minute -------------------


def version() -> str:
    root = str(data.data_paths().root)
    now = time.monotonic()
    with _version_lock:
        hit = _version_memo.get(root)
        if hit and now - hit[0] < VERSION_TTL:
            return hit[1]
    current = data.data_version()
    with _version_lock:
        _version_memo[root] = (now, current)
    return current


def minute() -> str:
    return f"{clock.now():%Y%m%d%H%M}"


def refresh_seconds() -> float:
    try:
        return max(0.0, settings.get("refresh_seconds"))
    except ValueError:
        return DEFAULT_REFRESH


# ---- pause ----------------------------------------------------------------------------------------------


def paused() -> bool:
    if PAUSE_KEY not in st.session_state:
        st.session_state[PAUSE_KEY] = st.query_params.get("live") == "0"
    return bool(st.session_state[PAUSE_KEY])


def ticking() -> float | None:
    """The fragments' tick in seconds, or None when paused or turned off."""
    seconds = refresh_seconds()
    return None if paused() or not seconds else seconds


def pause_toggle() -> None:
    """实时更新 on/off in the sidebar; kept across pages in the session and in the URL as ?live=0."""
    was_paused = paused()
    with st.sidebar:
        on = st.toggle("实时更新", value=not was_paused, help="关闭后画面不再自动刷新（例如开会讲解时）")
    st.session_state[PAUSE_KEY] = not on
    if not on and st.query_params.get("live") != "0":
        st.query_params["live"] = "0"
    elif on and "live" in st.query_params:
        del st.query_params["live"]


# ---- live sections --------------------------------------------------------------------------------------


def _store() -> dict:
    return st.session_state.setdefault(STORE_KEY, {})


def section(
    key: str,
    fetch: Callable[[], Any],
    draw: Callable[[Any], None],
    params: dict | None = None,
    by_minute: bool = False,
) -> None:
    """Draw ``draw(fetch())`` in a fragment that re-fetches only when the data (or the minute) changed."""
    stamp_params = tuple(sorted((params or {}).items()))

    @st.fragment(run_every=ticking())
    def _live() -> None:
        # A tick is not a full run through the gate: re-check the session here too (at most once a
        # minute, not counted as activity), so an expired or revoked session stops seeing updates.
        login.require()
        stamp = (version(), stamp_params, minute() if by_minute else None)
        drawn = _store().get(key)
        if drawn is None or drawn[0] != stamp:
            drawn = (stamp, fetch(), {})
            _store()[key] = drawn
        _drawing.memo = drawn[2]
        try:
            draw(drawn[1])
        finally:
            _drawing.memo = None

    _live()


def freshness() -> pd.DataFrame:
    """The ``data_freshness`` rows, queried once per data version for this session: the status badges and
    the figures' 口径 both show them."""
    current = version()
    kept = _store().get("_freshness")
    if kept is None or kept[0] != current:
        kept = _store()["_freshness"] = (current, data.run("data_freshness"))
    return kept[1]


def once(name: str, build: Callable[[], Any]) -> Any:
    """Inside a live section's ``draw``: build (e.g. a plotly figure, ~100 ms) only when the data changed
    and reuse it on the ticks in between; outside a live section: just build."""
    memo = getattr(_drawing, "memo", None)
    if memo is None:
        return build()
    if name not in memo:
        memo[name] = build()
    return memo[name]


# ---- the status badges ----------------------------------------------------------------------------------


def freshness_text(freshness: pd.DataFrame) -> str:
    if freshness.empty or "last_ingested_at" not in freshness:
        return "数据更新于 —"
    latest = pd.to_datetime(freshness["last_ingested_at"]).max()
    return f"数据更新于 {fmt.moment(latest)}"


def held_count(freshness: pd.DataFrame) -> int:
    if freshness.empty or "held_batches" not in freshness:
        return 0
    return int(pd.to_numeric(freshness["held_batches"], errors="coerce").fillna(0).sum())


def _ago(moment, now) -> str:
    minutes = int((now - pd.Timestamp(moment).to_pydatetime()).total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} 天"
    if minutes >= 120:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"


def stale_badge(feed: dict, now) -> tuple[str, str]:
    """The stale feed's badge, short enough for a 1366 px header (「一家亲扫码登记 42 分钟无新文件（应约每
    10 分钟）」), and its tooltip with the rest: the last file's time and the active hours that count."""
    rhythm, hours = feed["rhythm"], feed.get("hours")
    label = f"{feed['label']} {_ago(feed['last_ingested_at'], now)}无新文件（应{rhythm}）"
    more = f"最后收到文件：{fmt.moment(pd.Timestamp(feed['last_ingested_at']))}。应{rhythm}送来一个文件"
    if hours:
        more += f"，只计 {hours} 之间的时间"
    return label, more + "。"


def status(demo: bool = False, scope: str = "") -> None:
    """● 实时 / ⏸ 已暂停, the data's time, held snapshots and stale feeds — itself a live fragment."""

    def fetch() -> dict:
        rows = freshness()
        stale = stale_feeds(rows, clock.now())
        return {"freshness": rows, "stale": stale, "now": clock.now(), "problems": ingest_problems()}

    def draw(found: dict) -> None:
        rows = found["freshness"]
        # on paper only: what the page shows, of which data, printed when (wangtai/ui/style.py)
        printed = f"页面生成于 {fmt.moment(found['now'], with_year=True)}"
        line = f"智慧王台 · 筛选：{fmt.html(scope)} · {fmt.html(freshness_text(rows))} · {printed}"
        st.markdown(f'<div class="wt-print">{line}</div>', unsafe_allow_html=True)
        with st.container(horizontal=True, horizontal_alignment="right", gap="small", key="wt_live_status"):
            if paused():
                st.badge("已暂停", icon="⏸️", color="gray")
            else:
                st.badge("实时", icon="🟢", color="green")
            st.badge(freshness_text(rows), icon="🕒", color="blue")
            if found.get("problems"):
                label = "入库暂停" if found["problems"][0].startswith("入库暂停") else "有文件未能入库"
                st.badge(label, icon="⛔", color="red", help="\n\n".join(found["problems"]))
            held = held_count(rows)
            if held:
                st.badge(f"{held} 个快照待确认", icon="⏸️", color="orange")
            for feed in found["stale"]:
                label, more = stale_badge(feed, found["now"])
                st.badge(label, icon="⚠️", color="red", help=more)
            if demo:
                st.badge("演示数据（合成，非真实人员）", icon="🧪", color="violet")

    section("status", fetch, draw, by_minute=True)
