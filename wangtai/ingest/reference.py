"""Reference data (DATA_CONTRACT.md §2) → warehouse/reference/*.parquet, rewritten when the source changes."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from shapely.geometry import shape

from wangtai.contract import CAMPAIGN_KEYS, COMMUNITY_COLUMNS, TABLES, UNIT_COLUMNS, arrow_schema
from wangtai.ingest.errors import IngestError
from wangtai.ingest.pii import mask_names, mask_phones
from wangtai.ingest.reasons import ROW_NUMBERS, column_label, first_failing_row, without_values
from wangtai.ingest.store import write_table
from wangtai.paths import DataPaths

SOURCE_META = "wangtai_source_sha256"

COMMUNITIES_SCHEMA = arrow_schema(TABLES["ref_communities"])
UNITS_SCHEMA = arrow_schema(TABLES["ref_units"])
BOUNDARIES_SCHEMA = arrow_schema(TABLES["ref_boundaries"])
CAMPAIGN_SCHEMA = arrow_schema(TABLES["ref_campaign"])


@dataclass
class Reference:
    """What validation needs: the known community codes and unit ids."""

    community_codes: pa.Array
    unit_ids: pa.Array


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source(paths: DataPaths, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        candidate = paths.reference / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    return None


def _unchanged(target: Path, sha: str) -> bool:
    if not target.exists():
        return False
    try:
        meta = pq.read_schema(target).metadata or {}
    except Exception:
        return False
    return meta.get(SOURCE_META.encode()) == sha.encode()


def _read_table(path: Path, string_columns: tuple[str, ...]) -> pa.Table:
    try:
        if path.suffix == ".csv":
            header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)).column_names
            types = {c: pa.string() for c in header if c in string_columns}
            return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
        return pq.read_table(path)
    except Exception as error:
        raise IngestError(f"参考数据 {path.name} 无法读取：{without_values(error)}") from error


def _require(table: pa.Table, columns: tuple[str, ...], file_name: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise IngestError(
            f"参考数据 {file_name} 缺少必需列 {'、'.join(missing)}（应包含：{'、'.join(columns)}）。"
        )


def _casts(array: pa.Array, target: pa.DataType) -> bool:
    try:
        pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _column(table: pa.Table, name: str, target: pa.DataType, file_name: str) -> pa.Array:
    """A column in its type; if it cannot be, an error naming the column and the first row, not the value
    (the units file holds the administrators' names and phones)."""
    array = table.column(name).combine_chunks()
    try:
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        row = first_failing_row(array, lambda part: _casts(part, target))
        where = f"第 {row + 1} 行起" if row is not None else ""
        raise IngestError(
            f"参考数据 {file_name} 的列 {column_label(name)}应为 {target}，实际为 {array.type}，"
            f"{where}无法转换（{ROW_NUMBERS}）。"
        ) from error


def _text(table: pa.Table, name: str, file_name: str) -> pa.Array:
    return _column(table, name, pa.string(), file_name)


def _unique_or_fail(values: pa.Array, column: str, file_name: str) -> None:
    if pc.count_distinct(values).as_py() != len(values) or values.null_count:
        raise IngestError(f"参考数据 {file_name} 的 {column} 有重复或空值，应唯一。")


def _communities(path: Path) -> pa.Table:
    raw = _read_table(path, (*COMMUNITY_COLUMNS, "assumed"))
    _require(raw, COMMUNITY_COLUMNS, path.name)
    codes = _text(raw, "community_code", path.name)
    _unique_or_fail(codes, "community_code", path.name)
    if "assumed" in raw.column_names:
        assumed = pc.fill_null(_column(raw, "assumed", pa.bool_(), path.name), False)
    else:
        assumed = pa.array([False] * raw.num_rows, pa.bool_())
    return pa.table(
        [
            codes,
            _text(raw, "name", path.name),
            _text(raw, "kind", path.name),
            _text(raw, "area", path.name),
            assumed,
        ],
        schema=COMMUNITIES_SCHEMA,
    )


def _units(path: Path, community_codes: pa.Array) -> pa.Table:
    raw = _read_table(path, tuple(c for c in UNIT_COLUMNS if c not in ("lat", "lon")))
    _require(raw, UNIT_COLUMNS, path.name)
    ids = _text(raw, "unit_id", path.name)
    _unique_or_fail(ids, "unit_id", path.name)
    codes = _text(raw, "community_code", path.name)
    unknown = pc.invert(pc.is_in(codes, value_set=community_codes))
    if pc.any(unknown).as_py():
        bad = sorted(set(codes.filter(unknown).to_pylist()), key=str)[:5]
        raise IngestError(f"参考数据 {path.name} 中的 community_code {bad} 不在社区列表中。")
    return pa.table(
        [
            ids,
            _text(raw, "name", path.name),
            _text(raw, "unit_type", path.name),
            codes,
            mask_names(_text(raw, "admin_name", path.name)),
            mask_phones(_text(raw, "admin_phone", path.name)),
            _column(raw, "lat", pa.float64(), path.name),
            _column(raw, "lon", pa.float64(), path.name),
        ],
        schema=UNITS_SCHEMA,
    )


def _boundaries(path: Path) -> pa.Table:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        rows = []
        for feature in collection["features"]:
            geometry = feature["geometry"]
            centroid = shape(geometry).centroid
            rows.append(
                {
                    "community_code": str(feature["properties"]["community_code"]),
                    "geojson": json.dumps(geometry, ensure_ascii=False, separators=(",", ":")),
                    "centroid_lat": centroid.y,
                    "centroid_lon": centroid.x,
                }
            )
    except Exception as error:
        raise IngestError(f"参考数据 {path.name} 不是有效的 GeoJSON FeatureCollection：{error}") from error
    return pa.Table.from_pylist(rows, schema=BOUNDARIES_SCHEMA)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _campaign(path: Path) -> pa.Table:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in CAMPAIGN_KEYS if k not in data]
        if missing:
            raise ValueError(f"缺少 {'、'.join(missing)}")
        row = {
            "campaign_name": str(data["name"]),
            "start": _as_date(data["start"]),
            "deadline": _as_date(data["deadline"]),
            "target_rate": float(data["target_rate"]),
        }
        if not 0 <= row["target_rate"] <= 1:
            raise ValueError("target_rate 应在 0 到 1 之间")
    except Exception as error:
        raise IngestError(
            f"参考数据 {path.name} 无效（应含 name、start、deadline、target_rate）：{error}"
        ) from error
    return pa.Table.from_pylist([row], schema=CAMPAIGN_SCHEMA)


