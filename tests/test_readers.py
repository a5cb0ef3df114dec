"""The readers of real feeds (issue 13): a corpus of Excel and CSV files as departments and clerks send them,
built here, each read with wangtai.ingest.readers and checked value by value, with every refusal's reason
in Chinese and free of personal values."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from wangtai.contract import FEEDS
from wangtai.idnumber import check_char
from wangtai.ingest.errors import IngestError
from wangtai.ingest.readers import (
    is_temporary,
    load_header_names,
    merge_problems,
    open_feed_file,
    recognise_feed,
    supported_suffixes,
    unsupported_reason,
)
from wangtai.ingest.readers.cells import Cells, convert
from wangtai.ingest.readers.headers import header_key, markdown_table
from wangtai.ingest.reasons import column_label
from wangtai.ingest.reference import Reference
from wangtai.ingest.validate import ARROW_TYPES, cast_batch, check_rows

NOW = datetime(2026, 11, 27, 10, 30)
REFERENCE = Reference(
    pa.array(["370211100001", "370211100200"]), pa.array(["JW370211100001", "WG370211100200"])
)
README = Path(__file__).resolve().parent.parent / "README.md"
COLUMNS = {c.name: c for feed in FEEDS.values() for c in feed.columns}


def make_id(n: int, born: str = "19900101") -> str:
    first17 = f"370211{born}{n % 1000:03d}"
    return first17 + check_char(first17)


IDS = [make_id(i) for i in range(1, 6)]
NAMES = ["欧阳娜娜", "王小明", "李四", "赵六", "孙七"]
PHONES = ["13812345678", "13912345678", "13712345678", "13612345678", "13512345678"]
HEAD = ["身份证号", "姓名", "联系电话", "人口类型", "社区代码", "管理单位编码", "房屋编号", "纬度", "经度",
        "来源原因", "来到本地日期", "居住状态", "更新时间"]  # fmt: skip


def resident(i: int, **changes) -> list:
    row = {
        "id_number": IDS[i],
        "name": NAMES[i],
        "phone": PHONES[i],
        "population_type": "流动人口",
        "community_code": "370211100001",
        "unit_id": "JW370211100001",
        "house_id": f"H{i:04d}",
        "lat": "36.07",
        "lon": "120.0",
        "reason": "务工",
        "arrival_date": "2026-03-15",
        "status": "在住",
        "updated_at": "2026-11-20 08:30:00",
    }
    row.update(changes)
    return list(row.values())


def xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None and value != "":
                    sheet.cell(row=r, column=c, value=value)
        for cells in (merges or {}).get(name, []):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def csv_file(path: Path, rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    lines = []
    for row in rows:
        cells = []
        for value in row:
            text = "" if value is None else str(value)
            if any(ch in text for ch in (delimiter, '"', "\n")):
                text = '"' + text.replace('"', '""') + '"'
            cells.append(text)
        lines.append(delimiter.join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def read_all(path: Path, feed: str = "residents", names=None):
    """The file read: its FeedFile, all rows as Python dicts, their sheet rows and reader problems."""
    found = open_feed_file(path, feed, names)
    rows, numbers, problems = [], [], []
    for batch in found.batches():
        rows += batch.batch.to_pylist()
        numbers += batch.rows.tolist()
        problems += batch.problems.tolist()
    found.close()
    return found, rows, numbers, problems


def assert_private(text: str) -> None:
    """No id number, name or phone of the corpus appears in a reason."""
    for value in [*IDS, *NAMES, *PHONES]:
        assert value not in text, f"personal value in reason: {text}"
    assert not re.search(r"\d{11,}", text), text


def checked(found, rows_batch):
    """cast_batch + check_rows over a ReadBatch, with the reader's problems merged."""
    columns = cast_batch(rows_batch.batch, found.feed)
    return merge_problems(check_rows(found.feed, columns, REFERENCE, NOW), rows_batch)


# ---------------------------------------------------------------- file types


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("登记表.doc", "不支持 .doc 文件：请另存为 Excel（.xlsx）或 CSV"),
        ("登记表.DOCX", "不支持 .docx 文件：请另存为 Excel（.xlsx）或 CSV"),
        ("扫描件.pdf", "不支持 .pdf 文件：PDF"),
        ("全部.zip", "不支持 .zip 压缩包：请解压"),
        ("照片.jpg", "不支持 .jpg 图片"),
        ("表格.et", "不支持 .et 表格文件"),
        ("名单", "文件没有扩展名"),
        ("数据.json", "不支持 .json 文件：请另存为 Excel（.xlsx）或 CSV"),
    ],
)
def test_unsupported_types_say_what_to_do(tmp_path: Path, name: str, words: str) -> None:
    assert unsupported_reason(name).startswith(words)
    path = tmp_path / name
    path.write_bytes(b"whatever")
    found = open_feed_file(path, "residents")
    assert found.refusal is not None and found.refusal.reason.startswith(words)
    assert found.format is None and list(found.batches()) == []


def test_supported_types() -> None:
    assert {".xlsx", ".xls", ".csv", ".parquet"} <= set(supported_suffixes())
    for name in ("a.xlsx", "a.XLS", "a.csv", "a.parquet", "a.txt", "a.tsv", "a.xlsm"):
        assert unsupported_reason(name) is None


