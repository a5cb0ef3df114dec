"""People as integer arrays: where they live, age, reason for coming, unit, name, phone, arrival, status."""

from dataclasses import dataclass

import numpy as np

from wangtai.demo import vocab
from wangtai.demo.arrays import DAY_US
from wangtai.demo.communities import community_profile
from wangtai.demo.draws import categorical, random_phones
from wangtai.demo.geography import Geography
from wangtai.demo.id_numbers import id_keys
from wangtai.demo.units import Units

DISCOVERED_SHARE = 0.02  # of newcomers: people the campaign finds who are not in the police snapshot

# Reasons (indices into REASONS: 务工, 经商, 随迁, 就学, 投靠, 其他)
WORK, TRADE, FOLLOW, STUDY, KIN, OTHER = range(6)
LIVING, LEFT = 0, 1


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
    key17 = id_keys(rng, newcomer, birth, male)

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
