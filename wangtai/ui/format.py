"""Every number, date and time shown on screen, in one place and rounded one way — and data values (names of
communities, 片区, units, users, files) made safe for the text they are put into: ``html`` for HTML
(``st.markdown(unsafe_allow_html=True)``, plotly's labels), ``md`` for Markdown (titles, captions,
metric labels, alerts).

One function per kind of figure:

- ``num`` 69,012 · ``count`` 69,012 人 · ``big`` 6.9 万人 (from 10,000 up) · ``signed`` +12 / -34 / 0
- ``pct`` 24.6% (one decimal everywhere) · ``pp`` +1.9 个百分点
- ``day`` 2026年3月2日 · ``moment`` 11月27日 10:30 (Asia/Shanghai) · ``weekday`` 周一
- ``text`` a value that may be missing; every missing value is "—", never "None" or "nan".

Rounding is half away from zero on the number as it is written (``rounded``): 590.5 → 591, -590.5 → -591,
0.5575 → 55.8%. Tables (wangtai/ui/tables.py) round their cells with it before the browser formats them,
so a figure reads the same in a table, a chart, a tooltip and a sentence.
"""

import html as _html
import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pandas as pd

from wangtai.clock import SHANGHAI

DASH = "—"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WAN = 10_000  # from here on, ``big`` writes 万 (6.9 万), as Chinese reports do


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


def missing(value) -> bool:
    """None, NaN, NaT, pd.NA, ±inf and blank text: shown as "—"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or value.strip().lower() in ("nan", "none", "nat", "<na>")
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, float) and math.isinf(value)


def text(value) -> str:
    """Any value as text; a missing one as "—"."""
    return DASH if missing(value) else str(value)


# ---- numbers ----------------------------------------------------------------------------------------


def rounded(value, digits: int = 0) -> float:
    """``value`` rounded half away from zero to ``digits`` decimals, on its shortest decimal form (what
    Python prints): 590.5 → 591.0, 0.5575 (digits 3) → 0.558. NaN stays NaN. Every shown figure goes
    through this one rounding; -0.0 becomes 0.0 (no "-0" anywhere)."""
    if missing(value):
        return math.nan
    try:
        exact = Decimal(repr(float(value)))
        result = float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, TypeError, OverflowError):
        return math.nan
    return result + 0.0 if result else 0.0


def num(value, digits: int = 0) -> str:
    """69012 → '69,012'; None/NaN → '—'."""
    if missing(value):
        return DASH
    return f"{rounded(value, digits):,.{digits}f}"


def count(value, unit: str = "人") -> str:
    """A count with its unit: '69,012 人', '1,234 次', '3,210 套'; missing → '—'."""
    return DASH if missing(value) else f"{num(value)} {unit}".rstrip()


def big(value, unit: str = "") -> str:
    """A large count as Chinese reports write it: 67,500 → '6.75 万', 69,012 → '6.9 万' (two decimals at
    most, trailing zeros dropped), 120,000 → '12 万'; under 10,000 as ``num`` ('9,876'). With ``unit``:
    '6.9 万人', '9,876 人'."""
    if missing(value):
        return DASH
    if abs(rounded(value)) < WAN:
        return f"{num(value)} {unit}".rstrip()
    wan = f"{rounded(float(value) / WAN, 2):,.2f}".rstrip("0").rstrip(".")
    return f"{wan} 万{unit}"


def signed(value, digits: int = 0, unit: str = "") -> str:
    """A signed difference: '+12', '-34' (ASCII minus, so Streamlit colours a metric delta); one that rounds
    to zero is '0', never '+0' or '-0'. With ``unit``: '+12 人'."""
    if missing(value):
        return DASH
    shown = rounded(value, digits)
    body = f"{shown:+,.{digits}f}" if shown else f"{0:.{digits}f}"
    return f"{body} {unit}".rstrip()


def pct(value, digits: int = 1) -> str:
    """A share 0–1 → '24.6%' (one decimal everywhere)."""
    if missing(value):
        return DASH
    return f"{rounded(float(value) * 100, digits):.{digits}f}%"


def pp(value, digits: int = 1) -> str:
    """A difference of two shares → '+1.9 个百分点' ('0.0 个百分点' when it rounds to zero)."""
    if missing(value):
        return DASH
    return f"{signed(float(value) * 100, digits)} 个百分点"


# ---- dates and times (Asia/Shanghai) -------------------------------------------------------------------


def local(value) -> datetime | date | None:
    """A date or time as Asia/Shanghai wall-clock time: an aware time (or epoch seconds) is converted, a
    naive one is already Shanghai time (``wangtai.clock`` and the warehouse write naive Shanghai times)."""
    if missing(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), SHANGHAI).replace(tzinfo=None)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value if isinstance(value, (datetime, date)) else None


def day(value, with_year: bool = True) -> str:
    """A date → '2026年11月27日' (or '11月27日')."""
    value = local(value)
    if value is None:
        return DASH
    text = f"{value.month}月{value.day}日"
    return f"{value.year}年{text}" if with_year else text


def moment(value, with_year: bool = False) -> str:
    """A time → '11月27日 10:30' ('2026年11月27日 10:30' ``with_year``), in Asia/Shanghai."""
    value = local(value)
    if value is None:
        return DASH
    if not isinstance(value, datetime):
        return day(value, with_year=with_year)
    return f"{day(value, with_year=with_year)} {value:%H:%M}"


def stamp(value) -> str:
    """A time for a table or a log: '2026-11-27 10:30:05', in Asia/Shanghai."""
    value = local(value)
    if value is None:
        return DASH
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else f"{value:%Y-%m-%d}"


def weekday(number) -> str:
    """ISO weekday 1–7 (Monday = 1) → '周一'."""
    if missing(number):
        return DASH
    return WEEKDAYS[(int(number) - 1) % 7]
