"""pydeck builders for offline maps: community boundaries drawn from data, no internet basemap.

``pdk.Deck(map_provider=None)`` and ``map_style`` left alone (DESIGN.md: ``map_style=None`` makes
Streamlit fetch a Carto basemap). Every object carries the tooltip's three lines as plain text (``tip``,
shown bold, ``detail``, ``note``); the markup is in the deck's tooltip template (``TOOLTIP``), because
Streamlit HTML-escapes every value it puts into the template — markup inside a value shows as literal tags,
and a name is never read as HTML.
An intranet tile server may be configured with ``WANGTAI_TILE_URL`` (off by default).

Pages draw a map with ``chart(...)``: the layers, the view and the deck.gl JSON are built once per content
(``memo.cached``) and the JSON is compact — pydeck's own is indented, several times larger for thousands of
cells, and was rebuilt on every rerun.
"""

import functools
import itertools
import json
import math

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from wangtai import settings
from wangtai.contract import BOUNDS, CELL_LAT_DEG, CELL_LON_DEG
from wangtai.ui import format as fmt
from wangtai.ui import memo

TOOLTIP = {
    "html": "<b>{tip}</b><br/>{detail}<br/>{note}",
    "style": {"fontSize": "15px", "backgroundColor": "#10243A", "color": "#FFFFFF"},
}
CELL_SIZE_NOTE = "网格约 170 米 × 180 米"
# Newcomer density / share classes, light → dark. Drawn opaque, so a fill is exactly its legend swatch
# (185/255 over the page's background was another colour than the solid swatch). The palest class is a
# full yellow, not cream: it stays visible on the light theme's white.
RAMP = [(254, 217, 118), (254, 178, 76), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
OPAQUE = 255
LINE = [120, 170, 210, 230]
HIGHLIGHT = [0, 229, 255, 255]
LABEL_FONT = (
    "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
)


def _class_color(value: float, breaks: list[float], alpha: int) -> list[int]:
    index = sum(1 for b in breaks if value > b)
    return [*RAMP[min(index, len(RAMP) - 1)], alpha]


def quantile_breaks(values: pd.Series, classes: int = len(RAMP)) -> list[float]:
    clean = pd.to_numeric(values, errors="coerce").dropna()
    if clean.empty:
        return []
    return sorted({float(clean.quantile(q / classes)) for q in range(1, classes)})


def count_breaks(values: pd.Series, classes: int = len(RAMP)) -> list[float]:
    """Geometric class breaks for skewed counts (1 … 300 people a cell): 3, 10, 31, 98."""
    clean = pd.to_numeric(values, errors="coerce").dropna()
    if clean.empty or clean.max() <= 1:
        return []
    top = float(clean.max())
    return sorted({round(top ** (i / classes)) for i in range(1, classes)} - {0})


def _geometry(text) -> dict | None:
    try:
        geometry = json.loads(text) if isinstance(text, str) else text
    except (TypeError, ValueError):
        return None
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    return geometry if isinstance(geometry, dict) and "coordinates" in geometry else None


def _community_tip(row) -> dict:
    """The tooltip's lines of a community (plain text; the template adds the markup)."""
    return {
        "tip": f"{row.community_name}（{row.area}）",
        "detail": f"实有人口 {fmt.num(row.residents)} 人",
        "note": f"新市民 {fmt.num(row.newcomers)} 人 · 占比 {fmt.pct(row.newcomer_share)}",
    }


def boundaries_layer(
    communities: pd.DataFrame,
    highlight: str | None = None,
    choropleth: bool = False,
    layer_id: str = "boundaries",
) -> pdk.Layer:
    """Community outlines (GeoJsonLayer); ``choropleth`` fills them by newcomer share."""
    breaks = quantile_breaks(communities["newcomer_share"]) if choropleth else []
    features = []
    for row in communities.itertuples(index=False):
        geometry = _geometry(row.geojson)
        if geometry is None:
            continue
        selected = highlight is not None and row.community_code == highlight
        fill = (
            _class_color(float(row.newcomer_share or 0), breaks, OPAQUE)
            if choropleth
            else [61, 165, 255, 45 if selected else 18]
        )
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    **_community_tip(row),
                    "fill": fill,
                    "line": LINE,
                    "width": 1.2,
                },
            }
        )
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id=layer_id,
        pickable=True,
        stroked=True,
        filled=True,
        auto_highlight=True,
        get_fill_color="properties.fill",
        get_line_color="properties.line",
        get_line_width="properties.width",
        line_width_units=pdk.types.String("pixels"),
        highlight_color=[255, 255, 255, 60],
    )


