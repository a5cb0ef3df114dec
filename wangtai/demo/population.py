"""Units, people and houses as compact numpy arrays (no Python object per row), and their writers.

People are generated once, in memory as integers (about 60 bytes a person); strings are built per chunk
only when a file is written, so memory stays bounded at millions of residents.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wangtai.contract import (
    ARCHIVE_STATUS,
    HOUSE_TYPES,
    POPULATION_TYPES,
    REASONS,
    RESIDENT_STATUS,
)
from wangtai.demo import vocab
from wangtai.demo._write import AtomicParquet, digits, feed_schema, fixed_ascii, take
from wangtai.demo.geography import KX, PARKS, SEAT, Geography, sample_in
from wangtai.idnumber import CHECK_CHARS, check_chars

CHUNK = 500_000
DAY_US = 86_400_000_000
EPOCH = np.datetime64("1970-01-01", "D")

# Scale of the real subdistrict: the demo keeps these proportions at any size.
REAL_RESIDENTS = 69_000
NEWCOMER_SHARE = 0.246
TAIDONG = "370211100001"  # 台东路社区: the large town-centre community
WANGTAI_SQ = "370211100002"  # 王台社区 (assumed second 居委会)
FIXED_SIZES = {TAIDONG: 13_000, WANGTAI_SQ: 3_600}
ESTATES = {TAIDONG: (26, 1.0), WANGTAI_SQ: (8, 0.9)}  # community → (estates, share of homes in them)
TOWN_ESTATES = (2, 0.35)  # other town-centre villages: resettlement estates
PERSONS_PER_HOUSE = {"self": 2.85, "rental": 2.25, "dorm": 9.0, "shed": 14.0}
VACANT_SHARE = 0.07
DISCOVERED_SHARE = 0.02  # of newcomers: people the campaign finds who are not in the police snapshot

# House categories (indices into HOUSE_TYPES: 自住, 出租, 宿舍, 工棚, 空置)
SELF, RENTAL, DORM, SHED, VACANT = range(5)
# Reasons (indices into REASONS: 务工, 经商, 随迁, 就学, 投靠, 其他)
WORK, TRADE, FOLLOW, STUDY, KIN, OTHER = range(6)
LIVING, LEFT = 0, 1


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


@dataclass
class People:
    n_snapshot: int  # rows [0, n_snapshot) are in the residents snapshot; the rest are "discovered"
    comm: np.ndarray
    unit: np.ndarray
    house: np.ndarray
    newcomer: np.ndarray
    key17: np.ndarray  # the first 17 digits of the id number as an integer
    birth: np.ndarray  # days since 1970-01-01
    surname: np.ndarray
    given1: np.ndarray
    given2: np.ndarray  # -1: a one-character given name
    phone: np.ndarray  # 0: none
    reason: np.ndarray  # -1: none
    arrival: np.ndarray  # days since 1970-01-01
    status: np.ndarray
    updated: np.ndarray  # microseconds since 1970-01-01


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


# --- helpers ---------------------------------------------------------------------------------------


def group_rank(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each group of equal keys, in row order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(keys)])
    rank = np.empty(len(keys), np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, counts)
    return rank


def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to weights that add up to total (largest remainder)."""
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row r, an index drawn from probs[rows[r]] (probs: classes × choices)."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), np.int8)
    for k in range(probs.shape[0]):
        mask = rows == k
        out[mask] = np.minimum(np.searchsorted(cdf[k], u[mask], side="right"), probs.shape[1] - 1)
    return out


def random_names(rng: np.random.Generator, n: int) -> list[str]:
    sur = rng.choice(vocab.SURNAMES, n, p=vocab.SURNAME_WEIGHTS / vocab.SURNAME_WEIGHTS.sum())
    chars = list(vocab.GIVEN_CHARS)
    g1 = rng.choice(chars, n)
    g2 = np.where(rng.random(n) < 0.7, rng.choice(chars, n), "")
    return [f"{s}{a}{b}" for s, a, b in zip(sur, g1, g2, strict=True)]


def random_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(vocab.PHONE_PREFIXES, n) * 100_000_000 + rng.integers(0, 100_000_000, n)


def distance_to(geo: Geography, lon: float, lat: float) -> np.ndarray:
    return np.hypot((geo.lon - lon) * KX, geo.lat - lat)


# --- units ----------------------------------------------------------------------------------------


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


# --- communities: sizes and newcomer shares -------------------------------------------------------


