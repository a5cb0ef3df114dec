"""The one formatting module (wangtai/ui/format.py): one function per kind of figure, one rounding."""

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from wangtai.ui import format as fmt

MISSING = [None, float("nan"), np.nan, pd.NA, pd.NaT, float("inf"), "", "nan", "None"]


@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_every_kind_shows_a_missing_value_as_a_dash(value) -> None:
    for show in (fmt.num, fmt.count, fmt.big, fmt.signed, fmt.pct, fmt.pp, fmt.text):
        assert show(value) == "—", (show.__name__, value)
    for show in (fmt.day, fmt.moment, fmt.stamp):
        assert show(value) == "—", (show.__name__, value)


def test_rounding_is_half_away_from_zero_on_the_written_number() -> None:
    assert fmt.rounded(590.5) == 591 and fmt.rounded(-590.5) == -591
    assert fmt.rounded(-590.4) == -590 and fmt.rounded(2.5) == 3  # not banker's rounding (round(2.5) == 2)
    assert fmt.rounded(0.5575, 3) == 0.558  # the double is 0.55749999…, the number written is 0.5575
    assert str(fmt.rounded(-0.4)) == "0.0"  # no negative zero


def test_counts_with_units_and_large_numbers_in_wan() -> None:
    assert fmt.num(69012) == "69,012" and fmt.num(np.int64(5)) == "5" and fmt.num(1234.5, 1) == "1,234.5"
    assert fmt.count(69012) == "69,012 人" and fmt.count(3, "次") == "3 次" and fmt.count(12, "套") == "12 套"
    assert fmt.big(67_500) == "6.75 万" and fmt.big(69_012) == "6.9 万" and fmt.big(120_000) == "12 万"
    assert fmt.big(9_876, "人") == "9,876 人" and fmt.big(69_012, "人") == "6.9 万人"
    assert fmt.big(9_999.6) == "1 万"  # rounds to 10,000: that is 万 already


def test_signed_differences_never_read_plus_or_minus_zero() -> None:
    assert fmt.signed(12) == "+12" and fmt.signed(-34) == "-34" and fmt.signed(1234) == "+1,234"
    assert fmt.signed(0) == "0" and fmt.signed(-0.4) == "0" and fmt.signed(0.4) == "0"
    assert fmt.signed(-590.5) == "-591" and fmt.signed(-590.4) == "-590"
    assert fmt.signed(-12, unit="人") == "-12 人"
    assert fmt.pp(0.019) == "+1.9 个百分点" and fmt.pp(-0.0004) == "0.0 个百分点"


def test_percentages_have_one_decimal() -> None:
    assert fmt.pct(0.2461) == "24.6%" and fmt.pct(0.5577) == "55.8%" and fmt.pct(0.5575) == "55.8%"
    assert fmt.pct(1) == "100.0%" and fmt.pct(0) == "0.0%"


def test_dates_carry_the_year_and_times_are_shanghai_time() -> None:
    assert fmt.day(pd.Timestamp("2026-03-02")) == "2026年3月2日"
    assert fmt.day(date(2027, 3, 2), with_year=False) == "3月2日"
    assert fmt.moment(pd.Timestamp("2026-11-27 10:30")) == "11月27日 10:30"  # naive = Shanghai already
    utc = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    assert fmt.moment(utc) == "11月27日 10:30" and fmt.stamp(utc) == "2026-11-27 10:30:00"
    assert fmt.moment(pd.Timestamp(utc)) == "11月27日 10:30"
    assert fmt.stamp(utc.timestamp()) == "2026-11-27 10:30:00"  # epoch seconds (the user store)
    assert fmt.moment("2026-11-27T02:30:00+00:00", with_year=True) == "2026年11月27日 10:30"
    assert fmt.weekday(1) == "周一" and fmt.weekday(7) == "周日"


def test_names_are_escaped_for_html_and_markdown() -> None:
    assert fmt.html('<b a="1">') == "&lt;b a=&quot;1&quot;&gt;"
    assert fmt.md("[x](y)") == r"\[x\]\(y\)"


def test_tables_round_their_cells_as_the_rest_of_the_page_writes_them() -> None:
    from wangtai.ui import tables

    units = pd.DataFrame({"gap": [-590.5, 0.4, -0.4, 12.0], "registration_rate": [0.5575, 0.1, 0.25, 1.0]})
    shown = tables.prepared(units, tables.UNIT_COLUMNS)
    assert shown["gap"].tolist() == [-591, 0, 0, 12]  # the unit picker reads fmt.signed: "-591", "0"
    assert [fmt.signed(g) for g in units["gap"]] == ["-591", "0", "0", "+12"]
    assert shown["registration_rate"].tolist() == [0.558, 0.1, 0.25, 1.0]  # the browser shows 55.8%
    with_gap = tables.prepared(pd.DataFrame({"gap": [1.6, None]}), tables.UNIT_COLUMNS)
    assert with_gap["gap"].iloc[0] == 2 and with_gap["gap"].isna().iloc[1]  # "—" in the browser


def test_the_audit_log_is_shown_in_shanghai_time(tmp_path, monkeypatch) -> None:
    import time

    from wangtai.auth import audit
    from wangtai.clock import SHANGHAI
    from wangtai.paths import DataPaths

    monkeypatch.setenv("TZ", "UTC")  # a server in UTC showed UTC times
    time.tzset()
    try:
        paths = DataPaths(tmp_path)
        audit.record(paths, "login", "someone", "领导")
        shown = audit.frame(paths)["ts"].iloc[0]
        shanghai = datetime.now(SHANGHAI).replace(tzinfo=None)
        assert abs((shown - shanghai).total_seconds()) < 120, (shown, shanghai)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