def test_temporary_names_are_left_alone() -> None:
    assert is_temporary("~$登记表.xlsx") and is_temporary(".登记表.xlsx.tmp") and is_temporary("a.crdownload")
    assert not is_temporary("登记表.xlsx")


def test_zero_byte_file_is_refused_as_unreadable(tmp_path: Path) -> None:
    for name in ("empty.csv", "empty.xlsx"):
        (tmp_path / name).write_bytes(b"")
        found = open_feed_file(tmp_path / name, "residents")
        assert found.refusal.reason == "文件是空的（0 字节）" and found.refusal.unreadable
        assert found.num_rows == 0


def test_csv_that_is_really_a_workbook_is_read_as_one(tmp_path: Path) -> None:
    book = xlsx(tmp_path / "book.xlsx", {"登记": [HEAD, resident(0)]})
    renamed = tmp_path / "登记.csv"
    renamed.write_bytes(book.read_bytes())
    found, rows, numbers, _ = read_all(renamed)
    assert found.refusal is None and found.format == "xlsx"
    assert "扩展名是 .csv，内容却是Excel 工作簿（.xlsx），已按内容读取" in found.notes
    assert rows[0]["id_number"] == IDS[0] and numbers == [2]


def test_workbook_that_is_really_csv_is_read_as_csv(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "登记.xlsx", [HEAD, resident(0)], encoding="gb18030")
    found, rows, _, _ = read_all(path)
    assert found.refusal is None and found.format == "csv" and found.encoding == "GB18030（GBK）"
    assert any("内容却是CSV 文本" in note for note in found.notes)
    assert rows[0]["name"] == NAMES[0]


def test_pdf_named_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "登记.xlsx"
    path.write_bytes(b"%PDF-1.7\n...")
    found = open_feed_file(path, "residents")
    assert found.refusal.reason == "扩展名是 .xlsx，内容却是PDF 文件：请另存为 Excel（.xlsx）或 CSV"


def test_truncated_workbook_is_unreadable(tmp_path: Path) -> None:
    whole = xlsx(tmp_path / "whole.xlsx", {"登记": [HEAD, *[resident(i) for i in range(5)]]}).read_bytes()
    path = tmp_path / "half.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    found = open_feed_file(path, "residents")
    assert found.refusal.unreadable and "无法作为 Excel 工作簿读取" in found.refusal.reason


# ---------------------------------------------------------------- Excel


def test_workbook_with_title_rows_chinese_headers_and_clerk_formats(tmp_path: Path) -> None:
    """Title row, a blank row, headers written the way clerks write them, values with Excel's habits."""
    head = ["* 身份证号", "姓 名", "手机号码（必填）", "人口类型", "村居代码", "管理单位编码", "房屋编码",
            "纬度(WGS84)", "经度", "流入原因", "到达\n日期", "居住状态", "更新时间", "备注"]  # fmt: skip
    rows = [
        ["王台街道新市民登记表"],
        [],
        head,
        [" ３７０２１１１９９００１０１００１" + IDS[0][-1], "欧阳娜娜", "+86 138-1234-5678", "流动人口",
         370211100001, "JW370211100001", "H0001", 36.07, 120.0, "务工", date(2026, 3, 15), "在住",
         datetime(2026, 11, 20, 8, 30), "新来的"],
        [IDS[1].lower(), "王小明 ", "139 1234 5678", "户籍人口", "370211100001", "JW370211100001", None,
         "36.07", "120.0", None, None, "在住", "2026/11/20 8:30", None],
        [IDS[2], "李四", "86 13712345678", "流动人口", "370211100001", "JW370211100001", "H0003",
         36.07, 120.0, "经商", "2026年3月15日", "在住", 46346.354166666664, None],
        [IDS[3], "赵六", 13612345678, "流动人口", "370211100001", "JW370211100001", "H0004",
         36.07, 120.0, "投靠", "2026.3.15", "在住", "2026-11-20 08:30", None],
        [IDS[4], "孙七", None, "流动人口", "370211100001", "JW370211100001", "H0005", 36.07, 120.0,
         "随迁", 46096, "在住", "2026年11月20日 8时30分", None],
        [],
        [],
    ]  # fmt: skip
    found, out, numbers, problems = read_all(xlsx(tmp_path / "新市民登记.xlsx", {"登记表": rows}))
    assert found.refusal is None, found.refusal
    assert found.format == "xlsx" and found.sheet == "登记表" and found.header_rows == (3, 3)
    assert found.mapping["phone"] == "手机号码（必填）" and found.mapping["arrival_date"] == "到达 日期"
    assert found.unused == ["备注"] and found.absent == []
    assert found.num_rows == 5 and numbers == [4, 5, 6, 7, 8]  # rows as Excel numbers them
    assert problems == [None] * 5
    assert [r["id_number"] for r in out] == [IDS[0], IDS[1].lower(), *IDS[2:]]
    assert [r["name"] for r in out] == NAMES
    assert [r["phone"] for r in out] == [*PHONES[:4], None]
    assert {r["community_code"] for r in out} == {"370211100001"}
    assert [r["house_id"] for r in out] == ["H0001", None, "H0003", "H0004", "H0005"]
    assert {r["lat"] for r in out} == {36.07} and {r["lon"] for r in out} == {120.0}
    assert [r["arrival_date"] for r in out] == [date(2026, 3, 15), None, *[date(2026, 3, 15)] * 3]
    assert {r["updated_at"] for r in out} == {datetime(2026, 11, 20, 8, 30)}
    assert [f.name for f in found.feed.columns] == list(out[0])
    # ready for validate.py: the cast is a no-op, and every row passes the checks
    [batch] = list(open_feed_file(found.path, "residents").batches())
    assert batch.batch.schema == pa.schema([(c.name, ARROW_TYPES[c.type]) for c in found.feed.columns])
    result = checked(found, batch)
    assert not result.bad.any(), result.reasons


