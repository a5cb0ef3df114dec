"""The houses snapshot (一户一档) file, with a few deliberately bad rows."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import ARCHIVE_STATUS, HOUSE_TYPES, feed_file_schema
from wangtai.demo._write import CHUNK, AtomicParquet, digits, fixed_ascii, take
from wangtai.demo.arrays import DAY_US
from wangtai.demo.draws import bad_row_kinds
from wangtai.demo.geography import Geography
from wangtai.demo.houses import Houses


def house_ids(geo: Geography, houses: Houses, index: np.ndarray) -> pa.StringArray:
    """FW + community code + 7-digit number within the community."""
    codes = np.array([int(c) for c in geo.codes], np.int64)[houses.comm[index]]
    head = np.broadcast_to(np.frombuffer(b"FW", np.uint8), (len(index), 2))
    return fixed_ascii(
        np.hstack([head, digits(codes, 12) + ord("0"), digits(houses.rank[index] + 1, 7) + ord("0")])
    )


UNKNOWN_COMMUNITY = "370211100999"
UNKNOWN_HOUSE_TYPE = "群租房"  # a type the contract does not list


def write_houses(path, geo: Geography, houses: Houses, rng, now_us, bad_rows):
    """Write every house; return rows written and rows made bad."""
    n = len(houses.cat)
    bad = bad_row_kinds(rng, n, bad_rows, 5)  # unknown community, swapped lat/lon, negative, bad enum, future
    with AtomicParquet(path, feed_file_schema("houses")) as out:
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(n, lo + CHUNK))
            out.write(_house_columns(geo, houses, s, bad[s], rng, now_us))
    return out.rows, int((bad >= 0).sum())


def _house_columns(geo: Geography, houses: Houses, s: slice, b: np.ndarray, rng, now_us) -> dict:
    """The columns of rows s; b is each row's kind of deliberate error (-1: none)."""
    lat, lon = houses.lat[s], houses.lon[s]
    lat, lon = np.where(b == 1, lon, lat), np.where(b == 1, lat, lon)
    surveyed = np.where(b == 4, int(now_us // DAY_US) + rng.integers(3, 30, len(b)), houses.surveyed[s])
    in_estate = houses.in_estate[s]
    estate = pa.array([*houses.estate_names, ""], pa.string()).take(
        pa.array(np.where(in_estate, houses.estate_of[s], len(houses.estate_names)), mask=~in_estate)
    )
    return {
        "house_id": house_ids(geo, houses, np.arange(s.start, s.stop)),
        "community_code": take(
            [*geo.codes, UNKNOWN_COMMUNITY], np.where(b == 0, len(geo.codes), houses.comm[s])
        ),
        "estate": estate,
        "address": _addresses(houses, s),
        "lat": pa.array(lat),
        "lon": pa.array(lon),
        "house_type": take(
            [*HOUSE_TYPES, UNKNOWN_HOUSE_TYPE], np.where(b == 3, len(HOUSE_TYPES), houses.cat[s])
        ),
        "archive_status": take(ARCHIVE_STATUS, houses.archive[s]),
        "occupants": pa.array(np.where(b == 2, -1, houses.occupants[s]), pa.int64()),
        "surveyed_at": pa.array(surveyed, pa.int32(), mask=surveyed < 0).cast(pa.date32()),
    }


def _addresses(houses: Houses, s: slice) -> pa.StringArray:
    """Prefix + 号 for a village house; prefix + building, entrance and flat in an estate."""
    number = houses.number[s]
    prefix = take(houses.prefixes, houses.prefix[s])
    plain = pc.binary_join_element_wise(prefix, pa.array(number + 1).cast(pa.string()), "号", "")
    floor_room = (number // 2) % 8 + 1
    flat = pc.binary_join_element_wise(
        prefix,
        pa.array(number // 48 + 1).cast(pa.string()), "号楼",
        pa.array((number // 16) % 3 + 1).cast(pa.string()), "单元",
        pa.array(floor_room * 100 + number % 2 + 1).cast(pa.string()), "室",
        "",
    )  # fmt: skip
    return pc.if_else(pa.array(houses.in_estate[s]), flat, plain)
