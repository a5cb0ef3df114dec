"""Column configs for st.dataframe: Chinese headers and formats (69,012 · 24.6%).

Only the configured columns are shown (``order``), so a query that gains a column does not leak an
English header onto the screen.
"""

import streamlit as st

cc = st.column_config


def order(columns: dict) -> list[str]:
    """The columns to show, in the config's order (a None config = hidden)."""
    return [key for key, config in columns.items() if config is not None]


def show(frame, columns: dict, column_order=None, height="auto") -> None:
    """A sortable table with Chinese headers, only the configured columns."""
    st.dataframe(
        frame,
        hide_index=True,
        column_config=columns,
        column_order=column_order or order(columns),
        height=height,
    )


COMMUNITY_COLUMNS = {
    "community_code": cc.TextColumn("社区代码"),
    "community_name": cc.TextColumn("社区"),
    "area": cc.TextColumn("片区"),
    "kind": cc.TextColumn("类型"),
    "residents": cc.NumberColumn("实有人口", format="localized"),
    "newcomers": cc.NumberColumn("新市民", format="localized"),
    "newcomer_share": cc.ProgressColumn("新市民占比", format="percent", min_value=0, max_value=1),
    "registered": cc.NumberColumn("已登记", format="localized"),
    "registration_rate": cc.ProgressColumn("登记率", format="percent", min_value=0, max_value=1),
}

AREA_COLUMNS = {
    "area": cc.TextColumn("片区"),
    "communities": cc.NumberColumn("社区数"),
    "residents": cc.NumberColumn("实有人口", format="localized"),
    "newcomers": cc.NumberColumn("新市民", format="localized"),
    "newcomer_share": cc.ProgressColumn("新市民占比", format="percent", min_value=0, max_value=1),
}

UNIT_ORDER = (
    "unit_name",
    "unit_type",
    "community_name",
    "admin_name_masked",
    "newcomers",
    "registered",
    "registration_rate",
    "plan_rate",
    "gap",
    "scans_7d",
)
UNIT_COLUMNS = {
    "unit_id": cc.TextColumn("单位编号"),
    "unit_name": cc.TextColumn("单位", width="medium"),
    "unit_type": cc.TextColumn("类型"),
    "community_code": cc.TextColumn("社区代码"),
    "community_name": cc.TextColumn("社区"),
    "admin_name_masked": cc.TextColumn("新市民管理员"),
    "newcomers": cc.NumberColumn("新市民", format="localized"),
    "registered": cc.NumberColumn("已登记", format="localized"),
    "registration_rate": cc.ProgressColumn("登记率", format="percent", min_value=0, max_value=1),
    "plan_rate": cc.NumberColumn("计划登记率", format="percent"),
    "gap": cc.NumberColumn("较计划（人）", format="%+d", help="已登记 − 今日计划；负数为落后"),
    "scans_7d": cc.NumberColumn("近7日扫码", format="localized"),
}

UNREGISTERED_COLUMNS = {
    "no": cc.NumberColumn("序号"),
    "unit_name": cc.TextColumn("单位"),
    "community_name": cc.TextColumn("社区"),
    "name_masked": cc.TextColumn("姓名"),
    "id_masked": cc.TextColumn("身份证号"),
    "phone_masked": cc.TextColumn("电话"),
    "house_id": cc.TextColumn("房屋编号"),
    "arrival_date": cc.DateColumn("来王台日期", format="YYYY-MM-DD"),
    "reason": cc.TextColumn("原因"),
    "total": None,  # the whole list's length, the same on every row (the page shows it once)
}

FRESHNESS_COLUMNS = {
    "feed": None,
    "feed_label": cc.TextColumn("数据源"),
    "last_file": cc.TextColumn("最新文件", width="medium"),
    "last_ingested_at": cc.DatetimeColumn("入库时间", format="YYYY-MM-DD HH:mm"),
    "current_since": cc.DatetimeColumn("当前数据自", format="YYYY-MM-DD HH:mm"),
    "rows": cc.NumberColumn("当前行数", format="localized"),
    "quarantined_rows": cc.NumberColumn("隔离行", format="localized"),
    "refused_files": cc.NumberColumn("拒收文件"),
    "held_batches": cc.NumberColumn("待确认快照"),
    "status": cc.TextColumn("状态"),
}

QUARANTINE_COLUMNS = {
    "feed": cc.TextColumn("数据源"),
    "file_name": cc.TextColumn("文件", width="medium"),
    "ingested_at": cc.DatetimeColumn("入库时间", format="YYYY-MM-DD HH:mm"),
    "scope": cc.TextColumn("范围"),
    "reason": cc.TextColumn("原因", width="large"),
    "rows": cc.NumberColumn("行数", format="localized"),
}

HELD_COLUMNS = {
    "batch_id": cc.TextColumn("批次号（接受时用）", width="large"),
    "feed": cc.TextColumn("数据源"),
    "file_name": cc.TextColumn("文件"),
    "ingested_at": cc.DatetimeColumn("收到时间", format="YYYY-MM-DD HH:mm"),
    "rows_in": cc.NumberColumn("收到行数", format="localized"),
    "accepted": cc.NumberColumn("有效行", format="localized"),
    "quarantined": cc.NumberColumn("隔离行", format="localized"),
    "current_accepted": cc.NumberColumn("当前快照有效行", format="localized"),
    "reason": cc.TextColumn("暂缓原因", width="large"),
}
