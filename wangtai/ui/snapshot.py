"""A snapshot of the current 大屏 slide for the meeting minutes: one 1920 × 1080 PNG (and a PDF of it).

The slide's own figures are redrawn as one plotly figure — header, the big figures as cards, the slide's
charts, the map as plain polygons (no basemap) — and rendered by kaleido in the system's Chromium with
the plotly.js shipped in the plotly package and MathJax off, so nothing is fetched from the internet.
The PDF is the PNG wrapped by Pillow.
"""

import io
import math
import threading
from collections import OrderedDict

import pandas as pd
import plotly.graph_objects as go

from wangtai import clock
from wangtai.ui import format as fmt
from wangtai.ui import maps

WIDTH, HEIGHT = 1920, 1080
BG, PANEL, TEXT, MUTED, LINE = "#0B1622", "#14263A", "#F2F6FA", "#9FB3C8", "#2A4460"
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
_CACHE: OrderedDict[str, bytes] = OrderedDict()
_LOCK = threading.Lock()


# ---- the figure ----------------------------------------------------------------------------------------


def figure(spec: dict) -> go.Figure:
    """The slide as one figure: header, KPI cards, then the charts and the map side by side."""
    fig = go.Figure()
    fig.update_layout(
        width=WIDTH,
        height=HEIGHT,
        paper_bgcolor=BG,
        plot_bgcolor=BG,
        font=dict(family=FONT, color=TEXT, size=16),
        margin=dict(l=40, r=40, t=30, b=30),
        showlegend=True,
        legend=dict(orientation="h", x=0, y=0.0, yanchor="bottom", font=dict(size=15), bgcolor=BG),
        separators=".,",
    )
    _header(fig, spec)
    kpis = spec.get("kpis") or []
    top = 0.86
    if kpis:
        _cards(fig, kpis, top)
        top = 0.86 - 0.19 * math.ceil(len(kpis) / 8) - 0.03
    panels = [f for f in spec.get("charts") or [] if f is not None]
    has_map = spec.get("map") is not None and not spec["map"].empty
    count = len(panels) + (1 if has_map else 0)
    if not count:
        return fig
    gap = 0.03
    width = (1 - gap * (count - 1)) / count
    for index, panel in enumerate(panels, start=1):
        x0 = (index - 1) * (width + gap)
        _copy_chart(fig, panel, index, (x0 + 0.035, x0 + width), (0.13, top - 0.02))
    if has_map:
        x0 = len(panels) * (width + gap)
        _map(fig, spec, len(panels) + 1, (x0, x0 + width), (0.02, top - 0.01))
    return fig


def _header(fig: go.Figure, spec: dict) -> None:
    from wangtai.ui.setup import APP_NAME

    filters = spec.get("filters")
    label = filters.label if filters is not None else "王台街道"
    now = clock.now()
    title = (
        f"<b>{APP_NAME} · {fmt.html(label)}</b>　"
        f"<span style='color:#3DA5FF'>{fmt.html(spec.get('title', ''))}</span>"
    )
    _text(fig, 0, 1.0, title, dict(size=34))
    right = f"{fmt.day(now)} {fmt.weekday(now.isoweekday())} {now:%H:%M}"
    if spec.get("fresh"):
        right += f"<br><span style='font-size:18px;color:{MUTED}'>{fmt.html(spec['fresh'])}</span>"
    _text(fig, 1, 1.0, right, dict(size=24), xanchor="right", align="right")


def _cards(fig: go.Figure, kpis: list, top: float) -> None:
    per_row = min(8, len(kpis))
    gap = 0.008
    width = (1 - gap * (per_row - 1)) / per_row
    height = 0.17
    for index, (label, value, sub) in enumerate(kpis):
        row, col = divmod(index, per_row)
        x0 = col * (width + gap)
        y1 = top - row * (height + 0.02)
        fig.add_shape(
            type="rect",
            xref="paper",
            yref="paper",
            x0=x0,
            x1=x0 + width,
            y0=y1 - height,
            y1=y1,
            fillcolor=PANEL,
            line=dict(color=LINE, width=1),
            layer="below",
        )
        cx = x0 + 0.008
        _text(fig, cx, y1 - 0.012, label, dict(size=18, color=MUTED))
        _text(fig, cx, y1 - 0.05, f"<b>{value}</b>", dict(size=40))
        if sub:
            color = "#FF5C5C" if " -" in sub else ("#2ECC71" if " +" in sub else MUTED)
            _text(fig, cx, y1 - height + 0.012, sub, dict(size=14, color=color), yanchor="bottom")


def _text(fig: go.Figure, x: float, y: float, text: str, font: dict, **where) -> None:
    """Text placed on the slide (paper coordinates), anchored at its top left unless ``where`` says else."""
    placed = {"xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top", **where}
    fig.add_annotation(x=x, y=y, text=text, font=font, showarrow=False, **placed)


def _axis_name(index: int, letter: str) -> tuple[str, str]:
    """('xaxis2', 'x2') for index 2; the first axes are 'xaxis' / 'x'."""
    suffix = "" if index == 1 else str(index)
    return f"{letter}axis{suffix}", f"{letter}{suffix}"


