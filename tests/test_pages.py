"""The Streamlit pages (AppTest): every page renders with and without the shared filter, the KPI
figures equal the overview query, an empty data directory says 尚无数据, and every page calls the
shared setup first."""

import ast
import io
import json
import re
from pathlib import Path

import hostile_data
import openpyxl
import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from wangtai.auth import audit, testing
from wangtai.auth.store import UserStore
from wangtai.auth.testing import session_token
from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.ui import exports
from wangtai.ui import format as fmt
from wangtai.ui.setup import FILTER_KEY, PAGES

REPO = Path(__file__).resolve().parent.parent
ENTRY = str(REPO / "dashboard.py")
PAGE_FILES = [page for page, _, _ in PAGES]
SUBPAGES = [page for page in PAGE_FILES if page != "dashboard.py"]
TAIDONG = "370211100001"  # 台东路社区, one of several communities of its 片区
ADMIN_PAGES = ("pages/admin.py", "pages/data_import.py")  # 管理员 only


# ---- the shared setup -------------------------------------------------------------------------------


def _first_statement(path: Path) -> ast.stmt:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for statement in body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        return statement
    raise AssertionError(f"{path} has no statements")


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_calls_the_shared_setup_first(page: str) -> None:
    statement = _first_statement(REPO / page)
    call = statement.value if isinstance(statement, (ast.Assign, ast.Expr)) else None
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setup", (
        f"{page}: the first statement after the imports must be `filters = setup(...)`"
    )
    source = (REPO / page).read_text(encoding="utf-8")
    assert "from wangtai.ui.setup import setup" in source


def test_the_navigation_lists_every_page_file() -> None:
    on_disk = {f"pages/{p.name}" for p in (REPO / "pages").glob("*.py")} | {"dashboard.py"}
    assert on_disk == set(PAGE_FILES)


def test_pages_do_no_sql_and_read_no_files() -> None:
    for page in PAGE_FILES:
        source = (REPO / page).read_text(encoding="utf-8").lower()
        for forbidden in ("duckdb", "read_parquet", "select ", "open(", "pd.read_"):
            assert forbidden not in source, f"{page} contains {forbidden!r}: pages are UI only"


# ---- rendering on the demo warehouse ----------------------------------------------------------------


@pytest.fixture(scope="module")
def a_community(demo_paths: DataPaths) -> dict:
    share = Runner(demo_paths).run("community_share", {})
    row = share.sort_values("newcomers", ascending=False).iloc[0]
    return {"code": row["community_code"], "name": row["community_name"], "area": row["area"]}


def open_page(
    page: str, query: dict | None = None, session: dict | None = None, role: str | None = None
) -> AppTest:
    """``page`` logged in as a new user whose role may open it (wangtai.auth.testing)."""
    role = role or ("管理员" if page in ADMIN_PAGES else "领导")
    return testing.open_page(session_token(DataPaths.from_env(), role), page, query, session)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_renders_for_the_whole_subdistrict(app_env, page: str) -> None:
    at = open_page(page)
    assert_clean(at)
    assert at.title and "王台街道" in at.title[0].value


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_renders_for_one_community_from_the_url(app_env, a_community, page: str) -> None:
    at = open_page(page, query={"community": a_community["code"]})
    assert_clean(at)
    assert a_community["name"] in at.title[0].value


@pytest.mark.parametrize("page", ["dashboard.py", "pages/density_map.py", "pages/campaign.py"])
def test_page_renders_for_one_area_from_the_session(app_env, a_community, page: str) -> None:
    at = open_page(page, session={FILTER_KEY: {"area": a_community["area"], "community": None}})
    assert_clean(at)
    assert a_community["area"] in at.title[0].value


def test_charts_and_maps_are_drawn(app_env) -> None:
    assert len(open_page("dashboard.py").get("plotly_chart")) >= 2
    decks = open_page("pages/density_map.py").get("deck_gl_json_chart")
    assert decks, "the density map is missing"
    spec = json.loads(decks[0].proto.json)
    assert "mapProvider" not in spec or spec["mapProvider"] in (None, ""), "no internet basemap"
    kinds = [layer["@@type"] for layer in spec["layers"]]
    assert kinds[0] == "GeoJsonLayer" and "PolygonLayer" in kinds, "boundaries below the density cells"


