"""数据状态 — for operators: each feed's latest file, refused rows and why, held snapshots, coverage."""

import pandas as pd
import streamlit as st

from wangtai import clock
from wangtai.contract import FEEDS
from wangtai.live_ingest import stale_feeds
from wangtai.ui import charts, data, live_view, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("数据状态", "🩺")

STATUS_ICONS = {"正常": "✅", "有待确认快照": "⏸️", "最近文件被拒收": "⚠️", "无可用数据": "❌", "无数据": "📭"}
HELD_EXPLAINED = """
**什么是“待确认”（held）？** 快照类数据（实有人口、实有房屋）每个文件都是完整的最新状态。
如果一个新快照会让画面突然“缩水”——被拒绝的行超过 2%，或有效行少于当前快照的 80%——入库时不会让它生效，
而是暂缓：**看板继续使用上一个快照**，新文件原样保存在仓库和归档里，不会丢失。
核实无误后（例如确实有大批人员迁出），运维人员在服务器上运行下面的命令接受它，它随即成为当前快照：
"""


def _feed_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """feed names → the Chinese names operators know (实有人口, 一家亲扫码登记, …)."""
    labels = {name: feed.label for name, feed in FEEDS.items()}
    return frame.assign(feed=frame["feed"].map(lambda f: labels.get(f, f))) if "feed" in frame else frame


def _status(status) -> str:
    return f"{STATUS_ICONS.get(str(status), '•')} {status}"


def freshness_section(fresh: pd.DataFrame) -> None:
    st.subheader("各数据源")
    if charts.empty_note(fresh, "数据源信息"):
        return
    columns = st.columns(len(fresh))
    for column, row in zip(columns, fresh.itertuples(index=False), strict=True):
        status = _status(row.status)
        column.metric(
            row.feed_label,
            fmt.count(row.rows, "行"),
            status,
            delta_color="off",
            delta_arrow="off",
            border=True,
            help=f"最新文件 {fmt.md(row.last_file)}，入库于 {fmt.moment(row.last_ingested_at)}",
        )
    shown = fresh.assign(status=fresh["status"].map(_status))
    tables.static(shown, tables.FRESHNESS_COLUMNS)
    for feed in stale_feeds(fresh, clock.now()):
        st.warning(
            f"{feed['label']}：最近一个文件入库于 {fmt.moment(feed['last_ingested_at'])}，"
            f"按约定应{feed['expected']}送来新文件——请检查源系统的导出。",
            icon="⚠️",
        )
    st.caption(live_view.ingest_note())


def ingest_section(problems: list[str]) -> None:
    """Ingest paused by a failure of ours (disk full, permissions) or files set aside: not verdicts."""
    for message in problems:
        st.error(message, icon="⛔")


def held_section(held: pd.DataFrame) -> None:
    st.subheader("待确认的快照")
    if held.empty:
        st.success("没有待确认的快照：各快照数据源使用的都是最新收到的文件。", icon="✅")
        with st.expander("什么是“待确认”的快照？"):
            st.markdown(HELD_EXPLAINED)
            st.code("wangtai held --accept BATCH_ID", language="bash")
        return
    st.warning(f"有 {len(held)} 个快照暂未生效，看板仍显示上一个快照。", icon="⏸️")
    st.markdown(HELD_EXPLAINED)
    st.code("\n".join(f"wangtai held --accept {b}" for b in held["batch_id"]), language="bash")
    tables.static(_feed_labels(held), tables.HELD_COLUMNS)


def refused_files(reasons: pd.DataFrame, shown: int = 5) -> None:
    """The latest whole files refused, spelled out (the table below is a canvas, this is plain text)."""
    if reasons.empty or "scope" not in reasons:
        return
    files = reasons[reasons["scope"] == "整个文件"].head(shown)
    for row in files.itertuples(index=False):
        label = FEEDS[row.feed].label if row.feed in FEEDS else row.feed
        when = fmt.moment(row.ingested_at)
        st.error(f"**{fmt.md(row.file_name)}**（{label}，{when}）被拒收：{fmt.md(row.reason)}", icon="🚫")


def quarantine_section(reasons: pd.DataFrame) -> None:
    st.subheader("隔离的行及原因")
    if reasons.empty:
        st.success("没有被隔离的行或文件。", icon="✅")
        return
    total = int(pd.to_numeric(reasons["rows"], errors="coerce").fillna(0).sum())
    st.caption(
        f"共 {fmt.count(total, '行')}（或整个文件）未入库，原样保存在服务器的隔离区，附中文原因。"
        "请源系统修正后重新导出、放入收件箱。"
    )
    refused_files(reasons)
    tables.static(_feed_labels(reasons), tables.QUARANTINE_COLUMNS, height=360)


def coverage_section(coverage: pd.DataFrame) -> None:
    st.subheader(f"部门共享数据覆盖（{fmt.md(filters.label)}）")
    if not charts.empty_note(coverage, "部门数据"):
        figure = live_view.once(
            "coverage",
            lambda: charts.column_bars(
                coverage, "source", "share_of_newcomers", y_title="覆盖的新市民比例", percent=True, height=320
            ),
        )
        charts.show(figure, key="coverage")


def fetch() -> dict:
    return {
        "problems": live_view.ingest_problems(),
        "fresh": data.run("data_freshness"),
        "held": data.run("held_snapshots"),
        "reasons": data.run("quarantine_reasons"),
        "coverage": data.scoped("source_coverage", filters),
    }


def live_part(found: dict) -> None:
    ingest_section(found["problems"])
    freshness_section(found["fresh"])
    held_section(found["held"])
    # the quarantine table full width: in 3/5 of the page its 原因 column was cut off, at 1920 px as well
    quarantine_section(found["reasons"])
    left, _ = st.columns([1, 1], gap="medium")
    with left:
        coverage_section(found["coverage"])


# The whole page is live (wangtai.ui.live_view): re-queried only when the data changed.
live_view.section("data_status", fetch, live_part, filters.params, by_minute=True)
