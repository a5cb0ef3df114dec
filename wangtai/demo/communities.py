"""How many residents and newcomers each community has, at the real subdistrict's proportions."""

import numpy as np

from wangtai.demo.arrays import apportion
from wangtai.demo.geography import KX, PARKS, SEAT, Geography

# Scale of the real subdistrict: the demo keeps these proportions at any size.
REAL_RESIDENTS = 69_000
NEWCOMER_SHARE = 0.246
TAIDONG = "370211100001"  # 台东路社区: the large town-centre community
WANGTAI_SQ = "370211100002"  # 王台社区 (assumed second 居委会)
FIXED_SIZES = {TAIDONG: 13_000, WANGTAI_SQ: 3_600}


def distance_to(geo: Geography, lon: float, lat: float) -> np.ndarray:
    return np.hypot((geo.lon - lon) * KX, geo.lat - lat)


def community_profile(geo: Geography, residents: int, rng: np.random.Generator):
    """Residents and newcomers per community, which communities have construction sites, and which
    draw newcomers (the parks and their neighbours)."""
    town, park, near_park, remote = _community_classes(geo)
    size, share, fixed = _sizes_and_shares(geo, rng, town, park, near_park, remote)
    people = apportion(size, residents)
    newcomers = np.round(people * share).astype(np.int64)
    construction = np.zeros(len(geo.codes), bool)
    construction[[geo.index(TAIDONG), geo.index(WANGTAI_SQ)]] = True
    construction[rng.choice(np.flatnonzero(~remote & ~fixed), 8, replace=False)] = True
    return people, newcomers, construction, park | near_park


def _community_classes(geo: Geography) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Town centre, industrial park, near a park (< 0.02°), remote from the subdistrict seat."""
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
    return town, park, near_park, remote


def _sizes_and_shares(geo: Geography, rng, town, park, near_park, remote):
    """Relative size and newcomer share per community, scaled to the real subdistrict; and the communities
    whose size is fixed (the two 居委会)."""
    n = len(geo.codes)
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
        fixed[geo.index(code)] = True
        size[geo.index(code)] = people
    share[geo.index(TAIDONG)] = 0.30
    share[geo.index(WANGTAI_SQ)] = 0.26
    size[~fixed] *= (REAL_RESIDENTS - size[fixed].sum()) / size[~fixed].sum()
    for _ in range(8):  # nudge the shares so that the subdistrict has its quarter of newcomers
        share = np.clip(share * NEWCOMER_SHARE / ((share * size).sum() / size.sum()), 0.02, 0.62)
    return size, share, fixed