def highlight_layer(communities: pd.DataFrame, code: str | None) -> pdk.Layer | None:
    """The selected community's outline, drawn on top of everything (not pickable)."""
    if not code:
        return None
    rows = communities[communities["community_code"] == code]
    return _lines_layer(rows["geojson"], "highlight", HIGHLIGHT, 5)


def outlines_layer(communities: pd.DataFrame) -> pdk.Layer:
    """The community borders again, lines only, above the (opaque) density cells."""
    return _lines_layer(communities["geojson"], "outlines", LINE, 1.2)


def _lines_layer(geojson_texts, layer_id: str, color, width: float) -> pdk.Layer:
    """Community outlines as lines only (not pickable), ``width`` pixels wide."""
    features = [
        {"type": "Feature", "geometry": geometry, "properties": {}}
        for geometry in (_geometry(text) for text in geojson_texts)
        if geometry
    ]
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id=layer_id,
        pickable=False,
        stroked=True,
        filled=False,
        get_line_color=color,
        get_line_width=width,
        line_width_units=pdk.types.String("pixels"),
    )


def labels_layer(
    communities: pd.DataFrame, size: int = 13, view: pdk.ViewState | None = None
) -> pdk.Layer | None:
    """Each community's name at its centre, readable without hovering (a projector has no mouse): white
    text with a dark outline, on either theme. Names that would overlap at the map's first view are left
    out, the communities with more newcomers first (``placed``). The font atlas is drawn by the browser from
    a local font (no download); its characters are exactly those of the names."""
    rows = communities.dropna(subset=["centroid_lat", "centroid_lon"])
    if rows.empty:
        return None
    data = placed(rows, size, view)
    return pdk.Layer(
        "TextLayer",
        data,
        id="labels",
        pickable=False,
        get_position="position",
        get_text="label",
        get_size=size,
        size_units=pdk.types.String("pixels"),
        get_color=[255, 255, 255, 255],
        outline_width=3,
        outline_color=[11, 22, 34, 255],
        font_family=pdk.types.String(LABEL_FONT),
        font_weight=600,
        font_settings={"sdf": True, "fontSize": 48, "buffer": 6, "radius": 12},
        # a string: a list would be sent as an expression
        character_set=pdk.types.String("".join(sorted({c for row in data for c in row["label"]}))),
        get_text_anchor=pdk.types.String("middle"),
        get_alignment_baseline=pdk.types.String("center"),
    )


