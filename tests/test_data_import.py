"""The 数据导入 page (issue 13): 管理员 only; an uploaded workbook is previewed with ingest's own checks and
nothing written, no raw personal value on the page; 确认导入 puts it into the inbox, ingest takes it like any
other file, and the page shows its manifest row; both steps audited. The logic in wangtai.ingest.upload."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from tests.conftest import copy_data
from tests.test_ingest import make_id
from wangtai.auth import audit, testing
from wangtai.auth.testing import session_token
from wangtai.ingest import ingest_all, upload
from wangtai.ingest.store import read_manifest
from wangtai.paths import DataPaths
from wangtai.runner import Runner

PAGE = "pages/data_import.py"
REG_HEAD = ["扫码编号", "扫码时间", "身份证号", "单位编码", "渠道", "场所"]
NAMES = ["欧阳娜娜", "司马光明"]


@pytest.fixture
def env(demo_paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    paths = copy_data(demo_paths, tmp_path / "data")
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(paths.root))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    monkeypatch.setenv("WANGTAI_REFRESH_SECONDS", "0")
    monkeypatch.setenv("WANGTAI_LIVE_INGEST", "0")  # the page's own ingest run takes the file
    return paths


def a_unit(paths: DataPaths) -> str:
    return pq.read_table(paths.warehouse / "reference" / "units.parquet").column("unit_id")[0].as_py()


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "登记表"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scans(paths: DataPaths) -> tuple[bytes, list[str]]:
    """A clerk's registrations workbook: a title row, Chinese headers, 6 scans of today, 2 of them bad."""
    unit = a_unit(paths)
    ids = [make_id(900 + i, born="19880808") for i in range(6)]
    wrong = ids[3][:17] + ("0" if ids[3][17] != "0" else "1")
    rows = [["王台街道扫码登记表"], REG_HEAD]
    for i, id_number in enumerate(ids):
        rows.append(
            [
                f"UP{i:04d}",
                datetime(2026, 11, 27, 9, i),
                wrong if i == 3 else id_number,
                "NOPE" if i == 5 else unit,
                "入户登记",
                "出租屋",
            ]
        )
    return workbook(rows), [*ids, wrong]


def rendered(at) -> str:
    """Everything the page shows as text: titles, metrics, messages, tables, options."""
    parts = [t.value for t in [*at.title, *at.subheader]]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for kind in (at.markdown, at.caption, at.success, at.warning, at.error, at.info):
        parts += [str(x.value) for x in kind]
    parts += [frame.value.to_string() for frame in at.dataframe]
    for box in at.selectbox:
        parts += [str(o) for o in box.options]
    return "\n".join(parts).replace("\\", "")  # Markdown escapes (id\\_number) taken out


def open_import(paths: DataPaths, role: str = "管理员"):
    communities = ("370211100001",) if role == "工作人员" else ()
    return testing.open_page(session_token(paths, role, communities=communities), PAGE)


def test_the_page_previews_confirms_and_shows_the_manifest_row(env: DataPaths) -> None:
    content, values = scans(env)
    before = Runner(env).run("overview", {}).iloc[0]["scans_today"]
    manifest_before = read_manifest(env).num_rows
    at = open_import(env)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("download_button")) == 4, "a template per feed"
    at.file_uploader[0].set_value(("入户登记.xlsx", content, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("upload_feed"))).value == (
        "registrations"
    ), "recognised from the headers"
    shown = {m.label: m.value for m in at.metric}
    assert (shown["共计行数"], shown["将入库"], shown["将隔离"], shown["重复"]) == ("6", "4", "2", "0")
    text = rendered(at)
    assert "第 6 行（身份证号（id_number）校验位错误" in text and "扫码编号→scan_id" in text
    assert "表头在第 2 行" in text
    for value in values:
        assert value not in text, "a raw id number on the page"
    assert values[0][:6] + "*" * 12 in text, "the id number is shown with the short mask (region only)"
    assert values[0][14:] + "\n" not in text and values[0][:6] + "********" + values[0][14:] not in text
    assert read_manifest(env).num_rows == manifest_before and not os.listdir(env.feed_inbox("registrations"))
    assert not list((env.state / "uploads").glob("*")), "the scratch copy is gone"

    confirm = next(b for b in at.button if b.label == "确认导入")
    confirm.click().run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    row = upload.landed(env, "registrations", "入户登记.xlsx", hashlib.sha256(content).hexdigest())
    assert row is not None and (row["accepted"], row["quarantined"]) == (4, 2)
    assert any("已入库记录" in s.value for s in at.success)
    outcome = at.dataframe[-1].value.iloc[0]
    assert outcome["文件"] == "入户登记.xlsx" and outcome["入库"] == 4 and outcome["隔离"] == 2
    assert read_manifest(env).num_rows == manifest_before + 1, "one manifest row"
    assert not os.listdir(env.feed_inbox("registrations")), "taken out of the inbox by ingest"
    after = Runner(env).run("overview", {}).iloc[0]["scans_today"]
    assert after == before + 4, "the figures move by the good rows"
    events = [e for e in audit.read(env) if e["event"] in ("upload_preview", "upload_confirmed")]
    assert [e["event"] for e in events] == ["upload_preview", "upload_confirmed"]
    assert all(e["role"] == "管理员" and "入户登记.xlsx" in e["what"] for e in events)
    assert not any(v in str(e) for e in events for v in values)


