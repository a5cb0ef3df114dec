"""DATA_CONTRACT.md §2–§3 as data: the feeds, their columns, types and enumerations.

Ingest validates against this, the demo writes to it, and the docs test checks it against the contract.
Types are pyarrow type names: string, double, int64, date32, timestamp[us].
"""

from dataclasses import dataclass, field

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
