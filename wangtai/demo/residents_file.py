"""The police residents snapshot (实有人口) file, with a few deliberately bad rows."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import POPULATION_TYPES, REASONS, RESIDENT_STATUS
from wangtai.demo import vocab
from wangtai.demo._write import CHUNK, AtomicParquet, feed_schema, take
from wangtai.demo.arrays import DAY_US
from wangtai.demo.draws import bad_row_kinds
from wangtai.demo.geography import Geography
from wangtai.demo.houses import Houses
from wangtai.demo.houses_file import house_ids
from wangtai.demo.id_numbers import id_strings
from wangtai.demo.people import People
from wangtai.demo.units import Units


def write_residents(
    path, geo: Geography, units: Units, people: People, houses: Houses, rng, now_us, bad_rows
):
    n = people.n_snapshot
    bad = bad_row_kinds(rng, n, bad_rows, 5)  # check char, unknown unit, swapped lat/lon, future, bad enum
    surnames = list(vocab.SURNAMES) + list(vocab.COMPOUND_SURNAMES)
    given = list(vocab.GIVEN_CHARS)
    unit_ids = [*units.ids, "WG370211100999"]
    ptypes = [*POPULATION_TYPES, "暂住人口"]
    with AtomicParquet(path, feed_schema("residents")) as out:
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(n, lo + CHUNK))
            b = bad[s]
            house = people.house[s]
            lat, lon = houses.lat[house], houses.lon[house]
            swapped = b == 2
            lat, lon = np.where(swapped, lon, lat), np.where(swapped, lat, lon)
            updated = np.where(b == 3, now_us + (rng.integers(3, 30, len(b)) * DAY_US), people.updated[s])
            g2 = people.given2[s]
            name = pc.binary_join_element_wise(
                take(surnames, people.surname[s]),
                take(given, people.given1[s]),
                take([*given, ""], np.where(g2 < 0, len(given), g2)),
                "",
            )
            phone = people.phone[s]
            newcomer = people.newcomer[s]
            reason = people.reason[s]
            out.write(
                {
                    "id_number": id_strings(people.key17[s], b == 0),
                    "name": name,
                    "phone": pa.array(phone, mask=phone == 0).cast(pa.string()),
                    "population_type": take(ptypes, np.where(b == 4, 2, newcomer.astype(np.int64))),
                    "community_code": take(geo.codes, people.comm[s]),
                    "unit_id": take(unit_ids, np.where(b == 1, len(units.ids), people.unit[s])),
                    "house_id": house_ids(geo, houses, house),
                    "lat": pa.array(lat),
                    "lon": pa.array(lon),
                    "reason": pa.array(REASONS, pa.string()).take(
                        pa.array(np.maximum(reason, 0), mask=reason < 0)
                    ),
                    "arrival_date": pa.array(people.arrival[s], pa.int32(), mask=~newcomer).cast(pa.date32()),
                    "status": take(RESIDENT_STATUS, people.status[s]),
                    "updated_at": pa.array(updated, pa.int64()).cast(pa.timestamp("us")),
                }
            )
    return out.rows, int((bad >= 0).sum())