def _outline_px(spec: dict) -> tuple[float, float]:
    """The pixel width and height the deck's community outlines take at its initial zoom (web mercator:
    the world is 512 px wide at zoom 0)."""
    import math

    features = spec["layers"][0]["data"]["features"]
    points: list = []

    def walk(coordinates) -> None:
        if coordinates and isinstance(coordinates[0], (int, float)):
            points.append(coordinates)
        else:
            for part in coordinates:
                walk(part)

    for feature in features:
        walk(feature["geometry"]["coordinates"])
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    scale = 512 / 360 * 2 ** spec["initialViewState"]["zoom"]
    y = [math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))) for lat in lats]
    return (max(lons) - min(lons)) * scale, (max(y) - min(y)) * scale


@pytest.mark.parametrize("scope", ["subdistrict", "area"])
def test_the_overview_map_fits_a_laptop_column(app_env, a_community, scope: str) -> None:
    """The right column of 总览 is ≈ 230 px wide at 1366 × 768 with the sidebar open: the deck's view is
    fitted on the server, so the whole subdistrict (or 片区) must fit that, not a wider guess."""
    session = {FILTER_KEY: {"area": a_community["area"], "community": None}} if scope == "area" else None
    at = open_page("dashboard.py", session=session)
    assert_clean(at)
    (deck,) = at.get("deck_gl_json_chart")
    spec = json.loads(deck.proto.json)
    if scope == "area":  # the view is the 片区's; the other communities may run off the map
        features = spec["layers"][0]["data"]["features"]
        mark = f"（{a_community['area']}）"  # the tooltip names each community's 片区
        spec["layers"][0]["data"]["features"] = [f for f in features if mark in f["properties"]["tip"]]
    width, height = _outline_px(spec)
    assert width <= 225, f"the outline is {width:.0f} px wide: cut off in a 230 px column"
    assert height <= 395, f"the outline is {height:.0f} px tall: cut off in the 400 px map"


# ---- the figures are the query's figures ------------------------------------------------------------


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("scoped", [False, True])
def test_kpi_figures_equal_the_overview_query(app_env, a_community, scoped: bool) -> None:
    params = {"community_code": a_community["code"]} if scoped else {}
    expected = Runner(app_env).run("overview", params).iloc[0]
    at = open_page("dashboard.py", query={"community": a_community["code"]} if scoped else None)
    assert_clean(at)
    shown = _metrics(at)
    assert shown["实有人口"] == fmt.big(expected["residents"], "人")
    assert shown["新市民"] == fmt.big(expected["newcomers"], "人")
    assert shown["新市民占比"] == fmt.pct(expected["newcomer_share"])
    assert shown[f"登记人数（计划 {fmt.num(expected['plan_registered'])}）"] == fmt.count(
        expected["registered"]
    )
    assert shown[f"登记率（计划 {fmt.pct(expected['plan_rate'])}）"] == fmt.pct(expected["registration_rate"])
    assert shown["今日扫码"] == fmt.count(expected["scans_today"], "次")
    assert shown["新发现"] == fmt.count(expected["discovered"])
    assert shown["出租屋建档率"] == fmt.pct(expected["rental_archive_rate"])


def test_the_door_to_door_list_shows_the_short_mask_of_a_minor(app_env) -> None:
    """A minor's id mask hides the sequence digits and the check character too (370211************): the
    list shows it as it is stored, beside the adults' 370211********123X."""
    runner = Runner(app_env)
    units = runner.run("unit_progress", {})["unit_id"]
    lists = {unit: runner.run("unregistered_newcomers", {"unit_id": unit, "limit": 1000}) for unit in units}
    unit = next(u for u, people in lists.items() if people["id_masked"].str.fullmatch(r"\d{6}\*{12}").any())
    at = open_page("pages/campaign.py", session={"door_unit": unit})
    assert_clean(at)
    [door] = [frame.value for frame in at.dataframe if "id_masked" in frame.value.columns]
    assert door["id_masked"].tolist() == lists[unit]["id_masked"].tolist()
    masks = door["id_masked"]
    assert masks.str.fullmatch(r"\d{6}\*{12}").any() and masks.str.fullmatch(r"\d{6}\*{8}\d{3}[\dX]").any()


def test_the_filter_survives_a_page_switch_and_is_mirrored_into_the_url(app_env, a_community) -> None:
    at = open_page("dashboard.py", query={"community": a_community["code"]})
    at.switch_page("pages/campaign.py")
    at.run()
    assert_clean(at)
    assert a_community["name"] in at.title[0].value
    assert at.session_state[FILTER_KEY]["community"] == a_community["code"]
    assert at.query_params.get("community") in (a_community["code"], [a_community["code"]])


