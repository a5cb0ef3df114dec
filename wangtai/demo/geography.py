"""Where the communities are: positions, 片区, the subdistrict outline and Voronoi boundaries.

Fixed for every seed (the map of Wangtai should not change with the demo seed): 14 divisions have a
published WGS84 point; the others are placed by hand-made waypoints and spread apart deterministically.
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import Voronoi
from shapely.geometry import MultiPoint, Polygon, mapping

from wangtai.contract import BOUNDS
from wangtai.demo.vocab import AREA_TOWN, AREAS_BY_DIRECTION

DIVISIONS_CSV = Path(__file__).resolve().parent / "wangtai_divisions.csv"
SEAT = (120.0004, 36.0759)  # lon, lat of the subdistrict seat
SOUTH_SPLIT_LON = 119.992
KX = math.cos(math.radians(36.06))  # degrees of longitude → comparable distance
GEO_SEED = 84

# The second 居委会 the local newspaper counts: not in the statistical list, so assumed.
ASSUMED_COMMUNITY = {
    "community_code": "370211100002",
    "name": "王台社区",
    "official_name": "王台社区居民委员会",
    "kind": "居委会",
    "urban_rural_class": "121",
}

# Town-centre divisions without a published point: placed around the seat (assumed).
TOWN_PLACES = {
    "370211100001": (120.0012, 36.0795),
    "370211100002": (120.0090, 36.0818),
    "370211100200": (120.0140, 36.0748),
    "370211100202": (119.9995, 36.0668),
    "370211100203": (119.9930, 36.0855),
    "370211100205": (120.0170, 36.0840),
    "370211100264": (119.9785, 36.0860),
}
# Villages without a published point: strung along waypoints (lon, lat) in code order (assumed).
ROUTES = (
    ((209, 209), [(119.948, 36.079)]),
    ((211, 212), [(119.966, 36.053), (119.972, 36.046)]),
    ((214, 216), [(120.012, 36.054), (120.020, 36.046), (120.006, 36.043)]),
    ((218, 218), [(120.041, 36.080)]),
    ((220, 220), [(120.059, 36.064)]),
    ((227, 237), [(120.062, 36.086), (120.064, 36.046), (120.036, 36.034), (120.014, 36.026)]),
    ((239, 249), [(119.977, 36.020), (119.958, 36.030), (119.950, 36.052)]),
    ((251, 260), [(120.014, 36.014), (120.002, 36.003), (119.988, 36.012), (119.975, 36.006)]),
    ((262, 262), [(119.992, 35.999)]),
    (
        (265, 278),
        [
            (119.946, 36.090),
            (119.970, 36.099),
            (119.992, 36.094),
            (120.014, 36.101),
            (120.034, 36.094),
            (120.055, 36.098),
            (120.062, 36.112),
        ],
    ),
    ((279, 281), [(120.020, 36.113), (120.028, 36.126), (120.050, 36.132)]),
    ((283, 288), [(120.002, 36.112), (120.012, 36.128), (120.034, 36.138), (120.062, 36.126)]),
)
# Industrial parks (enterprises and their dormitories), with how many of the 70 enterprises each has.
PARKS = {
    "370211100217": 18,  # 井头村 — textile machinery park
    "370211100219": 14,  # 东法家庄村 — textile machinery parts
    "370211100220": 10,  # 魏家庄村 — garments
    "370211100213": 12,  # 郎中沟村 — new display-panel / electronics park
    "370211100207": 8,  # 前营村
    "370211100206": 8,  # 庄家茔村
}


@dataclass
class Geography:
    codes: list[str]
    names: list[str]
    kinds: list[str]
    classes: list[str]
    assumed: np.ndarray  # bool
    lon: np.ndarray
    lat: np.ndarray
    areas: list[str]
    outline: shapely.Geometry
    cells: list[shapely.Geometry]  # one (Multi)Polygon per community, prepared

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def geojson(self) -> dict:
        features = [
            {
                "type": "Feature",
                "properties": {"community_code": code, "name": name},
                "geometry": mapping(cell),
            }
            for code, name, cell in zip(self.codes, self.names, self.cells, strict=True)
        ]
        return {"type": "FeatureCollection", "features": features}


def _read_divisions() -> list[dict]:
    with DIVISIONS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.append(dict(ASSUMED_COMMUNITY, lon_wgs84="", lat_wgs84=""))
    rows.sort(key=lambda r: r["community_code"])
    return rows


def _along(waypoints: list[tuple[float, float]], k: int) -> np.ndarray:
    """k points evenly spaced along a polyline (its middle when there is one waypoint)."""
    pts = np.asarray(waypoints, dtype=float)
    if len(pts) == 1:
        return np.repeat(pts, k, axis=0)
    seg = np.hypot((pts[1:, 0] - pts[:-1, 0]) * KX, pts[1:, 1] - pts[:-1, 1])
    cum = np.r_[0, np.cumsum(seg)]
    at = (np.arange(k) + 0.5) / k * cum[-1]
    return np.column_stack([np.interp(at, cum, pts[:, 0]), np.interp(at, cum, pts[:, 1])])


def _place(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(rows)
    rng = np.random.default_rng(GEO_SEED)
    pos = np.full((n, 2), np.nan)
    known = np.zeros(n, bool)
    for i, row in enumerate(rows):
        if row["lon_wgs84"]:
            pos[i] = float(row["lon_wgs84"]), float(row["lat_wgs84"])
            known[i] = True
        elif row["community_code"] in TOWN_PLACES:
            pos[i] = TOWN_PLACES[row["community_code"]]
    suffix = np.array([int(r["community_code"][-3:]) for r in rows])
    for (lo, hi), waypoints in ROUTES:
        members = np.flatnonzero((suffix >= lo) & (suffix <= hi) & ~known)
        pos[members] = _along(waypoints, len(members))
    if np.isnan(pos).any():
        missing = [rows[i]["community_code"] for i in np.flatnonzero(np.isnan(pos[:, 0]))]
        raise ValueError(f"no position rule for {missing}")
    pos[~known] += rng.normal(0, 0.0015, (int((~known).sum()), 2))

    # Spread apart (town-centre divisions are small, villages larger); published points stay put.
    town = np.array([r["urban_rural_class"] in ("121", "122") for r in rows])
    radius = np.where(town, 0.0032, 0.0058)
    xy = np.column_stack([(pos[:, 0] - SEAT[0]) * KX, pos[:, 1] - SEAT[1]])
    anchor = xy.copy()
    lo = np.array([(BOUNDS["lon_min"] + 0.008 - SEAT[0]) * KX, BOUNDS["lat_min"] + 0.008 - SEAT[1]])
    hi = np.array([(BOUNDS["lon_max"] - 0.008 - SEAT[0]) * KX, BOUNDS["lat_max"] - 0.008 - SEAT[1]])
    sep = radius[:, None] + radius[None, :]
    for _ in range(250):
        delta = xy[:, None, :] - xy[None, :, :]
        dist = np.hypot(delta[..., 0], delta[..., 1]) + np.eye(n)
        push = np.clip(sep - dist, 0, None) / dist
        np.fill_diagonal(push, 0)
        force = (push[..., None] * delta).sum(axis=1) * 0.5
        step = force + 0.01 * (anchor - xy)
        xy[~known] += step[~known]
        xy = np.clip(xy, lo, hi)
    lon = xy[:, 0] / KX + SEAT[0]
    lat = xy[:, 1] + SEAT[1]
    return lon, lat, town


def _outline(lon: np.ndarray, lat: np.ndarray) -> shapely.Geometry:
    """An irregular subdistrict outline around all sites, inside BOUNDS."""
    hull = shapely.concave_hull(MultiPoint(np.column_stack([lon, lat])), ratio=0.35)
    body = hull.buffer(0.0115, quad_segs=6)
    ring = np.asarray(shapely.segmentize(body, 0.002).exterior.coords)[:-1]
    centre = ring.mean(axis=0)
    radial = ring - centre
    radial /= np.hypot(radial[:, 0], radial[:, 1])[:, None]
    t = np.arange(len(ring)) / len(ring) * 2 * np.pi
    wiggle = 0.0016 * np.sin(7 * t + 0.4) + 0.0011 * np.sin(13 * t + 2.1) + 0.0007 * np.sin(29 * t)
    shape = shapely.make_valid(Polygon(ring + radial * wiggle[:, None]))
    box = shapely.box(
        BOUNDS["lon_min"] + 0.0005,
        BOUNDS["lat_min"] + 0.0005,
        BOUNDS["lon_max"] - 0.0005,
        BOUNDS["lat_max"] - 0.0005,
    )
    shape = shapely.intersection(shape, box)
    if shape.geom_type != "Polygon":
        shape = max(shapely.get_parts(shape), key=lambda g: g.area)
    return _rounded(shape)


def _rounded(geom: shapely.Geometry) -> shapely.Geometry:
    geom = shapely.transform(geom, lambda c: np.round(c, 6))
    return geom if geom.is_valid else shapely.make_valid(geom)


def _cells(lon: np.ndarray, lat: np.ndarray, outline: shapely.Geometry) -> list[shapely.Geometry]:
    xy = np.column_stack([(lon - SEAT[0]) * KX, lat - SEAT[1]])
    far = np.array([[-5.0, -5.0], [-5.0, 5.0], [5.0, -5.0], [5.0, 5.0]])
    vor = Voronoi(np.vstack([xy, far]))
    cells = []
    for i in range(len(xy)):
        region = vor.regions[vor.point_region[i]]
        verts = vor.vertices[region]
        poly = Polygon(np.column_stack([verts[:, 0] / KX + SEAT[0], verts[:, 1] + SEAT[1]]))
        cell = shapely.intersection(poly.convex_hull, outline)
        if cell.geom_type not in ("Polygon", "MultiPolygon"):
            parts = [g for g in shapely.get_parts(cell) if g.geom_type == "Polygon"]
            cell = shapely.MultiPolygon(parts)
        cell = _rounded(cell)
        shapely.prepare(cell)
        cells.append(cell)
    return cells


def _areas(rows: list[dict], lon: np.ndarray, lat: np.ndarray, town: np.ndarray) -> list[str]:
    dx = (lon - SEAT[0]) * KX
    dy = lat - SEAT[1]
    angle = np.degrees(np.arctan2(dy, dx)) % 360
    sector = (((angle + 45) % 360) // 90).astype(int)  # 0 E, 1 N, 2 W, 3 S
    near = np.hypot(dx, dy) < 0.016
    # The long south is split in two (south-east, south-west) so that the 片区 are of similar size.
    sector = np.where((sector == 3) & (lon < SOUTH_SPLIT_LON), 4, sector)
    return [AREA_TOWN if (town[i] or near[i]) else AREAS_BY_DIRECTION[sector[i]] for i in range(len(rows))]


def build() -> Geography:
    rows = _read_divisions()
    lon, lat, town = _place(rows)
    outline = _outline(lon, lat)
    cells = _cells(lon, lat, outline)
    return Geography(
        codes=[r["community_code"] for r in rows],
        names=[r["name"] for r in rows],
        kinds=[r["kind"] for r in rows],
        classes=[r["urban_rural_class"] for r in rows],
        assumed=np.array([r["community_code"] == ASSUMED_COMMUNITY["community_code"] for r in rows]),
        lon=lon,
        lat=lat,
        areas=_areas(rows, lon, lat, town),
        outline=outline,
        cells=cells,
    )


def sample_in(
    cell: shapely.Geometry,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One point per centre, normally scattered (sigma in degrees of latitude), inside `cell`.

    Rejected points are redrawn; after a few rounds the spread widens, and at last points fall back to
    uniform sampling of the cell, so every point ends strictly inside its own cell."""
    n = len(cx)
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    spread = np.asarray(sigma, dtype=float) * np.ones(n)
    for attempt in range(12):
        if not len(todo):
            return x, y
        tx = cx[todo] + rng.normal(0, 1, len(todo)) * spread[todo] / KX
        ty = cy[todo] + rng.normal(0, 1, len(todo)) * spread[todo]
        ok = shapely.contains_xy(cell, tx, ty)
        x[todo[ok]] = tx[ok]
        y[todo[ok]] = ty[ok]
        todo = todo[~ok]
        if attempt >= 3:
            spread[todo] *= 0.6  # the centre is inside the cell: closer draws land inside
    minx, miny, maxx, maxy = cell.bounds
    while len(todo):
        tx = rng.uniform(minx, maxx, len(todo))
        ty = rng.uniform(miny, maxy, len(todo))
        ok = shapely.contains_xy(cell, tx, ty)
        x[todo[ok]] = tx[ok]
        y[todo[ok]] = ty[ok]
        todo = todo[~ok]
    return x, y
