"""The 一家亲 registrations (scans) and the departments' source records."""

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from wangtai.contract import CHANNELS, SITES, SOURCES, feed_file_schema
from wangtai.demo._write import CHUNK, AtomicParquet, padded, take
from wangtai.demo.arrays import DAY_US
from wangtai.demo.draws import bad_row_kinds, categorical
from wangtai.demo.id_numbers import id_strings
from wangtai.demo.people import FOLLOW, LIVING, STUDY, TRADE, WORK, People
from wangtai.demo.units import Units
from wangtai.demo.vocab import numbers

CAMPAIGN_NAME = "一家亲扫码登记"
CAMPAIGN_START = date(2026, 3, 15)
CAMPAIGN_DEADLINE = date(2026, 12, 31)
TARGET_RATE = 0.95
HOUR_US = 3_600_000_000
EPOCH = date(1970, 1, 1)

# When people scan: office hours with a midday dip, some in the evening, almost none at night.
HOUR_WEIGHTS = numbers("0.1 0.05 0.02 0.02 0.02 0.1 0.4 1.2 3 6 7 5.5 2 2.5 5 6 6 5 2.5 3 3.2 2 0.8 0.3")
# Public holidays of 2026 when little happens.
HOLIDAYS = [
    (date(2026, 4, 4), date(2026, 4, 6)),
    (date(2026, 5, 1), date(2026, 5, 5)),
    (date(2026, 6, 19), date(2026, 6, 21)),
    (date(2026, 9, 25), date(2026, 9, 27)),
    (date(2026, 10, 1), date(2026, 10, 8)),
]
# Pushes (集中攻坚) when the subdistrict sends everyone door to door.
PUSHES = [(date(2026, 6, 1), date(2026, 6, 14)), (date(2026, 9, 7), date(2026, 9, 20))]

# channel by unit type (网格村, 居委会, 企业) over 扫码自助 入户登记 企业批量 部门比对
CHANNEL_P = np.array([[0.50, 0.36, 0.04, 0.10], [0.55, 0.33, 0.02, 0.10], [0.30, 0.04, 0.61, 0.05]])
# site by channel over 建筑工地 公园广场 企业厂区 出租屋 社区服务站 其他
SITE_P = np.array(
    [
        [0.14, 0.26, 0.10, 0.18, 0.22, 0.10],
        [0.04, 0.01, 0.02, 0.85, 0.06, 0.02],
        [0.03, 0.00, 0.95, 0.00, 0.01, 0.01],
        [0.00, 0.00, 0.00, 0.00, 0.70, 0.30],
    ]
)


def day_weights(start: date, days: int, deadline: date) -> np.ndarray:
    """Relative scan intensity per campaign day: ramp-up, plateau, weekly rhythm, holidays, pushes."""
    d = np.arange(days)
    dates = [start + timedelta(days=int(i)) for i in d]
    weekday = np.array([x.weekday() for x in dates])
    w = np.minimum(1.0, (d + 3) / 28) * (0.55 + 0.45 * np.exp(-d / 110))
    w *= np.select([weekday == 5, weekday == 6], [0.55, 0.42], 1.0)
    for lo, hi in HOLIDAYS:
        w[[lo <= x <= hi for x in dates]] *= 0.35
    for lo, hi in PUSHES:
        w[[lo <= x <= hi for x in dates]] *= 1.6
    w[[x > deadline for x in dates]] *= 0.3
    return w


def _to_us(value: date) -> int:
    return (value - EPOCH).days * DAY_US


