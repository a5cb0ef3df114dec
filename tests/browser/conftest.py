"""Real-browser fixtures: one Streamlit server over a fresh demo data set, one headless Chromium.

Every server started by these tests shares one user store (``WANGTAI_AUTH_DIR``), and ``browser`` opens
its pages with the session cookie of a real 领导 (leadership) user, so page tests pass the real login gate.
``raw_browser`` is the same Chromium without any session: for the login and role tests.
"""

import os
from pathlib import Path

import pytest

from wangtai import e2e
from wangtai.paths import DataPaths

ARTIFACTS = e2e.REPO / "artifacts" / "browser"
BROWSER_RESIDENTS = 6_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_data(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path_factory.mktemp("browser_data")).ensure()
    generate(paths, residents=BROWSER_RESIDENTS, seed=11)
    ingest_all(paths)
    return paths


@pytest.fixture(scope="session")
def server_url(browser_data: DataPaths) -> str:
    with e2e.streamlit_server(browser_data.root) as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def auth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user store for every test server of this session (set before any server starts)."""
    folder = tmp_path_factory.mktemp("auth")
    os.environ["WANGTAI_AUTH_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def leader_token(auth_dir: Path, browser_data: DataPaths) -> str:
    from wangtai.auth.testing import session_token

    return session_token(browser_data, "领导")


class LoggedIn:
    """A browser whose new pages and contexts carry a session cookie (a real session of a real user)."""

    def __init__(self, browser, token: str):
        self._browser, self._token = browser, token

    def new_context(self, **options):
        from wangtai.auth.testing import browser_cookie

        context = self._browser.new_context(**options)
        context.add_cookies([browser_cookie(self._token, "http://localhost")])
        return context

    def new_page(self, **options):
        context = self.new_context(**options)
        page = context.new_page()
        page.on("close", lambda _: context.close())
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser(raw_browser, leader_token: str) -> LoggedIn:
    return LoggedIn(raw_browser, leader_token)


@pytest.fixture(scope="session")
def raw_browser():
    if not e2e.chromium_available():
        message = (
            "没有找到 chromium，跳过浏览器测试。安装: apt-get install -y chromium fonts-noto-cjk "
            "fonts-noto-color-emoji (do not run `playwright install`)"
        )
        if os.environ.get("WANGTAI_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = e2e.launch_browser(playwright)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
