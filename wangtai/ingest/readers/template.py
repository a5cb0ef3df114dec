"""The Excel template of a feed: Chinese headers, text-formatted id and code columns, one synthetic example
row, drop-down lists for the enumerated columns, and a 填写说明 sheet (each column's meaning, whether it is
required, its format or allowed values, the other names it may have).

    template_bytes(feed, codes=None) -> bytes          # for a download button
    write_template(feed, path, codes=None) -> Path     # `wangtai template FEED -o FILE`
    example_codes(paths) -> (community_code, unit_id) | None   # from the ingested reference data
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from wangtai.contract import FEEDS, Column
from wangtai.ingest.readers.examples import EXAMPLE_ROW_REASON, example_row
from wangtai.ingest.readers.headers import COLUMNS, description, label
from wangtai.paths import DataPaths

TEMPLATE_ROWS = 10_000  # rows given the drop-down lists
FORMATS = {
    "string": "@",  # text: Excel keeps an 18-digit id number and leading zeros as typed
    "date32": "yyyy-mm-dd",
    "timestamp[us]": "yyyy-mm-dd hh:mm:ss",
    "int64": "0",
    "double": "0.000000",
}
FORMAT_TEXT = {
    "string": "文本",
    "date32": "日期，如 2026-03-15（也可写 2026/3/15、2026年3月15日）",
    "timestamp[us]": "时间，如 2026-03-15 08:30:00（也可写 2026/3/15 8:30）",
    "int64": "整数",
    "double": "小数",
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _format_text(feed: str, column: Column) -> str:
    if column.enum:
        return "只能填：" + "、".join(column.enum)
    if column.name == "id_number":
        return "文本，18 位（末位可为 X）"
    if column.name == "phone":
        return "文本，11 位数字"
    return FORMAT_TEXT[column.type]


def template_workbook(feed_name: str, codes: tuple[str, str] | None = None) -> Workbook:
    feed = FEEDS[feed_name]
    example = example_row(feed_name, *(codes or ()))
    book = Workbook()
    sheet = book.active
    sheet.title = feed.label
    for j, column in enumerate(feed.columns, start=1):
        letter = get_column_letter(j)
        head = sheet.cell(row=1, column=j, value=label(feed_name, column.name))
        head.font, head.fill = Font(bold=True), _HEADER_FILL
        head.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[letter].width = 22 if column.type != "string" or column.pii else 16
        # the column's format: Excel gives it to every cell typed in the column
        sheet.column_dimensions[letter].number_format = FORMATS[column.type]
        sheet.cell(row=2, column=j, value=example[column.name]).number_format = FORMATS[column.type]
        if column.enum:
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(column.enum) + '"',
                allow_blank=column.nullable,
                showErrorMessage=True,
                errorTitle="取值不在允许范围内",
                error="只能填：" + "、".join(column.enum),
            )
            rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    _instructions(book.create_sheet("填写说明"), feed_name)
    return book


def _instructions(sheet, feed_name: str) -> None:
    feed = FEEDS[feed_name]
    lines = [
        f"{feed.label}（{feed_name}）导入模板 · 填写说明",
        f"在「{feed.label}」工作表中从第 2 行起每行填一条；第 2 行是虚构的示例，请删除后再填写"
        f"（示例行不会入库：{EXAMPLE_ROW_REASON}）。",
        "身份证号、电话、各种编码列已设为文本格式，请不要改成数字格式"
        "（否则 Excel 会把身份证号变成 3.70211E+17，后几位丢失）。",
        "不要改动第 1 行的列名；可以删去可空的列。填好后直接放入收件箱，或在「数据导入」页上传。",
        "",
    ]
    for text in lines:
        sheet.append([text])
    sheet["A1"].font = Font(bold=True, size=13)
    header = ["列名", "字段", "是否必填", "含义", "格式或允许值", "也可用的列名"]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
    for column in feed.columns:
        names = COLUMNS[feed_name][column.name][0]
        sheet.append(
            [
                names[0],
                column.name,
                "可空" if column.nullable else "必填",
                description(feed_name, column.name),
                _format_text(feed_name, column),
                "、".join(names[1:]) or "—",
            ]
        )
    for letter, width in zip("ABCDEF", (16, 18, 10, 44, 44, 36), strict=True):
        sheet.column_dimensions[letter].width = width


def template_bytes(feed_name: str, codes: tuple[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    template_workbook(feed_name, codes).save(out)
    return out.getvalue()


def write_template(feed_name: str, path: str | Path, codes: tuple[str, str] | None = None) -> Path:
    path = Path(path)
    path.write_bytes(template_bytes(feed_name, codes))
    return path


def example_codes(paths: DataPaths) -> tuple[str, str] | None:
    """A community code and a unit of it from the ingested reference data (so that the example row passes
    the checks on this installation); None before reference data was ingested."""
    folder = paths.warehouse / "reference"
    try:
        units = pq.read_table(folder / "units.parquet", columns=["unit_id", "community_code"]).to_pylist()
    except (FileNotFoundError, OSError):
        return None
    if not units:
        return None
    first = min(units, key=lambda u: (u["community_code"], u["unit_id"]))
    return first["community_code"], first["unit_id"]
