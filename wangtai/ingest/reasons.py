"""How ingest words a reason (manifest, quarantine, logs): the column by its Chinese name, the row by its
number — never a value from the file, which may be personal (DATA_CONTRACT.md §5)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

# The columns' Chinese names (with the column name as it is in the file, so a clerk can find it).
COLUMN_LABELS = {
    "id_number": "身份证号", "name": "姓名", "phone": "电话", "population_type": "人口类型",
    "community_code": "社区代码", "unit_id": "管理单元编号", "house_id": "房屋编号", "lat": "纬度",
    "lon": "经度", "reason": "来王台原因", "arrival_date": "来王台日期", "status": "居住状态",
    "updated_at": "更新时间", "estate": "楼盘", "address": "地址", "house_type": "房屋类型",
    "archive_status": "建档状态", "occupants": "居住人数", "surveyed_at": "调查日期", "scan_id": "扫码编号",
    "scanned_at": "扫码时间", "channel": "登记渠道", "site": "扫码地点", "record_id": "记录编号",
    "source": "来源部门", "received_at": "接收时间", "detail": "事项", "kind": "类别", "area": "片区",
    "unit_type": "单元类型", "admin_name": "管理员姓名", "admin_phone": "管理员电话",
}  # fmt: skip
ROW_NUMBERS = "行号从 1 起算，不含表头"


def column_label(name: str) -> str:
    """身份证号（id_number）."""
    label = COLUMN_LABELS.get(name)
    return f"{label}（{name}）" if label else name


def first_failing_row(array: pa.Array, converts: Callable[[pa.Array], bool]) -> int | None:
    """The 0-based index of the first value that ``converts`` refuses (None: it takes them all), by halving:
    each step converts one slice, so the search costs about two conversions of the whole column."""
    lo, hi = 0, len(array)  # the first failure lies in [lo, hi)
    if converts(array):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if converts(array.slice(lo, mid - lo)):
            lo = mid
        else:
            hi = mid
    return lo


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|‘[^’]*’|「[^」]*」")
_LONG_NUMBER = re.compile(r"\d{7,}[\dXx]?")


def without_values(detail: object) -> str:
    """A library's error text with what it quotes (a value from the file) and any long number left out:
    safe for a reason or a log line."""
    text = _QUOTED.sub("“…”", str(detail))
    return _LONG_NUMBER.sub("…", text)