def test_choosing_a_community_in_the_sidebar_sets_the_filter(app_env, a_community) -> None:
    at = open_page("dashboard.py")
    community_box = next(s for s in at.sidebar.selectbox if s.label == "社区")
    community_box.set_value(a_community["code"]).run()
    assert_clean(at)
    assert a_community["name"] in at.title[0].value
    assert at.session_state[FILTER_KEY]["community"] == a_community["code"]


def test_an_unknown_community_in_the_url_is_ignored(app_env) -> None:
    at = open_page("dashboard.py", query={"community": "999999999999"})
    assert_clean(at)
    assert "王台街道" in at.title[0].value


# ---- a staff user's view is labelled with what it shows --------------------------------------------


@pytest.fixture(scope="module")
def town_communities(demo_paths: DataPaths) -> list[dict]:
    """The communities of 台东路社区's 片区 (several), 台东路社区 first."""
    share = Runner(demo_paths).run("community_share", {}).sort_values("community_code")
    area = share.loc[share["community_code"] == TAIDONG, "area"].iloc[0]
    rows = share[share["area"] == area]
    assert len(rows) > 2, "the test needs a 片区 with several communities"
    return rows.to_dict("records")


def _recording_exports(monkeypatch) -> list[str]:
    """The file-name stems the pages give their export buttons."""
    stems: list[str] = []
    original = exports.download_buttons

    def recording(frame, sheet, stem, key, *args, **kwargs):
        stems.append(stem)
        return original(frame, sheet, stem, key, *args, **kwargs)

    monkeypatch.setattr(exports, "download_buttons", recording)
    return stems


def test_staff_of_one_community_see_it_named_not_the_whole_area(app_env, town_communities, monkeypatch):
    """台东路社区 is one of several communities of its 片区: a 工作人员 responsible for it alone is not
    offered the 片区 as a whole, and the title, the panels, the export's file name and the audit line all
    name the community whose figures are shown."""
    taidong, area = town_communities[0], town_communities[0]["area"]
    username, password = testing.make_user(app_env, "工作人员", communities=(TAIDONG,))
    token = UserStore(app_env).login(username, password).session_token
    at = testing.open_page(token, "dashboard.py")
    assert_clean(at)
    title = at.title[0].value
    assert taidong["community_name"] in title and area not in title, title
    community_box = next(s for s in at.sidebar.selectbox if s.label == "社区")
    assert community_box.options == [taidong["community_name"]], "offered only what is shown"
    assert _metrics(at)["实有人口"] == fmt.big(taidong["residents"], "人")
    assert any(taidong["community_name"] in h.value and area not in h.value for h in at.subheader)
    views = [e for e in audit.read(app_env) if e["user"] == username and e["event"] == "page_view"]
    assert views[-1]["filter"] == f"社区 {taidong['community_name']}（{TAIDONG}）", views[-1]

    stems = _recording_exports(monkeypatch)
    at.switch_page("pages/campaign.py")
    at.run()
    assert_clean(at)
    assert stems and all(taidong["community_name"] in s and area not in s for s in stems[:1]), stems


def test_staff_of_some_communities_of_an_area_see_them_counted_not_the_area(app_env, town_communities):
    """Responsible for two communities of a 片区 of more: the panels that list their communities say
    "我负责的社区（2 个）", never the 片区's name."""
    two = [row["community_code"] for row in town_communities[:2]]
    area = town_communities[0]["area"]
    at = testing.open_page(session_token(app_env, "工作人员", communities=two), "dashboard.py")
    assert_clean(at)
    assert area not in at.title[0].value
    assert any("我负责的社区（2 个）" in h.value for h in at.subheader), [h.value for h in at.subheader]
    assert not any(area in h.value for h in at.subheader)


# ---- names from the data are text, never markup ------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_paths(demo_raw: DataPaths, tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    return hostile_data.make(demo_raw, tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def hostile_env(hostile_paths: DataPaths, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    for name, value in (
        ("WANGTAI_DATA_DIR", str(hostile_paths.root)),
        ("WANGTAI_AUTO_DEMO", "0"),
        ("WANGTAI_REFRESH_SECONDS", "0"),
        ("WANGTAI_LIVE_INGEST", "0"),
    ):
        monkeypatch.setenv(name, value)
    return hostile_paths