def test_id_numbers_turned_into_numbers_refuse_the_file(tmp_path: Path) -> None:
    rows = [HEAD, *[resident(i, id_number=float(IDS[i][:17] + "0")) for i in range(5)]]
    found, out, _, _ = read_all(xlsx(tmp_path / "numbers.xlsx", {"Sheet1": rows}))
    assert found.refusal.reason == (
        "身份证号被 Excel 转成了数字（科学计数法），后几位已丢失；请把该列设为文本后重新导出"
    )
    assert not found.refusal.unreadable and found.num_rows == 5 and out == []


def test_a_few_id_numbers_turned_into_numbers_refuse_those_rows(tmp_path: Path) -> None:
    rows = [
        HEAD,
        resident(0),
        resident(1, id_number=float(IDS[1][:17])),
        resident(2),
        resident(3, id_number="3.70211E+17"),
    ]
    found, out, numbers, problems = read_all(xlsx(tmp_path / "some.xlsx", {"Sheet1": rows}))
    assert found.refusal is None and found.num_rows == 4 and numbers == [2, 3, 4, 5]
    lost = "id_number（身份证号）被 Excel 转成了数字（科学计数法），后几位已丢失，请把该列设为文本后重新导出"
    assert problems == [None, lost, None, lost]
    assert [r["id_number"] for r in out] == [IDS[0], None, IDS[2], None]
    [batch] = list(open_feed_file(found.path, "residents").batches())
    result = checked(found, batch)
    assert result.bad.tolist() == [False, True, False, True]
    assert result.reasons[1] == lost  # "id_number 为空（必填）" dropped: the reader said why
    assert_private(result.reasons[1])


def test_id_number_whose_last_digits_became_zeros_is_refused(tmp_path: Path) -> None:
    zeros = IDS[1][:15] + "000"
    assert check_char(zeros[:17]) != zeros[17]
    _found, out, _, problems = read_all(
        csv_file(tmp_path / "z.csv", [HEAD, resident(0), resident(1, id_number=zeros)])
    )
    assert problems[0] is None and "末尾几位变成了 0" in problems[1] and out[1]["id_number"] is None


def test_several_sheets_the_one_with_the_header_is_read(tmp_path: Path) -> None:
    sheets = {
        "说明": [["填表说明：身份证号请设为文本"], ["联系人：王小明"]],
        "汇总": [["社区", "人数"], ["台东路社区", 5]],
        "登记表": [HEAD, resident(0), resident(1)],
    }
    found, _out, numbers, _ = read_all(xlsx(tmp_path / "three.xlsx", sheets))
    assert found.refusal is None and found.sheet == "登记表" and numbers == [2, 3]
    assert "其他工作表未读取：说明、汇总" in found.notes
    assert "工作表「登记表」" in found.describe()


def test_two_sheets_with_the_header_are_ambiguous(tmp_path: Path) -> None:
    sheets = {"3月": [HEAD, resident(0)], "4月": [HEAD, resident(1)]}
    found = open_feed_file(xlsx(tmp_path / "months.xlsx", sheets), "residents")
    assert found.refusal.reason.startswith(
        "有 2 个工作表都是实有人口表（「3月」、「4月」），无法确定读哪一个"
    )


def test_no_sheet_with_the_header(tmp_path: Path) -> None:
    sheets = {
        "Sheet1": [["王台街道新市民登记表"], ["证件", "名字"], [IDS[0], NAMES[0]]],
        "Sheet2": [["汇总"]],
    }
    found = open_feed_file(xlsx(tmp_path / "none.xlsx", sheets), "residents")
    reason = found.refusal.reason
    assert reason.startswith("2 个有内容的工作表中都没有找到实有人口的表头")
    assert "「Sheet1」：第 1 行 1 个非空单元格；第 2 行 2 个非空单元格；第 3 行 2 个非空单元格" in reason
    assert_private(reason)


