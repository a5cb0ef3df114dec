"""The 大屏 (pages/screen.py): the link is the configuration, the rotation steps through the chosen views and
communities, every big figure equals the named query the normal pages use, a meeting link freezes the
view, the role 大屏 may open it, and the minutes snapshot is a PNG and a PDF rendered offline."""

import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from wangtai import e2e
from wangtai.auth.testing import session_token
from wangtai.paths import DataPaths
from wangtai.runner import Runner
from wangtai.ui import format as fmt
from wangtai.ui import screen, snapshot
from wangtai.ui.login import TOKEN_KEY
from wangtai.ui.setup import Filters

REPO = Path(__file__).resolve().parent.parent
ENTRY = str(REPO / "dashboard.py")


# ---- the link -----------------------------------------------------------------------------------------


def test_link_parameters_and_their_defaults() -> None:
    default = screen.config_from({})
    assert default.views == screen.DEFAULT_VIEWS and default.every == 20 and default.live
    meeting = screen.config_from({"live": "0"}, meeting=True)
    assert meeting.views == screen.MEETING_VIEWS and not meeting.live
    config = screen.config_from({"views": "map, campaign,bogus,map", "every": "2", "top": "3"})
    assert config.views == ("map", "campaign") and config.every == screen.MIN_EVERY and config.top == 3
    assert screen.config_from({"every": "0"}).every == 0
    assert screen.config_from({"every": "abc"}).every == 20


def _share() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_code": ["a", "b", "c"],
            "community_name": ["甲村", "乙村", "丙村"],
            "area": ["东片", "东片", "西片"],
            "newcomers": [5, 50, 20],
        }
    )


def test_slides_expand_communities_most_newcomers_first() -> None:
    deck = screen.slides(screen.config_from({"top": "2"}), Filters(), _share())
    assert [s.view for s in deck] == ["overview", "map", "campaign", "communities", "communities"]
    assert [s.community_name for s in deck[3:]] == ["乙村", "丙村"]
    assert screen.slide_filters(deck[3], Filters(), _share()).community_code == "b"
    assert screen.slide_filters(deck[3], Filters(), _share()).area == "东片"
    fixed = Filters(area="东片", community_code="a", community_name="甲村")
    assert all(s.view != "communities" for s in screen.slides(screen.config_from({}), fixed, _share()))


def test_ticks_rotate_refresh_and_freeze() -> None:
    rotating = screen.config_from({"every": "20"}, refresh=30)
    assert screen.tick_seconds(rotating, 5, paused=False) == 20
    assert screen.tick_seconds(rotating, 5, paused=True) == 30  # paused: still live, not moving
    assert screen.tick_seconds(screen.config_from({"live": "0"}), 5, paused=False) is None
    assert screen.tick_seconds(screen.config_from({"every": "0"}, refresh=0), 5, paused=False) is None


def test_screen_css_hides_the_chrome_and_the_script_is_inline() -> None:
    for hidden in (
        '[data-testid="stSidebar"]',
        'header[data-testid="stHeader"]',
        '[data-testid="stToolbar"]',
    ):
        assert hidden in screen.CSS
    script = screen.script(frozen=False)
    assert "src=" not in script and "http" not in script  # nothing fetched


# ---- the page (AppTest) -------------------------------------------------------------------------------