def _rendered(at: AppTest) -> dict[str, list[str]]:
    """What the page sends, by how the browser reads it: Markdown (HTML allowed or not), plotly, deck.gl."""
    markdown = [e.value for e in [*at.title, *at.subheader, *at.caption, *at.markdown]]
    markdown += [e.value for e in [*at.error, *at.warning, *at.info, *at.success]]
    markdown += [m.label for m in at.metric]
    return {
        "markdown": markdown,
        "plotly": [c.proto.spec for c in at.get("plotly_chart")],
        "deck": [d.proto for d in at.get("deck_gl_json_chart")],
    }


def _assert_no_markup_from_data(at: AppTest, where: str) -> dict[str, list[str]]:
    assert_clean(at)
    rendered = _rendered(at)
    for kind in ("markdown", "plotly"):
        for body in rendered[kind]:
            for raw in hostile_data.RAW_MARKUP:
                assert raw not in body, f"{where}: {kind} carries {raw!r}: {body[:300]}"
    for deck in rendered["deck"]:
        # the markup is the template's; the names are values, which Streamlit escapes into it
        assert json.loads(deck.tooltip)["html"] == "<b>{tip}</b><br/>{detail}<br/>{note}", where
        spec = json.loads(deck.json)
        for layer in spec["layers"]:
            data = layer.get("data")
            rows = (
                data.get("features", []) if isinstance(data, dict) else data if isinstance(data, list) else []
            )
            for row in rows:
                tip = row.get("properties", row).get("tip", "")
                assert "<b>" not in tip and "<br" not in tip, f"{where}: markup in a tooltip value: {tip}"
    return rendered


def test_hostile_names_are_escaped_on_every_page(hostile_env) -> None:
    share = Runner(hostile_env).run("community_share", {})
    row = share.sort_values("newcomers", ascending=False).iloc[0]
    assert any(h in row["community_name"] for h in hostile_data.HOSTILE), "the data set is not hostile"
    store = UserStore(hostile_env)
    display = hostile_data.HOSTILE[0] + "王科长"
    store.add("hostile-leader", "password-1", "领导", display_name=display)
    leader = store.login("hostile-leader", "password-1").session_token
    for page in [p for p in PAGE_FILES if p not in (*ADMIN_PAGES, "pages/screen.py")]:
        for query in (None, {"area": row["area"]}, {"community": row["community_code"]}):
            at = testing.open_page(leader, page, query)
            rendered = _assert_no_markup_from_data(at, f"{page} {query}")
            box = [m for m in rendered["markdown"] if 'class="wt-sub">👤' in m]
            assert box and fmt.html(display) in box[0], "the user's name is escaped HTML"
            if query and "community" in query:
                assert fmt.md(row["community_name"]) in at.title[0].value
    admin = testing.open_page(session_token(hostile_env, "管理员"), "pages/admin.py")
    _assert_no_markup_from_data(admin, "pages/admin.py")


@pytest.mark.parametrize("views", ["overview", "map", "campaign", "communities"])
def test_hostile_names_are_escaped_on_the_big_screen(hostile_env, views: str) -> None:
    at = testing.open_page(
        session_token(hostile_env, "大屏"), "pages/screen.py", {"views": views, "top": "3"}
    )
    rendered = _assert_no_markup_from_data(at, f"大屏 {views}")
    if views == "communities":  # the slide is titled by a hostile community name, as escaped HTML
        names = Runner(hostile_env).run("community_share", {})["community_name"]
        assert any(fmt.html(n) in m for n in names for m in rendered["markdown"] if "wt-view" in m)
    assert at.metric or rendered["plotly"], "the slide shows its figures"


# ---- no data, broken data ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGE_FILES)
def test_an_empty_data_dir_shows_the_no_data_message(tmp_path, monkeypatch, page: str) -> None:
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    at = open_page(page)
    assert not at.exception
    assert any("尚无数据" in w.value for w in at.warning)
    assert not at.metric


def test_a_broken_warehouse_shows_a_chinese_error_not_a_traceback(demo_paths, tmp_path, monkeypatch) -> None:
    import shutil

    shutil.copytree(demo_paths.root, tmp_path, dirs_exist_ok=True)
    (tmp_path / "warehouse" / "manifest" / "zz-broken.parquet").write_bytes(b"not a parquet file")
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    at = open_page("dashboard.py")
    assert not at.exception
    assert at.error and "失败" in at.error[0].value


