"""The police residents snapshot (实有人口) file, with a few deliberately bad rows."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import POPULATION_TYPES, REASONS, RESIDENT_STATUS, feed_file_schema
from wangtai.demo import vocab
from wangtai.demo._write import CHUNK, AtomicParquet, take
from wangtai.demo.arrays import DAY_US
from wangtai.demo.draws import bad_row_kinds
from wangtai.demo.geography import Geography
from wangtai.demo.houses import Houses
from wangtai.demo.houses_file import house_ids
from wangtai.demo.id_numbers import id_strings
from wangtai.demo.people import People
from wangtai.demo.units import Units

UNKNOWN_UNIT = "WG370211100999"
UNKNOWN_POPULATION_TYPE = "暂住人口"  # a plausible term the contract does not list


def write_residents(
    path, geo: Geography, units: Units, people: People, houses: Houses, rng, now_us, bad_rows
):
    """Write the snapshot rows (not the discovered people); return rows written and rows made bad."""
    n = people.n_snapshot
    bad = bad_row_kinds(rng, n, bad_rows, 5)  # check char, unknown unit, swapped lat/lon, future, bad enum
    with AtomicParquet(path, feed_file_schema("residents")) as out:
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(n, lo + CHUNK))
            out.write(_resident_columns(geo, units, people, houses, s, bad[s], rng, now_us))
    return out.rows, int((bad >= 0).sum())


def _resident_columns(geo, units: Units, people: People, houses: Houses, s: slice, b, rng, now_us) -> dict:
    """The columns of rows s; b is each row's kind of deliberate error (-1: none)."""
    house = people.house[s]
    lat, lon = houses.lat[house], houses.lon[house]
    swapped = b == 2
    lat, lon = np.where(swapped, lon, lat), np.where(swapped, lat, lon)
    updated = np.where(b == 3, now_us + (rng.integers(3, 30, len(b)) * DAY_US), people.updated[s])
    phone = people.phone[s]
    newcomer = people.newcomer[s]
    reason = people.reason[s]
    return {
        "id_number": id_strings(people.key17[s], b == 0),
        "name": _names(people, s),
        "phone": pa.array(phone, mask=phone == 0).cast(pa.string()),
        "population_type": take(
            [*POPULATION_TYPES, UNKNOWN_POPULATION_TYPE], np.where(b == 4, 2, newcomer.astype(np.int64))
        ),
        "community_code": take(geo.codes, people.comm[s]),
        "unit_id": take([*units.ids, UNKNOWN_UNIT], np.where(b == 1, len(units.ids), people.unit[s])),
        "house_id": house_ids(geo, houses, house),
        "lat": pa.array(lat),
        "lon": pa.array(lon),
        "reason": pa.array(REASONS, pa.string()).take(pa.array(np.maximum(reason, 0), mask=reason < 0)),
        "arrival_date": pa.array(people.arrival[s], pa.int32(), mask=~newcomer).cast(pa.date32()),
        "status": take(RESIDENT_STATUS, people.status[s]),
        "updated_at": pa.array(updated, pa.int64()).cast(pa.timestamp("us")),
    }


def _names(people: People, s: slice) -> pa.StringArray:
    """Surname + one or two given characters."""
    surnames = list(vocab.SURNAMES) + list(vocab.COMPOUND_SURNAMES)
    given = list(vocab.GIVEN_CHARS)
    g2 = people.given2[s]
    return pc.binary_join_element_wise(
        take(surnames, people.surname[s]),
        take(given, people.given1[s]),
        take([*given, ""], np.where(g2 < 0, len(given), g2)),
        "",
    )