def _pixels(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web-mercator pixels at ``zoom`` (the world is 512 px wide at zoom 0, as in deck.gl)."""
    world = 512 * 2**zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * world, (1 - y / math.pi) / 2 * world


def placed(rows: pd.DataFrame, size: int, view: pdk.ViewState | None) -> list[dict]:
    """The names that fit side by side at the view's zoom: most newcomers first, a name whose box (1 em a
    character, a little air) would touch one already placed is left out."""
    zoom = float(view.zoom) if view is not None else 0.0
    newcomers = pd.to_numeric(rows["newcomers"], errors="coerce").fillna(0) if "newcomers" in rows else 0
    ranked = rows.assign(_rank=newcomers).sort_values(["_rank", "community_code"], ascending=[False, True])
    boxes: list[tuple[float, float, float, float]] = []
    kept = []
    for row in ranked.itertuples(index=False):
        name = str(row.community_name)
        x, y = _pixels(float(row.centroid_lat), float(row.centroid_lon), zoom)
        half_w, half_h = (len(name) * size + 6) / 2, size * 0.75
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if view is not None and any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes
        ):
            continue
        boxes.append(box)
        kept.append({"label": name, "position": [float(row.centroid_lon), float(row.centroid_lat)]})
    return kept


def stack(*layers: pdk.Layer | None) -> list[pdk.Layer]:
    """Layers bottom to top, leaving out the absent ones."""
    return [layer for layer in layers if layer is not None]


def cells_frame(density: pd.DataFrame) -> pd.DataFrame:
    """Density cells as rectangles with a colour class and a tooltip (already aggregated in SQL)."""
    return pd.DataFrame(
        cells_records(density), columns=["polygon", "fill", "tip", "detail", "note", "newcomers"]
    )


def cells_records(density: pd.DataFrame) -> list[dict]:
    """The cells as the layer's records: polygon, colour class, tooltip and count of each cell."""
    breaks = count_breaks(density["newcomers"])
    half_lat, half_lon = CELL_LAT_DEG / 2, CELL_LON_DEG / 2
    return [
        {
            "polygon": [
                [lon - half_lon, lat - half_lat],
                [lon + half_lon, lat - half_lat],
                [lon + half_lon, lat + half_lat],
                [lon - half_lon, lat + half_lat],
            ],
            "fill": _class_color(float(n), breaks, OPAQUE),
            "tip": _cell_tip(n, s),
            "detail": CELL_SIZE_NOTE,
            "note": "",
            "newcomers": n,
        }
        for lat, lon, n, s in _cell_columns(density)
    ]


def cells_json(density: pd.DataFrame) -> str:
    """``cells_records`` as compact JSON with sorted keys (what the deck carries), written directly: thousands
    of cells through ``json.dumps`` of records cost 30–100 ms per map. A cell's rectangle is the same on
    every map and every build, so its text is made once per process (``_cell_polygon``)."""
    breaks = count_breaks(density["newcomers"])
    fills = [
        json.dumps(_class_color(b + 0.5, breaks, OPAQUE), separators=(",", ":")) for b in [-1.0, *breaks]
    ]
    edges = np.asarray(breaks, dtype=float)
    columns = list(_cell_columns(density))
    classes = np.searchsorted(edges, [n for _, _, n, _ in columns], side="left").tolist()
    # The tooltip is our own text (digits, "," "." "%" and "—" in a fixed template): nothing in it needs
    # escaping in JSON, so it is quoted as it is (tests compare with json.dumps).
    items = [
        f'{{"detail":"{CELL_SIZE_NOTE}","fill":{fills[c]},"newcomers":{n},"note":"",'
        f'"polygon":{_cell_polygon(lat, lon)},"tip":"{_cell_tip(n, share)}"}}'
        for (lat, lon, n, share), c in zip(columns, classes, strict=True)
    ]
    return "[" + ",".join(items) + "]"


def _cell_columns(density: pd.DataFrame):
    """(lat, lon, newcomers, share) per cell as plain Python values (counts as ints: "12", not "12.0")."""
    counts = [int(n) for n in density["newcomers"]]
    shares = density["newcomer_share"].tolist() if "newcomer_share" in density else [None] * len(density)
    return zip(density["lat"].tolist(), density["lon"].tolist(), counts, shares, strict=True)


@functools.lru_cache(maxsize=1 << 16)  # every cell of a city is a few MB of short strings
def _cell_polygon(lat: float, lon: float) -> str:
    half_lat, half_lon = CELL_LAT_DEG / 2, CELL_LON_DEG / 2
    corners = [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
    ]
    return json.dumps(corners, separators=(",", ":"))


def _cell_tip(newcomers: int, share) -> str:
    """A cell's first tooltip line (plain text)."""
    return (
        f"本网格新市民 {newcomers:,} 人"  # = fmt.num of an int, without its float round trip
        + (f"（占 {fmt.pct(share)}）" if share is not None else "")
    )