def test_header_not_found_lists_what_was_expected_without_data(tmp_path: Path) -> None:
    rows = [["王台街道新市民登记表"], ["证件", "名字", "电话号"], [IDS[0], NAMES[0], PHONES[0]]]
    found = open_feed_file(csv_file(tmp_path / "wrong.csv", rows), "residents")
    reason = found.refusal.reason
    assert reason.startswith("文件没有找到实有人口的表头（前 30 行中没有一行含有至少 2 个可识别的列名）")
    assert "应有的列：身份证号/公民身份号码/证件号码/身份证/身份证号码（id_number）、姓名（name）" in reason
    assert "联系电话/手机号码/电话/手机号/手机/联系方式（phone，可空）" in reason
    assert "文件开头是：第 1 行 1 个非空单元格；第 2 行 3 个非空单元格；第 3 行 3 个非空单元格" in reason
    assert_private(reason)


def test_header_of_another_feed_says_the_file_is_misplaced(tmp_path: Path) -> None:
    rows = [
        ["扫码编号", "扫码时间", "身份证号", "单位编码", "渠道", "场所"],
        ["S1", "2026-11-20 08:00", IDS[0], "U", "扫码自助", "其他"],
    ]
    found = open_feed_file(xlsx(tmp_path / "scans.xlsx", {"Sheet1": rows}), "residents")
    assert found.refusal.reason.startswith("工作表「Sheet1」没有找到实有人口的表头")
    assert (
        "第 1 行的列名：扫码编号、扫码时间、身份证号、单位编码、渠道、场所；第 2 行 6 个非空单元格"
        in found.refusal.reason
    )
    assert (
        "这些列名像是「一家亲扫码登记」（inbox/registrations/）的文件，是否放错了文件夹？"
        in found.refusal.reason
    )
    assert recognise_feed(tmp_path / "scans.xlsx") == ["registrations"]
    assert_private(found.refusal.reason)


def test_missing_required_column_names_the_accepted_names(tmp_path: Path) -> None:
    head = [h for h in HEAD if h != "居住状态"]
    rows = [head, [v for h, v in zip(HEAD, resident(0), strict=True) if h != "居住状态"]]
    found = open_feed_file(xlsx(tmp_path / "m.xlsx", {"Sheet1": rows}), "residents")
    reason = found.refusal.reason
    assert reason.startswith(
        "工作表「Sheet1」的实有人口表头（第 1 行）不能使用：缺少必填列：居住状态（status）。"
    )
    assert "已识别的列：身份证号→id_number" in reason and "reference/column_names.toml" in reason
    assert_private(reason)


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    keep = [i for i, h in enumerate(HEAD) if h not in ("联系电话", "房屋编号", "来源原因", "来到本地日期")]
    rows = [[HEAD[i] for i in keep], [resident(0)[i] for i in keep]]
    found, out, _, _ = read_all(xlsx(tmp_path / "o.xlsx", {"Sheet1": rows}))
    assert found.refusal is None and found.absent == ["phone", "house_id", "reason", "arrival_date"]
    assert out[0]["phone"] is None and out[0]["arrival_date"] is None
    assert "未提供（按空值）：phone、house_id、reason、arrival_date" in found.describe()


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    rows = [[*HEAD, "手机号码"], [*resident(0), PHONES[1]]]
    found = open_feed_file(xlsx(tmp_path / "twice.xlsx", {"Sheet1": rows}), "residents")
    assert "第 C、N 列都对应 phone，请删去或改名其中一列" in found.refusal.reason


def test_merged_header_cells_over_two_rows(tmp_path: Path) -> None:
    """身份证号 merged over two rows (value in the upper cell only), 坐标 over 纬度 and 经度."""
    upper = [h if h not in ("纬度", "经度") else "" for h in HEAD]
    upper[HEAD.index("纬度")] = "坐标"
    lower = ["" for _ in HEAD]
    lower[HEAD.index("纬度")], lower[HEAD.index("经度")] = "纬度", "经度"
    merges = [f"{c}2:{c}3" for c in "ABCDEFGJKLM"] + ["H2:I2", "A1:M1"]
    rows = [["王台街道实有人口登记表"], upper, lower, resident(0), resident(1)]
    found, out, numbers, _ = read_all(xlsx(tmp_path / "merged.xlsx", {"Sheet1": rows}, {"Sheet1": merges}))
    assert found.refusal is None and found.header_rows == (2, 3) and numbers == [4, 5]
    assert found.mapping["lat"] == "纬度" and found.mapping["id_number"] == "身份证号"
    assert [r["id_number"] for r in out] == IDS[:2] and out[0]["lat"] == 36.07


def test_leading_empty_columns_and_empty_rows(tmp_path: Path) -> None:
    pad = [None, None]
    rows = [[], [], [*pad, *HEAD], [*pad, *resident(0)], [], [*pad, *resident(1)], [*pad, *[None] * 13]]
    found, out, numbers, _ = read_all(xlsx(tmp_path / "pad.xlsx", {"Sheet1": rows}))
    assert found.header_rows == (3, 3) and numbers == [4, 6] and found.num_rows == 2
    assert [r["name"] for r in out] == NAMES[:2]


def test_rows_with_only_a_serial_number_are_empty(tmp_path: Path) -> None:
    rows = [["序号", *HEAD], [1, *resident(0)], *[[n] + [None] * 13 for n in range(2, 50)]]
    found, out, _, _ = read_all(xlsx(tmp_path / "serial.xlsx", {"Sheet1": rows}))
    assert found.num_rows == 1 and len(out) == 1 and "跳过 48 个空行" in found.notes


