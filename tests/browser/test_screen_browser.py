"""The 大屏 in a real browser: the screen link fills 1366×768, 1920×1080 and 3840×2160 without chrome,
cut-off or overlap and without the internet; its figures are the query's; it rotates by itself and pauses
on Space and on a click. Screenshots go to artifacts/browser/screen_<w>x<h>.png."""

import contextlib
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from wangtai import e2e
from wangtai.paths import DataPaths
from wangtai.runner import Runner

SIZES = [(1366, 768), (1920, 1080), (3840, 2160)]
LOCAL = {"localhost", "127.0.0.1", "::1", "[::1]"}
SCREEN = ".st-key-wt_screen h1"
BOXES = {
    "metric": '.st-key-wt_screen [data-testid="stMetric"]',
    "chart": '.st-key-wt_screen [data-testid="stPlotlyChart"]',
    "map": '.st-key-wt_screen [data-testid="stDeckGlJsonChart"]',
    "controls": ".st-key-wt_screen_controls",
}


def _open(browser, url: str, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).hostname not in LOCAL
            and outside.append(r.url)
        ),
    )
    page.goto(url)
    e2e.wait_ready(page, SCREEN)
    e2e.wait_painted(page)
    return page, outside


def _boxes(page) -> list[tuple[str, dict]]:
    found = []
    for kind, selector in BOXES.items():
        for handle in page.locator(selector).all():
            box = handle.bounding_box()
            if box and box["width"] > 0:
                found.append((kind, box))
    return found


def _overlap(a: dict, b: dict) -> float:
    dx = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    dy = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, dx) * max(0.0, dy)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_screen_link_fills_the_screen_without_cut_off_or_internet(
    browser, server_url, browser_data: DataPaths, artifacts, width, height
):
    page, outside = _open(browser, f"{server_url}/?screen=1&every=0", width, height)
    page.screenshot(path=str(artifacts / f"screen_{width}x{height}.png"))
    for chrome in (
        '[data-testid="stSidebar"]',
        'header[data-testid="stHeader"]',
        '[data-testid="stToolbar"]',
    ):
        assert not page.locator(chrome).first.is_visible(), f"{chrome} is visible"
    assert page.locator('[data-testid="stException"]').count() == 0
    boxes = _boxes(page)
    assert {kind for kind, _ in boxes} == set(BOXES)
    for kind, box in boxes:  # everything inside the viewport
        assert box["x"] >= -1 and box["y"] >= -1, (kind, box)
        assert box["x"] + box["width"] <= width + 1 and box["y"] + box["height"] <= height + 1, (kind, box)
    for i, (kind_a, a) in enumerate(boxes):  # and nothing on top of anything else
        for kind_b, b in boxes[i + 1 :]:
            assert _overlap(a, b) < 4, f"{kind_a} overlaps {kind_b}: {a} {b}"
    expected = Runner(browser_data).run("overview", {}).iloc[0]
    newcomers = page.locator('[data-testid="stMetric"]').filter(has_text="新市民").first
    assert f"{int(expected['newcomers']):,}" in newcomers.inner_text()
    assert "数据更新于" in page.inner_text(".st-key-wt_screen")
    assert not outside, f"requests left the machine: {outside}"
    page.close()


def test_screen_rotates_by_itself_and_pauses_on_space_and_click(browser, server_url):
    page, outside = _open(browser, f"{server_url}/screen?views=overview,map&every=5", 1920, 1080)
    view = page.locator(".wt-view b")
    first = view.inner_text()
    assert first in ("总览", "密度地图")
    page.wait_for_function(f"document.querySelector('.wt-view b')?.innerText !== '{first}'", timeout=20_000)
    page.keyboard.press("Space")
    page.wait_for_function("document.body.innerText.includes('已暂停')", timeout=15_000)
    shown = view.inner_text()
    page.wait_for_timeout(7_000)
    assert view.inner_text() == shown, "a paused screen moved"
    page.locator(".wt-clock").click()  # a click on the picture resumes (and pauses) too
    page.wait_for_function("!document.body.innerText.includes('已暂停')", timeout=15_000)
    assert not outside
    page.close()


# ---- names made of markup stay text ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory, auth_dir):
    """A server over a data set whose every community, 片区 and unit name is markup
    (tests/hostile_data.py)."""
    import hostile_data

    from wangtai.demo import generate

    raw = DataPaths(tmp_path_factory.mktemp("hostile_raw"))
    generate(raw, residents=3_000, seed=5)
    paths = hostile_data.make(raw, tmp_path_factory.mktemp("hostile_data"))
    with e2e.streamlit_server(paths.root, env={"WANGTAI_LIVE_INGEST": "0"}) as url:
        yield url


