"""Every page in a real browser: clean, offline, map drawn, Chinese glyphs, filter links and deep links."""

import io
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from wangtai import e2e
from wangtai.paths import DataPaths
from wangtai.runner import Runner

# (URL path, the page's title text)
PAGES = [
    ("", "总览"),
    ("community_share", "社区占比"),
    ("density_map", "密度地图"),
    ("campaign", "登记进度"),
    ("data_status", "数据状态"),
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}
TAIDONG = "370211100001"  # 台东路社区, the largest community


class Watch:
    """Everything a page asked the network for, and every error it logged."""

    def __init__(self, page):
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("request", self._request)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))

    def real_failures(self) -> list[str]:
        """Streamlit's frontend probes <page>/_stcore/health and host-config on a deep link, then falls back
        to the root: those two 404s are Streamlit's own, not the app's."""
        return [f for f in self.failed if not f.endswith(("/_stcore/health", "/_stcore/host-config"))]

    def real_errors(self) -> list[str]:
        probes = len(self.failed) - len(self.real_failures())
        resource_errors = [e for e in self.errors if e.startswith("Failed to load resource")]
        other = [e for e in self.errors if not e.startswith("Failed to load resource")]
        return other + resource_errors[probes:]

    def _request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme not in LOCAL_SCHEMES and url.hostname not in LOCAL_HOSTS:
            self.outside.append(request.url)


def open_page(browser, url: str, title: str, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    watch = Watch(page)
    page.goto(url)
    e2e.wait_ready(page, f'h1:has-text("{title}")')
    return page, watch


def assert_clean(page, watch: Watch) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "查询失败" not in body
    assert not watch.outside, f"requests left the machine: {watch.outside}"
    assert not watch.real_failures(), f"failed responses: {watch.failed}"
    assert not watch.real_errors(), f"browser console errors: {watch.errors}"


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_every_page_loads_clean_and_offline(browser, server_url, path, title):
    page, watch = open_page(browser, f"{server_url}/{path}", title)
    page.wait_for_timeout(1500)  # let charts and the map finish their own requests
    assert_clean(page, watch)
    page.close()


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_deep_link_with_community_keeps_the_filter(browser, server_url, path, title):
    page, watch = open_page(browser, f"{server_url}/{path}?community={TAIDONG}", title)
    assert "台东路社区" in page.locator("h1").first.inner_text()
    assert_clean(page, watch)
    page.close()


def _deck_canvas_pixels(page) -> Image.Image:
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for(state="visible")
    page.wait_for_timeout(2500)  # deck.gl draws asynchronously through SwiftShader
    return Image.open(io.BytesIO(chart.screenshot())).convert("RGB")


def test_density_map_is_drawn(browser, server_url):
    page, watch = open_page(browser, f"{server_url}/density_map", "密度地图")
    image = _deck_canvas_pixels(page)
    colours = image.getcolors(maxcolors=1_000_000)
    background_count = max(count for count, _ in colours)
    drawn_share = 1 - background_count / (image.width * image.height)
    assert drawn_share > 0.15, f"only {drawn_share:.1%} of the map is drawn"
    assert len(colours) > 50, "the map looks like a flat fill, not boundaries and cells"
    assert_clean(page, watch)
    page.close()


def test_chinese_text_is_rendered_with_a_cjk_font(browser, server_url):
    page, _ = open_page(browser, f"{server_url}/", "总览")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
    families = [font["familyName"] for font in fonts if font["glyphCount"] > 0]
    assert any("CJK" in family for family in families), f"title drawn with {families}"
    page.close()


def _select(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=label)
    box.locator("input").first.click()
    page.keyboard.type(option)  # the option list is virtualized: type to bring the option into view
    page.locator('[role="option"]').filter(has_text=option).first.click()


def _metric_value(page, label: str) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    text = metric.locator('[data-testid="stMetricValue"]').first.inner_text()
    return int(text.removesuffix(" 人").replace(",", ""))  # "6,000 人" (under 1 万: the exact count)


def test_filter_choice_is_a_link_that_reproduces_the_view(browser, server_url, browser_data: DataPaths):
    page, watch = open_page(browser, f"{server_url}/", "总览")
    _select(page, "社区", "台东路社区")
    page.wait_for_function(f"location.search.includes('community={TAIDONG}')", timeout=15_000)
    e2e.wait_ready(page, 'h1:has-text("台东路社区")')
    assert parse_qs(urlparse(page.url).query)["community"] == [TAIDONG]
    shared_link = page.url

    fresh, fresh_watch = open_page(browser, shared_link, "总览")
    assert "台东路社区" in fresh.locator("h1").first.inner_text()
    expected = Runner(browser_data).run("overview", {"community_code": TAIDONG}).iloc[0]
    assert _metric_value(fresh, "新市民") == int(expected["newcomers"])
    assert _metric_value(fresh, "实有人口") == int(expected["residents"])
    assert_clean(fresh, fresh_watch)
    assert_clean(page, watch)
    page.close()
    fresh.close()
