"""数据导入 in a real browser (issue 13): a 管理员 uploads a clerk's workbook on a freshly started server,
sees the preview, confirms, sees the manifest row, and 数据状态 shows the figure risen by the good rows."""

import io
import re
from datetime import datetime

import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from wangtai import clock, e2e
from wangtai.auth.testing import browser_cookie, session_token
from wangtai.idnumber import check_char
from wangtai.ingest.store import read_manifest
from wangtai.paths import DataPaths

REG_HEAD = ["扫码编号", "扫码时间", "身份证号", "单位编码", "渠道", "场所"]


@pytest.fixture(scope="module")
def import_data(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path_factory.mktemp("import_data")).ensure()
    generate(paths, residents=3_000, seed=13)
    ingest_all(paths)
    return paths


@pytest.fixture(scope="module")
def import_url(import_data: DataPaths, auth_dir):
    with e2e.streamlit_server(import_data.root, env={"WANGTAI_LIVE_INGEST": "1"}) as url:
        yield url


def clerk_workbook(paths: DataPaths) -> bytes:
    """A title row, Chinese headers, 5 scans of the last hour; the third has a wrong check character."""
    unit = pq.read_table(paths.warehouse / "reference" / "units.parquet").column("unit_id")[0].as_py()
    now = clock.now()
    book = Workbook()
    sheet = book.active
    sheet.title = "扫码登记"
    sheet.append(["王台街道一家亲扫码登记表（入户登记）"])
    sheet.append(REG_HEAD)
    for i in range(5):
        first17 = f"37021119870707{i + 500:03d}"
        id_number = first17 + check_char(first17)
        if i == 2:
            id_number = first17 + ("0" if id_number[17] != "0" else "1")
        sheet.append([f"BR{i:04d}", datetime(now.year, now.month, now.day, now.hour, i), id_number, unit,
                      "入户登记", "出租屋"])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def registrations_rows(page) -> int:
    metric = page.locator('[data-testid="stMetric"]', has_text="一家亲扫码登记").first
    return int(re.sub(r"[^\d]", "", metric.locator('[data-testid="stMetricValue"]').inner_text()))


def test_an_administrator_uploads_a_workbook_and_sees_the_figures_change(
    raw_browser, import_data: DataPaths, import_url: str
) -> None:
    token = session_token(import_data, "管理员")
    context = raw_browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_cookies([browser_cookie(token, import_url)])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{import_url}/data_status")
        e2e.wait_ready(page, '[data-testid="stMetric"]:has-text("一家亲扫码登记")', timeout_ms=60_000)
        before = registrations_rows(page)

        page.goto(f"{import_url}/data_import")
        e2e.wait_ready(page, 'h1:has-text("数据导入")', timeout_ms=60_000)
        assert page.locator('[data-testid="stDownloadButton"]').count() == 4, "a template per feed"
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            files=[
                {
                    "name": "入户登记表.xlsx",
                    "mimeType": "application/octet-stream",
                    "buffer": clerk_workbook(import_data),
                }
            ]
        )
        page.wait_for_selector('[data-testid="stMetric"]:has-text("将入库")', timeout=60_000)
        e2e.wait_ready(page)
        accepted = page.locator('[data-testid="stMetric"]', has_text="将入库").first
        assert accepted.locator('[data-testid="stMetricValue"]').inner_text() == "4"
        assert "第 5 行" in page.locator('[data-testid="stAlert"]').first.inner_text()
        assert not list(import_data.feed_inbox("registrations").iterdir()), "nothing written by the preview"

        page.get_by_role("button", name="确认导入").click()
        page.wait_for_selector("text=已入库记录", timeout=90_000)
        e2e.wait_ready(page)
        rows = {r["file_name"]: r for r in read_manifest(import_data).to_pylist()}
        assert rows["入户登记表.xlsx"]["accepted"] == 4 and rows["入户登记表.xlsx"]["quarantined"] == 1

        page.goto(f"{import_url}/data_status")
        e2e.wait_ready(page, '[data-testid="stMetric"]:has-text("一家亲扫码登记")', timeout_ms=60_000)
        deadline = 30
        while registrations_rows(page) == before and deadline:
            page.wait_for_timeout(1000)
            deadline -= 1
        assert registrations_rows(page) == before + 4, "数据状态 shows the four good rows"
        assert not errors, errors
    finally:
        context.close()
