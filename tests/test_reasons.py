"""Refusal reasons never quote a personal value (issue 12 item 5, DATA_CONTRACT.md §5): a table of hostile
inbox files — id numbers damaged into numbers by Excel, columns shifted so that ids, names and phones sit
where dates and coordinates belong — and bad reference data. Each reason (manifest, quarantine ``_reasons``,
the log line) names the column in Chinese and the row, and holds none of the file's ids, names or phones."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from tests.test_ingest import NOW, drop, manifest, quarantined_rows, residents, write_reference
from wangtai.contract import FEEDS
from wangtai.ingest import IngestError, ingest_all
from wangtai.ingest.reasons import without_values
from wangtai.ingest.validate import CastFailure, cast_batch
from wangtai.paths import DataPaths

N = 8


def _numeric_ids() -> pd.DataFrame:
    """Residents whose id numbers end in a digit (a number column cannot hold an X)."""
    frame = residents(3 * N)
    return frame[~frame["id_number"].str.endswith("X")].head(N).reset_index(drop=True)


def _ids_as_int() -> pd.DataFrame:
    frame = _numeric_ids()
    frame["id_number"] = frame["id_number"].astype("int64")
    return frame


def _ids_as_float() -> pd.DataFrame:
    frame = _numeric_ids()
    frame["id_number"] = frame["id_number"].astype("float64")  # Excel: 15 significant digits
    return frame


def _ids_in_arrival_date() -> pd.DataFrame:
    """A column shifted: from the third row on, arrival_date holds the id numbers."""
    frame = residents(N).astype(object)
    frame["arrival_date"] = [None, None, *frame["id_number"][2:]]
    return frame


def _names_in_lat() -> pd.DataFrame:
    frame = residents(N).astype(object)
    frame["lat"] = ["36.05", *frame["name"][1:]]
    return frame


def _phones_in_updated_at() -> pd.DataFrame:
    frame = residents(N).astype(object)
    frame["updated_at"] = frame["phone"].fillna("13800000000")
    return frame


def _bad_rows() -> pd.DataFrame:
    """Row-level refusals whose values are personal: a wrong check character, a 10-digit phone, a name in the
    population type."""
    frame = residents(N).astype(object)
    frame.at[0, "id_number"] = frame.at[0, "id_number"][:17] + (
        "0" if frame.at[0, "id_number"][17] != "0" else "1"
    )
    frame.at[1, "phone"] = "1381234567"
    frame.at[2, "population_type"] = frame.at[2, "name"]
    frame.at[3, "reason"] = "13812345678"
    return frame


# case → (file, whole file refused?, words every reason must hold)
CASES = {
    "ids_as_int": (_ids_as_int, True, ["身份证号（id_number）", "文本"]),
    "ids_as_float": (_ids_as_float, True, ["身份证号（id_number）", "文本"]),
    "ids_in_arrival_date": (_ids_in_arrival_date, True, ["来王台日期（arrival_date）", "第 3 行起", "从 1"]),
    "names_in_lat": (_names_in_lat, True, ["纬度（lat）", "第 2 行起"]),
    "phones_in_updated_at": (_phones_in_updated_at, True, ["更新时间（updated_at）", "第 1 行起"]),
    "bad_rows": (_bad_rows, False, []),
}  # fmt: skip


def _personal(frame: pd.DataFrame) -> set[str]:
    """Every id number, name and phone of the file, as text (and numbers as the digits they were)."""
    values = set()
    for column in ("id_number", "name", "phone"):
        for value in frame[column].dropna():
            values.add(str(value))
            if isinstance(value, float) and value.is_integer():
                values.add(str(int(value)))
    values |= {v[:10] for v in values if len(v) >= 10}  # a truncated quote ("4114212003…") counts too
    return values


@pytest.fixture
def paths(tmp_path) -> DataPaths:
    data = DataPaths(tmp_path / "data")
    write_reference(data)
    return data


@pytest.mark.parametrize("case", list(CASES))
def test_reasons_name_the_column_never_the_value(paths: DataPaths, case: str, caplog):
    make, whole, words = CASES[case]
    frame = make()
    drop(paths, "residents", frame, f"{case}.parquet")
    with caplog.at_level(logging.INFO, logger="wangtai.ingest"):
        [result] = ingest_all(paths, now=NOW)
    reasons = [result.reason or "", result.describe(), caplog.text]
    row = manifest(paths).iloc[0]
    reasons.append(row.reason or "")
    if whole:
        assert result.outcome == "refused", result.describe()
        for word in words:
            assert word in row.reason, row.reason
    else:
        assert result.quarantined == 4, result.describe()
        bad = quarantined_rows(paths, "residents")
        expected = ["身份证号（id_number）校验位错误", "电话（phone）应为 11 位数字",
                    "人口类型（population_type）", "来王台原因（reason）"]  # fmt: skip
        for text, word in zip(bad["_reasons"], expected, strict=True):
            assert word in text, text
        reasons += list(bad["_reasons"])
    text = "\n".join(reasons)
    leaked = sorted(v for v in _personal(frame) if v in text)
    assert not leaked, f"{case}: {leaked} in {text}"


def test_the_row_number_counts_from_the_first_row_of_the_file():
    """A file is read 500,000 rows at a time; the row a refusal names is the file's, not the batch's."""
    frame = residents(4).astype(object)
    frame["lat"] = ["36.05", "36.05", "张三丰", "36.05"]
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    with pytest.raises(CastFailure, match="第 1000003 行起"):
        cast_batch(batch, FEEDS["residents"], first_row=1_000_000)


def test_bad_reference_data_is_described_without_its_values(paths: DataPaths):
    """The units file holds administrators' names and phones: shifted into the coordinates, they must not
    reach the error an operator sees (or the log)."""
    units = paths.reference / "units.csv"
    lines = units.read_text(encoding="utf-8").splitlines()
    lines[2] = "U-201,王台西村,网格村,370211100201,欧阳娜娜,13912345678,欧阳娜娜,13912345678"
    units.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest_all(paths, now=NOW)
    message = str(caught.value)
    assert "纬度（lat）" in message and "第 2 行起" in message
    assert "欧阳娜娜" not in message and "13912345678" not in message


def test_library_errors_lose_their_quoted_values():
    detail = (
        "Invalid: Failed to parse string: '411421200301011234' as a scalar of type date32; 电话 13812345678"
    )
    clean = without_values(detail)
    assert "411421200301011234" not in clean and "13812345678" not in clean
    assert "Failed to parse string" in clean and "date32" in clean
    assert without_values("Row #3: invalid value “张三丰”") == "Row #3: invalid value “…”"


def test_an_id_column_of_text_is_not_refused_for_its_type(paths: DataPaths):
    """Only a number column is refused whole: dictionary-encoded text is text."""
    frame = residents(N)
    frame["id_number"] = frame["id_number"].astype("category")
    frame["arrival_date"] = [date(2025, 1, 1)] * N
    drop(paths, "residents", frame, "ok.parquet")
    [result] = ingest_all(paths, now=NOW)
    assert result.outcome == "accepted" and result.accepted == N, result.describe()