def cells_layer(density: pd.DataFrame) -> pdk.Layer:
    """The density cells; their data is JSON text already (``cells_json``), put in place by ``FrozenDeck``."""
    return pdk.Layer(
        "PolygonLayer",
        RawJSON(cells_json(density)),
        id="cells",
        pickable=True,
        stroked=False,
        filled=True,
        get_polygon="polygon",
        get_fill_color="fill",
        auto_highlight=True,
    )


class RawJSON(str):
    """Layer data that is JSON text already: ``FrozenDeck`` writes it into the deck's JSON as it is."""


def tile_url() -> str:
    return settings.get("tile_url")


def tile_layer() -> pdk.Layer | None:
    """An intranet tile server from ``WANGTAI_TILE_URL`` ({z}/{x}/{y}); vector (.pbf/.mvt) or GeoJSON tiles.

    Raster (PNG) tiles would need a JS ``renderSubLayers`` that pydeck's JSON cannot carry."""
    url = tile_url()
    if not url:
        return None
    kind = "MVTLayer" if any(ext in url for ext in (".pbf", ".mvt")) else "TileLayer"
    return pdk.Layer(kind, url, id="tiles", min_zoom=0, max_zoom=18, opacity=0.6, pickable=False)


def focus(communities: pd.DataFrame, filters, community: bool = True) -> list[str] | None:
    """The community codes to zoom to under the shared filter (None = the whole subdistrict).

    ``community=False`` keeps the area (or subdistrict) in view and only outlines the chosen community."""
    if community and filters.community_code:
        return [filters.community_code]
    if filters.area and "area" in communities:
        return list(communities.loc[communities["area"] == filters.area, "community_code"])
    return None


def _points(communities: pd.DataFrame, codes: list[str] | None) -> list[tuple[float, float]]:
    rows = communities if not codes else communities[communities["community_code"].isin(codes)]
    points: list[tuple[float, float]] = []
    for text in rows["geojson"]:
        geometry = _geometry(text)
        if geometry:
            points.extend(_walk(geometry["coordinates"]))
    return points


def _walk(coordinates) -> list[tuple[float, float]]:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [(float(coordinates[0]), float(coordinates[1]))]
    out: list[tuple[float, float]] = []
    for part in coordinates:
        out.extend(_walk(part))
    return out


def view_for(
    communities: pd.DataFrame, codes: list[str] | None = None, width_px: int = 1100, height_px: int = 620
) -> pdk.ViewState:
    """Fit the view to some communities (the selected one, zoomed to) or to all of them."""
    points = _points(communities, codes) or _points(communities, None)
    if points:
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    else:
        west, east, south, north = BOUNDS["lon_min"], BOUNDS["lon_max"], BOUNDS["lat_min"], BOUNDS["lat_max"]
    pad = 1.25 if codes else 1.08  # a selected community keeps some of its neighbours in view
    lon_span = max(east - west, 0.004) * pad
    lat_span = max(north - south, 0.004) * pad
    zoom_x = math.log2(width_px / 512 * 360 / lon_span)  # deck.gl: the world is 512 px wide at zoom 0
    zoom_y = math.log2(height_px / 512 * 360 / (lat_span / math.cos(math.radians((north + south) / 2))))
    return pdk.ViewState(
        latitude=(north + south) / 2,
        longitude=(east + west) / 2,
        zoom=round(min(zoom_x, zoom_y, 16), 2),
        pitch=0,
        bearing=0,
    )


