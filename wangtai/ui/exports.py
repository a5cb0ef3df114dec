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
    frame: pd.DataFrame,
    sheet: str,
    stem: str,
    key: str,
    columns: dict | None = None,
    event: str = "export",
) -> None:
    """Excel and CSV buttons for ``frame`` — only for roles that may export. The file is built when the
    button is clicked, and that click writes the audit line (who, which list, which filter, how many rows)
    before the file leaves the server."""
    from wangtai.ui import login, tables

    principal = login.current()
    if principal is None:
        return
    if not (principal.role.admin if event == "audit_exported" else principal.role.exports):
        return  # e.g. the wall screen: no export buttons at all
    columns = columns or {**tables.UNIT_COLUMNS, **tables.UNREGISTERED_COLUMNS}
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", f"{stem}_{clock.now():%Y%m%d}")
    view = st.session_state.get(login.VIEW_KEY) or (None, None, None, None)
    audit = {"what": sheet, "name": stem, "page": view[0], "filter": view[3]}
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "⬇️ 导出 Excel",
        _audited(
            principal, event, len(frame), "xlsx", audit, lambda: to_excel(_headers(frame, columns), sheet)
        ),
        file_name=f"{name}.xlsx",
        key=f"{key}_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
    )
    right.download_button(
        "⬇️ 导出 CSV",
        _audited(principal, event, len(frame), "csv", audit, lambda: to_csv(_headers(frame, columns))),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )


def whole_list_buttons(fetch, total: int, sheet: str, stem: str, key: str, scope: tuple) -> None:
    """Excel and CSV buttons for a list the page shows only the first rows of. The whole list (``fetch()``,
    e.g. 150k people of a city unit: about a second to read) is read only after a click on 「准备导出」, in
    the page's script run where the access checks apply (a deferred download runs outside it), and kept
    ready while the same ``scope`` (list and filter) stays on screen."""
    from wangtai.ui import login

    if not login.may_export():
        return
    state = f"{key}_prepared"
    if st.session_state.get(state) != scope:
        if not st.button(f"准备导出全部 {total:,} 人", key=f"{key}_prepare", icon="📋"):
            return
        st.session_state[state] = scope
    with st.spinner("正在读取完整名单…"):
        frame = fetch()
    download_buttons(frame, sheet, stem, key)


def _audited(principal, event: str, rows: int, fmt: str, fields: dict, build):
    """A deferred download: runs on the click, audits it, then builds the file (headers and all: nothing
    of it is made on a mere rerun). The audit line is written (fsync'd) first: a file that cannot be
    recorded is not handed out."""
    from wangtai.auth import audit
    from wangtai.ui.data import data_paths

    paths = data_paths()

    def export() -> bytes:
        audit.record(paths, event, principal.username, principal.role.label, rows=rows, format=fmt, **fields)
        return build()

    return export
