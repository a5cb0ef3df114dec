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
    n_comm = len(geo.codes)
    ids, names, types, comm = [], [], [], []
    for i, code in enumerate(geo.codes):
        if geo.kinds[i] == "居委会":
            ids.append(f"JW{code}")
            names.append(geo.names[i].removesuffix("社区") + "社区居委会")
            types.append("居委会")
        else:
            ids.append(f"WG{code}")
            names.append(f"{geo.names[i]}网格")
            types.append("网格村")
        comm.append(i)
    lon = list(geo.lon)
    lat = list(geo.lat)

    # 70 enterprises in the industrial-park communities; textile machinery dominates.
    industries = [name for name, count in vocab.INDUSTRIES for _ in range(count)]
    brands = list(rng.permutation(vocab.BRANDS))[: len(industries)]
    order = rng.permutation(len(industries))
    ent_comm = np.repeat([geo.index(code) for code in PARKS], list(PARKS.values()))
    ent_start = np.zeros(n_comm, np.int64)
    ent_count = np.zeros(n_comm, np.int64)
    for k, c in enumerate(ent_comm):
        if ent_count[c] == 0:
            ent_start[c] = len(ids)
        ent_count[c] += 1
        ids.append(f"QY{k + 1:04d}")
        names.append(f"青岛{brands[order[k]]}{industries[order[k]]}")
        types.append("企业")
        comm.append(int(c))
        cell = geo.cells[c]
        x, y = sample_in(cell, np.array([geo.lon[c]]), np.array([geo.lat[c]]), np.array([0.004]), rng)
        lon.append(float(x[0]))
        lat.append(float(y[0]))

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
        community_unit=np.arange(n_comm),
        ent_start=ent_start,
        ent_count=ent_count,
        comm_codes=[geo.codes[c] for c in comm],
    )
