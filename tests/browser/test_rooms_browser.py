"""Readable in every room (issue 15), measured in a real browser at 1366 × 768 — the laptop:

- no English leftover of Streamlit's or ours on any page, its tooltips and its tables' menus included;
- every figure's 口径 (definition, source, data time) is reachable although the metrics' "?" is hidden;
- no table needs sideways scrolling: every table's scroll container is as wide as its content;
- the login page too.
"""

import re

import pytest

from wangtai import e2e
from wangtai.auth.testing import browser_cookie, session_token
from wangtai.ingest.reasons import COLUMN_LABELS
from wangtai.paths import DataPaths
from wangtai.ui import chinese

LAPTOP = {"width": 1366, "height": 768}
PAGES = [(path, title) for _, path, title in e2e.PAGES] + [("admin", "用户与审计")]
ATTRIBUTES = """() => [...document.querySelectorAll('[title],[aria-label],[placeholder]')]
  .filter(e => !e.closest('.js-plotly-plot'))
  .map(e => [e.getAttribute('title'), e.getAttribute('aria-label'), e.getAttribute('placeholder')]
  .filter(Boolean).join(' | '))"""
# every table's scroll container: glide's scroller for st.dataframe, any scrolling box inside st.table
OVERFLOW = """() => [...document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')]
  .filter(t => t.getBoundingClientRect().width > 0)
  .map(t => {
    const boxes = [t, ...t.querySelectorAll('*')].filter(e =>
      /(auto|scroll)/.test(getComputedStyle(e).overflowX) || e.classList.contains('dvn-scroller'));
    const worst = Math.max(0, ...boxes.map(e => e.scrollWidth - e.clientWidth));
    return {kind: t.dataset.testid, overflow: worst, width: Math.round(t.getBoundingClientRect().width),
            header: (t.innerText || '').slice(0, 40)};
  })"""


@pytest.fixture(scope="module")
def admin_token(browser_data: DataPaths, auth_dir) -> str:
    return session_token(browser_data, "管理员")


def laptop_page(raw_browser, url: str, token: str | None):
    context = raw_browser.new_context(viewport=LAPTOP, locale="zh-CN")
    if token:
        context.add_cookies([browser_cookie(token, url)])
    page = context.new_page()
    page.on("close", lambda _: context.close())
    return page


def open_laptop(raw_browser, server_url: str, path: str, title: str, leader: str, admin: str):
    page = laptop_page(raw_browser, server_url, admin if path == "admin" else leader)
    page.goto(f"{server_url}/{path}")
    e2e.wait_ready(page, f'h1:has-text("{title}")', timeout_ms=60_000)
    e2e.wait_painted(page)
    return page


def _english(text: str) -> list[str]:
    """The leftovers found in ``text`` (whole words), and contract column names not given in （…） after
    their Chinese name (a clerk reads 接收时间（received_at）, never a bare received_at)."""
    found = [w for w in chinese.LEFTOVERS if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", text)]
    for column in COLUMN_LABELS:
        for hit in re.finditer(rf"(?<![A-Za-z_]){column}(?![A-Za-z_])", text):
            if text[max(0, hit.start() - 1) : hit.start()] not in ("（", "、"):
                found.append(f"{column} (bare): …{text[max(0, hit.start() - 20) : hit.end() + 5]}…")
    return found


def _read(page) -> str:
    return page.inner_text("body") + "\n" + "\n".join(page.evaluate(ATTRIBUTES))


def _open_table_menus(page) -> str:
    """Hover the first visible table (its toolbar), open its first column's menu: their texts."""
    grid = page.locator('[data-testid="stDataFrame"]:visible').first
    if not grid.count():
        return ""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 16)  # the header: glide draws a menu button at its right
    page.wait_for_timeout(400)
    seen = _read(page)
    header = page.locator('[data-testid="stDataFrame"]:visible [role="columnheader"]').first
    width = header.bounding_box()["width"] if header.count() and header.bounding_box() else 75
    page.mouse.click(box["x"] + width - 10, box["y"] + 16)
    page.wait_for_timeout(500)
    seen += "\n" + _read(page)
    page.keyboard.press("Escape")
    return seen


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_no_english_leftovers_at_1366(raw_browser, server_url, leader_token, admin_token, path, title):
    page = open_laptop(raw_browser, server_url, path, title, leader_token, admin_token)
    seen = _read(page) + "\n" + _open_table_menus(page)
    assert page.locator('[data-testid="stMainMenu"]').count() == 0, "the ⋮ menu (System/Light/Dark/About)"
    assert not _english(seen), _english(seen)
    page.close()


