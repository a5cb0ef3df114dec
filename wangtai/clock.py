"""The one source of "now": Asia/Shanghai wall-clock time as a naive datetime.

Set ``WANGTAI_NOW`` (ISO 8601, e.g. ``2026-11-27T10:30:00``) to freeze it for tests and screenshots.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from wangtai import settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    frozen = settings.get("now")
    if frozen:
        return datetime.fromisoformat(frozen).replace(tzinfo=None)
    return datetime.now(ZoneInfo(settings.get("timezone"))).replace(tzinfo=None, microsecond=0)