def community_profile(geo: Geography, residents: int, rng: np.random.Generator):
    """Residents and newcomers per community, and which communities have construction sites."""
    n = len(geo.codes)
    town = np.array([c in ("121", "122") for c in geo.classes])
    park = np.array([code in PARKS for code in geo.codes])
    park_idx = np.flatnonzero(park)
    to_park = np.min(
        np.hypot(
            (geo.lon[:, None] - geo.lon[park_idx][None, :]) * KX,
            geo.lat[:, None] - geo.lat[park_idx][None, :],
        ),
        axis=1,
    )
    near_park = ~park & (to_park < 0.02)
    remote = ~town & ~park & ~near_park & (distance_to(geo, *SEAT) > 0.045)

    size = rng.uniform(380, 760, n)
    size[town] = rng.uniform(1300, 1800, town.sum())
    size[park] = rng.uniform(1300, 1700, park.sum())
    share = rng.uniform(0.10, 0.18, n)
    share[town] = rng.uniform(0.22, 0.32, town.sum())
    share[near_park] = rng.uniform(0.28, 0.40, near_park.sum())
    share[park] = rng.uniform(0.46, 0.58, park.sum())
    share[remote] = rng.uniform(0.03, 0.10, remote.sum())
    fixed = np.zeros(n, bool)
    for code, people in FIXED_SIZES.items():
        i = geo.index(code)
        fixed[i] = True
        size[i] = people
    share[geo.index(TAIDONG)] = 0.30
    share[geo.index(WANGTAI_SQ)] = 0.26
    size[~fixed] *= (REAL_RESIDENTS - size[fixed].sum()) / size[~fixed].sum()
    for _ in range(8):  # nudge the shares so that the subdistrict has its quarter of newcomers
        share = np.clip(share * NEWCOMER_SHARE / ((share * size).sum() / size.sum()), 0.02, 0.62)

    people = apportion(size, residents)
    newcomers = np.round(people * share).astype(np.int64)
    construction = np.zeros(n, bool)
    construction[[geo.index(TAIDONG), geo.index(WANGTAI_SQ)]] = True
    construction[rng.choice(np.flatnonzero(~remote & ~fixed), 8, replace=False)] = True
    return people, newcomers, construction, park | near_park


# --- people ---------------------------------------------------------------------------------------


def _age_weights(kind: str) -> np.ndarray:
    age = np.arange(96)
    if kind == "local":  # an ageing village population
        w = np.interp(
            age, [0, 10, 20, 30, 45, 55, 65, 75, 85, 95], [0.8, 0.9, 0.9, 1.0, 1.3, 1.5, 1.4, 0.9, 0.4, 0.05]
        )
    else:  # newcomers: working age, with some children and a few parents
        w = np.interp(
            age,
            [0, 6, 12, 17, 18, 22, 30, 40, 50, 55, 60, 70, 95],
            [0.35, 0.45, 0.4, 0.3, 1.2, 2.6, 3.0, 2.4, 1.4, 0.8, 0.25, 0.1, 0],
        )
    return w / w.sum()


# reason probabilities by age class (<6, 6–17, 18–55, >55) over 务工 经商 随迁 就学 投靠 其他
REASON_P = np.array(
    [
        [0, 0, 1.0, 0, 0, 0],
        [0, 0, 0.3, 0.7, 0, 0],
        [0.74, 0.13, 0.05, 0.03, 0.01, 0.04],
        [0.25, 0.05, 0.05, 0, 0.5, 0.15],
    ]
)


