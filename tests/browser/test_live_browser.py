"""Live, end to end: a real server ingesting by itself, a real browser on the overview and the data status.

A registration batch renamed into the inbox shows on the open overview within 5 s, by exactly its accepted
rows, without a page reload and without losing the scroll position; a broken file dropped while the pages
are open is shown on the open data-status page with its reason, and the pages keep working.
"""

import re
import time

import pytest

from wangtai import clock, e2e
from wangtai.ingest.store import read_manifest
from wangtai.paths import DataPaths
from wangtai.simulate import Simulator

LATENCY_LIMIT = 5.0


@pytest.fixture(scope="module")
def live_data(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path_factory.mktemp("live_data")).ensure()
    generate(paths, residents=6_000, seed=12)
    ingest_all(paths)
    return paths


@pytest.fixture(scope="module")
def live_url(live_data: DataPaths) -> str:
    env = {"WANGTAI_LIVE_INGEST": "1", "WANGTAI_REFRESH_SECONDS": "2", "WANGTAI_AUTH": "off"}
    with e2e.streamlit_server(live_data.root, env=env) as url:
        yield url


def metric_value(page, label: str) -> int:
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(re.sub(r"[^\d]", "", text))


def open_live(browser, url: str, title: str):
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    e2e.wait_ready(page, f'h1:has-text("{title}")')
    return page, errors


def test_a_renamed_batch_shows_on_the_open_overview_within_seconds(browser, live_data, live_url):
    page, errors = open_live(browser, live_url, "总览")
    page.wait_for_selector('[data-testid="stMetric"]:has-text("今日扫码")')
    assert page.locator("text=实时").count() > 0
    before = metric_value(page, "今日扫码")
    page.evaluate("window.__notReloaded = true")
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(300)
    scrolled = page.evaluate(
        "document.querySelector('[data-testid=\"stMain\"]')?.scrollTop || window.scrollY"
    )

    batch = Simulator(live_data, seed=21, bad_share=0.25).registration_batch(12, now=clock.now())
    renamed = time.monotonic()
    expected = before + batch.good
    shown = before
    while time.monotonic() - renamed < LATENCY_LIMIT + 5:
        shown = metric_value(page, "今日扫码")
        if shown != before:
            break
        page.wait_for_timeout(100)
    latency = time.monotonic() - renamed

    manifest = {r["file_name"]: r for r in read_manifest(live_data).to_pylist()}
    assert manifest[batch.path.name]["accepted"] == batch.good
    assert shown == expected, f"今日扫码 {before} → {shown}, expected +{batch.good}"
    assert latency < LATENCY_LIMIT, f"shown after {latency:.1f} s"
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    now_scrolled = page.evaluate(
        "document.querySelector('[data-testid=\"stMain\"]')?.scrollTop || window.scrollY"
    )
    assert now_scrolled == scrolled
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors
    page.close()


def test_a_bad_file_is_shown_on_the_open_data_status_page(browser, live_data, live_url):
    overview, overview_errors = open_live(browser, live_url, "总览")
    status, status_errors = open_live(browser, f"{live_url}/data_status", "数据状态")
    name = f"broken_{int(time.time())}.parquet"
    tmp = live_data.feed_inbox("registrations") / f".{name}.tmp"
    tmp.write_bytes(b"PAR1 this is not a parquet file")
    tmp.rename(tmp.with_name(name))

    alert = status.locator('[data-testid="stAlert"]', has_text=name).first
    alert.wait_for(timeout=15_000)  # the open page updates by itself: no reload
    refused = alert.inner_text()
    assert "被拒收" in refused
    assert status.locator('[data-testid="stException"]').count() == 0
    # the overview tab kept working meanwhile
    assert metric_value(overview, "今日扫码") >= 0
    assert overview.locator('[data-testid="stException"]').count() == 0
    assert not overview_errors and not status_errors
    overview.close()
    status.close()