# ---- helpers ----------------------------------------------------------------------------------------


def test_formats() -> None:
    assert fmt.num(69012) == "69,012"
    assert fmt.pct(0.2461) == "24.6%"
    assert fmt.num(None) == fmt.pct(float("nan")) == "—"
    assert fmt.signed(-34) == "-34"
    assert fmt.day(pd.Timestamp("2026-11-27")) == "2026年11月27日"
    assert fmt.moment(pd.Timestamp("2026-11-27 10:30")) == "11月27日 10:30"
    assert fmt.weekday(1) == "周一" and fmt.weekday(7) == "周日"


def test_exports_are_excel_and_csv_with_chinese_headers() -> None:
    frame = pd.DataFrame({"unit_name": ["王台东村网格"], "gap": [-12]})
    from wangtai.ui.tables import UNIT_COLUMNS

    table = exports._headers(frame, UNIT_COLUMNS)
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel(table, "落后单位")))
    rows = list(book.active.values)
    assert rows[0] == ("单位", "较计划（人）") and rows[1] == ("王台东村网格", -12)
    assert exports.to_csv(table).decode("utf-8-sig").splitlines()[0] == "单位,较计划（人）"


# ---- every figure written one way: no "None", "nan", "+0 ", "-0 ", no 55.77% ---------------------------

MISSING_WORD = re.compile(r"(?<![A-Za-z])(None|NaN|nan|NaT|<NA>|inf)(?![A-Za-z])")
SIGNED_ZERO = re.compile(r"(?<![\w.,])[+-]0(?![\w.,])")  # "+0 人", "-0", not "+0.3", "-0.5%", "t-0db4"
TWO_DECIMAL_PERCENT = re.compile(r"\d\.\d{2,}\s*%")
SKIPPED_KEYS = {"id", "formId", "data", "bdata", "dtype", "template", "fragmentId", "deltaPath"}


def _strings(value, path: str = "") -> list[tuple[str, str]]:
    """Every string inside a decoded proto or JSON value, with where it sits (ids, binary data skipped)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [
            found for k, v in value.items() if k not in SKIPPED_KEYS for found in _strings(v, f"{path}.{k}")
        ]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in _strings(v, f"{path}[{i}]")]
    return []


def shown_texts(at: AppTest) -> list[tuple[str, str]]:
    """What a page puts in front of a reader, as text: every element's strings (labels, values, options,
    Markdown), the cells of static tables, the dataframes' column headers and formats, the charts' texts
    and hover templates, the maps' tooltips."""
    found: list[tuple[str, str]] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is None or kind in ("exception", "html"):
            continue
        if kind == "table":
            found += [(f"table {col}", str(v)) for col in node.value for v in [col, *node.value[col]]]
            continue
        decoded = MessageToDict(proto)
        if kind == "plotly_chart":
            found += _strings(json.loads(proto.spec), "plotly")
        elif kind == "deck_gl_json_chart":
            deck = json.loads(proto.json)
            for layer in deck.get("layers", []):
                rows = layer.get("data", [])
                rows = rows.get("features", []) if isinstance(rows, dict) else rows
                for row in rows if isinstance(rows, list) else []:
                    props = row.get("properties", row)
                    found += [
                        (f"deck {k}", str(props.get(k, ""))) for k in ("tip", "detail", "note", "label")
                    ]
        elif kind == "dataframe":
            found += _strings(json.loads(decoded.get("columns", "{}") or "{}"), "dataframe columns")
        else:
            found += _strings(decoded, kind)
    return found


def assert_written_one_way(at: AppTest, where: str) -> None:
    assert_clean(at)
    for path, text in shown_texts(at):
        for pattern in (MISSING_WORD, SIGNED_ZERO, TWO_DECIMAL_PERCENT):
            hit = pattern.search(text)
            assert not hit, f"{where}: {path} shows {hit.group(0)!r}: {text[:200]!r}"
    for node in at._tree:  # a missing cell reads "—"; a percent column rounds to one decimal (0.001 steps)
        if getattr(node, "type", "") == "dataframe":
            decoded = MessageToDict(node.proto)
            assert decoded.get("placeholder") == "—", f"{where}: a missing cell reads None"
            columns = json.loads(decoded.get("columns", "{}") or "{}")
            for name, config in columns.items():
                kind = (config or {}).get("type_config", {})
                if kind.get("format") == "percent":
                    assert kind.get("step") == 0.001, f"{where}: {name} shows two decimals"