def build_scans(people: People, units: Units, rng: np.random.Generator, now: datetime, now_us: int) -> dict:
    """All scans up to now, sorted by time: person index, time (µs), unit, channel, site."""
    start_us = _to_us(CAMPAIGN_START)
    today = date(now.year, now.month, now.day)
    horizon = max((CAMPAIGN_DEADLINE - CAMPAIGN_START).days, (today - CAMPAIGN_START).days) + 1
    w = day_weights(CAMPAIGN_START, horizon, CAMPAIGN_DEADLINE)
    cdf = np.cumsum(w) / w[: (CAMPAIGN_DEADLINE - CAMPAIGN_START).days + 1].sum()
    if now_us < start_us:
        return _empty_scans()

    n_units = len(units.ids)
    unit_type = np.array([("网格村", "居委会", "企业").index(t) for t in units.types])
    # Units differ: most reach ~80% by the deadline, some lag far behind, some are ahead; speeds differ too.
    rate = rng.beta(8, 2.2, n_units)
    kind = rng.random(n_units)
    rate[kind < 0.14] = rng.uniform(0.25, 0.5, int((kind < 0.14).sum()))
    rate[kind > 0.86] = rng.uniform(0.93, 0.99, int((kind > 0.86).sum()))
    rate[unit_type == 2] = np.minimum(rate[unit_type == 2] + 0.08, 0.99)  # enterprises register in batches
    speed = np.exp(rng.normal(0, 0.35, n_units))

    n = len(people.comm)
    discovered = np.arange(n) >= people.n_snapshot
    eligible = np.flatnonzero(people.newcomer & ((people.status == LIVING) | discovered))
    unit = people.unit[eligible].astype(np.int64)
    disc = discovered[eligible]
    m = len(eligible)
    will = disc | (rng.random(m) < rate[unit])
    u = rng.random(m) ** speed[unit]
    today_idx = min((today - CAMPAIGN_START).days, horizon - 1)
    u = np.where(disc, u * cdf[today_idx], u * cdf[-1])  # the discovered have all scanned by today
    day = np.searchsorted(cdf, u).clip(0, horizon - 1)
    arrived = people.arrival[eligible].astype(np.int64) - (CAMPAIGN_START - EPOCH).days
    late = ~disc & (day < arrived)
    day = np.where(late, arrived + rng.exponential(12, m).astype(np.int64), day)

    first = _at(rng, start_us, day)
    first = np.where(disc & (first > now_us), first - DAY_US, first)
    keep = will & (first <= now_us) & (first >= start_us)
    person = eligible[keep]
    t = first[keep]
    # some people scan again (a new job, a lost confirmation) — the registration day is the first one
    again = rng.random(len(t)) < 0.10
    t2 = t[again] + ((1 + rng.exponential(25, int(again.sum()))) * DAY_US).astype(np.int64)
    third = again.copy()
    third[again] = rng.random(int(again.sum())) < 0.15
    t3 = t[third] + ((2 + rng.exponential(50, int(third.sum()))) * DAY_US).astype(np.int64)
    person = np.concatenate([person, person[again], person[third]])
    t = np.concatenate([t, _within_hours(rng, t2), _within_hours(rng, t3)])
    t = t // 1_000_000 * 1_000_000  # whole seconds
    ok = t <= now_us
    person, t = person[ok], t[ok]

    order = np.argsort(t, kind="stable")
    person, t = person[order], t[order]
    scan_unit = people.unit[person].astype(np.int64)
    channel = categorical(rng, CHANNEL_P, unit_type[scan_unit])
    site = categorical(rng, SITE_P, channel.astype(np.int64))
    return {"person": person, "time": t, "unit": scan_unit, "channel": channel, "site": site}


def _empty_scans() -> dict:
    z = np.zeros(0, np.int64)
    return {"person": z, "time": z, "unit": z, "channel": z.astype(np.int8), "site": z.astype(np.int8)}


