"""Downloads of a list for door-to-door work: Excel (openpyxl) and CSV (UTF-8 with BOM, opens in Excel)."""

import io
import re

import pandas as pd
import streamlit as st

from wangtai import clock


def _headers(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """Rename to the Chinese headers shown on screen; drop hidden columns."""
    names = {}
    for key, config in columns.items():
        if key not in frame:
            continue
        label = config.get("label") if isinstance(config, dict) else config
        names[key] = label or key
    keep = [c for c in frame.columns if c not in columns or columns[c] is not None]
    return frame[keep].rename(columns=names)


def to_excel(frame: pd.DataFrame, sheet: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        worksheet = writer.sheets[sheet[:31]]
        for column in worksheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            worksheet.column_dimensions[column[0].column_letter].width = min(40, 4 + width * 1.6)
    return buffer.getvalue()


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8-sig")


def download_buttons(
    frame: pd.DataFrame, sheet: str, stem: str, key: str, columns: dict | None = None
) -> None:
    from wangtai.ui import tables

    table = _headers(frame, columns or {**tables.UNIT_COLUMNS, **tables.UNREGISTERED_COLUMNS})
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", f"{stem}_{clock.now():%Y%m%d}")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "⬇️ 导出 Excel",
        to_excel(table, sheet),
        file_name=f"{name}.xlsx",
        key=f"{key}_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
    )
    right.download_button(
        "⬇️ 导出 CSV",
        to_csv(table),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
