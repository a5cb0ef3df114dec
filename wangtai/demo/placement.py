"""Where houses stand: around the village centre, in estates, at construction sites, by their enterprise."""

import numpy as np

from wangtai.demo.geography import Geography, sample_in
from wangtai.demo.units import Units


def place_houses(
    geo: Geography,
    units: Units,
    c: int,
    estate: np.ndarray,
    sheds: np.ndarray,
    dorms: np.ndarray,
    ent_of: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of community c's houses, inside its cell."""
    m = len(estate)
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
    if sheds.any():  # up to three construction sites a community
        sx, sy = sample_in(cell, np.repeat(site[0], 3), np.repeat(site[1], 3), np.full(3, 0.005), rng)
        which = rng.integers(0, 3, int(sheds.sum()))
        cx[sheds], cy[sheds], sigma[sheds] = sx[which], sy[which], 0.0004
    if dorms.any():
        cx[dorms] = units.lon[ent_of[dorms]]
        cy[dorms] = units.lat[ent_of[dorms]]
        sigma[dorms] = 0.0005
    return sample_in(cell, cx, cy, sigma, rng)
