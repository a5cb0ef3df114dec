"""DATA_CONTRACT.md §2–§3 as data: the feeds, their columns, types and enumerations.

Ingest validates against this, the demo writes to it, and the docs test checks it against the contract.
Types are pyarrow type names: string, double, int64, int32, date32, timestamp[us], bool. The warehouse
layout (§5) is declared here too; the Arrow schemas ingest writes and the column lists of the staging views
are derived from it (``arrow_schema``, ``sql_columns``), so there is one schema.
"""

from dataclasses import dataclass, field

import pyarrow as pa

POPULATION_TYPES = ("户籍人口", "流动人口")
NEWCOMER = "流动人口"
REASONS = ("务工", "经商", "随迁", "就学", "投靠", "其他")
RESIDENT_STATUS = ("在住", "离开")
HOUSE_TYPES = ("自住", "出租", "宿舍", "工棚", "空置")
ARCHIVE_STATUS = ("未建档", "已建档", "已复核")
CHANNELS = ("扫码自助", "入户登记", "企业批量", "部门比对")
SITES = ("建筑工地", "公园广场", "企业厂区", "出租屋", "社区服务站", "其他")
SOURCES = ("公安", "工信", "医院", "学校")
COMMUNITY_KINDS = ("村委会", "居委会")
UNIT_TYPES = ("网格村", "居委会", "企业")

# Rough extent of the subdistrict (WGS84); a point outside is refused (catches swapped lat/lon too).
BOUNDS = {"lat_min": 35.975, "lat_max": 36.146, "lon_min": 119.935, "lon_max": 120.075}

# A time more than this past the time of ingest is "in the future" (DATA_CONTRACT.md §4).
FUTURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    pii: bool = False  # raw personal information: never written to the warehouse


@dataclass(frozen=True)
class Feed:
    name: str
    label: str  # Chinese name shown to operators
    kind: str  # "snapshot" or "increment"
    key: str  # unique within a file (snapshot) or across all files (increment)
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


FEEDS: dict[str, Feed] = {
    "residents": Feed(
        "residents",
        "实有人口",
        "snapshot",
        "id_number",
        (
            Column("id_number", "string", pii=True),
            Column("name", "string", pii=True),
            Column("phone", "string", nullable=True, pii=True),
            Column("population_type", "string", enum=POPULATION_TYPES),
            Column("community_code", "string"),
            Column("unit_id", "string"),
            Column("house_id", "string", nullable=True),
            Column("lat", "double"),
            Column("lon", "double"),
            Column("reason", "string", nullable=True, enum=REASONS),
            Column("arrival_date", "date32", nullable=True),
            Column("status", "string", enum=RESIDENT_STATUS),
            Column("updated_at", "timestamp[us]"),
        ),
    ),
    "houses": Feed(
        "houses",
        "实有房屋",
        "snapshot",
        "house_id",
        (
            Column("house_id", "string"),
            Column("community_code", "string"),
            Column("estate", "string", nullable=True),
            Column("address", "string"),
            Column("lat", "double"),
            Column("lon", "double"),
            Column("house_type", "string", enum=HOUSE_TYPES),
            Column("archive_status", "string", enum=ARCHIVE_STATUS),
            Column("occupants", "int64"),
            Column("surveyed_at", "date32", nullable=True),
        ),
    ),
    "registrations": Feed(
        "registrations",
        "一家亲扫码登记",
        "increment",
        "scan_id",
        (
            Column("scan_id", "string"),
            Column("scanned_at", "timestamp[us]"),
            Column("id_number", "string", pii=True),
            Column("unit_id", "string"),
            Column("channel", "string", enum=CHANNELS),
            Column("site", "string", enum=SITES),
        ),
    ),
    "source_records": Feed(
        "source_records",
        "部门共享数据",
        "increment",
        "record_id",
        (
            Column("record_id", "string"),
            Column("source", "string", enum=SOURCES),
            Column("id_number", "string", pii=True),
            Column("received_at", "timestamp[us]"),
            Column("detail", "string"),
        ),
    ),
}

# Reference tables (DATA_CONTRACT.md §2); files under reference/ as <name>.parquet or <name>.csv.
COMMUNITY_COLUMNS = ("community_code", "name", "kind", "area")
UNIT_COLUMNS = ("unit_id", "name", "unit_type", "community_code", "admin_name", "admin_phone", "lat", "lon")
CAMPAIGN_KEYS = ("name", "start", "deadline", "target_rate")

# Map cells (derived at ingest): 0.0015° lat × 0.002° lon ≈ 167 m × 180 m, under 250 m corner to corner.
CELL_LAT_DEG = 0.0015
CELL_LON_DEG = 0.002

# --- the warehouse (DATA_CONTRACT.md §5) ----------------------------------------------------------------

# Type name → Arrow type (what ingest and the demo write) and DuckDB type (the staging views' empty
# relations).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "double": pa.float64(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "date32": pa.date32(),
    "timestamp[us]": pa.timestamp("us"),
    "bool": pa.bool_(),
}
SQL_TYPES = {
    "string": "varchar",
    "double": "double",
    "int64": "bigint",
    "int32": "integer",
    "date32": "date",
    "timestamp[us]": "timestamp",
    "bool": "boolean",
}