NO_MARKUP_FROM_DATA = """() => ({
  links: document.querySelectorAll('a[href^="http://example.invalid"]').length,
  images: document.querySelectorAll('img[src="x"]').length,
  styles: [...document.querySelectorAll('style')]
    .filter(s => s.textContent.includes('*{display:none}')).length,
})"""


def _figures_visible(page) -> None:
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() >= 4
    for index in range(metrics.count()):
        box = metrics.nth(index).bounding_box()
        assert metrics.nth(index).is_visible() and box and box["width"] > 50 and box["height"] > 30
    assert any(ch.isdigit() for ch in metrics.first.inner_text()), "a figure is shown"


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/", '[data-testid="stMetric"]'),
        ("/screen?views=overview&every=0", SCREEN),
        ("/screen?views=communities&top=3&every=0", SCREEN),
    ],
)
def test_hostile_names_neither_hide_the_figures_nor_add_elements(browser, hostile_url, path, ready):
    import hostile_data

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{hostile_url}{path}")
    e2e.wait_ready(page, ready, timeout_ms=90_000)
    e2e.wait_painted(page)
    assert page.evaluate(NO_MARKUP_FROM_DATA) == {"links": 0, "images": 0, "styles": 0}
    _figures_visible(page)
    text = page.inner_text("body")
    assert any(name in text for name in hostile_data.HOSTILE), "the names are shown as text"
    deck = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    if deck.count():  # a community's tooltip: its markup is rendered, the name inside is text
        box = deck.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = page.locator(".deck-tooltip")
        tooltip.wait_for(state="visible", timeout=10_000)
        assert tooltip.locator("b").count() == 1 and "<b>" not in tooltip.inner_text()
        assert "实有人口" in tooltip.inner_text() or "网格" in tooltip.inner_text()
        assert page.evaluate(NO_MARKUP_FROM_DATA) == {"links": 0, "images": 0, "styles": 0}
    page.close()


# ---- text keeps its share of the screen ----------------------------------------------------------------

TEXT_SHARE = """() => {
  const H = innerHeight;
  const heights = sel => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect().height)
    .filter(x => x > 0).sort((a, b) => a - b);
  const median = a => a.length ? a[Math.floor(a.length / 2)] : null;
  const drawn = [...document.querySelectorAll('.st-key-wt_screen [data-testid="stPlotlyChart"]')].map(c => {
    const box = c.getBoundingClientRect(), plot = c.querySelector('.main-svg').getBoundingClientRect();
    return plot.width / box.width;
  });
  return {
    tick: median(heights('.st-key-wt_screen .xtick text, .st-key-wt_screen .ytick text')) / H,
    legend: median(heights('.st-key-wt_screen .legendtext')) / H,
    bar: median(heights('.st-key-wt_screen .bars .textpoint text, .st-key-wt_screen text.bartext')) / H,
    kpi: median(heights('.st-key-wt_screen [data-testid="stMetricValue"]')) / H,
    fill: Math.min(...drawn),
  };
}"""


def _text_share(browser, url: str, width: int, height: int) -> dict:
    page, outside = _open(browser, url, width, height)
    scale = round(min(width / 1920, height / 1080), 2)
    # a first visit tells the server its scale (a cookie) and reloads once to be drawn at it; a server that
    # does not scale its charts is measured as it draws them
    drawn = f"Math.abs(document.documentElement.dataset.wtDrawn - {scale}) < 0.02"
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(drawn, timeout=20_000)
    e2e.wait_ready(page, SCREEN)
    e2e.wait_painted(page)
    share = page.evaluate(TEXT_SHARE)
    page.screenshot(path=str(ARTIFACTS_SHARE / f"text_share_{width}x{height}.png"))
    assert not outside
    page.close()
    return share


ARTIFACTS_SHARE = e2e.REPO / "artifacts" / "browser"


@pytest.mark.parametrize("views", ["overview", "campaign"])
def test_chart_text_keeps_its_share_of_the_screen_at_every_size(browser, server_url, views):
    """Font size ÷ screen height of the charts' axis labels, legends and bar labels is the same (± 12 %) at
    1366 × 768, 1920 × 1080 and 3840 × 2160, as it is for the KPIs; and each chart fills its box."""
    ARTIFACTS_SHARE.mkdir(parents=True, exist_ok=True)
    url = f"{server_url}/screen?views={views}&every=0"
    shares = {size: _text_share(browser, url, *size) for size in SIZES}
    design = shares[(1920, 1080)]
    for size, share in shares.items():
        for kind in ("tick", "legend", "bar", "kpi"):
            if design[kind] is None:
                continue
            ratio = share[kind] / design[kind]
            assert 0.88 <= ratio <= 1.12, f"{views} {size}: {kind} text is {ratio:.2f}× its 1920 share"
        assert share["fill"] > 0.9, f"{views} {size}: a chart fills {share['fill']:.0%} of its box"
