"""Casting a batch to the contract, row checks (DATA_CONTRACT.md §4) and the warehouse rows (§5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import (
    ARROW_TYPES,
    BOUNDS,
    CELL_LAT_DEG,
    CELL_LON_DEG,
    FEEDS,
    FUTURE_TOLERANCE_SECONDS,
    Column,
    Feed,
    arrow_schema,
    warehouse_columns,
)
from wangtai.ingest.pii import mask_ids, mask_names, mask_phones, minors, parse_ids, person_keys
from wangtai.ingest.reasons import ROW_NUMBERS, column_label, first_failing_row
from wangtai.ingest.reference import Reference

TYPE_LABELS = {
    "string": "文本",
    "double": "小数（double）",
    "int64": "整数（int64）",
    "date32": "日期（如 2026-03-15）",
    "timestamp[us]": "时间（如 2026-03-15 08:30:00）",
}

WAREHOUSE_SCHEMAS: dict[str, pa.Schema] = {feed: arrow_schema(warehouse_columns(feed)) for feed in FEEDS}

# Columns holding a time that must not be in the future (the contract's "not in the future", plus the
# arrival date, which cannot be later than today either).
FUTURE_COLUMNS = ("updated_at", "surveyed_at", "scanned_at", "received_at", "arrival_date")
NON_NEGATIVE_COLUMNS = ("occupants",)


class CastFailure(Exception):
    """A column cannot be cast to its contract type: the whole file is refused. The message names the column
    and the first row that fails, never a value (a value may be personal: DATA_CONTRACT.md §5)."""


def _is_text(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_null(data_type)


def _convert(array: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(array.type) and array.type.tz is not None:
        array = pc.local_timestamp(pc.cast(array, pa.timestamp(array.type.unit, "Asia/Shanghai")))
    temporal = pa.types.is_temporal(array.type) and pa.types.is_temporal(target)
    return pc.cast(array, target, safe=not temporal)


def _converts(array: pa.Array, target: pa.DataType) -> bool:
    try:
        _convert(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _cast_column(array: pa.Array, column: Column, first_row: int) -> pa.Array:
    target = ARROW_TYPES[column.type]
    if array.type == target:
        return array
    if column.name == "id_number" and not _is_text(array.type):
        # a number column has lost the check character X and, as a float, the last digits (Excel)
        raise CastFailure(
            f"列 {column_label(column.name)}应为文本，实际为 {array.type}（数字）：身份证号存成数字会丢失"
            "末位 X 和精度（常见于 Excel 导出），请按文本导出后重新提交"
        )
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    try:
        return _convert(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        row = first_failing_row(array, lambda part: _converts(part, target))
        where = f"第 {first_row + row + 1} 行起" if row is not None else ""
        raise CastFailure(
            f"列 {column_label(column.name)}应为{TYPE_LABELS[column.type]}，实际为 {array.type}，"
            f"{where}无法转换（{ROW_NUMBERS}）"
        ) from error


def cast_batch(batch: pa.RecordBatch, feed: Feed, first_row: int = 0) -> dict[str, pa.Array]:
    """The batch's columns in their contract types; ``first_row`` is the batch's first row in its file (for
    the row number a refusal names)."""
    return {c.name: _cast_column(batch.column(c.name), c, first_row) for c in feed.columns}


def as_text(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """Every column of the original rows as text (quarantine keeps what arrived)."""
    out = {}
    for name, array in zip(batch.schema.names, batch.columns, strict=True):
        try:
            out[name] = pc.cast(array, pa.string())
        except Exception:
            out[name] = pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    return out


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


def _inside(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (
            (lat >= BOUNDS["lat_min"])
            & (lat <= BOUNDS["lat_max"])
            & (lon >= BOUNDS["lon_min"])
            & (lon <= BOUNDS["lon_max"])
        )


@dataclass
class Checked:
    """One batch after the row checks."""

    columns: dict[str, pa.Array]  # cast to the contract types (id_number upper-cased)
    bad: np.ndarray  # row refused
    reasons: np.ndarray  # object array: Chinese reasons joined by "；" where bad
    key: pa.Array  # the dedup key (int64 for id numbers, else the key column)
    ids: object  # ParsedIds or None


def check_rows(feed: Feed, columns: dict[str, pa.Array], reference: Reference, now: datetime) -> Checked:
    n = len(next(iter(columns.values())))
    checks: list[tuple[np.ndarray, str]] = []
    missing_in: dict[str, np.ndarray] = {}

    for column in feed.columns:
        array = columns[column.name]
        if not column.nullable:
            missing = _np(pc.is_null(array))
            if column.type == "string":
                missing |= _np(pc.equal(pc.utf8_trim_whitespace(array), ""))
            checks.append((missing, f"{column_label(column.name)}为空（必填）"))
            missing_in[column.name] = missing
        if column.enum:
            outside = _np(pc.invert(pc.is_in(array, value_set=pa.array(column.enum))))
            outside &= _np(pc.is_valid(array))
            allowed = "、".join(column.enum)
            checks.append((outside, f"{column_label(column.name)}的取值不在允许范围内（应为 {allowed}）"))

    parsed = None
    if "id_number" in columns:
        ids = pc.utf8_upper(columns["id_number"])
        columns["id_number"] = ids
        parsed = parse_ids(ids, now.date())
        present = _np(pc.is_valid(ids)) & ~missing_in.get("id_number", np.zeros(n, dtype=bool))
        label = column_label("id_number")
        checks.append(
            (present & ~parsed.shape_ok, f"{label}格式错误（应为 17 位数字加 1 位数字或 X，共 18 位）")
        )
        checks.append((present & parsed.shape_ok & ~parsed.check_ok, f"{label}校验位错误（GB 11643）"))
        checks.append(
            (
                present & parsed.shape_ok & parsed.check_ok & ~parsed.date_ok,
                f"{label}中的出生日期不存在或不合理",
            )
        )

    if "phone" in columns:
        phone = columns["phone"]
        wrong = _np(pc.invert(pc.match_substring_regex(phone, r"^\d{11}$"))) & _np(pc.is_valid(phone))
        checks.append((wrong, f"{column_label('phone')}应为 11 位数字"))

    if "community_code" in columns:
        code = columns["community_code"]
        unknown = _np(pc.invert(pc.is_in(code, value_set=reference.community_codes))) & _np(pc.is_valid(code))
        checks.append(
            (
                unknown & ~missing_in["community_code"],
                f"{column_label('community_code')}不在社区参考数据中（未知社区）",
            )
        )
    if "unit_id" in columns:
        unit = columns["unit_id"]
        unknown = _np(pc.invert(pc.is_in(unit, value_set=reference.unit_ids))) & _np(pc.is_valid(unit))
        checks.append(
            (
                unknown & ~missing_in["unit_id"],
                f"{column_label('unit_id')}不在管理单元参考数据中（未知单元）",
            )
        )

    if "lat" in columns and "lon" in columns:
        lat = columns["lat"].to_numpy(zero_copy_only=False).astype(np.float64)
        lon = columns["lon"].to_numpy(zero_copy_only=False).astype(np.float64)
        present = (
            ~np.isnan(lat)
            & ~np.isnan(lon)
            & _np(pc.is_valid(columns["lat"]))
            & _np(pc.is_valid(columns["lon"]))
        )
        outside = present & ~_inside(lat, lon)
        swapped = outside & _inside(lon, lat)
        lim = f"纬度 {BOUNDS['lat_min']}–{BOUNDS['lat_max']}、经度 {BOUNDS['lon_min']}–{BOUNDS['lon_max']}"
        swap = "纬度与经度（lat、lon）疑似颠倒，交换后在范围内"
        checks.append((swapped, f"坐标不在王台街道范围内（{lim}）：{swap}"))
        checks.append((outside & ~swapped, f"坐标不在王台街道范围内（{lim}）"))

    limit = now + timedelta(seconds=FUTURE_TOLERANCE_SECONDS)
    for name in FUTURE_COLUMNS:
        if name not in columns:
            continue
        array = columns[name]
        if pa.types.is_timestamp(array.type):
            future = _np(pc.greater(array, pa.scalar(limit, pa.timestamp("us"))))
            minutes = FUTURE_TOLERANCE_SECONDS // 60
            what = f"{column_label(name)}晚于入库时间（{now:%Y-%m-%d %H:%M:%S}）超过 {minutes} 分钟"
        else:
            future = _np(pc.greater(array, pa.scalar(limit.date(), pa.date32())))
            what = f"{column_label(name)}是将来的日期（晚于 {limit:%Y-%m-%d}）"
        checks.append((future, what))

    for name in NON_NEGATIVE_COLUMNS:
        if name in columns:
            checks.append((_np(pc.less(columns[name], 0)), f"{column_label(name)}不能为负数"))

    bad = np.zeros(n, dtype=bool)
    for mask, _ in checks:
        bad |= mask
    reasons = np.full(n, None, dtype=object)
    if bad.any():
        idx = np.flatnonzero(bad)
        parts = [[] for _ in idx]
        for mask, message in checks:
            for j in np.flatnonzero(mask[idx]):
                parts[j].append(message)
        reasons[idx] = ["；".join(p) for p in parts]

    key = pa.array(parsed.key_int, pa.int64()) if feed.key == "id_number" else columns[feed.key]
    return Checked(columns=columns, bad=bad, reasons=reasons, key=key, ids=parsed)


def cell_ids(lat: pa.Array, lon: pa.Array) -> pa.Array:
    lat_np = lat.to_numpy(zero_copy_only=False).astype(np.float64)
    lon_np = lon.to_numpy(zero_copy_only=False).astype(np.float64)
    cells = np.floor(lat_np / CELL_LAT_DEG).astype(np.int64) * 1_000_000 + np.floor(
        lon_np / CELL_LON_DEG
    ).astype(np.int64)
    return pa.array(cells, pa.int64())


def arrival_after_birth_year(arrival: pa.Array, birth_year: np.ndarray) -> pa.Array:
    """The arrival date, left empty when it falls in the person's birth year or before: a child born here
    arrives on its birth date, and any arrival in the birth year bounds the birth date, which with the birth
    year and the mask would give the id number away (DATA_CONTRACT.md §5). A later arrival tells nothing."""
    year = pc.year(arrival).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        early = np.nan_to_num(year.astype(np.float64), nan=np.inf) <= birth_year
    return pc.if_else(pa.array(early), pa.scalar(None, arrival.type), arrival)


def warehouse_rows(
    feed: Feed, checked: Checked, keep: np.ndarray, batch_id: str, ingested_at: datetime, secret: bytes
) -> pa.Table:
    """The accepted rows (mask ``keep``), pseudonymized, in the warehouse layout (``ingested_at``: the batch's
    time, which decides who is a minor for the id mask)."""
    mask = pa.array(keep)
    col = {name: array.filter(mask) for name, array in checked.columns.items()}
    n = int(keep.sum())
    out: dict[str, pa.Array] = {"batch_id": pa.array(np.full(n, batch_id, dtype=object), pa.string())}
    if "id_number" in col:
        ids = col["id_number"]
        out["person_key"] = person_keys(ids, secret)
    if "lat" in col:
        out["cell_id"] = cell_ids(col["lat"], col["lon"])
    for column in feed.columns:
        if not column.pii:
            out[column.name] = col[column.name]
    if feed.name == "residents":
        parsed = checked.ids
        birth_year = parsed.birth_year[keep]
        out["id_masked"] = mask_ids(col["id_number"], minors(birth_year, ingested_at.year))
        out["name_masked"] = mask_names(col["name"])
        out["phone_masked"] = mask_phones(col["phone"])
        out["gender"] = pa.array(np.where(parsed.male[keep], "男", "女").astype(object), pa.string())
        out["birth_year"] = pa.array(birth_year, pa.int32())
        out["home_region"] = pc.utf8_slice_codeunits(col["id_number"], 0, 6)
        out["arrival_date"] = arrival_after_birth_year(col["arrival_date"], birth_year)
    schema = WAREHOUSE_SCHEMAS[feed.name]
    return pa.table([out[name] for name in schema.names], schema=schema)
