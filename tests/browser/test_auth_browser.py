"""Login, roles and the audit log in a real browser, on a freshly started server.

- a logged-out browser sees only the login form, on every page opened directly by its link;
- a real login through the form survives a reload; logout works and survives a reload too;
- every page opened directly passes the login and the role check (allowed: the page; not: a refusal);
- a staff user of community A who edits the link to community B sees nothing of B;
- the wall screen has no export button and no list;
- an export writes who, what, which filter and how many rows to the audit log, and the administrator
  sees it on the admin page;
- 管理员 and 大屏 logging in at / stay logged in after a reload, with one session in the store;
- tables offer no download of their own; an exported file's link stops answering after logout.
"""

import sqlite3
import time

import pytest

from wangtai import e2e
from wangtai.auth import audit
from wangtai.auth.store import UserStore
from wangtai.auth.testing import browser_cookie, make_user
from wangtai.paths import DataPaths
from wangtai.runner import Runner

TAIDONG = "370211100001"  # 台东路社区 (community A; one of several of 驻地片区)
WANGTAI_EAST = "370211100200"  # 王台东村 (community B)
LOGIN_FORM = 'h1:has-text("智慧王台 · 登录")'
PAGE_PATHS = {  # page file → (URL path, title)
    "dashboard.py": ("", "总览"),
    "pages/community_share.py": ("community_share", "社区占比"),
    "pages/density_map.py": ("density_map", "密度地图"),
    "pages/campaign.py": ("campaign", "登记进度"),
    "pages/data_status.py": ("data_status", "数据状态"),
    "pages/admin.py": ("admin", "用户与审计"),
}


@pytest.fixture(scope="module")
def fresh_url(browser_data: DataPaths, auth_dir):
    """A server started for this module only: nothing cached, no session seen yet."""
    with e2e.streamlit_server(browser_data.root, env={"WANGTAI_LIVE_INGEST": "0"}) as url:
        yield url


def session_page(raw_browser, url: str, token: str | None = None, width: int = 1600):
    context = raw_browser.new_context(viewport={"width": width, "height": 1000})
    if token:
        context.add_cookies([browser_cookie(token, url)])
    page = context.new_page()
    page.on("close", lambda _: context.close())
    return page


def token_for(paths: DataPaths, role: str, communities=()) -> tuple[str, str]:
    username, password = make_user(paths, role, communities=communities)
    return username, UserStore(paths).login(username, password).session_token


def goto(page, url: str, selector: str, timeout_ms: int = 60_000) -> None:
    page.goto(url)
    e2e.wait_ready(page, selector, timeout_ms=timeout_ms)


