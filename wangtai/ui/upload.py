"""The 数据导入 page's parts (pages/data_import.py): the Excel templates, the feed chosen or recognised, the
preview of what ingest would do (wangtai.ingest.upload; nothing written), and the confirmation that puts the
file into the inbox and shows its manifest row when it lands. Previews and confirmations are audited
(``upload_preview`` once per file and feed, ``upload_confirmed`` before the file is put into the inbox)."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from wangtai.contract import FEEDS
from wangtai.ingest import upload
from wangtai.ingest.core import OUTCOME_LABELS
from wangtai.ingest.errors import IngestError
from wangtai.ingest.readers.template import example_codes, template_bytes
from wangtai.ui import data, login
from wangtai.ui import format as fmt

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_KEY = "wangtai_upload"  # {"key": (sha256, feed), "preview": Preview, "landed": manifest row}
OUTCOME_ICONS = {"accepted": "✅", "held": "⏸️", "refused": "🚫", "duplicate_file": "♻️"}


def templates() -> None:
    """One download button per feed: its Excel template (wangtai.ingest.readers.template)."""
    codes = example_codes(data.data_paths())
    for column, (name, feed) in zip(st.columns(len(FEEDS)), FEEDS.items(), strict=True):
        column.download_button(
            f"⬇️ {feed.label}模板",
            template_bytes(name, codes),
            file_name=f"{feed.label}导入模板.xlsx",
            mime=XLSX,
            key=f"template_{name}",
            on_click="ignore",
            width="stretch",
        )


def choose_feed(name: str, content: bytes) -> str:
    """The feed the file is for: recognised from its headers when it can be, else the operator's choice."""
    try:
        found = upload.recognise(data.data_paths(), content, name)
    except IngestError as error:
        st.error(str(error), icon="⚠️")
        found = []
    names = list(FEEDS)
    feed = st.selectbox(
        "数据源",
        names,
        index=names.index(found[0]) if found else 0,
        format_func=lambda f: f"{FEEDS[f].label}（inbox/{f}/）",
        key=f"upload_feed_{hashlib.sha256(content).hexdigest()[:12]}",
    )
    if found:
        st.caption("根据表头识别为：" + "、".join(FEEDS[f].label for f in found) + "（可改选）。")
    else:
        st.caption("未能从表头识别数据源，请选择。")
    return feed


def preview_of(name: str, content: bytes, feed: str) -> upload.Preview | None:
    """The dry run of this file for this feed, made (and audited) once; None when it cannot be made."""
    key = (hashlib.sha256(content).hexdigest(), feed)
    state = st.session_state.get(STATE_KEY)
    if state is not None and state["key"] == key:
        return state["preview"]
    try:
        with st.spinner("正在按入库规则逐行检查（不写入任何数据）…"):
            found = upload.preview(data.data_paths(), feed, content, name)
    except IngestError as error:
        st.error(str(error), icon="⚠️")
        return None
    result = found.result
    login.record(
        "upload_preview",
        what=f"{FEEDS[feed].label}：{found.name}",
        rows=result.rows_in,
        detail=_counts(result) + f"；{OUTCOME_LABELS.get(result.outcome, result.outcome)}",
        sha256=found.sha256,
    )
    st.session_state[STATE_KEY] = {"key": key, "preview": found, "landed": None}
    return found


def _counts(result) -> str:
    return (
        f"共 {result.rows_in} 行：将入库 {result.accepted} 行，隔离 {result.quarantined} 行，"
        f"重复 {result.duplicates} 行"
    )


def show_preview(found: upload.Preview) -> None:
    result = found.result
    st.markdown(f"**预览：{fmt.md(found.name)} → {FEEDS[found.feed].label}**（尚未写入任何数据）")
    total, accepted, quarantined, duplicates = st.columns(4)
    total.metric("共计行数", fmt.num(result.rows_in), border=True)
    accepted.metric("将入库", fmt.num(result.accepted), border=True)
    quarantined.metric("将隔离", fmt.num(result.quarantined), border=True)
    duplicates.metric("重复", fmt.num(result.duplicates), border=True)
    verdict = f"{OUTCOME_LABELS.get(result.outcome, result.outcome)}。{result.reason or ''}"
    {"accepted": st.success, "held": st.warning}.get(result.outcome, st.error)(
        fmt.md(verdict), icon=OUTCOME_ICONS.get(result.outcome, "•")
    )
    st.markdown("**列对应**")
    st.dataframe(found.mapping, hide_index=True, width="stretch")
    if not found.refused.empty:
        st.markdown("**将被隔离的前几行**（只显示行号、原因和脱敏后的身份证号、姓名）")
        st.dataframe(found.refused, hide_index=True, width="stretch")
    if not found.stored.empty:
        st.markdown("**将入库的前几行**（按仓库中保存的样子：身份证号、姓名、电话已脱敏）")
        st.dataframe(found.stored, hide_index=True, width="stretch")


def confirm(content: bytes, found: upload.Preview) -> None:
    """Audit, put the file into the inbox, wait for ingest to take it, show its manifest row."""
    paths = data.data_paths()
    login.record(
        "upload_confirmed",
        what=f"{FEEDS[found.feed].label}：{found.name}",
        rows=found.result.rows_in,
        detail=_counts(found.result),
        sha256=found.sha256,
    )
    path = upload.put_into_inbox(paths, found.feed, content, found.name)
    with st.spinner("已放入收件箱，正在入库…"):
        row = upload.wait_until_landed(paths, found.feed, path, found.sha256)
    st.session_state[STATE_KEY]["landed"] = row or {"waiting": path.name}


def show_outcome(found: upload.Preview) -> bool:
    """The confirmed file's manifest row, once it landed (True when there is something to show)."""
    state = st.session_state.get(STATE_KEY)
    row = state.get("landed") if state else None
    if row is None:
        return False
    if "waiting" in row:
        why = upload.waiting_problem(data.data_paths(), found.feed, row["waiting"])
        st.warning(
            f"文件已放入收件箱（inbox/{found.feed}/{fmt.md(row['waiting'])}），尚未入库。"
            + (fmt.md(why) if why else "入库完成后可在「数据状态」页查看结果。"),
            icon="⏳",
        )
        return True
    st.success(f"已入库记录（批次 {fmt.md(row['batch_id'])}）：", icon=OUTCOME_ICONS.get(row["outcome"], "•"))
    shown = {
        "文件": row["file_name"],
        "结果": OUTCOME_LABELS.get(row["outcome"], row["outcome"]),
        "收到行数": row["rows_in"],
        "入库": row["accepted"],
        "隔离": row["quarantined"],
        "重复": row["duplicates"],
        "入库时间": fmt.moment(row["ingested_at"]),
        "原因": row["reason"] or "",
    }
    st.dataframe(pd.DataFrame([shown]), hide_index=True, width="stretch")
    return True
