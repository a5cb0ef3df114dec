"""Number and date formats shown on screen: 69,012 · 24.6% · 11月27日 10:30 — and data values (names of
communities, 片区, units, users, files) made safe for the text they are put into: ``html`` for HTML
(``st.markdown(unsafe_allow_html=True)``, plotly's labels), ``md`` for Markdown (titles, captions,
metric labels, alerts)."""

import html as _html
import math
import re
from datetime import date, datetime

import pandas as pd

DASH = "—"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def html(value) -> str:
    """A data value for HTML: ``<style>`` stays text, an attribute cannot be closed. Also for plotly's
    labels, which read a few tags (``<a href>``, ``<b>``, ``<br>``) and show entities as their character."""
    return _html.escape(str(value), quote=True)


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md(value) -> str:
    """A data value for Markdown: every ASCII punctuation mark backslash-escaped (CommonMark shows an
    escaped mark as itself), so a name is never a link, a heading, a list, ``$`` maths or ``:red[…]``;
    raw HTML is not rendered where ``md`` is used."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(value))


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def num(value, digits: int = 0) -> str:
    """69012 → '69,012'; None/NaN → '—'."""
    if _missing(value):
        return DASH
    return f"{float(value):,.{digits}f}" if digits else f"{round(float(value)):,}"


def signed(value, digits: int = 0) -> str:
    """Signed count: +12 / -34 (ASCII minus, so Streamlit colours a metric delta)."""
    if _missing(value):
        return DASH
    return f"{float(value):+,.{digits}f}" if digits else f"{round(float(value)):+,}"


def pct(value, digits: int = 1) -> str:
    """A share 0–1 → '24.6%'."""
    if _missing(value) or (isinstance(value, float) and math.isinf(value)):
        return DASH
    return f"{float(value) * 100:.{digits}f}%"


def pp(value, digits: int = 1) -> str:
    """A difference of two shares → '+1.9 个百分点'."""
    if _missing(value):
        return DASH
    return f"{float(value) * 100:+.{digits}f} 个百分点"


def _as_datetime(value) -> datetime | date | None:
    if _missing(value):
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def day(value, with_year: bool = True) -> str:
    """A date → '2026年11月27日' (or '11月27日')."""
    value = _as_datetime(value)
    if value is None:
        return DASH
    text = f"{value.month}月{value.day}日"
    return f"{value.year}年{text}" if with_year else text


def moment(value) -> str:
    """A timestamp → '11月27日 10:30'."""
    value = _as_datetime(value)
    if value is None:
        return DASH
    if not isinstance(value, datetime):
        return day(value, with_year=False)
    return f"{value.month}月{value.day}日 {value:%H:%M}"


def weekday(number) -> str:
    """ISO weekday 1–7 (Monday = 1) → '周一'."""
    if _missing(number):
        return DASH
    return WEEKDAYS[(int(number) - 1) % 7]