class FrozenDeck(pdk.Deck):
    """A deck whose JSON is made once, compact, when it is built; it is shared (memo) and never changed."""

    def freeze(self) -> "FrozenDeck":
        raw: dict[str, str] = {}
        for index, layer in enumerate(self.layers):
            if isinstance(layer.data, RawJSON):  # a placeholder in the dump, the text put in its place below
                raw[f"@@raw-json-{index}"] = layer.data
                layer.data = f"@@raw-json-{index}"
        # pydeck's own serializer (sorted keys, its attribute → camelCase ``default``) in one compact pass:
        # with ``indent`` json falls back to its pure-Python encoder, 4× slower for thousands of cells.
        text = json.dumps(
            self, sort_keys=True, default=default_serialize, ensure_ascii=False, separators=(",", ":")
        )
        for token, data in raw.items():
            text = text.replace(json.dumps(token), data, 1)
        self.__dict__["_frozen_json"] = text  # set after serializing: not part of the JSON itself
        return self

    def to_json(self) -> str:
        return self.__dict__.get("_frozen_json") or super().to_json()


def deck(layers: list[pdk.Layer], view: pdk.ViewState) -> FrozenDeck:
    tiles = tile_layer()
    return FrozenDeck(
        layers=[*([tiles] if tiles else []), *layers],
        initial_view_state=view,
        map_provider=None,
        tooltip=TOOLTIP,
    ).freeze()


def chart(
    communities: pd.DataFrame,
    *,
    highlight: str | None = None,
    choropleth: bool = False,
    density: pd.DataFrame | None = None,
    codes: list[str] | None = None,
    width: int = 1100,
    height: int = 620,
    labels: int | None = 13,
) -> FrozenDeck:
    """The community map for ``st.pydeck_chart``: boundaries (filled by share when ``choropleth``), the
    density cells on top when given (with the borders drawn again above them), the ``highlight`` community
    outlined, the names (``labels``: their size in pixels; None = no names); the view fitted to ``codes``
    (None = every community). Built once per content (``memo``), so reruns only send it."""
    return _chart(communities, highlight, choropleth, density, codes, width, height, tile_url(), labels)


@memo.cached
def _chart(communities, highlight, choropleth, density, codes, width, height, tiles, labels) -> FrozenDeck:
    base = boundaries_layer(communities, highlight=highlight, choropleth=choropleth)
    cells = cells_layer(density) if density is not None and not density.empty else None
    view = view_for(communities, codes, width, height)
    layers = stack(
        base,
        cells,
        outlines_layer(communities) if cells is not None else None,
        highlight_layer(communities, highlight),
        labels_layer(communities, labels, view) if labels else None,
    )
    return deck(layers, view)


def legend_classes(values: pd.Series, percent: bool) -> list[tuple[tuple[int, int, int], str]]:
    """(colour, range text) of each class the map draws — the colour a value of that class is filled with
    (``_class_color``), so swatch and fill are one colour. Classes whose range reads the same are one class:
    a staff user's single community gives one swatch "29.5%", not "29.5%–29.5%" five times."""
    clean = pd.to_numeric(values, errors="coerce").dropna()
    if clean.empty:
        return []
    breaks = quantile_breaks(clean) if percent else count_breaks(clean)
    show = fmt.pct if percent else fmt.num
    edges = [float(clean.min()), *breaks, float(clean.max())]
    classes: list[tuple[tuple[int, int, int], str]] = []
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        colour = RAMP[min(index, len(RAMP) - 1)]  # what ``_class_color`` gives the values (low, high]
        text = show(low) if show(low) == show(high) else f"{show(low)}–{show(high)}"
        if not classes or classes[-1][1] != text:
            classes.append((colour, text))
    return classes


@memo.cached
def legend_html(values: pd.Series, percent: bool, title: str) -> str:
    """A small colour legend: quantile classes for shares, geometric classes for counts; each swatch is the
    colour the map fills that class with (opaque, as the fills)."""
    items = [f"<b>{fmt.html(title)}</b>"]
    for colour, text in legend_classes(values, percent):
        swatch = "rgb({},{},{})".format(*colour)
        items.append(f'<span class="it"><span class="sw" style="background:{swatch}"></span>{text}</span>')
    return '<div class="wt-legend">' + " ".join(items) + "</div>"