def _at(rng: np.random.Generator, start_us: int, day: np.ndarray) -> np.ndarray:
    """A time of day with the hourly rhythm, on each campaign day."""
    hour = rng.choice(24, len(day), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    within = rng.integers(0, HOUR_US, len(day))
    return start_us + day.astype(np.int64) * DAY_US + hour * HOUR_US + within


def _within_hours(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move a time to an hour of its day drawn from the hourly rhythm."""
    day_start = t - t % DAY_US
    hour = rng.choice(24, len(t), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    return day_start + hour * HOUR_US + rng.integers(0, HOUR_US, len(t))


def file_spans(now: datetime) -> list[tuple[date, date]]:
    """(first day, last day) of each registrations file: one per month, then one per day for the last week."""
    today = date(now.year, now.month, now.day)
    if today < CAMPAIGN_START:
        return []
    daily_from = max(CAMPAIGN_START, today - timedelta(days=6))
    spans = []
    lo = CAMPAIGN_START
    while lo < daily_from:
        next_month = date(lo.year + (lo.month == 12), lo.month % 12 + 1, 1)
        hi = min(next_month, daily_from) - timedelta(days=1)
        spans.append((lo, hi))
        lo = hi + timedelta(days=1)
    spans += [
        (daily_from + timedelta(days=i), daily_from + timedelta(days=i))
        for i in range((today - daily_from).days + 1)
    ]
    return spans


def write_registrations(
    folder: Path, scans: dict, people: People, units: Units, rng, now: datetime, bad_rows
):
    """One file per span, named yjq_<first day>_<last day>.parquet so that names sort by time."""
    t = scans["time"]
    n = len(t)
    day = t // DAY_US
    day_rank = np.arange(n) - np.searchsorted(day, day, side="left")
    ymd = _ymd(day)
    scan_id_num = ymd * 10_000_000 + day_rank
    bad = bad_row_kinds(rng, n, bad_rows, 4, cap=1.0)  # check char, unknown unit, bad channel, bad site
    unit_ids = [*units.ids, "QY9999"]
    channels = [*CHANNELS, "微信小程序"]
    sites = [*SITES, "菜市场"]
    files = []
    spans = file_spans(now)
    redelivered = 0
    for k, (lo, hi) in enumerate(spans):
        a = int(np.searchsorted(day, (lo - EPOCH).days, side="left"))
        z = int(np.searchsorted(day, (hi - EPOCH).days, side="right"))
        if bad_rows > 0 and k == len(spans) - 1 and k > 0:
            extra = min(5, a)  # a source system re-sends the last rows of the previous file: duplicates
            a -= extra
            redelivered = extra
        path = folder / f"yjq_{lo:%Y%m%d}_{hi:%Y%m%d}.parquet"
        with AtomicParquet(path, feed_file_schema("registrations")) as out:
            for c0 in range(a, max(z, a + 1), CHUNK):
                s = slice(c0, min(z, c0 + CHUNK))
                b = bad[s]
                out.write(
                    {
                        "scan_id": padded(scan_id_num[s], 15, "YJQ"),
                        "scanned_at": pa.array(t[s], pa.int64()).cast(pa.timestamp("us")),
                        "id_number": id_strings(people.key17[scans["person"][s]], b == 0),
                        "unit_id": take(unit_ids, np.where(b == 1, len(units.ids), scans["unit"][s])),
                        "channel": take(channels, np.where(b == 2, len(CHANNELS), scans["channel"][s])),
                        "site": take(sites, np.where(b == 3, len(SITES), scans["site"][s])),
                    }
                )
        files.append(path)
    return files, int((bad >= 0).sum()), redelivered


def _ymd(day: np.ndarray) -> np.ndarray:
    """yyyymmdd integers for days since 1970-01-01 (one Python call per distinct day)."""
    unique, inverse = np.unique(day, return_inverse=True)
    per_day = np.array([int((EPOCH + timedelta(days=int(d))).strftime("%Y%m%d")) for d in unique], np.int64)
    return per_day[inverse] if len(day) else np.zeros(0, np.int64)


# --- departments' records --------------------------------------------------------------------------

SOURCE_FILES = {"公安": "gongan", "工信": "gongxin", "医院": "yiyuan", "学校": "xuexiao"}
RECORD_PREFIX = {"公安": "GA", "工信": "GX", "医院": "YY", "学校": "XX"}


def build_records(people: People, units: Units, rng: np.random.Generator, now_us: int) -> dict[str, dict]:
    """Per source: person index, received_at (µs), detail — partial, overlapping coverage of newcomers."""
    n = len(people.comm)
    discovered = np.arange(n) >= people.n_snapshot
    newcomer = people.newcomer
    today = now_us // DAY_US
    age = (today - people.birth.astype(np.int64)) / 365.25
    at_enterprise = np.array([t == "企业" for t in units.types])[people.unit]
    worker = np.isin(people.reason, (WORK, TRADE)) & (age >= 18) & (age < 60)
    u = rng.random((4, n))
    chosen = {
        "公安": newcomer & ~discovered & (u[0] < 0.88),
        "工信": newcomer & worker & (u[1] < np.where(at_enterprise, 0.92, np.where(discovered, 0.4, 0.45))),
        "医院": newcomer & (u[2] < np.where((age < 7) | (age > 60), 0.45, np.where(discovered, 0.1, 0.2))),
        "学校": newcomer
        & ~discovered
        & (age >= 3)
        & (age < 18)
        & np.isin(people.reason, (STUDY, FOLLOW))
        & (u[3] < np.where(age >= 6, 0.92, 0.6)),
    }
    details = {
        "公安": lambda idx: np.zeros(len(idx), np.int64),
        "工信": lambda idx: np.where(at_enterprise[idx], 0, 1),
        "医院": lambda idx: np.where(rng.random(len(idx)) < 0.7, 0, 1),
        "学校": lambda idx: np.where(age[idx] >= 6, 0, 1),
    }
    words = {"公安": ["暂住登记"], "工信": ["就业登记", "灵活就业登记"], "医院": ["就诊建档", "预防接种建档"],
             "学校": ["入学登记", "入园登记"]}  # fmt: skip
    out = {}
    for source, mask in chosen.items():
        idx = np.flatnonzero(mask)
        arrival_us = people.arrival[idx].astype(np.int64) * DAY_US
        base = np.maximum(
            arrival_us + (rng.exponential(20, len(idx)) * DAY_US).astype(np.int64), now_us - 540 * DAY_US
        )
        received = (base + rng.integers(8 * HOUR_US, 18 * HOUR_US, len(idx))) // 1_000_000 * 1_000_000
        keep = received <= now_us - 60_000_000
        idx, received = idx[keep], received[keep]
        order = np.argsort(received, kind="stable")
        idx, received = idx[order], received[order]
        out[source] = {
            "person": idx,
            "time": received,
            "detail": words[source],
            "detail_idx": details[source](idx),
        }
    return out


def write_records(folder: Path, records: dict, people: People, rng, now: datetime, now_us: int, bad_rows):
    files = []
    bad_total = 0
    for source, rec in records.items():
        n = len(rec["person"])
        bad = bad_row_kinds(rng, n, bad_rows, 3, cap=1.0)  # check char, future, bad source
        bad_total += int((bad >= 0).sum())
        path = folder / f"{now:%Y%m%d}_{SOURCE_FILES[source]}.parquet"
        with AtomicParquet(path, feed_file_schema("source_records")) as out:
            for c0 in range(0, max(n, 1), CHUNK):
                s = slice(c0, min(n, c0 + CHUNK))
                b = bad[s]
                received = np.where(b == 1, now_us + rng.integers(2, 20, len(b)) * DAY_US, rec["time"][s])
                out.write(
                    {
                        "record_id": padded(np.arange(s.start, s.stop) + 1, 10, RECORD_PREFIX[source]),
                        "source": take(
                            [*SOURCES, "民政"], np.where(b == 2, len(SOURCES), SOURCES.index(source))
                        ),
                        "id_number": id_strings(people.key17[rec["person"][s]], b == 0),
                        "received_at": pa.array(received, pa.int64()).cast(pa.timestamp("us")),
                        "detail": take(rec["detail"], rec["detail_idx"][s]),
                    }
                )
        files.append(path)
    return files, bad_total
