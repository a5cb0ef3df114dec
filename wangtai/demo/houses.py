"""Houses: what kind each person lives in, how many houses that takes, where they stand, 一户一档 status."""

from dataclasses import dataclass

import numpy as np

from wangtai.demo import vocab
from wangtai.demo.arrays import DAY_US, group_rank
from wangtai.demo.communities import TAIDONG, WANGTAI_SQ
from wangtai.demo.geography import Geography, sample_in
from wangtai.demo.people import LIVING, WORK, People
from wangtai.demo.units import Units

ESTATES = {TAIDONG: (26, 1.0), WANGTAI_SQ: (8, 0.9)}  # community → (estates, share of homes in them)
TOWN_ESTATES = (2, 0.35)  # other town-centre villages: resettlement estates
PERSONS_PER_HOUSE = {"self": 2.85, "rental": 2.25, "dorm": 9.0, "shed": 14.0}
VACANT_SHARE = 0.07

# House categories (indices into HOUSE_TYPES: 自住, 出租, 宿舍, 工棚, 空置)
SELF, RENTAL, DORM, SHED, VACANT = range(5)


@dataclass
class Houses:
    comm: np.ndarray
    cat: np.ndarray
    rank: np.ndarray  # number within the community (house_id)
    prefix: np.ndarray  # index into prefixes (address start)
    number: np.ndarray  # house number within its prefix
    in_estate: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    archive: np.ndarray
    occupants: np.ndarray
    surveyed: np.ndarray  # days since 1970-01-01, -1: none
    prefixes: list[str]
    estate_names: list[str]
    estate_of: np.ndarray  # -1 or index into estate_names


def build_houses(
    geo: Geography,
    units: Units,
    people: People,
    construction: np.ndarray,
    rng: np.random.Generator,
    now_us: int,
) -> Houses:
    n_comm = len(geo.codes)
    snap = slice(0, people.n_snapshot)
    comm = people.comm[snap].astype(np.int64)
    newcomer = people.newcomer[snap]
    unit = people.unit[snap].astype(np.int64)
    reason = people.reason[snap]
    n = len(comm)
    is_ent = np.array([t == "企业" for t in units.types])[unit]

    # what kind of home each person lives in
    cat = np.full(n, SELF, np.int8)
    cat[~newcomer & (rng.random(n) < 0.05)] = RENTAL
    cat[newcomer] = np.where(rng.random(int(newcomer.sum())) < 0.07, SELF, RENTAL)
    cat[is_ent] = DORM
    cat[newcomer & ~is_ent & (reason == WORK) & construction[comm] & (rng.random(n) < 0.18)] = SHED

    # houses per (community, category); dormitories per enterprise
    n_units = len(units.ids)
    group = np.where(cat == DORM, n_comm * 5 + unit, comm * 5 + cat)
    counts_p = np.bincount(group, minlength=n_comm * 5 + n_units)
    per_house = np.array([PERSONS_PER_HOUSE["self"], PERSONS_PER_HOUSE["rental"], PERSONS_PER_HOUSE["dorm"],
                          PERSONS_PER_HOUSE["shed"], 1.0])  # fmt: skip
    h_comm = np.ceil(counts_p[: n_comm * 5].reshape(n_comm, 5) / per_house).astype(np.int64)
    h_ent = np.ceil(counts_p[n_comm * 5 :] / PERSONS_PER_HOUSE["dorm"]).astype(np.int64)
    occupied = h_comm[:, :4].sum(axis=1) + np.bincount(units.comm, weights=h_ent, minlength=n_comm).astype(
        np.int64
    )
    h_comm[:, VACANT] = np.round(occupied * VACANT_SHARE / (1 - VACANT_SHARE)).astype(np.int64)

    # house rows, community by community: self, rental, vacant, sheds, then dormitories per enterprise
    prefixes = list(geo.names) + [f"{name}建筑工地工棚" for name in geo.names]
    prefixes += [f"{geo.names[units.comm[u]]}{units.names[u]}职工宿舍" for u in range(n_units)]
    estate_names = _estate_names(rng)
    estate_of_comm: dict[int, tuple[int, int, float]] = {}  # community → (first estate, count, share)
    used = 0
    for i, code in enumerate(geo.codes):
        k, share = ESTATES.get(code, TOWN_ESTATES if geo.classes[i] in ("121", "122") else (0, 0.0))
        if k:
            estate_of_comm[i] = (used, k, share)
            used += k
    estate_names = estate_names[:used]
    prefixes += [
        f"{geo.names[c]}{estate_names[e0 + j]}" for c, (e0, k, _) in estate_of_comm.items() for j in range(k)
    ]
    estate_prefix0 = len(prefixes) - used

    parts = {key: [] for key in ("comm", "cat", "unit", "estate", "lon", "lat")}
    house_offset = np.zeros(n_comm * 5 + n_units, np.int64)
    total = 0
    for c in range(n_comm):
        cats = np.repeat([SELF, RENTAL, VACANT, SHED], h_comm[c, [SELF, RENTAL, VACANT, SHED]])
        ents = np.arange(units.ent_start[c], units.ent_start[c] + units.ent_count[c])
        cats = np.concatenate([cats, np.full(int(h_ent[ents].sum()), DORM)]).astype(np.int8)
        ent_of = np.concatenate(
            [np.full(len(cats) - int(h_ent[ents].sum()), -1), np.repeat(ents, h_ent[ents])]
        )
        # offsets: positions of the first house of each category within the community block
        pos = total
        for t in (SELF, RENTAL, VACANT, SHED):
            house_offset[c * 5 + t] = pos
            pos += h_comm[c, t]
        for e in ents:
            house_offset[n_comm * 5 + e] = pos
            pos += h_ent[e]
        m = len(cats)
        estate = np.full(m, -1, np.int64)
        if c in estate_of_comm:
            e0, k, share = estate_of_comm[c]
            homes = np.flatnonzero(np.isin(cats, (SELF, RENTAL, VACANT)) & (rng.random(m) < share))
            estate[homes] = e0 + rng.integers(0, k, len(homes))
        lon, lat = _place_houses(geo, units, c, cats, ent_of, estate, rng)
        for key, value in zip(parts, (np.full(m, c), cats, ent_of, estate, lon, lat), strict=True):
            parts[key].append(value)
        total += m

    h = {key: np.concatenate(value) if value else np.zeros(0) for key, value in parts.items()}
    h_comm_arr = h["comm"].astype(np.int16)
    cats = h["cat"].astype(np.int8)
    estate = h["estate"].astype(np.int64)
    n_h = len(cats)

    # each person → a house of the right kind: the first ones fill every house once, the rest at random
    offset = house_offset[group]
    cnt = np.where(
        cat == DORM,
        h_ent[np.where(cat == DORM, unit, 0)],
        h_comm.reshape(-1)[np.where(cat == DORM, 0, group)],
    )
    rank = group_rank(group)
    slot = np.where(rank < cnt, rank, np.floor(rng.random(n) * cnt).astype(np.int64))
    people.house[snap] = offset + slot

    living = people.status[snap] == LIVING
    occupants = np.bincount(people.house[snap][living], minlength=n_h).astype(np.int64)

    # addresses: prefix (community / estate / dormitory / site) + number
    prefix = np.where(estate >= 0, estate_prefix0 + estate, h_comm_arr)
    prefix = np.where(cats == SHED, n_comm + h_comm_arr, prefix)
    prefix = np.where(cats == DORM, 2 * n_comm + h["unit"].astype(np.int64), prefix)
    number = group_rank(prefix)

    archive, surveyed = _archive(rng, cats, h_comm_arr, n_comm, now_us)
    return Houses(
        comm=h_comm_arr, cat=cats, rank=group_rank(h_comm_arr.astype(np.int64)), prefix=prefix, number=number,
        in_estate=estate >= 0, lon=h["lon"], lat=h["lat"], archive=archive, occupants=occupants,
        surveyed=surveyed, prefixes=prefixes, estate_names=estate_names, estate_of=estate,
    )  # fmt: skip


