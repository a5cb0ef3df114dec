"""The login gate, run by the shared setup before anything else on every page (deep links included).

- **Who**: ``WANGTAI_AUTH`` (see ``wangtai.auth``) — local passwords (default), single sign-on through
  ``st.login``, a trusted proxy header, or ``off`` for local development only.
- **Staying logged in across a reload**: a Streamlit session ends with the page, so a successful login
  opens a server-side session (``wangtai.auth.store``) and gives its random token to the browser as the
  cookie ``wangtai_session`` (SameSite=Strict, path /, Secure on https). A reloaded page sends it with
  its first request; the server reads it from ``st.context.cookies``. The store keeps only the token's
  hash; logout, disabling the user or a new password revoke it; the idle limit and the absolute limit
  end it (a wall screen has no idle limit).
- **The cookie reaches the browser before anything else happens**: the script that sets it is drawn on
  the page that stays — never in a run that switches to the role's start page (``st.switch_page`` would
  drop it before the browser ran it) — and reloads the page once it is set. The reloaded page presents
  the cookie, which turns the store's *pending* session (10 minutes) into a full one; a session whose
  cookie never arrived expires by itself instead of staying behind for a year.
- **What**: the role decides the pages (refused with a Chinese message; the navigation shows only the
  allowed ones) and the query layer enforces the community scope on every query.
- **Traceable**: logins, failures, logouts, page views with their filter, refusals go to the audit log.
"""

import time
from dataclasses import dataclass

import streamlit as st

from wangtai import auth, settings
from wangtai.auth import audit
from wangtai.auth.roles import LEADER, OVERVIEW_PAGE, Role
from wangtai.auth.store import User, UserStore
from wangtai.paths import DataPaths
from wangtai.ui import format as fmt

COOKIE = "wangtai_session"
TOKEN_KEY = "wangtai_auth_token"
PRINCIPAL_KEY = "wangtai_principal"
CHECKED_KEY = "wangtai_auth_checked"
VIEW_KEY = "wangtai_auth_last_view"
COOKIE_SET_KEY = "wangtai_auth_cookie_set"
COOKIE_DUE_KEY = "wangtai_auth_cookie_due"  # (token, expiry): to hand to the browser on a page that stays
RECHECK_SECONDS = 60  # a session checked more than this long ago is checked again before a query
FAIL_DELAY = 1.0  # seconds added to every failed login, on top of the store's growing wait


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # password, oidc, header, off

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def username(self) -> str:
        return self.user.username


def _paths() -> DataPaths:
    from wangtai.ui import data

    return data.data_paths()


@st.cache_resource(show_spinner=False)
def _store(root: str) -> UserStore:
    return UserStore(DataPaths(__import__("pathlib").Path(root)))


def store() -> UserStore:
    return _store(str(_paths().root))


def record(event: str, principal: "Principal | None" = None, **fields) -> None:
    """An audit event by the current user (or by ``principal``)."""
    who = principal or current()
    audit.record(
        _paths(),
        event,
        who.username if who else fields.pop("user", None),
        who.role.label if who else None,
        **fields,
    )