def test_empty_workbook_is_refused(tmp_path: Path) -> None:
    found = open_feed_file(xlsx(tmp_path / "empty.xlsx", {"Sheet1": []}), "residents")
    assert found.refusal.reason == "工作簿是空的：没有一个（未隐藏的）工作表有内容"


def test_workbook_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    found, out, _, _ = read_all(xlsx(tmp_path / "head.xlsx", {"Sheet1": [HEAD]}))
    assert found.refusal is None and found.num_rows == 0 and out == []
    assert "只有表头，没有数据行" in found.notes


def test_xls_workbook(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("登记表")
    dates = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(
        [["王台街道实有人口"], HEAD, resident(0), resident(1, id_number=float(IDS[1][:17]))]
    ):
        for c, value in enumerate(row):
            if c == 12 and r >= 2:
                sheet.write(r, c, datetime(2026, 11, 20, 8, 30), dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.save(str(tmp_path / "old.xls"))
    found, out, numbers, problems = read_all(tmp_path / "old.xls")
    assert found.format == "xls" and found.refusal is None and numbers == [3, 4]
    assert out[0]["id_number"] == IDS[0] and out[0]["updated_at"] == datetime(2026, 11, 20, 8, 30)
    assert problems[0] is None and "被 Excel 转成了数字" in problems[1]


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8（带 BOM）"),
        ("gb18030", "GB18030（GBK）"),
        ("gbk", "GB18030（GBK）"),
        ("utf-16", "UTF-16"),
    ],
)
def test_csv_encodings(tmp_path: Path, encoding: str, label: str) -> None:
    path = csv_file(tmp_path / "r.csv", [["王台街道新市民登记表"], HEAD, resident(0), resident(1)], encoding)
    found, out, numbers, problems = read_all(path)
    assert found.refusal is None and found.encoding == label and found.delimiter == ","
    assert [r["name"] for r in out] == NAMES[:2] and numbers == [3, 4] and problems == [None, None]
    assert out[0]["updated_at"] == datetime(2026, 11, 20, 8, 30)


def test_mixed_encodings_across_files_each_decided_on_its_own(tmp_path: Path) -> None:
    made = {enc: csv_file(tmp_path / f"{enc}.csv", [HEAD, resident(0), resident(1)], enc) for enc in
            ("gb18030", "utf-8", "utf-8-sig", "gb18030")}  # fmt: skip
    results = [read_all(path) for path in made.values()]
    assert [f.encoding for f, *_ in results] == ["GB18030（GBK）", "UTF-8", "UTF-8（带 BOM）"]
    assert all(rows == results[0][1] for _, rows, *_ in results)
    assert results[0][1][0]["name"] == NAMES[0]


def test_csv_in_neither_encoding_is_refused(tmp_path: Path) -> None:
    text = "\r\n".join(",".join(map(str, r)) for r in [HEAD, resident(0)])
    path = tmp_path / "big5.csv"
    path.write_bytes(text.encode("gb18030") + b"\r\n" + "台東路".encode("big5") + b"\x80\xff\r\n")
    found = open_feed_file(path, "residents")
    reason = found.refusal.reason
    assert reason.startswith(
        "无法确定文件的编码：它既不是 UTF-8（第 1 行附近无法解码），也不是 GB18030/GBK（第 3 行附近"
    )
    assert "另存为“CSV UTF-8（逗号分隔）”" in reason and not found.refusal.unreadable
    assert_private(reason)


def test_binary_named_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\x00\x01\x02binary\x00" * 50)
    assert open_feed_file(path, "residents").refusal.reason.startswith("文件不是文本（含有二进制内容）")


@pytest.mark.parametrize(("delimiter", "label"), [("\t", "制表符"), (";", "分号")])
def test_csv_tab_and_semicolon(tmp_path: Path, delimiter: str, label: str) -> None:
    path = csv_file(tmp_path / "r.txt", [HEAD, resident(0)], "gb18030", delimiter)
    found, out, _, _ = read_all(path)
    assert found.delimiter == delimiter and f"分隔符 {label}" in found.describe()
    assert out[0]["name"] == NAMES[0]


def test_csv_with_a_wrong_delimiter_says_so(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "pipe.csv", [["王台街道新市民登记表"], HEAD, resident(0)], delimiter="|")
    found = open_feed_file(path, "residents")
    assert found.refusal.reason.startswith(
        "第 2 行像是表头，但各列之间不是用逗号、制表符或分号分隔的，无法分列"
    )
    assert_private(found.refusal.reason)


def test_csv_row_numbers_with_multiline_header_and_blank_lines(tmp_path: Path) -> None:
    head = [h if h != "联系电话" else "联系\n电话" for h in HEAD]
    rows = [
        ["王台街道新市民登记表"],
        head,
        resident(0),
        [],
        resident(1),
        [""] * 13,
        resident(2, name="李\n四"),
    ]
    found, out, numbers, _ = read_all(csv_file(tmp_path / "lines.csv", rows))
    assert found.mapping["phone"] == "联系 电话"
    assert numbers == [3, 5, 7] and [r["name"] for r in out] == ["欧阳娜娜", "王小明", "李\n四"]