def ingest_reference(paths: DataPaths) -> Reference:
    """Bring warehouse/reference/ up to date and return what validation needs.

    communities and units are required (validation checks against them); boundaries and campaign are
    optional. Raises IngestError (in Chinese, naming the file) when reference data is missing or broken.
    """
    out = paths.warehouse / "reference"
    community_src = _source(paths, "communities")
    unit_src = _source(paths, "units")
    if community_src is None or unit_src is None:
        missing = [n for n, p in (("communities", community_src), ("units", unit_src)) if p is None]
        raise IngestError(
            f"缺少参考数据 reference/{'、'.join(missing)}（.parquet 或 .csv），无法校验收件箱中的文件。"
        )

    sha = _sha256(community_src)
    target = out / "communities.parquet"
    if _unchanged(target, sha):
        communities = pq.read_table(target)
    else:
        communities = _communities(community_src)
        write_table(communities, target, {SOURCE_META: sha})
    codes = communities.column("community_code").combine_chunks()

    # units depend on communities too (the check), so key their freshness on both sources
    sha = hashlib.sha256((_sha256(unit_src) + sha).encode()).hexdigest()
    target = out / "units.parquet"
    if _unchanged(target, sha):
        units = pq.read_table(target)
    else:
        units = _units(unit_src, codes)
        write_table(units, target, {SOURCE_META: sha})

    for name, builder in (("boundaries.geojson", _boundaries), ("campaign.toml", _campaign)):
        source = paths.reference / name
        if not source.exists():
            continue
        sha = _sha256(source)
        target = out / f"{name.split('.')[0]}.parquet"
        if not _unchanged(target, sha):
            write_table(builder(source), target, {SOURCE_META: sha})

    return Reference(community_codes=codes, unit_ids=units.column("unit_id").combine_chunks())