def current() -> Principal | None:
    """Who this session belongs to, as the gate last established it (None: nobody)."""
    principal = st.session_state.get(PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else None


def may_export() -> bool:
    """May the current user download files (lists, snapshots)? Not the wall screen, not nobody."""
    principal = current()
    return principal is not None and principal.role.exports


def require() -> Principal | None:
    """For the query layer: the principal, re-checked against the store at most every minute, without
    counting as activity. A session that ended meanwhile (idle, revoked) reruns the app into the login."""
    principal = current()
    if principal is None or principal.via != "password":
        return principal
    if time.monotonic() - st.session_state.get(CHECKED_KEY, 0) < RECHECK_SECONDS:
        return principal
    token = st.session_state.get(TOKEN_KEY)
    session, _ = store().session(token, touch=False)
    if session is None:
        _ended(token)
        st.session_state.pop(PRINCIPAL_KEY, None)
        st.rerun()
    st.session_state[CHECKED_KEY] = time.monotonic()
    return principal


# ---- the gate -----------------------------------------------------------------------------------------


def gate(page: str, pages: tuple[tuple[str, str, str], ...]) -> Principal:
    """Log the user in (or stop on the login form), then check ``page`` against the role."""
    mode = auth.mode()
    if mode == "off":
        principal = Principal(User("dev", "开发模式（未登录）", LEADER), "off")
        st.error("**未启用登录（WANGTAI_AUTH=off）**：仅供本机开发，切勿用于真实数据。", icon="🚨")
    elif mode == "header":
        principal = _from_header()
    elif mode == "oidc":
        principal = _from_oidc()
    else:
        principal = _from_password()
    st.session_state[PRINCIPAL_KEY] = principal
    st.session_state[CHECKED_KEY] = time.monotonic()
    registered = tuple(p for p, _, _ in pages)
    if not principal.role.may_open(page, registered):
        allowed = principal.role.allowed_pages(registered)
        if page == OVERVIEW_PAGE and allowed:  # the start page of another role: go to this role's start
            st.switch_page(allowed[0], query_params=st.query_params.to_dict())  # the cookie is set there
        _hand_over_cookie()
        record("page_denied", principal, ok=False, page=page)
        st.error(f"您的角色「{principal.role.label}」无权查看此页面。", icon="⛔")
        for path, label, icon in pages:
            if path in allowed:
                st.page_link(path, label=label, icon=icon)
        st.stop()
    _hand_over_cookie()
    return principal


def _from_password() -> Principal:
    token = st.session_state.get(TOKEN_KEY) or _cookie()
    # the browser sent this token in its cookie: the session reached its browser (no longer pending)
    session, why = store().session(token, from_cookie=token is not None and token == _cookie())
    if session is None:
        _ended(token)
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state.pop(PRINCIPAL_KEY, None)
        st.session_state.pop(COOKIE_DUE_KEY, None)
        if why in ("idle", "expired") and st.session_state.get("wangtai_auth_expired_seen") != token:
            st.session_state["wangtai_auth_expired_seen"] = token
            audit.record(_paths(), "session_expired", None, reason=why)
        login_page(why)
    st.session_state[TOKEN_KEY] = token
    if _cookie() != token and st.session_state.get(COOKIE_SET_KEY) != token:
        st.session_state[COOKIE_DUE_KEY] = (token, session.full_expires_at)
    return Principal(session.user, "password")


def _hand_over_cookie() -> None:
    """Give the browser its session cookie, on a page that stays (the gate calls this after deciding not
    to switch pages): the script sets the cookie and reloads the page, whose new connection presents it."""
    due = st.session_state.pop(COOKIE_DUE_KEY, None)
    if due is None:
        return
    token, expires_at = due
    _cookie_script(f"{COOKIE}={token}; max-age={int(max(0, expires_at - time.time()))}", reload=True)
    st.session_state[COOKIE_SET_KEY] = token


def _from_header() -> Principal:
    name = (_header(auth.trusted_header()) or "").strip()
    user = store().get(name) if name else None
    if user is None or user.disabled:
        if name and st.session_state.get("wangtai_auth_header_refused") != name:
            st.session_state["wangtai_auth_header_refused"] = name
            audit.record(_paths(), "login_failed", name, ok=False, via="header", reason="not_a_user")
        st.error("您的账号没有本看板的权限，请联系管理员开通。", icon="⛔")
        st.stop()
    return _once(Principal(user, "header"))


def _from_oidc() -> Principal:
    if not st.user.is_logged_in:
        st.title("智慧王台 · 登录")
        st.button("使用单位统一身份认证登录", type="primary", on_click=st.login)
        st.stop()
    name = str(st.user.get("email") or st.user.get("preferred_username") or st.user.get("sub") or "")
    user = store().get(name) if name else None
    if user is None or user.disabled:
        audit.record(_paths(), "login_failed", name or None, ok=False, via="oidc", reason="not_a_user")
        st.error("统一身份认证已通过，但您的账号没有本看板的权限，请联系管理员开通。", icon="⛔")
        st.button("退出", on_click=st.logout)
        st.stop()
    return _once(Principal(user, "oidc"))


def _once(principal: Principal) -> Principal:
    """Single sign-on and proxy logins: one audit line per browser session."""
    if st.session_state.get("wangtai_auth_logged") != principal.username:
        st.session_state["wangtai_auth_logged"] = principal.username
        record("login", principal, via=principal.via)
    return principal


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser request (e.g. a bare script run)
        return None
    return value if isinstance(value, str) and value else None


def _header(name: str) -> str | None:
    """A header of the browser's request to this server (case-insensitive), as the proxy set it."""
    try:
        value = st.context.headers.get(name)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _clear_cookie() -> None:
    _cookie_script(f"{COOKIE}=; max-age=0")


def _cookie_script(value: str, reload: bool = False) -> None:
    """Set (or clear) the cookie; ``reload``: then load the page again, which presents the new cookie —
    once per token (a browser that refuses the cookie is not reloaded again and again)."""
    # the token is URL-safe base64: nothing in it can break out of the string
    again = (
        "if (document.cookie.indexOf(v.split(';')[0]) >= 0 && sessionStorage.getItem('wt_reloaded') !== v) {"
        " sessionStorage.setItem('wt_reloaded', v); location.reload(); }"
        if reload
        else ""
    )
    st.html(
        f"<script>(function(){{ const v = '{value}';"
        " document.cookie = v + '; path=/; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');"
        f" {again} }})();</script>",
        unsafe_allow_javascript=True,
        width=1,
    )


# ---- the login form -----------------------------------------------------------------------------------

EXPIRED = {
    "idle": "长时间未操作，已自动退出。请重新登录。",
    "expired": "登录已到期，请重新登录。",
    "revoked": "您已退出登录（或账号密码已被修改）。",
    "disabled": "该账号已停用，请联系管理员。",
}


def login_page(why: str = "none") -> None:
    """The login form; stops the script (the page behind it never runs)."""
    if _cookie():
        _clear_cookie()
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        st.title("🔐 智慧王台 · 登录")
        st.caption("王台街道新市民工作大数据看板。含个人信息，仅限授权人员按职责使用，所有访问均有记录。")
        if why in EXPIRED:
            st.info(EXPIRED[why], icon="ℹ️")
        _no_users_hint()
        with st.form("wangtai_login", clear_on_submit=True, border=True):
            username = st.text_input("用户名", autocomplete="username")
            password = st.text_input("密码", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("登录", type="primary", width="stretch")
        if submitted:
            _try_login(username, password)
    st.stop()


def _try_login(username: str, password: str) -> None:
    if not username or not password:
        st.error("请输入用户名和密码。", icon="⚠️")
        return
    result = store().login(username, password)
    if not result.ok:
        audit.record(
            _paths(),
            "login_failed",
            username.strip().lower()[:64],
            ok=False,
            via="password",
            **result.details,
        )
        time.sleep(FAIL_DELAY)
        st.error(result.message, icon="⛔")
        return
    st.session_state[TOKEN_KEY] = result.session_token
    principal = Principal(result.user, "password")
    record("login", principal, via="password")
    st.rerun()


def _no_users_hint() -> None:
    if store().count():
        return
    from wangtai.auth.demo import accounts_file, ensure_demo_accounts
    from wangtai.ui import bootstrap

    paths = _paths()
    demo = bootstrap.reference_says_demo(paths) or (
        not bootstrap.has_reference(paths) and bootstrap.auto_demo_enabled()
    )
    if demo and settings.get("demo_accounts"):
        ensure_demo_accounts(paths)  # printed on the server's console, never shown in the browser
    if accounts_file(paths).exists():
        st.info(
            "演示数据：每个角色各有一个演示账号，密码见服务器首次启动时的控制台输出"
            "（及数据目录下 state/auth/demo-accounts.txt）。",
            icon="🧪",
        )
        return
    st.warning(
        "还没有任何账号。请管理员在服务器上创建：\n\n"
        "```bash\nwangtai user add 用户名 --role 管理员\n```\n\n"
        "演示数据首次启动（`wangtai prepare`）会自动创建每个角色各一个演示账号，并在控制台打印密码。",
        icon="👤",
    )


# ---- after login: who am I, logout, page views -----------------------------------------------------------


def user_box(principal: Principal) -> None:
    """In the sidebar: the user, the role and its scope, the logout button."""
    user = principal.user
    st.markdown(
        f'<div class="wt-sub">👤 {fmt.html(user.display_name)} · {fmt.html(user.role.label)}</div>',
        unsafe_allow_html=True,
    )
    if not user.role.all_communities:
        st.caption(f"负责范围：{fmt.md(scope_label(user))}")
    if principal.via == "password":
        st.button("退出登录", key="wangtai_logout", on_click=logout, icon="🚪")
    elif principal.via == "oidc":
        st.button("退出登录", key="wangtai_logout", on_click=st.logout, icon="🚪")


def scope_label(user: User) -> str:
    """A user's scope by name — "片区 东片、台东路社区" — not by community code (names from the
    communities the current user may see; a code stays a code only when no data names it)."""
    if user.role.all_communities:
        return "全部社区"
    names = _community_names()
    parts = [f"片区 {area}" for area in user.areas] + [names.get(c, c) for c in user.communities]
    return "、".join(parts) or "（未分配，看不到任何社区）"


def _community_names() -> dict[str, str]:
    from wangtai.ui import bootstrap, data

    if not bootstrap.has_warehouse(_paths()):
        return {}
    communities = data.run("communities")
    if communities.empty or "community_name" not in communities:
        return {}
    return dict(zip(communities["community_code"], communities["community_name"], strict=False))


def logout() -> None:
    principal = current()
    token = st.session_state.pop(TOKEN_KEY, None)
    store().logout(token)
    _ended(token)
    if principal is not None:
        record("logout", principal)
    for key in (PRINCIPAL_KEY, COOKIE_SET_KEY, COOKIE_DUE_KEY, VIEW_KEY):
        st.session_state.pop(key, None)


def _ended(token: str | None) -> None:
    """A login ended (logout, expiry, revocation): the files it exported are deleted from the server."""
    from wangtai.ui import exports

    if token:
        exports.forget(exports.owner_key(token))


def page_view(page: str, area: str | None, community: str | None, label: str) -> None:
    """One audit line when the page or its filter changes (not on every rerun)."""
    principal = current()
    view = (page, area, community, filter_text(area, community, label))
    if principal is None or st.session_state.get(VIEW_KEY) == view:
        return
    st.session_state[VIEW_KEY] = view
    record("page_view", principal, page=page, filter=view[3])


def filter_text(area: str | None, community: str | None, label: str) -> str:
    if community:
        return f"社区 {label}（{community}）"
    if area:
        return f"片区 {area}"
    return "全街道"
