"""Tables: Chinese headers, the formats of wangtai/ui/format.py, and a width that fits a 1366 px laptop.

Two kinds:

- ``show`` — a sortable ``st.dataframe`` for long lists (communities, units, people, the audit log). Only the
  configured columns are shown (``order``), so a query that gains a column does not leak an English header
  onto the screen. Its cells are rounded with ``fmt.rounded`` to what the column shows before the browser
  formats them (a gap of -590.5 reads "-591" in the table as in the unit picker; 55.77% reads 55.8%);
  missing values show "—". Column widths are set so the columns that matter fit the 1366 px page
  (``tests/browser/test_rooms_browser.py`` measures it).
- ``static`` — a plain HTML table (``st.table``) for short lists whose text must be read whole: file names,
  reasons, statuses wrap inside their cell instead of running off the side; every value is formatted here
  (``fmt``) and names are Markdown-escaped (``st.table`` reads Markdown in cells). It prints as it shows.
"""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from wangtai.ui import format as fmt

cc = st.column_config
PLACEHOLDER = fmt.DASH
PERCENT_STEP = 0.001  # a share rounded to 0.1 %: the browser's "percent" then shows one decimal


def share_column(label: str, width="small", help: str | None = None):
    """A share 0–1 as a bar with its percentage, one decimal (55.8%)."""
    return cc.ProgressColumn(
        label, format="percent", min_value=0, max_value=1, step=PERCENT_STEP, width=width, help=help
    )


def count_column(label: str, width="small", help: str | None = None):
    """A whole number with thousands separators (no "+" sign: "-12" behind, "12" ahead, "0")."""
    return cc.NumberColumn(label, format="localized", step=1, width=width, help=help)


def order(columns: dict) -> list[str]:
    """The columns to show, in the config's order (a None config = hidden)."""
    return [key for key, config in columns.items() if config is not None]


def _digits(config) -> int | None:
    """How many decimals a number column shows (None: not a number column)."""
    if not isinstance(config, dict):
        return None
    kind = config.get("type_config", {})
    if kind.get("type") not in ("number", "progress"):
        return None
    if kind.get("format") == "percent":
        return 3  # 0.558 = 55.8%
    step = kind.get("step")
    if step is None or step >= 1:
        return 0
    return max(0, len(f"{step:f}".rstrip("0").split(".")[1]))