def _estate_names(rng: np.random.Generator) -> list[str]:
    names = [p + s for p in vocab.ESTATE_PREFIXES for s in vocab.ESTATE_SUFFIXES]
    return [names[i] for i in rng.permutation(len(names))]


def _place_houses(geo, units, c, cats, ent_of, estate, rng) -> tuple[np.ndarray, np.ndarray]:
    m = len(cats)
    cell = geo.cells[c]
    site = (np.array([geo.lon[c]]), np.array([geo.lat[c]]))
    cx = np.full(m, geo.lon[c])
    cy = np.full(m, geo.lat[c])
    sigma = np.where(rng.random(m) < 0.85, 0.0028, 0.007)
    if (estate >= 0).any():
        ids, inverse = np.unique(estate[estate >= 0], return_inverse=True)
        ex, ey = sample_in(cell, np.repeat(site[0], len(ids)), np.repeat(site[1], len(ids)),
                           np.full(len(ids), 0.0035), rng)  # fmt: skip
        cx[estate >= 0] = ex[inverse]
        cy[estate >= 0] = ey[inverse]
        sigma[estate >= 0] = 0.0007
    sheds = cats == SHED
    if sheds.any():
        sx, sy = sample_in(cell, np.repeat(site[0], 3), np.repeat(site[1], 3), np.full(3, 0.005), rng)
        which = rng.integers(0, 3, int(sheds.sum()))
        cx[sheds], cy[sheds], sigma[sheds] = sx[which], sy[which], 0.0004
    dorms = cats == DORM
    if dorms.any():
        cx[dorms] = units.lon[ent_of[dorms]]
        cy[dorms] = units.lat[ent_of[dorms]]
        sigma[dorms] = 0.0005
    return sample_in(cell, cx, cy, sigma, rng)


def _archive(rng, cats, comm, n_comm, now_us) -> tuple[np.ndarray, np.ndarray]:
    """一户一档: rentals are archived at a community-specific rate; others mostly already on file."""
    n = len(cats)
    rate = rng.uniform(0.55, 0.97, n_comm)[comm]
    u = rng.random(n)
    filed = np.select(
        [cats == RENTAL, cats == DORM, cats == SHED, cats == VACANT],
        [u < rate, u < 0.9, u < 0.5, u < 0.4],
        default=u < 0.75,
    )
    archive = np.where(filed, np.where(rng.random(n) < 0.3, 2, 1), 0).astype(np.int8)
    today = int(now_us // DAY_US)
    surveyed = today - 1 - np.minimum(rng.exponential(150, n), 700).astype(np.int64)
    surveyed = np.where(filed | (rng.random(n) < 0.3), surveyed, -1)
    return archive, surveyed