def test_csv_rows_with_the_wrong_number_of_columns_are_refused(tmp_path: Path) -> None:
    rows = [HEAD, resident(0), [*resident(1), "多出来的"], resident(2)[:5]]
    found = open_feed_file(csv_file(tmp_path / "ragged.csv", rows), "residents")
    assert found.refusal.reason.startswith(
        "有的行列数与表头不同：表头有 13 列，第 3 行有 14 列、第 4 行有 5 列"
    )
    assert_private(found.refusal.reason)


def test_csv_id_numbers_in_scientific_notation_refuse_the_file(tmp_path: Path) -> None:
    rows = [HEAD, *[resident(i, id_number="3.70211E+17") for i in range(3)]]
    found = open_feed_file(csv_file(tmp_path / "sci.csv", rows, "gb18030"), "residents")
    assert (
        found.refusal.reason
        == "身份证号被 Excel 转成了数字（科学计数法），后几位已丢失；请把该列设为文本后重新导出"
    )
    assert found.num_rows == 3


def test_csv_excel_text_guards_are_removed(tmp_path: Path) -> None:
    rows = [HEAD, resident(0, id_number=f'="{IDS[0]}"', phone=f"'{PHONES[0]}")]
    _, out, _, problems = read_all(csv_file(tmp_path / "guard.csv", rows))
    assert out[0]["id_number"] == IDS[0] and out[0]["phone"] == PHONES[0] and problems == [None]


def test_csv_with_only_a_header(tmp_path: Path) -> None:
    found, out, _, _ = read_all(csv_file(tmp_path / "h.csv", [HEAD]))
    assert found.refusal is None and found.num_rows == 0 and out == []


# ---------------------------------------------------------------- cell values


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [
        ("arrival_date", "2026-03-15", date(2026, 3, 15)),
        ("arrival_date", "2026/3/15", date(2026, 3, 15)),
        ("arrival_date", "2026.3.15", date(2026, 3, 15)),
        ("arrival_date", "2026年3月15日", date(2026, 3, 15)),
        ("arrival_date", "２０２６－０３－１５", date(2026, 3, 15)),
        ("arrival_date", "20260315", date(2026, 3, 15)),
        ("arrival_date", 46096.0, date(2026, 3, 15)),  # an Excel serial number
        ("arrival_date", 20260315, date(2026, 3, 15)),
        ("arrival_date", datetime(2026, 3, 15, 8, 30), date(2026, 3, 15)),
        ("updated_at", "2026-03-15 08:30", datetime(2026, 3, 15, 8, 30)),
        ("updated_at", "2026/3/15 8:30:05", datetime(2026, 3, 15, 8, 30, 5)),
        ("updated_at", "2026年3月15日 8时30分", datetime(2026, 3, 15, 8, 30)),
        ("updated_at", "2026-03-15T08:30:00.25", datetime(2026, 3, 15, 8, 30, 0, 250000)),
        ("updated_at", 46096.354166666664, datetime(2026, 3, 15, 8, 30)),
        ("updated_at", date(2026, 3, 15), datetime(2026, 3, 15)),
        ("phone", "138 1234 5678", "13812345678"),
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("phone", "0086 13812345678", "13812345678"),
        ("phone", "86-138-1234-5678", "13812345678"),
        ("phone", "１３８１２３４５６７８", "13812345678"),
        ("phone", 13812345678.0, "13812345678"),
        ("phone", "138123456", "138123456"),  # too short: left as it is, for the row check to refuse
        ("phone", "0532-8888123", "05328888123"),  # a landline: 11 digits, separators only dropped
        ("id_number", "３７０２１１１９９００１０１００１Ｘ", "37021119900101001X"),
        ("id_number", "370211 19900101 001X", "37021119900101001X"),
        ("community_code", 370211100001.0, "370211100001"),
        ("community_code", " 370211100001\u3000", "370211100001"),
        ("lat", "36.07", 36.07),
        ("lat", "３６.０７", 36.07),
        ("occupants", "3", 3),
        ("occupants", 3.0, 3),
        ("name", "  欧阳娜娜 ", "欧阳娜娜"),
        ("name", "张三（Ａ）", "张三（Ａ）"),  # free text keeps its characters
    ],
)
def test_cell_values(column: str, cell: object, value: object) -> None:
    converted = convert(Cells.from_python([cell]), COLUMNS[column], "标签")
    assert converted.values.to_pylist() == [value]
    assert converted.problems == []


