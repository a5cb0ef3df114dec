"""The Excel import templates (issue 13): read back by the readers to exactly the contract's columns, the
example row passing validate.py's checks (and refused by the reader, so that it is never ingested)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from wangtai.cli import main
from wangtai.contract import FEEDS
from wangtai.idnumber import is_valid
from wangtai.ingest.readers import merge_problems, open_feed_file
from wangtai.ingest.readers.examples import EXAMPLE_ID, EXAMPLE_ROW_REASON, example_row
from wangtai.ingest.readers.headers import label
from wangtai.ingest.readers.template import example_codes, template_bytes, write_template
from wangtai.ingest.reference import Reference, ingest_reference
from wangtai.ingest.validate import ARROW_TYPES, cast_batch, check_rows
from wangtai.paths import DataPaths

NOW = datetime(2026, 11, 27, 10, 30)


def reference_for(codes: tuple[str, str]) -> Reference:
    return Reference(pa.array([codes[0]]), pa.array([codes[1]]))


@pytest.mark.parametrize("feed", list(FEEDS))
def test_template_reads_back_to_the_contract_and_passes_the_checks(tmp_path: Path, feed: str) -> None:
    codes = ("370211100200", "WG370211100200")
    path = tmp_path / f"{feed}.xlsx"
    path.write_bytes(template_bytes(feed, codes))
    found = open_feed_file(path, feed)
    assert found.refusal is None, found.refusal
    assert list(found.mapping) == FEEDS[feed].column_names and found.absent == [] and found.unused == []
    assert found.sheet == FEEDS[feed].label and found.header_rows == (1, 1) and found.num_rows == 1
    [batch] = list(found.batches())
    schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in FEEDS[feed].columns])
    assert batch.batch.schema == schema and batch.rows.tolist() == [2]
    assert batch.batch.to_pylist() == [example_row(feed, *codes)]
    checked = check_rows(FEEDS[feed], cast_batch(batch.batch, FEEDS[feed]), reference_for(codes), NOW)
    assert not checked.bad.any(), checked.reasons  # the example is a valid row …
    assert batch.problems.tolist() == [EXAMPLE_ROW_REASON]  # … that the reader never lets in
    assert merge_problems(checked, batch).reasons.tolist() == [EXAMPLE_ROW_REASON]


def test_the_example_id_number_is_valid_and_nobody_s() -> None:
    assert is_valid(EXAMPLE_ID) and EXAMPLE_ID[:6] == "370299"  # 370299: no county has this code


def test_template_columns_formats_and_instructions(tmp_path: Path) -> None:
    path = write_template("residents", tmp_path / "r.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["实有人口", "填写说明"]
    sheet = book["实有人口"]
    head = [c.value for c in sheet[1]]
    assert head == [label("residents", c) for c in FEEDS["residents"].column_names]
    for column in ("A", "C", "E", "F"):  # 身份证号, 联系电话, 社区代码, 管理单位编码: text, kept as typed
        assert sheet.column_dimensions[column].number_format == "@"
        assert sheet[f"{column}2"].number_format == "@" and isinstance(sheet[f"{column}2"].value, str)
    assert sheet["K2"].number_format == "yyyy-mm-dd" and sheet["M2"].number_format == "yyyy-mm-dd hh:mm:ss"
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["D2:D10001"] == '"户籍人口,流动人口"' and lists["L2:L10001"] == '"在住,离开"'
    rows = [[c.value for c in row] for row in book["填写说明"].iter_rows()]
    by_name = {row[1]: row for row in rows if row[1] in FEEDS["residents"].column_names}
    assert by_name["id_number"][:3] == ["身份证号", "id_number", "必填"]
    assert by_name["phone"][2] == "可空" and "公民身份号码" in by_name["id_number"][5]
    assert by_name["reason"][4] == "只能填：务工、经商、随迁、就学、投靠、其他"
    assert any("第 2 行是虚构的示例" in str(row[0]) for row in rows)


def test_wangtai_template_uses_the_installed_reference(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    paths = DataPaths(tmp_path / "data").ensure()
    (paths.reference / "communities.csv").write_text(
        "community_code,name,kind,area\n370211100200,王台东村,村委会,中心片区\n", encoding="utf-8"
    )
    (paths.reference / "units.csv").write_text(
        "unit_id,name,unit_type,community_code,admin_name,admin_phone,lat,lon\n"
        "WG370211100200,王台东村网格,网格村,370211100200,王小明,13812345678,36.07,120.0\n",
        encoding="utf-8",
    )
    (paths.reference / "boundaries.geojson").write_text('{"type":"FeatureCollection","features":[]}', "utf-8")
    (paths.reference / "campaign.toml").write_text(
        'name = "一家亲扫码登记"\nstart = 2026-09-01\ndeadline = 2026-12-31\ntarget_rate = 0.9\n', "utf-8"
    )
    reference = ingest_reference(paths)
    assert example_codes(paths) == ("370211100200", "WG370211100200")
    out = tmp_path / "扫码登记模板.xlsx"
    assert main(["--data-dir", str(paths.root), "template", "registrations", "-o", str(out)]) == 0
    assert "已生成一家亲扫码登记（registrations）的导入模板" in capsys.readouterr().out
    [batch] = list(open_feed_file(out, "registrations").batches())
    checked = check_rows(
        FEEDS["registrations"], cast_batch(batch.batch, FEEDS["registrations"]), reference, NOW
    )
    assert not checked.bad.any(), checked.reasons


def test_example_codes_before_any_reference(tmp_path: Path) -> None:
    assert example_codes(DataPaths(tmp_path)) is None
