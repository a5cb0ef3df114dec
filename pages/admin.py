"""用户与审计 — for administrators: users and their roles, the audit log (view, CSV export), held snapshots.

Every change made here is written to the audit log before it is reported done.
"""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from wangtai import clock
from wangtai.auth import audit
from wangtai.auth.roles import ROLES
from wangtai.auth.store import AuthError
from wangtai.ui import data, exports, login, tables
from wangtai.ui import format as fmt
from wangtai.ui.setup import setup

filters = setup("用户与审计", "🔐")

me = login.current()
paths = data.data_paths()
# widths that fit a 1366 px laptop (1002 px for the page): a long 详情 shows whole when its cell is opened
AUDIT_COLUMNS = {
    "ts": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm:ss", width=140),
    "event_label": st.column_config.TextColumn("事件", width=90),
    "user": st.column_config.TextColumn("用户", width=100),
    "role": st.column_config.TextColumn("角色", width=60),
    "ok": st.column_config.CheckboxColumn("成功", width=45),
    "page": st.column_config.TextColumn("页面", width=130),
    "filter": st.column_config.TextColumn("范围", width=130),
    "what": st.column_config.TextColumn("内容", width=80),
    "rows": st.column_config.NumberColumn("行数", format="localized", width=55),
    "detail": st.column_config.TextColumn("详情", width=150),
    "event": None,
}


# ---- users ------------------------------------------------------------------------------------------


USER_COLUMNS = {
    "username": ("用户名", tables.name),
    "display_name": ("姓名", tables.name),
    "role": ("角色", tables.name),
    "scope": ("负责范围", tables.name),
    "state": ("状态", fmt.text),
    "created_at": ("创建时间", fmt.stamp),  # epoch seconds → Asia/Shanghai
}


def users_section() -> None:
    store = login.store()
    users = store.users()
    table = pd.DataFrame(
        [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role.label,
                "scope": login.scope_label(u),
                "state": "已停用" if u.disabled else "正常",
                "created_at": u.created_at,
            }
            for u in users
        ],
        columns=list(USER_COLUMNS),
    )
    tables.static(table, USER_COLUMNS, height=min(420, 40 + 36 * max(1, len(table))))
    add, change = st.columns(2, gap="large")
    with add:
        add_user_form()
    with change:
        change_user_form([u.username for u in users])


def add_user_form() -> None:
    communities = data.run("communities")
    names = dict(
        zip(communities.get("community_code", []), communities.get("community_name", []), strict=False)
    )
    areas = sorted(communities["area"].dropna().unique()) if "area" in communities else []
    with st.form("add_user", clear_on_submit=True):
        st.markdown("**新增用户**")
        username = st.text_input("用户名")
        display = st.text_input("姓名（显示用）")
        role_key = st.selectbox("角色", list(ROLES), format_func=lambda k: ROLES[k].label)
        chosen = st.multiselect(
            "负责社区（仅工作人员）",
            list(names),
            format_func=lambda c: names.get(c, c),
            placeholder="选择社区",
        )
        chosen_areas = st.multiselect("负责片区（仅工作人员）", areas, placeholder="选择片区")
        password = st.text_input("初始密码（至少 8 位）", type="password")
        if st.form_submit_button("新增", type="primary"):
            try:
                user = login.store().add(username, password, role_key, display or None, chosen, chosen_areas)
            except (AuthError, ValueError) as error:
                st.error(str(error), icon="⚠️")
                return
            login.record(
                "user_added", target=user.username, detail=f"角色 {user.role.label}；{user.scope_text}"
            )
            st.success(f"已新增用户 {fmt.md(user.username)}（{user.role.label}）。", icon="✅")


def change_user_form(usernames: list[str]) -> None:
    with st.form("change_user", clear_on_submit=True):
        st.markdown("**停用 / 启用 / 重设密码**")
        username = st.selectbox("用户", usernames)
        action = st.radio("操作", ["停用", "启用", "重设密码"], horizontal=True)
        password = st.text_input("新密码（重设密码时填写）", type="password")
        if st.form_submit_button("执行"):
            store = login.store()
            try:
                if action == "停用":
                    if me and username == me.username:
                        raise AuthError("不能停用自己的账号。")
                    store.set_disabled(username, True)
                    login.record("user_disabled", target=username)
                elif action == "启用":
                    store.set_disabled(username, False)
                    login.record("user_enabled", target=username)
                else:
                    store.set_password(username, password)
                    login.record("password_changed", target=username)
            except (AuthError, ValueError) as error:
                st.error(str(error), icon="⚠️")
                return
            st.success(f"{fmt.md(username)}：已{action}。", icon="✅")


# ---- the audit log ----------------------------------------------------------------------------------


def audit_section() -> None:
    verdict = audit.check(paths)
    if not verdict.ok:
        st.error(f"{fmt.md(verdict.reason)}请立即核查（`wangtai audit --verify`）。", icon="🚨")
    today = datetime.now(
        clock.SHANGHAI
    ).date()  # the log's times are real times (not a frozen clock), in Shanghai
    left, middle, right = st.columns([2, 3, 2])
    span = left.date_input("日期", (today - timedelta(days=1), today), max_value=today)
    start, end = span if isinstance(span, tuple) and len(span) == 2 else (span, span)
    picked = middle.multiselect(
        "事件", list(audit.EVENTS), format_func=lambda e: audit.EVENTS[e], placeholder="全部事件"
    )
    who = right.text_input("用户名", placeholder="全部用户")
    log = audit.frame(
        paths,
        since=datetime.combine(start, time.min),
        until=datetime.combine(end, time.min) + timedelta(days=1),
        events=picked or None,
        user=who.strip().lower() or None,
    )
    exports_only = log[log["event"] == "export"]
    st.caption(
        f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}：{len(log)} 条记录，其中导出 {len(exports_only)} 次。"
        "日志只追加、不可修改，每行带前一行的校验值和服务器密钥的签名，末尾另有锚点。"
    )
    tables.show(log, AUDIT_COLUMNS, height=420)
    exports.download_buttons(
        log.drop(columns=["event"]),
        "审计日志",
        f"审计日志_{start:%Y%m%d}-{end:%Y%m%d}",
        "audit",
        AUDIT_COLUMNS,
        event="audit_exported",
    )


# ---- held snapshots ---------------------------------------------------------------------------------


def held_section() -> None:
    held = data.run("held_snapshots")
    if held.empty:
        st.success("没有待确认的快照。", icon="✅")
        return
    st.caption("核实无误后（例如确实有大批人员迁出）接受快照，它随即成为当前快照；每次接受都记入审计日志。")
    tables.static(held, tables.HELD_COLUMNS)
    batch = st.selectbox("要接受的快照", list(held["batch_id"]))
    if st.button("接受该快照", type="primary"):
        from wangtai.ingest import IngestError, accept_held

        try:
            accept_held(paths, batch, operator=me.username if me else "admin-page")
        except IngestError as error:
            st.error(str(error), icon="⚠️")
            return
        login.record("held_accepted", batch_id=batch)
        st.success(f"已接受快照 {fmt.md(batch)}，现为当前快照。", icon="✅")


users_tab, audit_tab, held_tab = st.tabs(["用户", "审计日志", "待确认快照"])
with users_tab:
    users_section()
with audit_tab:
    audit_section()
with held_tab:
    held_section()