def test_the_sweep_finds_what_it_looks_for() -> None:
    for bad in ("较计划 +0 人", "计划 None", "nan%", "55.77%", "-0 个百分点"):
        assert any(p.search(bad) for p in (MISSING_WORD, SIGNED_ZERO, TWO_DECIMAL_PERCENT)), bad
    for good in ("+0.3 个百分点", "-590 人", "55.8%", "2026年3月2日", "近1小时 0 次", "Nanjing"):
        assert not any(p.search(good) for p in (MISSING_WORD, SIGNED_ZERO, TWO_DECIMAL_PERCENT)), good


@pytest.mark.parametrize("page", [p for p in PAGE_FILES if p != "pages/screen.py"])
def test_every_page_writes_every_figure_one_way(app_env, a_community, page: str) -> None:
    for query in (None, {"community": a_community["code"]}):
        assert_written_one_way(open_page(page, query=query), f"{page} {query}")


@pytest.mark.parametrize("views", ["overview", "map", "campaign", "communities"])
def test_the_big_screen_writes_every_figure_one_way(app_env, views: str) -> None:
    at = testing.open_page(session_token(app_env, "大屏"), "pages/screen.py", {"views": views, "top": "2"})
    assert_written_one_way(at, f"大屏 {views}")


def test_a_staff_users_pages_write_every_figure_one_way(app_env) -> None:
    token = session_token(app_env, "工作人员", communities=(TAIDONG,))
    for page in ("dashboard.py", "pages/campaign.py", "pages/community_share.py", "pages/density_map.py"):
        assert_written_one_way(testing.open_page(token, page), f"工作人员 {page}")


# ---- maps: names, legend = fill, one community ----------------------------------------------------------


def _deck(at: AppTest) -> dict:
    (deck,) = at.get("deck_gl_json_chart")
    return json.loads(deck.proto.json)


def _legend_colours(at: AppTest) -> list[tuple[int, int, int]]:
    legend = next(m.value for m in at.markdown if 'class="wt-legend"' in m.value)
    return [tuple(int(v) for v in c) for c in re.findall(r"background:rgb\((\d+),(\d+),(\d+)\)", legend)]