def build_people(
    geo: Geography, units: Units, residents: int, rng: np.random.Generator, now_us: int
) -> tuple[People, np.ndarray, np.ndarray]:
    people_c, new_c, construction, newcomer_heavy = community_profile(geo, residents, rng)
    n_snap = int(people_c.sum())
    starts = np.r_[0, np.cumsum(people_c)[:-1]]
    comm = np.repeat(np.arange(len(people_c)), people_c)
    newcomer = (np.arange(n_snap) - np.repeat(starts, people_c)) < np.repeat(new_c, people_c)

    n_disc = round(new_c.sum() * DISCOVERED_SHARE)
    heavy = np.flatnonzero(newcomer_heavy)
    comm = np.concatenate([comm, rng.choice(heavy, n_disc)]).astype(np.int16)
    newcomer = np.concatenate([newcomer, np.ones(n_disc, bool)])
    discovered = np.arange(len(comm)) >= n_snap
    n = len(comm)

    today = int(now_us // DAY_US)
    age = np.where(
        newcomer, rng.choice(96, n, p=_age_weights("new")), rng.choice(96, n, p=_age_weights("local"))
    )
    age[discovered] = rng.integers(18, 50, n_disc)
    birth = today - (age * 365.25).astype(np.int64) - rng.integers(1, 365, n)

    age_class = np.digitize(age, [6, 18, 56])
    reason = np.where(newcomer, categorical(rng, REASON_P, age_class), -1).astype(np.int8)
    reason[discovered] = WORK

    # management unit: the community's unit; in the parks many workers belong to an enterprise (dormitory)
    unit = units.community_unit[comm].astype(np.int16)
    n_ent = units.ent_count[comm]
    to_ent = newcomer & (reason == WORK) & (n_ent > 0) & (age_class == 2) & (rng.random(n) < 0.62)
    pick = units.ent_start[comm] + np.floor(rng.random(n) * np.maximum(n_ent, 1)).astype(np.int64)
    unit = np.where(to_ent, pick, unit).astype(np.int16)

    male = rng.random(n) < np.where(newcomer & (reason == WORK), 0.58, 0.5)
    key17 = _id_keys(rng, newcomer, birth, male)

    sur_p = np.r_[
        vocab.SURNAME_WEIGHTS / vocab.SURNAME_WEIGHTS.sum() * (1 - vocab.COMPOUND_SHARE),
        np.full(len(vocab.COMPOUND_SURNAMES), vocab.COMPOUND_SHARE / len(vocab.COMPOUND_SURNAMES)),
    ]
    surname = rng.choice(len(sur_p), n, p=sur_p).astype(np.int16)
    given1 = rng.integers(0, len(vocab.GIVEN_CHARS), n).astype(np.int16)
    given2 = np.where(rng.random(n) < 0.72, rng.integers(0, len(vocab.GIVEN_CHARS), n), -1).astype(np.int16)
    phone = random_phones(rng, n)
    phone[rng.random(n) < np.where(age < 14, 0.9, 0.06)] = 0

    days_here = np.minimum(rng.exponential(800, n), 4000).astype(np.int64)
    arrival = np.where(newcomer, np.maximum(today - days_here, birth), 0)
    status = np.where(rng.random(n) < np.where(newcomer, 0.05, 0.01), LEFT, LIVING).astype(np.int8)
    ago = np.where(newcomer, rng.exponential(90, n), rng.uniform(1, 720, n))
    updated = now_us - (ago * DAY_US).astype(np.int64) - rng.integers(60_000_000, 3_600_000_000, n)
    floor_us = np.where(newcomer, arrival * DAY_US, 0)
    updated = np.where(
        updated < floor_us, floor_us + ((now_us - floor_us) * rng.random(n) * 0.9).astype(np.int64), updated
    )
    updated = updated // 1_000_000 * 1_000_000  # source systems keep whole seconds

    people = People(
        n_snapshot=n_snap, comm=comm, unit=unit, house=np.full(n, -1, np.int64), newcomer=newcomer,
        key17=key17, birth=birth.astype(np.int32), surname=surname, given1=given1, given2=given2,
        phone=phone, reason=reason, arrival=arrival.astype(np.int32), status=status, updated=updated,
    )  # fmt: skip
    return people, construction, np.asarray(people_c)


def _id_keys(
    rng: np.random.Generator, newcomer: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """First 17 digits (region, birth date, sequence) of unique id numbers, as int64."""
    n = len(birth)
    dates = EPOCH + birth.astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = year * 10_000 + month * 100 + day

    codes = np.array([c for c, _ in vocab.NEWCOMER_REGIONS], np.int64)
    weights = np.array([w for _, w in vocab.NEWCOMER_REGIONS])
    other = np.array([c for c, _ in vocab.LOCAL_OTHER_REGIONS], np.int64)
    other_w = np.array([w for _, w in vocab.LOCAL_OTHER_REGIONS])
    local_region = np.where(
        year < 2012,
        np.where(
            rng.random(n) < 0.85, vocab.LOCAL_OLD_REGION, rng.choice(other, n, p=other_w / other_w.sum())
        ),
        np.where(rng.random(n) < 0.9, vocab.LOCAL_REGION, rng.choice(other, n, p=other_w / other_w.sum())),
    )
    region = np.where(newcomer, rng.choice(codes, n, p=weights / weights.sum()), local_region)

    # Sequence numbers unique within (region, birth date, sex): the k-th person of a group gets a slot
    # (offset + 137 k) mod 500 — distinct for k < 500, and scattered so that they look random.
    group = region * 1_000_000_000 + ymd * 10 + male
    k = group_rank(group)
    if k.max(initial=0) >= 500:
        raise ValueError("too many people born on one day in one region for unique id numbers")
    offset = (group % 999_983) * 7_919 % 500
    seq = ((offset + 137 * k) % 500) * 2 + male
    return region * 100_000_000_000 + ymd * 1_000 + seq


def id_strings(key17: np.ndarray, corrupt: np.ndarray | None = None) -> pa.StringArray:
    """18-character id numbers; rows where `corrupt` is set get a wrong check character."""
    d = digits(key17, 17)
    check = np.frombuffer(check_chars(d).astype("S1").tobytes(), dtype=np.uint8).copy()
    if corrupt is not None and corrupt.any():
        # the check character five places further along "10X98765432": always a wrong one
        shifted = dict(zip(CHECK_CHARS.encode("ascii"), (CHECK_CHARS * 2)[5:16].encode("ascii"), strict=True))
        lookup = np.zeros(256, np.uint8)
        lookup[list(shifted)] = list(shifted.values())
        check[corrupt] = lookup[check[corrupt]]
    return fixed_ascii(np.hstack([d + ord("0"), check[:, None]]))


# --- houses ---------------------------------------------------------------------------------------


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


# --- writers --------------------------------------------------------------------------------------


def bad_row_kinds(rng: np.random.Generator, n: int, fraction: float, kinds: int, cap: float = 0.009):
    """Row → kind of deliberate error (-1: good): at least one, but never more than `cap` of the rows."""
    kind = np.full(n, -1, np.int8)
    if fraction <= 0 or n == 0:
        return kind
    count = min(max(1, round(n * fraction)), int(n * cap))
    rows = rng.choice(n, count, replace=False)
    kind[rows] = np.arange(count) % kinds
    return kind


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


def house_ids(geo: Geography, houses: Houses, index: np.ndarray) -> pa.StringArray:
    """FW + community code + 7-digit number within the community."""
    codes = np.array([int(c) for c in geo.codes], np.int64)[houses.comm[index]]
    head = np.broadcast_to(np.frombuffer(b"FW", np.uint8), (len(index), 2))
    return fixed_ascii(
        np.hstack([head, digits(codes, 12) + ord("0"), digits(houses.rank[index] + 1, 7) + ord("0")])
    )


def write_houses(path, geo: Geography, houses: Houses, rng, now_us, bad_rows):
    n = len(houses.cat)
    bad = bad_row_kinds(rng, n, bad_rows, 5)  # unknown community, swapped lat/lon, negative, bad enum, future
    codes = [*geo.codes, "370211100999"]
    types = [*HOUSE_TYPES, "群租房"]
    today = int(now_us // DAY_US)
    with AtomicParquet(path, feed_schema("houses")) as out:
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(n, lo + CHUNK))
            idx = np.arange(s.start, s.stop)
            b = bad[s]
            lat, lon = houses.lat[s], houses.lon[s]
            lat, lon = np.where(b == 1, lon, lat), np.where(b == 1, lat, lon)
            surveyed = np.where(b == 4, today + rng.integers(3, 30, len(b)), houses.surveyed[s])
            in_estate = houses.in_estate[s]
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
            estate = pa.array([*houses.estate_names, ""], pa.string()).take(
                pa.array(np.where(in_estate, houses.estate_of[s], len(houses.estate_names)), mask=~in_estate)
            )
            out.write(
                {
                    "house_id": house_ids(geo, houses, idx),
                    "community_code": take(codes, np.where(b == 0, len(geo.codes), houses.comm[s])),
                    "estate": estate,
                    "address": pc.if_else(pa.array(in_estate), flat, plain),
                    "lat": pa.array(lat),
                    "lon": pa.array(lon),
                    "house_type": take(types, np.where(b == 3, len(HOUSE_TYPES), houses.cat[s])),
                    "archive_status": take(ARCHIVE_STATUS, houses.archive[s]),
                    "occupants": pa.array(np.where(b == 2, -1, houses.occupants[s]), pa.int64()),
                    "surveyed_at": pa.array(surveyed, pa.int32(), mask=surveyed < 0).cast(pa.date32()),
                }
            )
    return out.rows, int((bad >= 0).sum())
