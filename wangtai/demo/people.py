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
    """People, the communities with construction sites, and residents per community.

    The order of the draws below is the demo's output: reordering them changes every file.
    """
    people_c, new_c, construction, newcomer_heavy = community_profile(geo, residents, rng)
    comm, newcomer, n_snap = _communities_of_people(people_c, new_c, newcomer_heavy, rng)
    discovered = np.arange(len(comm)) >= n_snap
    today = int(now_us // DAY_US)
    age, birth = _ages(rng, newcomer, discovered, today)
    age_class = np.digitize(age, [6, 18, 56])
    reason = _reasons(rng, newcomer, discovered, age_class)
    unit = _units_of_people(rng, units, comm, newcomer, reason, age_class)
    male = rng.random(len(comm)) < np.where(newcomer & (reason == WORK), 0.58, 0.5)
    key17 = id_keys(rng, newcomer, birth, male)
    surname, given1, given2 = _names(rng, len(comm))
    phone = _phones(rng, age)
    arrival = _arrivals(rng, newcomer, birth, today)
    status = _statuses(rng, newcomer)
    people = People(
        n_snapshot=n_snap, comm=comm, unit=unit, house=np.full(len(comm), -1, np.int64), newcomer=newcomer,
        key17=key17, birth=birth.astype(np.int32), surname=surname, given1=given1, given2=given2,
        phone=phone, reason=reason, arrival=arrival.astype(np.int32), status=status,
        updated=_update_times(rng, newcomer, arrival, now_us),
    )  # fmt: skip
    return people, construction, np.asarray(people_c)


def _communities_of_people(people_c, new_c, newcomer_heavy, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """Community and newcomer flag per person: the snapshot community by community, then the discovered."""
    n_snap = int(people_c.sum())
    starts = np.r_[0, np.cumsum(people_c)[:-1]]
    comm = np.repeat(np.arange(len(people_c)), people_c)
    newcomer = (np.arange(n_snap) - np.repeat(starts, people_c)) < np.repeat(new_c, people_c)
    # the discovered are newcomers, in the communities where newcomers concentrate
    n_disc = round(new_c.sum() * DISCOVERED_SHARE)
    comm = np.concatenate([comm, rng.choice(np.flatnonzero(newcomer_heavy), n_disc)]).astype(np.int16)
    newcomer = np.concatenate([newcomer, np.ones(n_disc, bool)])
    return comm, newcomer, n_snap


def _ages(rng, newcomer, discovered, today: int) -> tuple[np.ndarray, np.ndarray]:
    """Age in years and birth date (days since 1970); the discovered are working-age adults."""
    n = len(newcomer)
    age = np.where(
        newcomer, rng.choice(96, n, p=_age_weights("new")), rng.choice(96, n, p=_age_weights("local"))
    )
    age[discovered] = rng.integers(18, 50, int(discovered.sum()))
    birth = today - (age * 365.25).astype(np.int64) - rng.integers(1, 365, n)
    return age, birth


def _reasons(rng, newcomer, discovered, age_class) -> np.ndarray:
    """Why a newcomer came (-1 for locals); the discovered came to work."""
    reason = np.where(newcomer, categorical(rng, REASON_P, age_class), -1).astype(np.int8)
    reason[discovered] = WORK
    return reason


def _units_of_people(rng, units: Units, comm, newcomer, reason, age_class) -> np.ndarray:
    """The community's unit; in the parks many workers belong to an enterprise (its dormitory)."""
    n = len(comm)
    unit = units.community_unit[comm].astype(np.int16)
    n_ent = units.ent_count[comm]
    to_ent = newcomer & (reason == WORK) & (n_ent > 0) & (age_class == 2) & (rng.random(n) < 0.62)
    pick = units.ent_start[comm] + np.floor(rng.random(n) * np.maximum(n_ent, 1)).astype(np.int64)
    return np.where(to_ent, pick, unit).astype(np.int16)


def _names(rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surname and one or two given characters, as indices into vocab (given2 -1: none)."""
    sur_p = np.r_[
        vocab.SURNAME_WEIGHTS / vocab.SURNAME_WEIGHTS.sum() * (1 - vocab.COMPOUND_SHARE),
        np.full(len(vocab.COMPOUND_SURNAMES), vocab.COMPOUND_SHARE / len(vocab.COMPOUND_SURNAMES)),
    ]
    surname = rng.choice(len(sur_p), n, p=sur_p).astype(np.int16)
    given1 = rng.integers(0, len(vocab.GIVEN_CHARS), n).astype(np.int16)
    given2 = np.where(rng.random(n) < 0.72, rng.integers(0, len(vocab.GIVEN_CHARS), n), -1).astype(np.int16)
    return surname, given1, given2


def _phones(rng, age) -> np.ndarray:
    """A mobile number, or 0 for none: most children and a few adults have none."""
    phone = random_phones(rng, len(age))
    phone[rng.random(len(age)) < np.where(age < 14, 0.9, 0.06)] = 0
    return phone


def _arrivals(rng, newcomer, birth, today: int) -> np.ndarray:
    """Arrival date of newcomers (days since 1970, never before birth); 0 for locals."""
    days_here = np.minimum(rng.exponential(800, len(newcomer)), 4000).astype(np.int64)
    return np.where(newcomer, np.maximum(today - days_here, birth), 0)


def _statuses(rng, newcomer) -> np.ndarray:
    """LIVING or LEFT: newcomers move away more often."""
    left = rng.random(len(newcomer)) < np.where(newcomer, 0.05, 0.01)
    return np.where(left, LEFT, LIVING).astype(np.int8)


def _update_times(rng, newcomer, arrival, now_us: int) -> np.ndarray:
    """When the snapshot row was last updated (µs, whole seconds), never before a newcomer's arrival."""
    n = len(newcomer)
    ago = np.where(newcomer, rng.exponential(90, n), rng.uniform(1, 720, n))
    updated = now_us - (ago * DAY_US).astype(np.int64) - rng.integers(60_000_000, 3_600_000_000, n)
    floor_us = np.where(newcomer, arrival * DAY_US, 0)
    updated = np.where(
        updated < floor_us, floor_us + ((now_us - floor_us) * rng.random(n) * 0.9).astype(np.int64), updated
    )
    return updated // 1_000_000 * 1_000_000  # source systems keep whole seconds
