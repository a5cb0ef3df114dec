"""Management units: a 居委会 or 网格村 per community, and the enterprises in the industrial parks."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from wangtai.demo import vocab
from wangtai.demo.draws import random_names, random_phones
from wangtai.demo.geography import PARKS, Geography, sample_in


@dataclass
class Units:
    ids: list[str]
    names: list[str]
    types: list[str]
    comm: np.ndarray
    comm_codes: list[str]
    admin_names: list[str]
    admin_phones: list[str]
    lon: np.ndarray
    lat: np.ndarray
    community_unit: np.ndarray  # community index → its 网格村/居委会 unit index
    ent_start: np.ndarray  # community index → first enterprise unit index (enterprises sorted by community)
    ent_count: np.ndarray

    def table(self) -> pa.Table:
        return pa.table(
            {
                "unit_id": self.ids,
                "name": self.names,
                "unit_type": self.types,
                "community_code": pa.array(self.comm_codes, pa.string()),
                "admin_name": self.admin_names,
                "admin_phone": self.admin_phones,
                "lat": self.lat,
                "lon": self.lon,
            }
        )


def build_units(geo: Geography, rng: np.random.Generator) -> Units:
    """A unit per community (its 居委会 or 网格村, same index), then the enterprises, park by park."""
    ids, names, types = _community_units(geo)
    comm = list(range(len(geo.codes)))
    lon, lat = list(geo.lon), list(geo.lat)
    ent_start, ent_count = _enterprises(geo, rng, ids, names, types, comm, lon, lat)
    n = len(ids)
    phones = random_phones(rng, n)
    return Units(
        ids=ids,
        names=names,
        types=types,
        comm=np.array(comm),
        admin_names=random_names(rng, n),
        admin_phones=[str(p) for p in phones],
        lon=np.array(lon),
        lat=np.array(lat),
        community_unit=np.arange(len(geo.codes)),
        ent_start=ent_start,
        ent_count=ent_count,
        comm_codes=[geo.codes[c] for c in comm],
    )


def _community_units(geo: Geography) -> tuple[list[str], list[str], list[str]]:
    """Ids, names and types of the communities' own units: a 居委会 in town, a 网格村 elsewhere."""
    ids, names, types = [], [], []
    for i, code in enumerate(geo.codes):
        if geo.kinds[i] == "居委会":
            ids.append(f"JW{code}")
            names.append(geo.names[i].removesuffix("社区") + "社区居委会")
            types.append("居委会")
        else:
            ids.append(f"WG{code}")
            names.append(f"{geo.names[i]}网格")
            types.append("网格村")
    return ids, names, types


def _enterprises(geo: Geography, rng, ids, names, types, comm, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Append the 70 enterprises of the industrial parks to the unit lists (textile machinery dominates).

    Returns, per community, the index of its first enterprise and how many it has.
    """
    industries = [name for name, count in vocab.INDUSTRIES for _ in range(count)]
    brands = list(rng.permutation(vocab.BRANDS))[: len(industries)]
    order = rng.permutation(len(industries))
    ent_comm = np.repeat([geo.index(code) for code in PARKS], list(PARKS.values()))
    ent_start = np.zeros(len(geo.codes), np.int64)
    ent_count = np.zeros(len(geo.codes), np.int64)
    for k, c in enumerate(ent_comm):
        if ent_count[c] == 0:
            ent_start[c] = len(ids)
        ent_count[c] += 1
        ids.append(f"QY{k + 1:04d}")
        names.append(f"青岛{brands[order[k]]}{industries[order[k]]}")
        types.append("企业")
        comm.append(int(c))
        x, y = sample_in(geo.cells[c], np.array([geo.lon[c]]), np.array([geo.lat[c]]), np.array([0.004]), rng)
        lon.append(float(x[0]))
        lat.append(float(y[0]))
    return ent_start, ent_count
