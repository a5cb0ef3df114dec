"""Houses: what kind each person lives in, how many houses that takes, where they stand, 一户一档 status."""

from dataclasses import dataclass

import numpy as np

from wangtai.demo.arrays import DAY_US, group_rank
from wangtai.demo.estates import address_prefixes, estate_plan, estates_of_homes
from wangtai.demo.geography import Geography
from wangtai.demo.people import LIVING, WORK, People
from wangtai.demo.placement import place_houses
from wangtai.demo.units import Units

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
    """The houses, and each snapshot person's house (people.house). Draws in a fixed order: see people.py."""
    n_comm = len(geo.codes)
    snap = slice(0, people.n_snapshot)
    unit = people.unit[snap].astype(np.int64)
    cat = _home_categories(rng, units, people, construction)
    # people are grouped by (community, category), dormitory dwellers by enterprise
    group = np.where(cat == DORM, n_comm * 5 + unit, people.comm[snap].astype(np.int64) * 5 + cat)
    h_comm, h_ent = _house_counts(group, n_comm, units)
    estate_names, estate_of_comm = estate_plan(geo, rng)
    prefixes = address_prefixes(geo, units, estate_names, estate_of_comm)
    h = _house_rows(geo, units, h_comm, h_ent, estate_of_comm, rng)
    first_house = _first_house_of_group(units, h_comm, h_ent)
    people.house[snap] = _assign_houses(rng, group, cat, unit, h_comm, h_ent, first_house)
    living = people.status[snap] == LIVING
    occupants = np.bincount(people.house[snap][living], minlength=len(h["cat"])).astype(np.int64)
    prefix = _address_prefix(h, n_comm, len(prefixes) - len(estate_names))
    archive, surveyed = _archive(rng, h["cat"], h["comm"], n_comm, now_us)
    return Houses(
        comm=h["comm"], cat=h["cat"], rank=group_rank(h["comm"].astype(np.int64)), prefix=prefix,
        number=group_rank(prefix), in_estate=h["estate"] >= 0, lon=h["lon"], lat=h["lat"], archive=archive,
        occupants=occupants, surveyed=surveyed, prefixes=prefixes, estate_names=estate_names,
        estate_of=h["estate"],
    )  # fmt: skip


def _home_categories(rng, units: Units, people: People, construction: np.ndarray) -> np.ndarray:
    """What kind of home each snapshot person lives in (SELF, RENTAL, DORM or SHED)."""
    snap = slice(0, people.n_snapshot)
    comm = people.comm[snap].astype(np.int64)
    newcomer = people.newcomer[snap]
    n = len(comm)
    is_ent = np.array([t == "企业" for t in units.types])[people.unit[snap].astype(np.int64)]
    cat = np.full(n, SELF, np.int8)
    cat[~newcomer & (rng.random(n) < 0.05)] = RENTAL
    cat[newcomer] = np.where(rng.random(int(newcomer.sum())) < 0.07, SELF, RENTAL)
    cat[is_ent] = DORM
    works = newcomer & ~is_ent & (people.reason[snap] == WORK)
    cat[works & construction[comm] & (rng.random(n) < 0.18)] = SHED
    return cat


def _house_counts(group: np.ndarray, n_comm: int, units: Units) -> tuple[np.ndarray, np.ndarray]:
    """Houses per community and category (vacant ones a share of the occupied), dormitories per enterprise."""
    counts_p = np.bincount(group, minlength=n_comm * 5 + len(units.ids))
    per_house = np.array([PERSONS_PER_HOUSE["self"], PERSONS_PER_HOUSE["rental"], PERSONS_PER_HOUSE["dorm"],
                          PERSONS_PER_HOUSE["shed"], 1.0])  # fmt: skip
    h_comm = np.ceil(counts_p[: n_comm * 5].reshape(n_comm, 5) / per_house).astype(np.int64)
    h_ent = np.ceil(counts_p[n_comm * 5 :] / PERSONS_PER_HOUSE["dorm"]).astype(np.int64)
    dorms = np.bincount(units.comm, weights=h_ent, minlength=n_comm).astype(np.int64)
    occupied = h_comm[:, :4].sum(axis=1) + dorms
    h_comm[:, VACANT] = np.round(occupied * VACANT_SHARE / (1 - VACANT_SHARE)).astype(np.int64)
    return h_comm, h_ent


def _house_rows(geo, units: Units, h_comm, h_ent, estate_of_comm, rng) -> dict[str, np.ndarray]:
    """House rows, community by community: self, rental, vacant, sheds, then dormitories per enterprise."""
    parts = {key: [] for key in ("comm", "cat", "unit", "estate", "lon", "lat")}
    for c in range(len(geo.codes)):
        ents = np.arange(units.ent_start[c], units.ent_start[c] + units.ent_count[c])
        n_dorms = int(h_ent[ents].sum())
        cats = np.repeat([SELF, RENTAL, VACANT, SHED], h_comm[c, [SELF, RENTAL, VACANT, SHED]])
        cats = np.concatenate([cats, np.full(n_dorms, DORM)]).astype(np.int8)
        ent_of = np.concatenate([np.full(len(cats) - n_dorms, -1), np.repeat(ents, h_ent[ents])])
        is_home = np.isin(cats, (SELF, RENTAL, VACANT))
        estate = estates_of_homes(rng, is_home, estate_of_comm.get(c))
        lon, lat = place_houses(geo, units, c, estate, cats == SHED, cats == DORM, ent_of, rng)
        for key, value in zip(parts, (np.full(len(cats), c), cats, ent_of, estate, lon, lat), strict=True):
            parts[key].append(value)
    h = {key: np.concatenate(value) if value else np.zeros(0) for key, value in parts.items()}
    h["comm"] = h["comm"].astype(np.int16)
    h["cat"] = h["cat"].astype(np.int8)
    h["estate"] = h["estate"].astype(np.int64)
    return h


def _first_house_of_group(units: Units, h_comm: np.ndarray, h_ent: np.ndarray) -> np.ndarray:
    """Row of each group's first house (community × category, then enterprise), as _house_rows lays them."""
    n_comm = len(h_comm)
    first = np.zeros(n_comm * 5 + len(h_ent), np.int64)
    row = 0
    for c in range(n_comm):
        for t in (SELF, RENTAL, VACANT, SHED):
            first[c * 5 + t] = row
            row += h_comm[c, t]
        for e in range(units.ent_start[c], units.ent_start[c] + units.ent_count[c]):
            first[n_comm * 5 + e] = row
            row += h_ent[e]
    return first


def _assign_houses(rng, group, cat, unit, h_comm, h_ent, first_house) -> np.ndarray:
    """Each person → a house of their group: the first ones fill every house once, the rest at random."""
    cnt = np.where(
        cat == DORM,
        h_ent[np.where(cat == DORM, unit, 0)],
        h_comm.reshape(-1)[np.where(cat == DORM, 0, group)],
    )
    rank = group_rank(group)
    slot = np.where(rank < cnt, rank, np.floor(rng.random(len(group)) * cnt).astype(np.int64))
    return first_house[group] + slot


def _address_prefix(h: dict[str, np.ndarray], n_comm: int, estate_prefix0: int) -> np.ndarray:
    """Index into address_prefixes(): the community, its estate, its construction site or the dormitory."""
    prefix = np.where(h["estate"] >= 0, estate_prefix0 + h["estate"], h["comm"])
    prefix = np.where(h["cat"] == SHED, n_comm + h["comm"], prefix)
    return np.where(h["cat"] == DORM, 2 * n_comm + h["unit"].astype(np.int64), prefix)


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