def test_no_english_leftovers_on_the_big_screen_and_the_login(raw_browser, server_url, leader_token):
    page = laptop_page(raw_browser, server_url, leader_token)
    page.goto(f"{server_url}/screen?every=0")
    e2e.wait_ready(page, ".st-key-wt_screen h1", timeout_ms=60_000)
    e2e.wait_painted(page)
    controls = page.inner_text(".st-key-wt_screen_controls")
    assert "空格" in controls and "Space" not in controls
    assert not _english(_read(page)), _english(_read(page))
    page.close()
    login = laptop_page(raw_browser, server_url, None)
    login.goto(server_url)
    e2e.wait_ready(login, 'h1:has-text("登录")', timeout_ms=60_000)
    login.get_by_label("用户名").fill("x")  # the input's hint ("Press Enter …") appears while typing
    login.wait_for_timeout(400)
    assert not _english(_read(login)), _english(_read(login))
    login.close()


@pytest.mark.parametrize(("path", "title"), [("", "总览"), ("campaign", "登记进度")])
def test_every_figures_definition_is_reachable_at_1366(raw_browser, server_url, leader_token, path, title):
    page = open_laptop(raw_browser, server_url, path, title, leader_token, leader_token)
    help_icons = page.locator('[data-testid="stMetric"] [data-testid="stTooltipIcon"]')
    assert all(not icon.is_visible() for icon in help_icons.all()), "the premise: the '?' is hidden here"
    labels = [e.inner_text().strip() for e in page.locator('[data-testid="stMetricLabel"]').all()]
    labels = [label for label in labels if label]
    assert len(labels) >= 6
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="指标口径").first
    expander.locator("summary").click()
    table = expander.locator('[data-testid="stTable"]')
    table.wait_for(state="visible")
    rows = [r.inner_text() for r in table.locator("tbody tr").all()]
    for label in labels:
        row = next((r for r in rows if r.split("\t")[0].strip() == label), None)
        assert row, f"{label} has no 口径: {rows}"
        _, _, definition, source, when = [c.strip() for c in row.split("\t")]
        assert len(definition) > 4 and source != "—", row
        assert "年" in when or source.startswith("计划"), row  # the data time, with its year
    page.close()


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_no_table_needs_sideways_scrolling_at_1366(
    raw_browser, server_url, leader_token, admin_token, path, title
):
    page = open_laptop(raw_browser, server_url, path, title, leader_token, admin_token)
    measured = page.evaluate(OVERFLOW)
    for tab in page.locator('[role="tab"]').all():  # tables in tabs are measured when shown
        tab.click()
        page.wait_for_timeout(500)
        measured += page.evaluate(OVERFLOW)
    for expander in page.locator('[data-testid="stExpander"] summary').all():
        expander.click()
        page.wait_for_timeout(300)
    measured += page.evaluate(OVERFLOW)
    assert measured or path in ("",), f"{path}: no table measured"
    cut = [m for m in measured if m["overflow"] > 1]
    assert not cut, f"{path}: tables wider than their place at 1366: {cut}"
    page.close()


# ---- maps: names drawn, legend = fill ---------------------------------------------------------------------

SWATCHES = (
    """() => [...document.querySelectorAll('.wt-legend .sw')].map(e => getComputedStyle(e).backgroundColor)"""
)


def _map_pixels(page):
    import io

    from PIL import Image

    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for(state="visible")
    page.wait_for_timeout(
        3000
    )  # deck.gl draws (and builds its font atlas) asynchronously through SwiftShader
    return Image.open(io.BytesIO(chart.screenshot())).convert("RGB")


@pytest.mark.parametrize("mode", ["网格密度", "社区新市民占比"])
def test_maps_show_names_and_the_legends_colours(browser, server_url, mode):
    page = browser.new_page(viewport=LAPTOP)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{server_url}/density_map")
    e2e.wait_ready(page, 'h1:has-text("密度地图")', timeout_ms=60_000)
    if mode != "网格密度":
        page.locator('[data-testid="stButtonGroup"] button').filter(has_text=mode).click()
        e2e.wait_ready(page, 'h1:has-text("密度地图")')
    image = _map_pixels(page)
    counts = dict((colour, n) for n, colour in image.getcolors(maxcolors=1_000_000))
    swatches = [tuple(int(v) for v in re.findall(r"\d+", s)[:3]) for s in page.evaluate(SWATCHES)]
    assert swatches, "a legend"
    for swatch in swatches:  # the map has areas of exactly the swatch's colour
        assert counts.get(swatch, 0) > 30, f"{mode}: legend colour {swatch} is not a fill on the map"
    white = sum(n for colour, n in counts.items() if min(colour) >= 245)
    assert white > 150, f"{mode}: no community names drawn ({white} white pixels)"
    assert not [e for e in errors if "font" in e.lower() or "atlas" in e.lower()], errors
    page.close()