def prepared(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The frame with each number column rounded (``fmt.rounded``) to the decimals it shows."""
    rounded = {}
    for key, config in columns.items():
        digits = _digits(config)
        if digits is None or key not in frame or not pd.api.types.is_numeric_dtype(frame[key]):
            continue
        values = frame[key].map(lambda v, d=digits: fmt.rounded(v, d))
        whole = digits == 0 and not values.isna().any()
        rounded[key] = values.astype("int64") if whole else values.astype("float64")
    return frame.assign(**rounded) if rounded else frame


def show(frame, columns: dict, column_order=None, height="auto") -> None:
    """A sortable table with Chinese headers, only the configured columns, rounded as shown."""
    st.dataframe(
        prepared(frame, columns),
        hide_index=True,
        column_config=columns,
        column_order=column_order or order(columns),
        height=height,
        placeholder=PLACEHOLDER,
    )


# ---- static tables ---------------------------------------------------------------------------------------

Format = Callable[[object], str]


def name(value) -> str:
    """A name from the data, for a Markdown cell."""
    return fmt.md(fmt.text(value))


def static(
    frame: pd.DataFrame, columns: dict[str, tuple[str, Format]], height: int | str = "content"
) -> None:
    """A plain table of ``columns`` (key → (header, formatter)); wraps its text, never scrolls sideways."""
    shown = pd.DataFrame(
        {
            header: [show(v) for v in frame[key]] if key in frame else [fmt.DASH] * len(frame)
            for key, (header, show) in columns.items()
        }
    )
    st.table(shown, hide_index=True, height=height, border="horizontal")


def _count(value) -> str:
    return fmt.num(value)


def _moment(value) -> str:
    return fmt.moment(value)  # "11月28日 13:44": the page's data time carries the year


DEFINITION_COLUMNS = {
    "label": ("指标", name),
    "value": ("当前值", name),
    "help": ("口径", name),
    "source": ("数据来源", name),
    "time": ("数据时间", name),
}


def definitions(frame: pd.DataFrame, title: str = "指标口径：定义、数据来源、数据时间") -> None:
    """Every figure's 口径 in an expander under the figures: reachable at every width (the metrics' "?"
    is hidden on a laptop) and on paper (print CSS opens it)."""
    with st.expander(title, icon="📐"):
        static(frame, DEFINITION_COLUMNS)


# ---- the column sets ---------------------------------------------------------------------------------------

COMMUNITY_COLUMNS = {
    "community_code": None,
    "community_name": cc.TextColumn("社区", width=140),
    "area": cc.TextColumn("片区", width="small"),
    "kind": cc.TextColumn("类型", width="small"),
    "residents": count_column("实有人口"),
    "newcomers": count_column("新市民"),
    "newcomer_share": share_column("新市民占比", width=150),
    "registered": count_column("已登记"),
    "registration_rate": share_column("登记率", width=150),
}

AREA_COLUMNS = {
    "area": ("片区", name),
    "communities": ("社区数", _count),
    "residents": ("实有人口", _count),
    "newcomers": ("新市民", _count),
    "newcomer_share": ("新市民占比", fmt.pct),
}

UNIT_ORDER = (
    "unit_name",
    "community_name",
    "admin_name_masked",
    "newcomers",
    "registered",
    "registration_rate",
    "gap",
    "scans_7d",
)
UNIT_COLUMNS = {
    "unit_id": cc.TextColumn("单位编号"),
    "unit_name": cc.TextColumn("单位", width="medium"),
    "unit_type": cc.TextColumn("类型"),
    "community_code": cc.TextColumn("社区代码"),
    "community_name": cc.TextColumn("社区", width="small"),
    "admin_name_masked": cc.TextColumn("管理员", width="small", help="新市民管理员（已脱敏）"),
    "newcomers": count_column("新市民"),
    "registered": count_column("已登记"),
    "registration_rate": share_column("登记率"),
    "plan_rate": share_column("计划登记率"),
    "gap": count_column("较计划（人）", help="已登记 − 今日计划；负数为落后"),
    "scans_7d": count_column("近7日扫码"),
}

UNREGISTERED_COLUMNS = {
    "no": cc.NumberColumn("序号", width="small"),
    "unit_name": cc.TextColumn("单位", width=180),
    "community_name": cc.TextColumn("社区", width=100),
    "name_masked": cc.TextColumn("姓名", width="small"),
    "id_masked": cc.TextColumn("身份证号", width=160),
    "phone_masked": cc.TextColumn("电话", width="small"),
    "house_id": cc.TextColumn("房屋编号", width="small"),
    "arrival_date": cc.DateColumn("来王台日期", format="YYYY-MM-DD", width="small"),
    "reason": cc.TextColumn("原因", width="small"),
    "total": None,  # the whole list's length, the same on every row (the page shows it once)
}

FRESHNESS_COLUMNS = {
    "feed_label": ("数据源", name),
    "status": ("状态", fmt.text),
    "last_file": ("最新文件", name),
    "last_ingested_at": ("入库时间", _moment),
    "quarantined_rows": ("隔离行", _count),
    "refused_files": ("拒收文件", _count),
    "held_batches": ("待确认快照", _count),
}

QUARANTINE_COLUMNS = {
    "feed": ("数据源", name),
    "file_name": ("文件", name),
    "ingested_at": ("入库时间", _moment),
    "scope": ("范围", name),
    "reason": ("原因", name),
    "rows": ("行数", _count),
}

HELD_COLUMNS = {
    "feed": ("数据源", name),
    "file_name": ("文件", name),
    "ingested_at": ("收到时间", _moment),
    "rows_in": ("收到行数", _count),
    "accepted": ("有效行", _count),
    "current_accepted": ("当前快照有效行", _count),
    "reason": ("暂缓原因", name),
    "batch_id": ("批次号（接受时用）", name),
}

# The export's headers and columns of the lists above (wangtai/ui/exports.py reads the labels).
EXPORT_COLUMNS = {**UNIT_COLUMNS, **UNREGISTERED_COLUMNS}