def _copy_chart(fig: go.Figure, source: go.Figure, index: int, x_domain, y_domain) -> None:
    x_key, x_ref = _axis_name(index, "x")
    y_key, y_ref = _axis_name(index, "y")
    for trace in source.data:  # a copy: the source is the screen's shared figure (wangtai.ui.memo)
        fig.add_trace(
            {**trace.to_plotly_json(), "xaxis": x_ref, "yaxis": y_ref, "showlegend": bool(trace.name)}
        )
    x_axis = source.layout.xaxis.to_plotly_json()
    y_axis = source.layout.yaxis.to_plotly_json()
    grid = dict(gridcolor=LINE, zerolinecolor=LINE, linecolor=LINE, tickfont=dict(size=15))
    fig.update_layout(
        {
            x_key: {**x_axis, **grid, "domain": list(x_domain), "anchor": y_ref},
            y_key: {**y_axis, **grid, "domain": list(y_domain), "anchor": x_ref, "automargin": True},
        }
    )
    refs = {
        "x": x_ref,
        "y": y_ref,
        "x domain": f"{x_ref} domain",
        "y domain": f"{y_ref} domain",
        "paper": None,
    }
    for shape in source.layout.shapes or []:
        item = shape.to_plotly_json()
        item["xref"] = refs.get(item.get("xref", "x")) or f"{x_ref} domain"
        item["yref"] = refs.get(item.get("yref", "y")) or f"{y_ref} domain"
        fig.add_shape(item)
    for note in source.layout.annotations or []:
        item = note.to_plotly_json()
        item["xref"] = refs.get(item.get("xref", "x")) or f"{x_ref} domain"
        item["yref"] = refs.get(item.get("yref", "y")) or f"{y_ref} domain"
        fig.add_annotation(item)


def _map(fig: go.Figure, spec: dict, index: int, x_domain, y_domain) -> None:
    """Community outlines filled by newcomer share (or outlined, under density cells), on plain axes."""
    communities: pd.DataFrame = spec["map"]
    density = spec.get("density")
    code = spec["filters"].community_code if spec.get("filters") is not None else None
    x_key, x_ref = _axis_name(index, "x")
    y_key, y_ref = _axis_name(index, "y")
    choropleth = density is None
    breaks = maps.quantile_breaks(communities["newcomer_share"]) if choropleth else []
    for row in communities.itertuples(index=False):
        geometry = maps._geometry(row.geojson)
        if not geometry:
            continue
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        fill = (
            maps._class_color(float(row.newcomer_share or 0), breaks, maps.OPAQUE)
            if choropleth
            else [61, 165, 255, 25]
        )
        for polygon in polygons:
            ring = polygon[0]
            fig.add_scatter(
                x=[p[0] for p in ring],
                y=[p[1] for p in ring],
                mode="lines",
                fill="toself",
                fillcolor="rgba({},{},{},{:.2f})".format(*fill[:3], fill[3] / 255),
                line=dict(color="rgba(120,170,210,0.9)", width=1),
                hoverinfo="skip",
                showlegend=False,
                xaxis=x_ref,
                yaxis=y_ref,
            )
    if density is not None and not density.empty:
        cells = maps.cells_frame(density)
        fig.add_scatter(
            x=density["lon"],
            y=density["lat"],
            mode="markers",
            hoverinfo="skip",
            showlegend=False,
            marker=dict(
                symbol="square", size=7, color=["rgb({},{},{})".format(*c[:3]) for c in cells["fill"]]
            ),
            xaxis=x_ref,
            yaxis=y_ref,
        )
    if code:
        for text in communities.loc[communities["community_code"] == code, "geojson"]:
            geometry = maps._geometry(text)
            if not geometry:
                continue
            polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
            for polygon in polygons:
                fig.add_scatter(
                    x=[p[0] for p in polygon[0]],
                    y=[p[1] for p in polygon[0]],
                    mode="lines",
                    line=dict(color="rgb(0,229,255)", width=4),
                    hoverinfo="skip",
                    showlegend=False,
                    xaxis=x_ref,
                    yaxis=y_ref,
                )
    points = maps._points(communities, spec.get("map_codes"))
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    hidden = dict(visible=False, showgrid=False, zeroline=False)
    mid = (min(lats) + max(lats)) / 2 if lats else 35.9
    fig.update_layout(
        {
            x_key: {
                **hidden,
                "domain": list(x_domain),
                "anchor": y_ref,
                "range": [min(lons), max(lons)] if lons else None,
            },
            y_key: {
                **hidden,
                "domain": list(y_domain),
                "anchor": x_ref,
                "scaleanchor": x_ref,
                "scaleratio": 1 / math.cos(math.radians(mid)),
                "range": [min(lats), max(lats)] if lats else None,
            },
        }
    )


# ---- rendering -----------------------------------------------------------------------------------------


def _render(fig: go.Figure) -> bytes:
    import kaleido

    from wangtai.e2e import CHROMIUM

    return kaleido.calc_fig_sync(
        fig,
        opts=dict(format="png", width=WIDTH, height=HEIGHT, scale=1),
        kopts=dict(mathjax=False, path=CHROMIUM),  # mathjax False: kaleido would load it from a CDN
    )


def png(spec: dict) -> bytes:
    """The slide as a PNG (cached per figure, so the PDF of the same view costs nothing more)."""
    fig = figure(spec)
    key = fig.to_json()
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    image = _render(fig)
    with _LOCK:
        _CACHE[key] = image
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return image


def pdf(spec: dict) -> bytes:
    """The same picture as a one-page PDF (A4 landscape proportions are not forced: the slide is 16:9)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png(spec))).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=150.0, title="智慧王台 大屏快照")
    return out.getvalue()