@pytest.mark.parametrize(
    ("column", "cell", "words"),
    [
        ("arrival_date", "2026-02-30", "不是可识别的日期"),
        ("arrival_date", "15/03/2026", "不是可识别的日期"),  # day first: ambiguous, never guessed
        ("arrival_date", "2026", "不是可识别的日期"),  # a year is not a serial number
        ("arrival_date", 2026.0, "不是可识别的日期"),
        ("updated_at", "2026-03-15 24:00", "不是可识别的时间"),
        ("updated_at", "明天", "不是可识别的时间"),
        ("lat", "北纬36度", "不是数字"),
        ("lat", True, "不是数字"),
        ("occupants", 2.5, "不是整数"),
        ("occupants", "两人", "不是整数"),
        ("phone", "1.38123E+10", "被 Excel 转成了数字（科学计数法）"),
        ("id_number", 3.70211199001011e17, "被 Excel 转成了数字（科学计数法）"),
        ("house_id", 3.70211e20, "被 Excel 转成了数字（科学计数法）"),
    ],
)
def test_cell_values_that_cannot_be_read(column: str, cell: object, words: str) -> None:
    converted = convert(Cells.from_python([cell, None]), COLUMNS[column], "标签")
    assert converted.values.to_pylist() == [None, None]
    [(mask, reason)] = converted.problems
    assert mask.tolist() == [True, False] and words in reason and reason.startswith(f"{column}（标签）")
    assert "；" not in reason  # row reasons are split on "；" by the quarantine page


def test_a_ten_digit_phone_stays_invalid(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "p.csv", [HEAD, resident(0, phone="138 1234 567")])
    found = open_feed_file(path, "residents")
    [batch] = list(found.batches())
    assert batch.batch.column("phone").to_pylist() == ["1381234567"]
    result = checked(found, batch)
    assert result.bad.tolist() == [True] and result.reasons[0] == f"{column_label('phone')}应为 11 位数字"


def test_unreadable_date_in_a_required_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "d.csv", [HEAD, resident(0, updated_at="上周五"), resident(1)])
    found = open_feed_file(path, "residents")
    [batch] = list(found.batches())
    result = checked(found, batch)
    assert result.bad.tolist() == [True, False]
    assert result.reasons[0] == (
        "updated_at（更新时间）不是可识别的时间（应写成 2026-03-15 08:30:00 或 2026/3/15 8:30）"
    )
    assert batch.text().column("updated_at").to_pylist() == ["上周五", "2026-11-20 08:30:00"]


def test_quarantine_text_keeps_what_arrived(tmp_path: Path) -> None:
    rows = [HEAD, resident(0, lat="北纬36度", phone=" +86 138-1234-5678 ")]
    found = open_feed_file(xlsx(tmp_path / "t.xlsx", {"Sheet1": rows}), "residents")
    [batch] = list(found.batches())
    text = batch.text()
    assert text.schema.names == found.text_columns == FEEDS["residents"].column_names
    assert text.column("lat").to_pylist() == ["北纬36度"]
    assert text.column("phone").to_pylist() == [" +86 138-1234-5678 "]
    assert batch.problems.tolist() == ["lat（纬度）不是数字"]


# ---------------------------------------------------------------- Parquet, as today


def test_parquet_is_read_as_before(tmp_path: Path) -> None:
    frame = {name: [v] for name, v in zip(FEEDS["residents"].column_names, resident(0), strict=True)}
    frame["extra"] = ["x"]
    pq.write_table(pa.table(frame), tmp_path / "r.parquet")
    found, out, numbers, problems = read_all(tmp_path / "r.parquet")
    assert found.format == "parquet" and found.num_rows == 1 and numbers == [0] and problems == [None]
    assert out[0]["extra"] == "x" and found.text_columns == [*FEEDS["residents"].column_names, "extra"]
    del frame["status"]
    pq.write_table(pa.table(frame), tmp_path / "m.parquet")
    assert open_feed_file(tmp_path / "m.parquet", "residents").refusal.reason.startswith("缺少必需列 status")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert open_feed_file(tmp_path / "bad.parquet", "residents").refusal.unreadable


# ---------------------------------------------------------------- the accepted names


def test_header_keys_normalise_what_clerks_write() -> None:
    assert header_key("  身份\n证号 ") == "身份证号"
    assert header_key("＊姓名：") == "姓名"
    assert header_key("ID_Number") == "id_number"


def test_every_feed_accepts_the_contract_names(tmp_path: Path) -> None:
    rows = [FEEDS["residents"].column_names, resident(0)]
    found, out, _, _ = read_all(csv_file(tmp_path / "en.csv", rows))
    assert found.refusal is None and out[0]["id_number"] == IDS[0]


def test_administrator_adds_names_in_reference(tmp_path: Path) -> None:
    (tmp_path / "column_names.toml").write_text(
        '[residents]\nid_number = ["证件号"]\nname = "名字"\n', "utf-8"
    )
    names = load_header_names(tmp_path)
    assert names.source == "column_names.toml"
    rows = [["证件号", "名字", *HEAD[2:]], resident(0)]
    path = xlsx(tmp_path / "alias.xlsx", {"Sheet1": rows})
    assert open_feed_file(path, "residents").refusal is not None  # not with the built-in names
    found, out, _, _ = read_all(path, names=names)
    assert found.refusal is None and found.mapping["id_number"] == "证件号" and out[0]["name"] == NAMES[0]


def test_administrator_names_in_csv(tmp_path: Path) -> None:
    (tmp_path / "column_names.csv").write_bytes(
        "feed,column,name\nregistrations,site,地点\n".encode("gb18030")
    )
    names = load_header_names(tmp_path)
    assert names["registrations"].column_for("地点") == "site"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[residents]\nphone = ["姓名"]\n', "列名 “姓名” 同时对应 residents 的 name 和 phone"),
        ('[people]\nname = ["名字"]\n', "未知的数据源 people"),
        ('[residents]\nnickname = ["昵称"]\n', "residents 没有列 nickname"),
        ("[residents\n", "格式错误"),
    ],
)
def test_administrator_names_that_cannot_be_used(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "column_names.toml").write_text(text, "utf-8")
    with pytest.raises(IngestError, match=re.escape(words)):
        load_header_names(tmp_path)