def open_screen(query: dict | None = None, role: str = "领导") -> AppTest:
    """Open the screen as a wall-screen bookmark would: the entry with ?screen=1 switches to it."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.session_state[TOKEN_KEY] = session_token(DataPaths.from_env(), role)
    at.query_params["screen"] = "1"
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _assert_overview_figures(at: AppTest, expected) -> None:
    shown = _metrics(at)
    assert shown["实有人口"] == fmt.big(expected["residents"], "人")
    assert shown["新市民"] == fmt.big(expected["newcomers"], "人")
    assert shown["新市民占比"] == fmt.pct(expected["newcomer_share"])
    assert shown["登记人数"] == fmt.count(expected["registered"])
    assert shown["登记率"] == fmt.pct(expected["registration_rate"])
    assert shown["今日扫码"] == fmt.count(expected["scans_today"], "次")
    assert shown["新发现"] == fmt.count(expected["discovered"])
    assert shown["出租屋建档率"] == fmt.pct(expected["rental_archive_rate"])


def _slide(at: AppTest) -> screen.Slide:
    state = at.session_state[screen.STATE_KEY]
    return state["index"]


def test_screen_link_opens_the_big_screen_with_the_overview_figures(app_env) -> None:
    at = open_screen()
    assert_clean(at)
    assert at.title and at.title[0].value == "智慧王台 · 王台街道"
    _assert_overview_figures(at, Runner(app_env).run("overview", {}).iloc[0])
    assert len(at.get("plotly_chart")) == 2 and len(at.get("deck_gl_json_chart")) == 1
    assert {b.label for b in at.button} >= {"上一屏", "暂停", "下一屏"}
    page_text = " ".join(m.value for m in at.markdown)
    assert "数据更新于" in page_text and "实时" in page_text and "2026年11月27日" in page_text


def test_rotation_steps_through_views_and_communities_with_matching_figures(app_env) -> None:
    runner = Runner(app_env)
    at = open_screen({"views": "overview,map,campaign,communities", "top": "2"})
    at.button(key="wt_screen_next").click().run()
    assert_clean(at)
    assert "有新市民的网格" in _metrics(at)  # the density map
    density = runner.run("newcomer_density", {})
    assert _metrics(at)["有新市民的网格"] == fmt.num(len(density))
    at.button(key="wt_screen_next").click().run()
    projection = runner.run("campaign_projection", {}).iloc[0]
    assert _metrics(at)["已登记"] == fmt.count(projection["registered"])
    assert _metrics(at)["预计完成"] == fmt.day(projection["projected_finish"])  # with its year
    assert _metrics(at)["目标登记率"] == fmt.pct(projection["target_rate"])
    share = runner.run("community_share", {}).sort_values(
        ["newcomers", "community_code"], ascending=[False, True]
    )
    for rank in range(2):
        at.button(key="wt_screen_next").click().run()
        assert_clean(at)
        row = share.iloc[rank]
        assert row["community_name"] in at.title[0].value
        _assert_overview_figures(
            at, runner.run("overview", {"community_code": row["community_code"]}).iloc[0]
        )
    at.button(key="wt_screen_next").click().run()
    assert _slide(at) == 0  # round again
    at.button(key="wt_screen_prev").click().run()
    assert _slide(at) == 4


def test_pause_button_holds_the_rotation(app_env) -> None:
    at = open_screen()
    at.button(key="wt_screen_pause").click().run()
    assert_clean(at)
    assert at.session_state[screen.STATE_KEY]["paused"]
    assert any(b.label == "继续轮播" for b in at.button)
    assert "已暂停" in " ".join(m.value for m in at.markdown)


def test_meeting_link_fixes_a_community_and_freezes(app_env) -> None:
    share = Runner(app_env).run("community_share", {})
    row = share.sort_values("newcomers", ascending=False).iloc[0]
    at = open_screen({"community": row["community_code"], "live": "0"})
    assert_clean(at)
    assert row["community_name"] in at.title[0].value
    _assert_overview_figures(
        at, Runner(app_env).run("overview", {"community_code": row["community_code"]}).iloc[0]
    )
    assert not any(b.key == "wt_screen_pause" for b in at.button)  # frozen: nothing rotates
    assert "会议冻结" in " ".join(m.value for m in at.markdown)
    at.button(key="wt_screen_next").click().run()  # the speaker may still turn the page
    assert_clean(at)
    assert "有新市民的网格" in _metrics(at)


def test_the_wall_screen_role_may_open_the_screen(app_env) -> None:
    at = open_screen(role="大屏")
    assert_clean(at)
    assert at.metric


# ---- the snapshot for the minutes ---------------------------------------------------------------------


def _spec(app_env) -> dict:
    runner = Runner(app_env)
    from wangtai.ui import charts

    progress = runner.run("registration_progress", {})
    projection = runner.run("campaign_projection", {}).iloc[0].to_dict()
    return {
        "title": "总览",
        "filters": Filters(),
        "kpis": screen.kpis(runner.run("overview", {}).iloc[0].to_dict()),
        "charts": [charts.progress_vs_plan(progress, projection)],
        "map": runner.run("community_map", {}),
        "map_codes": None,
        "fresh": "数据更新于 11月27日 10:30",
    }


def test_snapshot_figure_holds_the_slide(app_env) -> None:
    fig = snapshot.figure(_spec(app_env))
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "智慧王台 · 王台街道" in texts and "新市民" in texts and "数据更新于" in texts
    assert fig.layout.width == 1920 and fig.layout.height == 1080
    assert len(fig.data) > 85  # the progress lines and one polygon per community at least


@pytest.mark.skipif(not e2e.chromium_available(), reason="no chromium for kaleido")
def test_snapshot_renders_png_and_pdf_offline(app_env) -> None:
    from PIL import Image

    spec = _spec(app_env)
    image = Image.open(io.BytesIO(snapshot.png(spec)))
    assert image.size == (1920, 1080)
    assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 100  # drawn, not a flat fill
    assert snapshot.pdf(spec).startswith(b"%PDF")


def test_charts_are_drawn_at_the_screens_scale_without_changing_the_shared_figure() -> None:
    from wangtai.ui import charts

    share = pd.DataFrame({"community_name": ["甲村", "乙村"], "newcomer_share": [0.2, 0.35]})
    styled = charts.restyled(
        charts.ranked_bars(share, "community_name", "newcomer_share", value_title="占比"), 660, 480
    )
    before = styled.to_json()
    half = charts.zoomed(styled, 0.5)
    assert styled.to_json() == before and charts.zoomed(styled, 1.0) is styled
    layout, source = half.to_dict()["layout"], styled.to_dict()["layout"]
    assert layout["font"]["size"] == source["font"]["size"] / 2
    assert layout["xaxis"]["tickfont"]["size"] == source["xaxis"]["tickfont"]["size"] / 2
    assert layout["legend"]["font"]["size"] == source["legend"]["font"]["size"] / 2
    assert layout["margin"]["r"] == source["margin"]["r"] / 2
    assert half.to_dict()["data"][0]["textfont"]["size"] == source_bar_text(styled) / 2
    assert (layout["width"], layout["height"]) == (660, 480)  # the box is the design size, zoomed by CSS


def source_bar_text(chart) -> float:
    return chart.to_dict()["data"][0]["textfont"]["size"]


def test_the_screens_scale_comes_from_its_cookie(app_env) -> None:
    assert screen.zoom() == 1.0  # no browser: the design scale
    script = screen.script(frozen=True, zoom=0.71)
    assert screen.ZOOM_COOKIE in script and "DRAWN=0.71" in script and "location.reload" in script