@pytest.mark.parametrize("mode", ["网格密度（约 170 × 180 米）", "社区新市民占比（分级设色）"])
def test_maps_name_the_communities_and_fill_with_the_legends_colours(app_env, mode: str) -> None:
    at = open_page("pages/density_map.py")
    at.segmented_control(key="map_mode").set_value(mode).run()
    assert_clean(at)
    spec = _deck(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    labels = layers["labels"]
    names = [row["label"] for row in labels["data"]]
    communities = Runner(app_env).run("community_map", {})
    assert set(names) <= set(communities["community_name"]) and len(names) >= 20, names
    biggest = communities.sort_values("newcomers", ascending=False)["community_name"].iloc[0]
    assert biggest in names, "where names would overlap, the community with most newcomers keeps its own"
    assert set("".join(names)) <= set(labels["characterSet"]), "the font atlas has every character"
    assert isinstance(labels["characterSet"], str) and not labels["characterSet"].startswith("@@")
    assert labels["fontFamily"].startswith("'Noto Sans CJK SC'") and "http" not in json.dumps(labels)
    fills = (
        {tuple(row["fill"]) for row in layers["cells"]["data"]}
        if "cells" in layers
        else {tuple(f["properties"]["fill"]) for f in layers["boundaries"]["data"]["features"]}
    )
    swatches = set(_legend_colours(at))
    assert {fill[3] for fill in fills} == {255}, "fills are opaque: the colour seen is the swatch's"
    assert {fill[:3] for fill in fills} <= swatches, (fills, swatches)


def test_a_staff_users_one_community_has_one_legend_class_and_no_lonely_bar(app_env) -> None:
    token = session_token(app_env, "工作人员", communities=(TAIDONG,))
    at = testing.open_page(token, "pages/density_map.py")
    at.segmented_control(key="map_mode").set_value("社区新市民占比（分级设色）").run()
    assert_clean(at)
    legend = next(m.value for m in at.markdown if 'class="wt-legend"' in m.value)
    assert len(_legend_colours(at)) == 1 and "–" not in legend, legend
    share = testing.open_page(token, "pages/community_share.py")
    assert_clean(share)
    for chart in share.get("plotly_chart"):
        bar = json.loads(chart.proto.spec)["data"][0]
        lonely = bar.get("orientation") == "h" and isinstance(bar.get("y"), list) and len(bar["y"]) == 1
        assert not lonely, "a ranking of one bar"
    assert any("新市民占比" in m.label for m in share.metric), "one community: its figure, not one bar"


def test_names_that_would_overlap_leave_room_to_the_bigger_community() -> None:
    from wangtai.ui import maps

    rows = pd.DataFrame(
        {
            "community_code": ["a", "b", "c"],
            "community_name": ["小村", "大村", "远村"],
            "centroid_lat": [36.0600, 36.0601, 36.1000],
            "centroid_lon": [120.0000, 120.0001, 120.0000],
            "newcomers": [5, 500, 1],
        }
    )
    view = maps.pdk.ViewState(latitude=36.08, longitude=120.0, zoom=12)
    assert [p["label"] for p in maps.placed(rows, 13, view)] == ["大村", "远村"]


# ---- 查找地点 -------------------------------------------------------------------------------------------


def test_a_place_is_found_by_name_or_initials_and_the_page_lands_on_it(app_env) -> None:
    from wangtai.ui import search

    at = open_page("dashboard.py")
    box = at.sidebar.selectbox(key=search.KEY)
    labels = [label for label in box.options if "tdl" in label]  # what typing "tdl" leaves
    assert labels == ["台东路社区（社区 · tdlsq）", "台东路社区居委会（居委会 · tdlsqjwh）"], labels
    box.set_value(f"c:{TAIDONG}").run()
    assert_clean(at)
    assert "台东路社区" in at.title[0].value and at.session_state[FILTER_KEY]["community"] == TAIDONG
    assert at.sidebar.selectbox(key=search.KEY).value is None, "ready for the next search"

    units = Runner(app_env).run("unit_progress", {})
    firm = units[units["unit_type"] == "企业"].iloc[0]
    at.sidebar.selectbox(key=search.KEY).set_value(f"u:{firm['unit_id']}").run()
    assert_clean(at)
    assert "登记进度" in at.title[0].value, "a unit opens its door-to-door list"
    assert at.session_state[FILTER_KEY]["community"] == firm["community_code"]
    assert at.selectbox(key="door_unit").value == firm["unit_id"]


def test_staff_find_only_their_own_places(app_env) -> None:
    from wangtai.ui import search

    at = testing.open_page(session_token(app_env, "工作人员", communities=(TAIDONG,)), "dashboard.py")
    options = at.sidebar.selectbox(key=search.KEY).options
    communities = [o for o in options if "（社区" in o or "（村" in o]
    assert communities == ["台东路社区（社区 · tdlsq）"], communities


# ---- light theme per person ------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_both_themes_keep_their_text_and_chart_colours_readable() -> None:
    import tomllib

    from wangtai.ui import theme

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    for name in ("dark", "light"):
        colours = config[name]
        assert contrast(colours["textColor"], colours["backgroundColor"]) >= 7, name  # WCAG AAA body text
        assert contrast(colours["primaryColor"], colours["backgroundColor"]) >= 3, name
    for dark, light in theme.LIGHT.items():
        assert contrast(light, "#FFFFFF") >= 4.5, f"{light} (for {dark}) on white"


def test_the_light_switch_recolours_the_charts_and_tells_the_browser(app_env) -> None:
    at = open_page("dashboard.py")
    dark = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "#3DA5FF" in dark and "#0A63C9" not in dark
    next(t for t in at.sidebar.toggle if t.label == "亮色主题").set_value(True).run()
    assert_clean(at)
    light = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "#0A63C9" in light and "#3DA5FF" not in light
    scripts = [h.proto.body for h in at.get("html") if "stActiveTheme" in h.proto.body]
    assert scripts and '"Light"' in scripts[-1] and "wangtai_theme_" in scripts[-1]
    at.switch_page("pages/campaign.py")
    at.run()
    assert next(t for t in at.sidebar.toggle if t.label == "亮色主题").value, "kept across pages"


def test_staff_see_their_scope_by_name(app_env) -> None:
    at = testing.open_page(session_token(app_env, "工作人员", communities=(TAIDONG,)), "dashboard.py")
    scope = [c.value for c in at.sidebar.caption if c.value.startswith("负责范围")]
    assert scope == ["负责范围：台东路社区"], scope