def test_readme_lists_the_accepted_names() -> None:
    readme = README.read_text(encoding="utf-8")
    start, end = "<!-- column-names:start -->\n", "<!-- column-names:end -->"
    assert start in readme and end in readme, "README needs the 接入 Excel / CSV table between the markers"
    block = readme[readme.index(start) + len(start) : readme.index(end)]
    expected = markdown_table()
    assert block.strip() == expected.strip(), (
        "README's table of accepted column names differs from wangtai/ingest/readers/headers.py; "
        "replace the block between the markers with wangtai.ingest.readers.headers.markdown_table()"
    )


def test_markdown_table_follows_the_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from wangtai.ingest.readers import headers

    changed = {**headers.COLUMNS, "houses": {**headers.COLUMNS["houses"], "estate": (("楼盘", "小区名"), "")}}
    monkeypatch.setattr(headers, "COLUMNS", changed)
    assert "| `estate` | 楼盘、小区名 |" in markdown_table()


def test_bad_rows_problem_mask_matches() -> None:
    """ReadBatch.bad is exactly the rows with a reader problem."""
    from wangtai.ingest.readers.feedfile import _is_set_mask

    assert _is_set_mask(np.array([None, "x", None], dtype=object)).tolist() == [False, True, False]


def test_recognise_feed_from_the_first_rows(tmp_path: Path) -> None:
    scans = [
        ["扫码编号", "扫码时间", "身份证号", "单位编码", "渠道", "场所"],
        ["S1", "2026-11-20 08:00", IDS[0], "U", "扫码自助", "其他"],
    ]
    assert recognise_feed(csv_file(tmp_path / "s.csv", [["标题"], *scans], "gb18030", "\t")) == [
        "registrations"
    ]
    assert recognise_feed(csv_file(tmp_path / "r.csv", [HEAD, resident(0)], "utf-8-sig")) == ["residents"]
    frame = {name: [v] for name, v in zip(FEEDS["residents"].column_names, resident(0), strict=True)}
    pq.write_table(pa.table(frame), tmp_path / "r.parquet")
    assert recognise_feed(tmp_path / "r.parquet") == ["residents"]
    assert recognise_feed(csv_file(tmp_path / "x.csv", [["证件", "名字"], [IDS[0], NAMES[0]]])) == []
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    assert recognise_feed(tmp_path / "x.pdf") == []


def test_csv_data_rows_with_a_trailing_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"
    path.write_text(",".join(HEAD) + "\n" + "".join(",".join(resident(i)) + ",\n" for i in range(3)), "utf-8")
    found, out, numbers, _ = read_all(path)
    assert found.refusal is None and numbers == [2, 3, 4] and [r["name"] for r in out] == NAMES[:3]


def test_every_refusal_is_chinese_and_private(tmp_path: Path) -> None:
    """Each way a file is refused, built here, gives a Chinese reason with no personal value in it."""
    people = [resident(i) for i in range(5)]
    made = {
        "zero.csv": b"",
        "doc.doc": b"x",
        "pdf.xlsx": b"%PDF-1.4",
        "binary.csv": b"\x00\x01" * 100,
        "big5.csv": ",".join(HEAD).encode("gb18030") + b"\r\n\x80\xff\r\n",
    }
    for name, raw in made.items():
        (tmp_path / name).write_bytes(raw)
    xlsx(
        tmp_path / "numbers.xlsx",
        {"S": [HEAD, *[resident(i, id_number=float(IDS[i][:17])) for i in range(5)]]},
    )
    xlsx(tmp_path / "two.xlsx", {"A": [HEAD, *people], "B": [HEAD, *people]})
    xlsx(tmp_path / "none.xlsx", {"A": [["证件", "名字"], *[[IDS[i], NAMES[i]] for i in range(5)]]})
    xlsx(tmp_path / "missing.xlsx", {"A": [HEAD[:5], *[p[:5] for p in people]]})
    xlsx(tmp_path / "empty.xlsx", {"A": []})
    csv_file(tmp_path / "pipe.csv", [HEAD, *people], delimiter="|")
    csv_file(tmp_path / "ragged.csv", [HEAD, people[0], people[1][:4]])
    csv_file(tmp_path / "nohead.csv", [[IDS[i], NAMES[i], PHONES[i]] for i in range(5)])
    csv_file(tmp_path / "sci.csv", [HEAD, *[resident(i, id_number="3.70211E+17") for i in range(5)]])
    reasons = {path.name: open_feed_file(path, "residents").refusal for path in sorted(tmp_path.iterdir())}
    assert all(reasons.values()), [name for name, refusal in reasons.items() if refusal is None]
    for name, refusal in reasons.items():
        assert re.search(r"[\u4e00-\u9fff]", refusal.reason), name
        assert_private(refusal.reason)