# ---- light theme per person, paper ---------------------------------------------------------------------

BACKGROUND = "getComputedStyle(document.querySelector('.stApp')).backgroundColor"
WHITE, DARK_BG = "rgb(255, 255, 255)", "rgb(11, 22, 34)"


def _rgb(text: str) -> str:
    return "#" + "".join(f"{int(v):02X}" for v in re.findall(r"\d+", text)[:3])


def _contrast(a: str, b: str) -> float:
    def lum(colour: str) -> float:
        cs = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        cs = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in cs]
        return 0.2126 * cs[0] + 0.7152 * cs[1] + 0.0722 * cs[2]

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _wait_background(page, colour: str) -> None:
    page.wait_for_function(f"{BACKGROUND} === '{colour}'", timeout=60_000)
    e2e.wait_ready(page, "h1", timeout_ms=60_000)


def test_light_theme_is_chosen_per_person_and_remembered(raw_browser, server_url, browser_data, auth_dir):
    token = session_token(browser_data, "领导")
    page = laptop_page(raw_browser, server_url, token)
    page.goto(server_url)
    e2e.wait_ready(page, 'h1:has-text("总览")', timeout_ms=60_000)
    _wait_background(page, DARK_BG)  # the default
    page.locator('[data-testid="stSidebar"]').get_by_text("亮色主题").click()
    _wait_background(page, WHITE)
    e2e.wait_painted(page)
    heading = _rgb(page.evaluate("getComputedStyle(document.querySelector('h1')).color"))
    assert _contrast(heading, "#FFFFFF") >= 4.5, heading
    bars = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot .bars path')].map(p => p.style.fill)"
    )
    assert "rgb(10, 99, 201)" in bars, f"light-theme bars: {set(bars)}"
    cookies = page.context.cookies()
    page.close()

    again = raw_browser.new_context(viewport=LAPTOP)  # the same user, later: light from the start
    again.add_cookies(cookies)
    later = again.new_page()
    later.goto(f"{server_url}/campaign")
    e2e.wait_ready(later, 'h1:has-text("登记进度")', timeout_ms=60_000)
    _wait_background(later, WHITE)
    again.close()

    other = laptop_page(raw_browser, server_url, leader_token_of(browser_data))  # another person: dark
    other.goto(f"{server_url}/campaign")
    e2e.wait_ready(other, 'h1:has-text("登记进度")', timeout_ms=60_000)
    _wait_background(other, DARK_BG)
    other.close()


def leader_token_of(paths) -> str:
    return session_token(paths, "领导")


def test_a_sortable_table_prints_dark_on_white_from_the_dark_theme(browser, server_url):
    """st.dataframe draws on a canvas in the theme's colours, which print CSS cannot restyle: printed from the
    dark theme it must still come out light (mean brightness of the table's pixels on paper)."""
    from io import BytesIO

    from PIL import Image, ImageStat

    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{server_url}/campaign")
    e2e.wait_ready(page, 'h1:has-text("登记进度")', timeout_ms=60_000)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)

    def brightness() -> float:
        shot = Image.open(BytesIO(grid.locator("canvas").first.screenshot())).convert("L")
        return ImageStat.Stat(shot).mean[0]

    assert brightness() < 110, "the screen is the dark theme"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    assert brightness() > 170, "the table is light on paper"
    page.close()


def test_a_printed_page_is_light_complete_and_a4_landscape(browser, server_url):
    page = browser.new_page(viewport=LAPTOP)
    page.goto(server_url)
    e2e.wait_ready(page, 'h1:has-text("总览")', timeout_ms=60_000)
    e2e.wait_painted(page)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what Ctrl+P does first
    page.emulate_media(media="print")
    assert not page.locator('[data-testid="stSidebar"]').first.is_visible(), "no sidebar on paper"
    assert page.evaluate(BACKGROUND) == WHITE
    heading = _rgb(page.evaluate("getComputedStyle(document.querySelector('h1')).color"))
    assert _contrast(heading, "#FFFFFF") >= 7, heading
    line = page.locator(".wt-print").first
    assert line.is_visible() and "筛选：王台街道" in line.inner_text() and "数据更新于" in line.inner_text()
    definitions = page.locator('[data-testid="stExpander"]').filter(has_text="指标口径").locator("table")
    assert definitions.is_visible(), "the 口径 are on paper"
    main = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stMain]')).overflow")
    assert main == "visible", "the whole page is printed, not the scrolled window"
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 841.89) < 2 and abs(float(h) - 595.28) < 2 for w, h in boxes), boxes
    page.close()