# Columns ingest derives (not in any feed file): their types. The feed's own columns keep the feed's type.
DERIVED_TYPES = {
    "batch_id": "string",  # the batch the row came in
    "person_key": "string",  # keyed hash of the id number (wangtai.ingest.pii)
    "id_masked": "string",
    "name_masked": "string",
    "phone_masked": "string",
    "gender": "string",
    "birth_year": "int32",
    "home_region": "string",  # the id number's first 6 digits
    "cell_id": "int64",  # map cell of lat/lon (CELL_LAT_DEG × CELL_LON_DEG)
}

# Each feed's warehouse columns, in file order: the feed's columns minus the raw personal ones and the
# removed ones, plus the derived ones.
WAREHOUSE_COLUMNS: dict[str, tuple[str, ...]] = {
    "residents": (
        "batch_id", "person_key", "id_masked", "name_masked", "phone_masked", "gender", "birth_year",
        "home_region", "population_type", "community_code", "unit_id", "house_id", "lat", "lon", "cell_id",
        "reason", "arrival_date", "status",
    ),
    "houses": (
        "batch_id", "house_id", "community_code", "estate", "address", "lat", "lon", "cell_id", "house_type",
        "archive_status", "occupants", "surveyed_at",
    ),
    "registrations": ("batch_id", "scan_id", "scanned_at", "person_key", "unit_id", "channel", "site"),
    "source_records": ("batch_id", "record_id", "source", "person_key", "detail"),
}  # fmt: skip

# Fields older warehouses held that the current layout must not (DATA_CONTRACT.md §5): a file still holding
# one is refused by the readers and rewritten by `wangtai migrate` (wangtai.ingest.migrate). birth_date is the
# 8 digits the id mask hides; updated_at and received_at, which no figure uses, can be a newborn's birth day
# (a birth registration, a vaccination record) and bound every birth date. They are checked, not stored. The
# registrations' id_masked, which no query uses, was a full mask beside the scan time, which bounds a
# newborn's birth date: the one mask kept is the residents' (shortened for minors).
REMOVED_COLUMNS: dict[str, tuple[str, ...]] = {
    "residents": ("birth_date", "updated_at"),
    "registrations": ("id_masked",),
    "source_records": ("received_at",),
}

# The other warehouse tables ingest writes: the manifest, the decisions, the reference tables.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "manifest": (
        ("batch_id", "string"), ("feed", "string"), ("file_name", "string"), ("sha256", "string"),
        ("ingested_at", "timestamp[us]"), ("rows_in", "int64"), ("accepted", "int64"),
        ("quarantined", "int64"), ("duplicates", "int64"), ("outcome", "string"), ("reason", "string"),
        ("warehouse_file", "string"), ("quarantine_file", "string"), ("archive_file", "string"),
    ),
    "decisions": (
        ("decision_id", "string"), ("batch_id", "string"), ("decision", "string"),
        ("decided_at", "timestamp[us]"), ("operator", "string"),
    ),
    "ref_communities": (
        ("community_code", "string"), ("community_name", "string"), ("kind", "string"), ("area", "string"),
        ("assumed", "bool"),
    ),
    "ref_units": (
        ("unit_id", "string"), ("unit_name", "string"), ("unit_type", "string"), ("community_code", "string"),
        ("admin_name_masked", "string"), ("admin_phone_masked", "string"), ("lat", "double"),
        ("lon", "double"),
    ),
    "ref_boundaries": (
        ("community_code", "string"), ("geojson", "string"), ("centroid_lat", "double"),
        ("centroid_lon", "double"),
    ),
    "ref_campaign": (
        ("campaign_name", "string"), ("start", "date32"), ("deadline", "date32"), ("target_rate", "double"),
    ),
}  # fmt: skip


def warehouse_columns(feed: str) -> tuple[tuple[str, str], ...]:
    """A feed's warehouse columns with their type names."""
    own = {c.name: c.type for c in FEEDS[feed].columns}
    return tuple((name, DERIVED_TYPES.get(name) or own[name]) for name in WAREHOUSE_COLUMNS[feed])


def table_columns(table: str) -> tuple[tuple[str, str], ...]:
    """The columns of a warehouse table: a feed's (``residents`` …) or one of TABLES (``manifest`` …)."""
    return warehouse_columns(table) if table in FEEDS else TABLES[table]


def arrow_schema(columns: tuple[tuple[str, str], ...]) -> pa.Schema:
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns])


def feed_file_schema(feed: str) -> pa.Schema:
    """The Arrow schema of a feed file as the contract defines it (§3): what the demo writes."""
    return arrow_schema(tuple((c.name, c.type) for c in FEEDS[feed].columns))


def sql_columns(table: str) -> tuple[tuple[str, str], ...]:
    """A warehouse table's columns with their DuckDB types."""
    return tuple((name, SQL_TYPES[kind]) for name, kind in table_columns(table))
