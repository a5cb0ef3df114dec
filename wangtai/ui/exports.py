"""Downloads of a list for door-to-door work: Excel (openpyxl) and CSV (UTF-8 with BOM, opens in Excel).

These buttons are the only way a list leaves the browser: each click is audited before the file is made
(``client.disableDataExport`` removes the tables' own "Download as CSV" and copy). A made file lives in
Streamlit's in-memory media store under an unguessable ``/media/…`` URL that needs no session, so it must
not outlive the login that made it: it is deleted when that user logs out (or the session is found ended),
and in any case ``EXPORT_SECONDS`` after it was made — the browser fetches it at once; a second click
makes (and audits) it again. A click after the login ended makes nothing.
"""

import hashlib
import io
import logging
import re
import threading

import pandas as pd
import streamlit as st

from wangtai import clock
from wangtai.ui import format as fmt

log = logging.getLogger(__name__)
EXPORT_SECONDS = 120
_MADE: dict[str, set[str]] = {}  # login (its token's hash, or the browser session) → media file ids
_MADE_LOCK = threading.Lock()


def _headers(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The configured columns only, in their order, rounded as on screen (``tables.prepared``) and renamed
    to the Chinese headers shown there: a column without a header is not exported."""
    from wangtai.ui.tables import prepared

    names = {}
    for key, config in columns.items():
        if key not in frame or config is None:
            continue
        label = config.get("label") if isinstance(config, dict) else config
        names[key] = label or key
    return prepared(frame, columns)[list(names)].rename(columns=names)


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
    columns = columns or tables.EXPORT_COLUMNS
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", f"{stem}_{clock.now():%Y%m%d}")
    view = st.session_state.get(login.VIEW_KEY) or (None, None, None, None)
    audit = {"what": sheet, "name": stem, "page": view[0], "filter": view[3]}
    left, right, _ = st.columns([1, 1, 4])
    for column, kind, mime, build in (
        (left, "xlsx", XLSX, lambda: to_excel(_headers(frame, columns), sheet)),
        (right, "csv", "text/csv", lambda: to_csv(_headers(frame, columns))),
    ):
        file_name = f"{name}.{kind}"
        column.download_button(
            f"⬇️ 导出 {'Excel' if kind == 'xlsx' else 'CSV'}",
            _audited(principal, event, len(frame), kind, audit, build, (file_name, mime)),
            file_name=file_name,
            key=f"{key}_{kind}",
            mime=mime,
            on_click="ignore",
        )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        if not st.button(f"准备导出全部 {fmt.count(total)}", key=f"{key}_prepare", icon="📋"):
            return
        st.session_state[state] = scope
    with st.spinner("正在读取完整名单…"):
        frame = fetch()
    download_buttons(frame, sheet, stem, key)


def _audited(principal, event: str, rows: int, fmt: str, fields: dict, build, file: tuple[str, str]):
    """A deferred download: runs on the click (outside the script run), checks that the login that drew
    the button is still alive, audits the click, then builds the file (headers and all: nothing of it is
    made on a mere rerun). The audit line is written (fsync'd) first: a file that cannot be recorded is
    not handed out. The made file is registered to its login, to be deleted with it (``forget``)."""
    from wangtai.auth import audit
    from wangtai.ui import login
    from wangtai.ui.data import data_paths

    paths, store = data_paths(), login.store()  # taken here: the click runs outside the script run
    token = st.session_state.get(login.TOKEN_KEY) if principal.via == "password" else None
    owner = owner_key(token)

    def export() -> bytes:
        if token is not None and store.session(token, touch=False)[0] is None:
            raise PermissionError("the login that drew this export has ended")
        audit.record(paths, event, principal.username, principal.role.label, rows=rows, format=fmt, **fields)
        data = build()
        file_name, mime = file
        _register(owner, _media_id(data, mime, file_name))
        return data

    return export


def owner_key(token: str | None) -> str:
    """Whose exports: the login's token (hashed), or — without one (single sign-on, proxy) — this browser
    session's id."""
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id if ctx else ''}"


def _media_id(data: bytes, mime: str, file_name: str) -> str:
    """The id Streamlit's in-memory media store gives this file (it is derived from the content, the type
    and the name; Streamlit does not return it to the code that made the file)."""
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return _calculate_file_id(data, mime, file_name)


def _register(owner: str, file_id: str) -> None:
    with _MADE_LOCK:
        _MADE.setdefault(owner, set()).add(file_id)
    timer = threading.Timer(EXPORT_SECONDS, _drop, args=(owner, file_id))
    timer.daemon = True
    timer.start()


def forget(owner: str) -> None:
    """Delete every file ``owner``'s login exported (on logout, or when its session is found ended)."""
    with _MADE_LOCK:
        made = _MADE.pop(owner, set())
    for file_id in made:
        _drop(owner, file_id)


def _drop(owner: str, file_id: str) -> None:
    from streamlit import runtime

    with _MADE_LOCK:
        mine = _MADE.get(owner)
        if mine is not None:
            mine.discard(file_id)
            if not mine:
                del _MADE[owner]
    if not runtime.exists():
        return
    manager = runtime.get_instance().media_file_mgr
    # Streamlit has no public call to delete one media file; its manager's store does it under its lock.
    try:
        with manager._lock:
            manager._storage.delete_file(file_id)
            manager._file_metadata.pop(file_id, None)
    except AttributeError:  # a Streamlit whose media manager changed: the file goes with its session
        log.warning("could not delete export %s: Streamlit's media manager changed", file_id)