def test_residents_preview_masks_names_phones_and_ids(env: DataPaths) -> None:
    unit = a_unit(env)
    community = (
        pq.read_table(env.warehouse / "reference" / "units.parquet").column("community_code")[0].as_py()
    )
    head = [
        "身份证号",
        "姓名",
        "联系电话",
        "人口类型",
        "社区代码",
        "管理单位编码",
        "纬度",
        "经度",
        "居住状态",
        "更新时间",
    ]
    ids = [make_id(950 + i, born="19900303") for i in range(3)]
    rows = [head]
    for i, id_number in enumerate(ids):
        phone = f"1391234{i:04d}"
        rows.append([id_number, NAMES[i % 2], phone, "流动人口", community, unit, 36.07, 120.0, "在住",
                     "2026-11-20 08:00"])  # fmt: skip
    rows.append(
        ["12345", "司马光明", "13912340009", "流动人口", community, unit, 36.07, 120.0, "在住", "2026-11-20"]
    )
    at = open_import(env)
    at.file_uploader[0].set_value(("实有人口.xlsx", workbook(rows), "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    text = rendered(at)
    assert "暂挂" in text, "a far smaller snapshot than the current one would be held"
    for value in [*ids, *NAMES, *[f"1391234{i:04d}" for i in range(3)], "13912340009"]:
        assert value not in text, f"raw personal value {value} on the page"
    assert "欧阳**" in text and "139****0000" in text and "司马**" in text
    assert "12345" not in text and "（格式不符，不显示）" in text, "a damaged id number is not shown at all"
    assert not os.listdir(env.feed_inbox("residents"))


def test_a_word_document_is_refused_in_the_preview_and_cannot_be_confirmed(env: DataPaths) -> None:
    at = open_import(env)
    at.file_uploader[0].set_value(("说明.doc", b"\xd0\xcf\x11\xe0 word", "application/msword")).run()
    assert not at.exception
    assert "不支持 .doc 文件：请另存为 Excel（.xlsx）或 CSV" in rendered(at)
    assert next(b for b in at.button if b.label == "确认导入").disabled


@pytest.mark.parametrize("role", ["领导", "工作人员", "大屏"])
def test_only_the_administrator_opens_the_page(env: DataPaths, role: str) -> None:
    at = open_import(env, role)
    assert any("无权查看此页面" in e.value for e in at.error)
    assert not at.file_uploader and not at.get("download_button")
    links = [link.proto.page for link in at.sidebar.get("page_link")]
    assert not any("data_import" in link for link in links)


def test_the_administrator_has_the_page_in_the_navigation(env: DataPaths) -> None:
    at = open_import(env)
    links = [link.proto.page for link in at.sidebar.get("page_link")]
    assert any("data_import" in link for link in links)


# ---- wangtai.ingest.upload ----------------------------------------------------------------------------


def test_put_into_inbox_never_replaces_a_waiting_file_and_names_are_safe(env: DataPaths) -> None:
    first = upload.put_into_inbox(env, "registrations", b"a", "../../etc/登记.xlsx")
    second = upload.put_into_inbox(env, "registrations", b"b", "登记.xlsx")
    assert (first.name, second.name) == ("登记.xlsx", "登记_2.xlsx")
    assert first.read_bytes() == b"a" and second.read_bytes() == b"b"
    assert sorted(os.listdir(env.feed_inbox("registrations"))) == ["登记.xlsx", "登记_2.xlsx"], "no temp left"
    assert (
        upload.inbox_name("~$锁.xlsx") == "上传_锁.xlsx" and upload.inbox_name(".隐藏.csv") == "上传_隐藏.csv"
    )
    assert len(upload.inbox_name("长" * 200 + ".xlsx").encode()) <= upload.MAX_NAME_BYTES


def test_the_preview_is_what_ingest_then_records(env: DataPaths) -> None:
    content, _ = scans(env)
    found = upload.preview(env, "registrations", content, "扫码.xlsx")
    path = upload.put_into_inbox(env, "registrations", content, "扫码.xlsx")
    [result] = ingest_all(env)
    assert (result.rows_in, result.accepted, result.quarantined, result.duplicates, result.outcome) == (
        found.result.rows_in,
        found.result.accepted,
        found.result.quarantined,
        found.result.duplicates,
        found.result.outcome,
    )
    assert result.reason == found.result.reason
    again = upload.preview(env, "registrations", content, "扫码.xlsx")
    assert again.result.outcome == "duplicate_file" and not again.confirmable
    assert upload.landed(env, "registrations", path.name, found.sha256)["batch_id"] == result.batch_id


def test_the_preview_needs_the_reference_data(tmp_path: Path) -> None:
    from wangtai.ingest import IngestError

    paths = DataPaths(tmp_path).ensure()
    with pytest.raises(IngestError, match="参考数据"):
        upload.preview(paths, "registrations", b"x", "x.csv")
