"""Real feeds through the real ingest (issue 13): a corpus of the Excel and CSV files departments and clerks
send, built here, put into the inbox and ingested by ``ingest_all``. Every file is accounted for in the
manifest (received = accepted + quarantined + duplicate), the figures move by exactly the good rows, and
every reason is Chinese, names rows as Excel shows them and quotes no personal value."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

import wangtai.ingest.core as core
from tests.test_ingest import NOW, drop, make_id, manifest, registrations, residents, write_reference
from tests.test_readers import csv_file, xlsx
from wangtai.ingest import faults, ingest_all, limits
from wangtai.ingest.readers.examples import EXAMPLE_ID
from wangtai.paths import DataPaths
from wangtai.runner import Runner

REG_HEAD = ["扫码编号", "扫码时间", "身份证号", "单位编码", "渠道", "场所"]
SRC_HEAD = ["记录编号", "来源部门", "公民身份号码", "接收时间", "事项"]
RES_HEAD = ["身份证号", "姓名", "联系电话", "人口类型", "社区代码", "管理单位编码", "房屋编号", "纬度",
            "经度", "来源原因", "来到本地日期", "居住状态", "更新时间"]  # fmt: skip
NAMES = ["欧阳娜娜", "司马光明", "诸葛小花"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    data = DataPaths(tmp_path / "data")
    write_reference(data)
    return data


def reg(i: int, **changes) -> list:
    row = {
        "scan_id": f"XL{i:05d}",
        "scanned_at": datetime(2026, 11, 27, 9, 15),
        "id_number": make_id(500 + i),
        "unit_id": "U-001",
        "channel": "入户登记",
        "site": "出租屋",
    }
    row.update(changes)
    return list(row.values())


def src(i: int, **changes) -> list:
    row = {
        "record_id": f"CSV{i:05d}",
        "source": "公安",
        "id_number": make_id(700 + i),
        "received_at": "2026/11/20 8:30",
        "detail": "暂住登记",
    }
    row.update(changes)
    return list(row.values())


def res(i: int, **changes) -> list:
    row = {
        "id_number": make_id(i, born="19850101"),
        "name": NAMES[i % 3] + str(i % 10),
        "phone": f"+86 138 {i:04d} {i:04d}",
        "population_type": "流动人口" if i % 2 else "户籍人口",
        "community_code": "370211100001",
        "unit_id": "U-001",
        "house_id": f"H{i:04d}",
        "lat": 36.07,
        "lon": 120.0,
        "reason": "务工" if i % 2 else None,
        "arrival_date": "2025年3月15日" if i % 2 else None,
        "status": "在住",
        "updated_at": "2026-11-20 08:30",
    }
    row.update(changes)
    return list(row.values())


def figures(paths: DataPaths) -> dict:
    row = Runner(paths).run("overview", {}).iloc[0]
    return {"residents": int(row["residents"]), "scans_today": int(row["scans_today"])}


def put(paths: DataPaths, feed: str, name: str, build) -> Path:
    """A file into the inbox as a source system does: written under a hidden name, renamed into place."""
    folder = paths.feed_inbox(feed)
    folder.mkdir(parents=True, exist_ok=True)
    hidden = folder / f".{name}.tmp"
    built = build(hidden)
    if isinstance(built, bytes):
        hidden.write_bytes(built)
    os.replace(hidden, folder / name)
    return folder / name


def a_zip(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("登记表.csv", "扫码编号\n1\n")
    return buffer.getvalue()


def private(text: str, values: list[str]) -> None:
    """No id number, name or phone of the corpus (nor any long digit run) in a reason."""
    for value in values:
        assert value not in text, f"personal value in: {text}"
    assert not re.search(r"\d{11,}", text), text


def corpus_values() -> list[str]:
    ids = [make_id(500 + i) for i in range(20)] + [make_id(700 + i) for i in range(10)]
    ids += [make_id(i, born="19850101") for i in range(60)]
    return ids + NAMES + [f"138{i:04d}{i:04d}" for i in range(60)]


# ---- the corpus through the real ingest ------------------------------------------------------------------


def test_a_corpus_of_real_feeds_is_accounted_for_and_moves_the_figures_by_the_good_rows(
    paths: DataPaths,
) -> None:
    drop(paths, "residents", residents(40), "residents_base.parquet")
    drop(paths, "registrations", registrations(3), "scans_base.parquet")
    assert [r.outcome for r in ingest_all(paths, now=NOW)] == ["accepted", "accepted"]
    before = figures(paths)
    assert before == {"residents": 40, "scans_today": 3}

    # registrations: a clerk's workbook — two title rows, Chinese headers, dates as Excel dates and as text
    workbook_rows = [
        ["王台街道新市民入户登记表"],
        ["填报单位：台东路社区", None, None, "填报日期：2026年11月27日"],
        REG_HEAD,
        reg(0),  # row 4
        reg(1, scanned_at="2026/11/27 9:15"),  # 5
        reg(2, id_number=make_id(502)[:17] + ("0" if make_id(502)[17] != "0" else "1")),  # 6: check character
        reg(3, scanned_at="2026-11-27 08:30"),  # 7
        reg(4, id_number=float(make_id(504)[:17])),  # 8: turned into a number by Excel
        reg(5, unit_id="NOPE"),  # 9: unknown unit
        reg(6, scanned_at="2026年11月27日 10:00"),  # 10
        [None] * 6,  # 11: an empty row is no row
        reg(8, id_number="３７" + make_id(508)[2:]),  # 12: full-width digits
    ]
    clerk = put(paths, "registrations", "入户登记_1127.xlsx", lambda p: xlsx(p, {"登记表": workbook_rows}))
    clerk_bytes = clerk.read_bytes()
    # the same rows from Windows: GB18030, and UTF-8 from another machine (mixed encodings in one run)
    put(
        paths,
        "registrations",
        "企业批量_gbk.csv",
        lambda p: csv_file(
            p,
            [REG_HEAD, reg(10, channel="企业批量"), reg(11, channel="微信"), reg(12, channel="企业批量")],
            encoding="gb18030",
        ),
    )
    put(
        paths,
        "registrations",
        "扫码_utf8.csv",
        lambda p: csv_file(p, [REG_HEAD, reg(13), reg(0), reg(14)]),  # reg(0) is in the workbook: a duplicate
    )
    put(
        paths,
        "source_records",
        "公安_bom.csv",
        lambda p: csv_file(p, [SRC_HEAD, src(0), src(1), src(2, detail=None)], encoding="utf-8-sig"),
    )
    put(
        paths,
        "registrations",
        "分隔符错了.csv",
        lambda p: csv_file(p, [REG_HEAD, reg(15), reg(16)], delimiter="|"),
    )
    put(paths, "registrations", "空表.xlsx", lambda p: xlsx(p, {"Sheet1": []}))
    put(
        paths,
        "registrations",
        "只有表头.xlsx",
        lambda p: xlsx(p, {"Sheet1": [["王台街道扫码登记"], REG_HEAD]}),
    )
    # residents: a new snapshot as a workbook (51 rows, one refused: 1.96 %, under the 2 % that holds it)
    resident_rows = [res(i) for i in range(50)] + [res(50, id_number=make_id(50, born="19850101")[:17] + "Y")]
    put(
        paths,
        "residents",
        "实有人口.xlsx",
        lambda p: xlsx(p, {"实有人口": [["王台街道实有人口"], RES_HEAD, *resident_rows]}),
    )
    # what cannot be read, and what must be left alone
    put(paths, "registrations", "说明.doc", lambda p: b"\xd0\xcf\x11\xe0 a word document")
    put(paths, "registrations", "扫描件.pdf", lambda p: b"%PDF-1.4 scanned")
    put(paths, "registrations", "全部.zip", a_zip)
    put(paths, "registrations", "照片.png", lambda p: PNG)
    lock = paths.feed_inbox("registrations") / "~$入户登记_1127.xlsx"
    lock.write_bytes(b"\x00owner")

    results = {r.file_name: r for r in ingest_all(paths, now=NOW)}

    expected = {  # file → (outcome, rows_in, accepted, quarantined, duplicates)
        "入户登记_1127.xlsx": ("accepted", 8, 5, 3, 0),
        "企业批量_gbk.csv": ("accepted", 3, 2, 1, 0),
        "扫码_utf8.csv": ("accepted", 3, 2, 0, 1),
        "公安_bom.csv": ("accepted", 3, 2, 1, 0),
        "分隔符错了.csv": ("refused", 0, 0, 0, 0),
        "空表.xlsx": ("refused", 0, 0, 0, 0),
        "只有表头.xlsx": ("accepted", 0, 0, 0, 0),
        "实有人口.xlsx": ("accepted", 51, 50, 1, 0),
        "说明.doc": ("refused", 0, 0, 0, 0),
        "扫描件.pdf": ("refused", 0, 0, 0, 0),
        "全部.zip": ("refused", 0, 0, 0, 0),
        "照片.png": ("refused", 0, 0, 0, 0),
    }
    got = {
        name: (r.outcome, r.rows_in, r.accepted, r.quarantined, r.duplicates) for name, r in results.items()
    }
    assert got == expected, {n: r.describe() for n, r in results.items()}
    rows = manifest(paths).set_index("file_name")
    assert set(expected) <= set(rows.index), "every file has its manifest row"
    assert (rows.rows_in == rows.accepted + rows.quarantined + rows.duplicates).all()
    assert sorted(os.listdir(paths.feed_inbox("registrations"))) == [lock.name], "only the lock file is left"
    assert os.listdir(paths.feed_inbox("source_records")) == os.listdir(paths.feed_inbox("residents")) == []

    # the figures move by exactly the good rows
    good_scans = 5 + 2 + 2  # the workbook, the GB18030 file, the UTF-8 file (its duplicate not counted)
    assert figures(paths) == {"residents": 50, "scans_today": 3 + good_scans}

    # reasons: Chinese, what to do, Excel's row numbers, no personal value
    values = corpus_values()
    for result in results.values():
        private(result.reason or "", values)
        if result.outcome == "refused":
            assert re.search(r"[\u4e00-\u9fff]", result.reason), result.reason
    assert "不支持 .doc 文件：请另存为 Excel（.xlsx）或 CSV" in results["说明.doc"].reason
    assert "PDF" in results["扫描件.pdf"].reason and "压缩包" in results["全部.zip"].reason
    assert "图片" in results["照片.png"].reason
    assert "分隔" in results["分隔符错了.csv"].reason and "工作簿是空的" in results["空表.xlsx"].reason
    assert "只有表头" in results["只有表头.xlsx"].reason
    workbook = results["入户登记_1127.xlsx"].reason
    assert "第 6 行（身份证号（id_number）校验位错误" in workbook and "第 8 行（" in workbook, workbook
    assert "第 9 行（" in workbook and "行号即 Excel 中看到的行号" in workbook
    assert "工作表「登记表」" in workbook and "表头在第 3 行" in workbook and "身份证号→id_number" in workbook
    assert (
        "GB18030" in results["企业批量_gbk.csv"].reason
        and "UTF-8（带 BOM）" in results["公安_bom.csv"].reason
    )

    # quarantine keeps the text that arrived, _row as Excel shows it
    stored = pd.read_parquet(paths.root / rows.loc["入户登记_1127.xlsx", "quarantine_file"])
    assert stored._row.tolist() == [6, 8, 9]
    assert "被 Excel 转成了数字" in stored._reasons.iloc[1] and "未知单元" in stored._reasons.iloc[2]
    assert stored.scan_id.tolist() == ["XL00002", "XL00004", "XL00005"]
    for reasons in stored._reasons:
        private(reasons, values)
    csv_rows = pd.read_parquet(paths.root / rows.loc["企业批量_gbk.csv", "quarantine_file"])
    assert csv_rows._row.tolist() == [3] and "登记渠道" in csv_rows._reasons.iloc[0]
    # refused files are kept whole in quarantine, as they arrived; accepted ones in the archive
    for name in ("说明.doc", "照片.png", "空表.xlsx"):
        kept = paths.root / rows.loc[name, "quarantine_file"]
        assert kept.exists() and pd.isna(rows.loc[name, "archive_file"])
    assert (paths.root / rows.loc["照片.png", "quarantine_file"]).read_bytes() == PNG
    assert (paths.root / rows.loc["入户登记_1127.xlsx", "archive_file"]).read_bytes() == clerk_bytes

    # the warehouse holds the normalised values, pseudonymized
    warehouse = pq.read_table(paths.root / rows.loc["实有人口.xlsx", "warehouse_file"]).to_pandas()
    assert warehouse.phone_masked.iloc[1] == "138****0001" and warehouse.name_masked.iloc[0] == "欧阳***"
    assert not {"id_number", "name", "phone"} & set(warehouse.columns)

    # the same workbook again, under another name: a duplicate file, every row counted as a duplicate
    put(paths, "registrations", "入户登记_1127_再次.xlsx", lambda p: clerk_bytes)
    [again] = ingest_all(paths, now=NOW)
    assert (again.outcome, again.rows_in, again.duplicates) == ("duplicate_file", 8, 8)
    assert figures(paths)["scans_today"] == 3 + good_scans
    assert ingest_all(paths, now=NOW) == [] and lock.exists()


def test_data_status_lists_a_refused_word_document(paths: DataPaths) -> None:
    put(paths, "houses", "房屋.docx", lambda p: b"PK\x03\x04 not really")
    assert [r.outcome for r in ingest_all(paths, now=NOW)] == ["refused"]
    reasons = Runner(paths).run("quarantine_reasons", {"feed": None})
    row = reasons[reasons.file_name == "房屋.docx"].iloc[0]
    assert row.scope == "整个文件" and "不支持 .docx 文件：请另存为 Excel（.xlsx）或 CSV" in row.reason
    fresh = Runner(paths).run("data_freshness").set_index("feed")
    assert (
        fresh.loc["houses", "status"] == "最近文件被拒收" and fresh.loc["houses", "last_file"] == "房屋.docx"
    )


def test_a_template_left_with_its_example_row_quarantines_that_row(paths: DataPaths) -> None:
    from wangtai.ingest.readers.template import write_template

    template = write_template("registrations", paths.root / "t.xlsx", codes=("370211100001", "U-001"))
    put(paths, "registrations", "模板.xlsx", lambda p: template.read_bytes())
    [result] = ingest_all(paths, now=NOW)
    assert (result.rows_in, result.accepted, result.quarantined) == (1, 0, 1)
    assert "示例行" in result.reason and EXAMPLE_ID not in result.reason


# ---- limits, the file changing under ingest, a broken column-name file ------------------------------------


def _must_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "open_feed_file", lambda *a, **k: pytest.fail("the file must not be read"))


def _sheet_with_dimension(path: Path, rows: int) -> bytes:
    book = Workbook()  # openpyxl's normal mode writes <dimension ref="A1:F…"/> as Excel does
    sheet = book.active
    sheet.append(REG_HEAD)
    for i in range(rows):
        sheet.append(reg(i))
    book.save(path)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("limit", "value", "name", "words"),
    [
        ("MAX_FILE_BYTES", 100, "大.csv", "文件过大"),
        ("MAX_EXCEL_BYTES", 100, "大.xlsx", "Excel 工作簿过大"),
        ("MAX_EXCEL_UNPACKED", 1000, "大.xlsx", "解压后过大"),
        ("MAX_EXCEL_ROWS", 10, "大.xlsx", "工作表行数过多（21 行"),
    ],
)
def test_the_limits_apply_to_excel_and_csv_before_they_are_read(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch, limit: str, value: int, name: str, words: str
) -> None:
    if name.endswith(".csv"):
        put(paths, "registrations", name, lambda p: csv_file(p, [REG_HEAD, *[reg(i) for i in range(20)]]))
    else:
        put(paths, "registrations", name, lambda p: _sheet_with_dimension(p, 20))
    monkeypatch.setattr(limits, limit, value)
    _must_not_read(monkeypatch)
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused" and words in result.reason, result.reason
    assert (paths.root / manifest(paths).iloc[0]["quarantine_file"]).exists()


def test_rows_beyond_the_limit_are_refused_once_counted_before_anything_is_written(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(paths, "registrations", "多.csv", lambda p: csv_file(p, [REG_HEAD, *[reg(i) for i in range(20)]]))
    monkeypatch.setattr(limits, "MAX_ROWS", 10)
    monkeypatch.setattr(core, "_split_rows", lambda *a, **k: pytest.fail("no row may be checked"))
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "refused" and "行数过多（20 行" in result.reason


def test_a_file_written_while_it_is_read_waits_for_the_next_run(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = put(paths, "registrations", "慢慢写.csv", lambda p: csv_file(p, [REG_HEAD, reg(0), reg(1)]))
    real = core.open_feed_file

    def append_meanwhile(*args, **kwargs):
        found = real(*args, **kwargs)
        with open(target, "ab") as handle:  # the writer goes on writing the same file
            handle.write(",".join(str(c) for c in reg(2)).encode() + b"\r\n")
        return found

    monkeypatch.setattr(core, "open_feed_file", append_meanwhile)
    assert ingest_all(paths, now=NOW) == [] and target.exists() and manifest(paths).empty
    monkeypatch.undo()
    [result] = ingest_all(paths, now=NOW)
    assert (result.rows_in, result.accepted) == (3, 3), result.describe()


def test_a_half_copied_csv_is_not_refused_while_the_copy_goes_on(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = ",".join(str(c) for c in reg(2)).encode() + b"\r\n"
    target = put(paths, "registrations", "复制中.csv", lambda p: csv_file(p, [REG_HEAD, reg(0), reg(1)]))
    with open(target, "ab") as handle:
        handle.write(whole[:20])  # the copy stopped in the middle of a row: too few columns
    real = core.open_feed_file

    def copy_goes_on(*args, **kwargs):
        found = real(*args, **kwargs)
        assert found.refusal is not None and "列数" in found.refusal.reason
        with open(target, "ab") as handle:
            handle.write(whole[20:])
        return found

    monkeypatch.setattr(core, "open_feed_file", copy_goes_on)
    assert ingest_all(paths, now=NOW) == [] and manifest(paths).empty, "no verdict on half a file"
    monkeypatch.undo()
    [result] = ingest_all(paths, now=NOW)
    assert (result.outcome, result.rows_in, result.accepted) == ("accepted", 3, 3), result.describe()


def test_the_bytes_read_are_the_file_opened_even_when_another_is_renamed_over_it(
    paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = put(paths, "registrations", "r.csv", lambda p: csv_file(p, [REG_HEAD, reg(0), reg(1)]))
    other = paths.feed_inbox("registrations") / ".other.tmp"
    csv_file(other, [REG_HEAD, reg(5), reg(6), reg(7)])
    real = core.open_feed_file
    swapped = []

    def swap_meanwhile(*args, **kwargs):
        if not swapped:
            os.replace(other, target)  # a new file renamed over the one being read
            swapped.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(core, "open_feed_file", swap_meanwhile)
    [first] = ingest_all(paths, now=NOW)
    assert (first.rows_in, first.accepted) == (2, 2), "the rows of the file opened and hashed"
    [second] = ingest_all(paths, now=NOW)
    assert (second.file_name, second.rows_in) == ("r.csv", 3), "the new file on its own turn"


def test_a_broken_column_names_file_holds_excel_and_csv_back_but_not_parquet(paths: DataPaths) -> None:
    (paths.reference / "column_names.toml").write_text('[residents]\nnot_a_column = ["某列"]\n', "utf-8")
    workbook = put(paths, "registrations", "登记.xlsx", lambda p: xlsx(p, {"S": [REG_HEAD, reg(0)]}))
    drop(paths, "registrations", registrations(3), "r.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "r.parquet" and result.accepted == 3
    assert workbook.exists() and len(manifest(paths)) == 1
    [message] = faults.load(paths).messages()
    assert "登记.xlsx 暂未入库" in message and "column_names.toml" in message and "程序出错" not in message
    assert not core.has_inbox_files(paths), "it waits a minute, not a poll every second"
    (paths.reference / "column_names.toml").unlink()
    os.utime(workbook)  # (or a minute later)
    [result] = ingest_all(paths, now=NOW)
    assert result.file_name == "登记.xlsx" and result.accepted == 1 and faults.load(paths).healthy
