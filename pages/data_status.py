"""数据状态 — for operators: each feed's latest file, refused rows and why, held snapshots, coverage."""

import pandas as pd
import streamlit as st

from wangtai.contract import FEEDS
from wangtai.ui import charts, data, tables
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


def freshness_section() -> None:
    st.subheader("各数据源")
    fresh = data.run("data_freshness")
    if charts.empty_note(fresh, "数据源信息"):
        return
    columns = st.columns(len(fresh))
    for column, row in zip(columns, fresh.itertuples(index=False), strict=True):
        status = _status(row.status)
        column.metric(
            row.feed_label,
            f"{fmt.num(row.rows)} 行",
            status,
            delta_color="off",
            delta_arrow="off",
            border=True,
            help=f"最新文件 {row.last_file}，入库于 {fmt.moment(row.last_ingested_at)}",
        )
    shown = fresh.assign(status=fresh["status"].map(_status))
    tables.show(shown, tables.FRESHNESS_COLUMNS)


def held_section() -> None:
    st.subheader("待确认的快照")
    held = data.run("held_snapshots")
    if held.empty:
        st.success("没有待确认的快照：各快照数据源使用的都是最新收到的文件。", icon="✅")
        with st.expander("什么是“待确认”的快照？"):
            st.markdown(HELD_EXPLAINED)
            st.code("wangtai held --accept BATCH_ID", language="bash")
        return
    st.warning(f"有 {len(held)} 个快照暂未生效，看板仍显示上一个快照。", icon="⏸️")
    st.markdown(HELD_EXPLAINED)
    st.code("\n".join(f"wangtai held --accept {b}" for b in held["batch_id"]), language="bash")
    tables.show(_feed_labels(held), tables.HELD_COLUMNS)


def quarantine_section() -> None:
    st.subheader("隔离的行及原因")
    reasons = data.run("quarantine_reasons")
    if reasons.empty:
        st.success("没有被隔离的行或文件。", icon="✅")
        return
    total = int(pd.to_numeric(reasons["rows"], errors="coerce").fillna(0).sum())
    st.caption(
        f"共 {fmt.num(total)} 行（或整个文件）未入库，原样保存在 quarantine/ 目录，附中文原因。"
        "修正后重新放入收件箱即可。"
    )
    tables.show(_feed_labels(reasons), tables.QUARANTINE_COLUMNS, height=300)


def coverage_section() -> None:
    st.subheader(f"部门共享数据覆盖（{filters.label}）")
    coverage = data.scoped("source_coverage", filters)
    if not charts.empty_note(coverage, "部门数据"):
        charts.show(
            charts.column_bars(
                coverage, "source", "share_of_newcomers", y_title="覆盖的新市民比例", percent=True, height=320
            ),
            key="coverage",
        )


freshness_section()
held_section()
left, right = st.columns([3, 2], gap="medium")
with left:
    quarantine_section()
with right:
    coverage_section()
