"""The one example row of each feed's template (synthetic: no real person).

The example id number has the region code 370299, which no county has, so it cannot be anyone's; the
reader refuses a row whose key is the example's, so that an example left in a filled template is not
ingested as a person.
"""

from __future__ import annotations

from datetime import date, datetime

from wangtai.idnumber import check_char

_FIRST17 = "37029919900307001"
EXAMPLE_ID = _FIRST17 + check_char(_FIRST17)
EXAMPLE_COMMUNITY = "370211100001"  # 台东路社区 in the demo's reference data
EXAMPLE_UNIT = "JW370211100001"
_WHEN = datetime(2026, 3, 15, 8, 30)
_DAY = date(2026, 3, 15)


def example_row(feed: str, community: str = EXAMPLE_COMMUNITY, unit: str = EXAMPLE_UNIT) -> dict[str, object]:
    """The example row of a feed, by contract column (codes from the reference data when given)."""
    rows: dict[str, dict[str, object]] = {
        "residents": {
            "id_number": EXAMPLE_ID,
            "name": "张三",
            "phone": "13800000000",
            "population_type": "流动人口",
            "community_code": community,
            "unit_id": unit,
            "house_id": "示例0001",
            "lat": 36.07,
            "lon": 120.0,
            "reason": "务工",
            "arrival_date": date(2026, 3, 1),
            "status": "在住",
            "updated_at": _WHEN,
        },
        "houses": {
            "house_id": "示例0001",
            "community_code": community,
            "estate": "王台花园",
            "address": "王台路 1 号 1 单元 101",
            "lat": 36.07,
            "lon": 120.0,
            "house_type": "出租",
            "archive_status": "已建档",
            "occupants": 2,
            "surveyed_at": _DAY,
        },
        "registrations": {
            "scan_id": "示例0001",
            "scanned_at": _WHEN,
            "id_number": EXAMPLE_ID,
            "unit_id": unit,
            "channel": "入户登记",
            "site": "出租屋",
        },
        "source_records": {
            "record_id": "示例0001",
            "source": "公安",
            "id_number": EXAMPLE_ID,
            "received_at": _WHEN,
            "detail": "暂住登记",
        },
    }
    return rows[feed]


def example_key(feed: str) -> str:
    """The example row's value in the feed's key column."""
    from wangtai.contract import FEEDS

    return str(example_row(feed)[FEEDS[feed].key])


EXAMPLE_ROW_REASON = "这是导入模板中的示例行（身份证号或编号是虚构的），请删除后再提交"