def log_in(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize("page_file", list(PAGE_PATHS))
def test_a_logged_out_browser_sees_only_the_login(raw_browser, fresh_url, page_file):
    path, title = PAGE_PATHS[page_file]
    page = session_page(raw_browser, fresh_url)
    goto(page, f"{fresh_url}/{path}?community={TAIDONG}", LOGIN_FORM)
    body = page.inner_text("body")
    assert "智慧王台 · 登录" in body
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stPageLink"]').count() == 0, "no navigation before login"
    assert f"{title} ·" not in body
    page.close()


def test_login_survives_a_reload_and_logout_works(raw_browser, fresh_url, browser_data):
    username, password = make_user(browser_data, "领导")
    page = session_page(raw_browser, fresh_url)
    goto(page, f"{fresh_url}/", LOGIN_FORM)
    log_in(page, username, password)
    e2e.wait_ready(page, 'h1:has-text("总览")')
    page.wait_for_function("document.cookie.includes('wangtai_session=')", timeout=10_000)

    page.reload()
    e2e.wait_ready(page, 'h1:has-text("总览")')  # a new Streamlit session, still logged in
    assert page.locator(LOGIN_FORM).count() == 0

    page.get_by_role("button", name="退出登录").click()
    e2e.wait_ready(page, LOGIN_FORM)
    page.reload()
    e2e.wait_ready(page, LOGIN_FORM)  # the old cookie, even if still sent, is revoked on the server
    assert "总览 ·" not in page.inner_text("body")
    events = [(e["event"], e["user"]) for e in audit.read(browser_data)]
    assert ("login", username) in events and ("logout", username) in events
    page.close()


def test_a_wrong_password_is_refused_and_audited(raw_browser, fresh_url, browser_data):
    username, _ = make_user(browser_data, "领导")
    page = session_page(raw_browser, fresh_url)
    goto(page, f"{fresh_url}/", LOGIN_FORM)
    log_in(page, username, "not-the-password")
    page.wait_for_selector('text="用户名或密码不正确。"', timeout=15_000)
    failures = [e for e in audit.read(browser_data) if e["event"] == "login_failed" and e["user"] == username]
    assert failures and "not-the-password" not in audit.audit_file(browser_data).read_text(encoding="utf-8")
    page.close()


ROLE_CASES = [  # role, communities, a page it may open, a page it may not
    ("领导", (), "pages/campaign.py", "pages/admin.py"),
    ("工作人员", (TAIDONG,), "pages/density_map.py", "pages/data_status.py"),
    ("大屏", (), "dashboard.py", "pages/campaign.py"),
    ("管理员", (), "pages/admin.py", "pages/community_share.py"),
]


@pytest.mark.parametrize(("role", "communities", "allowed", "refused"), ROLE_CASES)
def test_every_role_opens_its_pages_by_link_and_is_refused_the_others(
    raw_browser, fresh_url, browser_data, role, communities, allowed, refused
):
    _, token = token_for(browser_data, role, communities)
    page = session_page(raw_browser, fresh_url, token)
    path, title = PAGE_PATHS[allowed]
    goto(page, f"{fresh_url}/{path}", "h1")
    assert page.locator(LOGIN_FORM).count() == 0
    if role != "大屏":  # the wall screen lands on its own page, with its own header
        assert title in page.locator("h1").first.inner_text()
    path, title = PAGE_PATHS[refused]
    goto(page, f"{fresh_url}/{path}", '[data-testid="stAlert"]')
    assert "无权查看此页面" in page.inner_text("body")
    assert page.locator('[data-testid="stMetric"]').count() == 0
    page.close()


def test_staff_of_a_editing_the_link_to_b_sees_nothing_of_b(raw_browser, fresh_url, browser_data):
    _, token = token_for(browser_data, "工作人员", (TAIDONG,))
    page = session_page(raw_browser, fresh_url, token)
    for path in ("", "community_share", "campaign", "density_map"):
        goto(page, f"{fresh_url}/{path}?community={WANGTAI_EAST}", "h1")
        heading = page.locator("h1").first.inner_text()
        assert "王台东村" not in heading and ("台东路社区" in heading or "驻地片区" in heading), heading
        assert "王台东村" not in page.inner_text("body"), f"/{path}: B is visible"
        assert f"community={WANGTAI_EAST}" not in page.url
    goto(page, f"{fresh_url}/?community={WANGTAI_EAST}", '[data-testid="stMetric"]')
    shown = page.locator('[data-testid="stMetric"]').filter(has_text="新市民").first
    expected = Runner(browser_data).run("overview", {"community_code": TAIDONG}).iloc[0]
    assert f"{int(expected['newcomers']):,}" in shown.inner_text()
    page.close()


def test_the_wall_screen_has_no_export_and_no_list(raw_browser, fresh_url, browser_data):
    _, token = token_for(browser_data, "大屏")
    page = session_page(raw_browser, fresh_url, token, width=1920)
    goto(page, f"{fresh_url}/", "h1")
    page.wait_for_timeout(1000)
    assert page.locator('[data-testid="stDownloadButton"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stMetric"], [data-testid="stPlotlyChart"]').count() > 0, "aggregates"
    page.close()


def test_an_export_is_audited_and_the_administrator_sees_it(raw_browser, fresh_url, browser_data):
    staff, token = token_for(browser_data, "工作人员", (TAIDONG,))
    page = session_page(raw_browser, fresh_url, token)
    try:
        goto(page, f"{fresh_url}/campaign", '[data-testid="stDownloadButton"]', timeout_ms=120_000)
    except Exception:
        (e2e.REPO / "artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(e2e.REPO / "artifacts" / "export-failure.png"), full_page=True)
        raise
    with page.expect_download(timeout=30_000) as download:
        page.locator('[data-testid="stDownloadButton"]').filter(has_text="CSV").first.click()
    content = download.value.path().read_bytes().decode("utf-8-sig")
    rows = len(content.strip().splitlines()) - 1
    exports = [e for e in audit.read(browser_data) if e["event"] == "export" and e["user"] == staff]
    assert exports, "the export is not in the audit log"
    assert exports[-1]["rows"] == rows and exports[-1]["format"] == "csv"
    assert exports[-1]["filter"] and "page" in exports[-1]
    page.close()

    _, admin_token = token_for(browser_data, "管理员")
    admin = session_page(raw_browser, fresh_url, admin_token)
    goto(admin, f"{fresh_url}/admin", 'h1:has-text("用户与审计")')
    admin.get_by_role("tab", name="审计日志").click()
    admin.wait_for_selector("text=/其中导出 [1-9]/", timeout=15_000)
    admin.close()


def _sessions_of(paths: DataPaths, username: str) -> list[tuple[int, float]]:
    """(pending, expires_at) of every session the store holds for ``username``."""
    store = UserStore(paths)
    store.count()  # the schema is there
    with sqlite3.connect(store.file) as db:
        return db.execute(
            "select pending, expires_at from sessions where username = ? and revoked = 0", (username,)
        ).fetchall()


@pytest.mark.parametrize(
    ("role", "landing"),
    [("管理员", 'h1:has-text("数据状态")'), ("大屏", ".st-key-wt_screen h1")],
)
def test_roles_that_start_elsewhere_stay_logged_in_after_a_reload_with_one_session(
    raw_browser, fresh_url, browser_data, role, landing
):
    """管理员 and 大屏 log in at / and are switched to their own first page: the cookie must reach the
    browser all the same, and the login leaves exactly one session, no longer pending."""
    username, password = make_user(browser_data, role)
    page = session_page(raw_browser, fresh_url, width=1920)
    goto(page, f"{fresh_url}/", LOGIN_FORM)
    log_in(page, username, password)
    e2e.wait_ready(page, landing)
    page.wait_for_function("document.cookie.includes('wangtai_session=')", timeout=15_000)
    page.reload()
    e2e.wait_ready(page, landing)
    assert page.locator(LOGIN_FORM).count() == 0
    sessions = _sessions_of(browser_data, username)
    assert len(sessions) == 1, sessions
    pending, expires_at = sessions[0]
    assert pending == 0 and expires_at > time.time() + 3600, "the browser has it: its full life"
    page.close()


def test_person_lists_have_no_download_of_their_own(raw_browser, fresh_url, browser_data):
    """The door-to-door list (masked people) leaves the browser only through the audited export: its
    table has no "Download as CSV" in its toolbar (nor does any other table)."""
    _, token = token_for(browser_data, "工作人员", (TAIDONG,))
    page = session_page(raw_browser, fresh_url, token)
    goto(page, f"{fresh_url}/campaign", '[data-testid="stDownloadButton"]', timeout_ms=120_000)
    page.wait_for_selector('text="入户名单：某单位未登记的新市民（已脱敏）"')
    tables = page.locator('[data-testid="stDataFrame"]')
    assert tables.count() >= 2
    for index in range(tables.count()):
        table = tables.nth(index)
        table.scroll_into_view_if_needed()
        table.hover()
        toolbar = page.locator('[data-testid="stElementToolbar"]').filter(has=page.locator("button")).last
        # the toolbar is up (its words are Chinese: wangtai/ui/chinese.py)
        toolbar.locator('button[aria-label^="Search"], button[aria-label^="搜索"]').first.wait_for(
            timeout=10_000
        )
        download = 'button[aria-label^="Download as CSV"], button[aria-label^="下载 CSV"]'
        assert page.locator(download).count() == 0, f"table {index}"
    page.close()


def test_an_exported_file_is_gone_from_the_server_after_logout(raw_browser, fresh_url, browser_data):
    """The file's /media/ link needs no session: after logout it must not answer. (Updates paused, as in
    a meeting: no live tick runs Streamlit's own clean-up of unused files meanwhile.)"""
    _, token = token_for(browser_data, "工作人员", (TAIDONG,))
    page = session_page(raw_browser, fresh_url, token)
    goto(page, f"{fresh_url}/campaign?live=0", '[data-testid="stDownloadButton"]', timeout_ms=120_000)
    with page.expect_download(timeout=30_000) as download:
        page.locator('[data-testid="stDownloadButton"]').filter(has_text="CSV").first.click()
    url = download.value.url
    assert "/media/" in url, url
    stranger = raw_browser.new_context()  # no cookie, no session: what anyone with the link would get
    try:
        assert stranger.request.get(url).status == 200  # while the login lasts, the link answers
        page.get_by_role("button", name="退出登录").click()
        e2e.wait_ready(page, LOGIN_FORM)
        assert stranger.request.get(url).status == 404, "the export outlived the logout"
    finally:
        stranger.close()
        page.close()
