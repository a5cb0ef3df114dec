"""Housing estates (小区): which communities have them, their names; every house's address prefix."""

import numpy as np

from wangtai.demo import vocab
from wangtai.demo.communities import TAIDONG, WANGTAI_SQ
from wangtai.demo.geography import Geography
from wangtai.demo.units import Units

ESTATES = {TAIDONG: (26, 1.0), WANGTAI_SQ: (8, 0.9)}  # community → (estates, share of homes in them)
TOWN_ESTATES = (2, 0.35)  # other town-centre villages: resettlement estates

# community index → (its first estate, how many, share of its homes in them)
EstatePlan = dict[int, tuple[int, int, float]]


def estate_plan(geo: Geography, rng: np.random.Generator) -> tuple[list[str], EstatePlan]:
    """Names of the estates (numbered community by community) and each community's estates."""
    names = _estate_names(rng)
    plan: EstatePlan = {}
    used = 0
    for i, code in enumerate(geo.codes):
        k, share = ESTATES.get(code, TOWN_ESTATES if geo.classes[i] in ("121", "122") else (0, 0.0))
        if k:
            plan[i] = (used, k, share)
            used += k
    return names[:used], plan


def _estate_names(rng: np.random.Generator) -> list[str]:
    names = [p + s for p in vocab.ESTATE_PREFIXES for s in vocab.ESTATE_SUFFIXES]
    return [names[i] for i in rng.permutation(len(names))]


def estates_of_homes(
    rng: np.random.Generator, is_home: np.ndarray, plan: tuple[int, int, float] | None
) -> np.ndarray:
    """Estate index of each house of one community (-1: none); only homes, not sheds or dormitories."""
    estate = np.full(len(is_home), -1, np.int64)
    if plan is not None:
        e0, k, share = plan
        homes = np.flatnonzero(is_home & (rng.random(len(is_home)) < share))
        estate[homes] = e0 + rng.integers(0, k, len(homes))
    return estate


def address_prefixes(geo: Geography, units: Units, estate_names: list[str], plan: EstatePlan) -> list[str]:
    """Communities, then their construction sites, enterprises' dormitories and estates (the last block)."""
    prefixes = list(geo.names) + [f"{name}建筑工地工棚" for name in geo.names]
    prefixes += [f"{geo.names[units.comm[u]]}{units.names[u]}职工宿舍" for u in range(len(units.ids))]
    prefixes += [f"{geo.names[c]}{estate_names[e0 + j]}" for c, (e0, k, _) in plan.items() for j in range(k)]
    return prefixes
