"""Real-browser fixtures: one Streamlit server over a fresh demo data set, one headless Chromium."""

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


@pytest.fixture(scope="session")
def browser():
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
