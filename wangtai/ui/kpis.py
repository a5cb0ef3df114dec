"""The big figures, defined once: which numbers 总览 and the 大屏 show, their labels, units, formats, the
comparison with plan and their 口径 (what the figure counts, from which data, as of when) — from the one
row of the ``overview`` query (``overview``) or of ``campaign_projection`` (``campaign``, the 登记进度
strip).

Each figure carries what both surfaces need: 总览 (dashboard.py) shows ``page_label`` / ``value`` /
``delta`` / ``help`` as ``st.metric`` and the 口径 of every figure below them (``definitions``: a "?" is
hidden on a laptop); the 大屏 (wangtai/ui/screen.py) and its snapshot show ``label`` / ``value`` / ``sub``.
"""

from dataclasses import dataclass

import pandas as pd

from wangtai.contract import FEEDS
from wangtai.ui import format as fmt

CAMPAIGN = "campaign"  # the campaign's plan (reference/campaign.toml), not a feed


@dataclass(frozen=True)
class Kpi:
    label: str  # the short label (大屏, snapshot)
    value: str
    delta: str | None = None  # 总览's line under the value; "+…" / "-…" is coloured
    sub: str | None = None  # the 大屏's line under the value
    help: str = ""  # the definition (口径)
    plan: str | None = None  # the plan figure: 总览 puts it into the label
    sources: tuple[str, ...] = ()  # the feeds it is counted from (``FEEDS`` keys, or ``CAMPAIGN``)
    exact: str | None = None  # the exact figure when ``value`` is rounded to 万

    @property
    def page_label(self) -> str:
        return f"{self.label}（计划 {self.plan}）" if self.plan is not None else self.label

    @property
    def on_page(self) -> tuple[str, str, str | None, str]:
        return self.page_label, self.value, self.delta, self.help

    @property
    def on_screen(self) -> tuple[str, str, str | None]:
        return self.label, self.value, self.sub


def _stock(label: str, value, help: str, sources: tuple[str, ...]) -> Kpi:
    """A head count that may be large: 6.9 万人 on the tile, the exact number in its 口径."""
    shown = fmt.big(value, "人")
    exact = fmt.count(value) if shown != fmt.count(value) else None
    return Kpi(label, shown, help=help, sources=sources, exact=exact)


def overview(row: dict) -> list[Kpi]:
    """The eight figures of the ``overview`` query's row (values formatted exactly as tested)."""
    registered, plan_registered = row.get("registered"), row.get("plan_registered")
    rate, plan_rate = row.get("registration_rate"), row.get("plan_rate")
    reg_gap = rate_gap = None
    if not fmt.missing(registered) and not fmt.missing(plan_registered):
        reg_gap = fmt.signed(registered - plan_registered, unit="人")
    if not fmt.missing(rate) and not fmt.missing(plan_rate):
        rate_gap = fmt.pp(rate - plan_rate)
    last_hour = f"近1小时 {fmt.count(row.get('scans_last_hour'), '次')}"
    rentals = f"出租屋 {fmt.count(row.get('rentals'), '套')}"
    return [
        _stock("实有人口", row.get("residents"), "现有在住人口（当前实有人口快照）", ("residents",)),
        _stock("新市民", row.get("newcomers"), "流动人口：无本地户籍的在住人口", ("residents",)),
        Kpi(
            "新市民占比", fmt.pct(row.get("newcomer_share")), help="新市民 ÷ 实有人口", sources=("residents",)
        ),
        Kpi(
            "登记人数",
            fmt.count(registered),
            delta=reg_gap,
            sub=f"较计划 {reg_gap}" if reg_gap else None,
            help="一家亲扫码登记过的新市民；计划 = 目标登记率 × 新市民 × 按日进度",
            plan=fmt.num(plan_registered),
            sources=("registrations", "residents", CAMPAIGN),
        ),
        Kpi(
            "登记率",
            fmt.pct(rate),
            delta=rate_gap,
            sub=f"计划 {fmt.pct(plan_rate)} · {rate_gap}" if rate_gap else None,
            help="登记人数 ÷ 新市民",
            plan=fmt.pct(plan_rate),
            sources=("registrations", "residents", CAMPAIGN),
        ),
        Kpi(
            "今日扫码",
            fmt.count(row.get("scans_today"), "次"),
            last_hour,
            last_hour,
            "今天 0 点以来的一家亲扫码登记次数",
            sources=("registrations",),
        ),
        Kpi(
            "新发现",
            fmt.count(row.get("discovered")),
            sub="扫码登记但不在实有人口中",
            help="扫码登记了、但不在实有人口中的人",
            sources=("registrations", "residents"),
        ),
        Kpi(
            "出租屋建档率",
            fmt.pct(row.get("rental_archive_rate")),
            rentals,
            rentals,
            "已建档或已复核的出租屋 ÷ 出租屋",
            sources=("houses",),
        ),
    ]


def campaign(p: dict) -> list[Kpi]:
    """The six figures of the ``campaign_projection`` row: target, registered, days left, pace, the pace
    needed, the projected finish — its date always with the year ("3月2日 将逾期" hid that it is next
    year's)."""
    finish = p.get("projected_finish")
    verdict = "可按期完成" if on_track(p) else "将逾期"
    registered, plan = ("registrations", "residents"), ("registrations", "residents", CAMPAIGN)
    figures = [
        (
            "目标登记率",
            fmt.pct(p.get("target_rate")),
            f"目标 {fmt.count(p.get('target_registered'))}",
            "截止日应达到的登记率（登记人数 ÷ 新市民）；目标人数 = 目标登记率 × 新市民",
            (CAMPAIGN, "residents"),
        ),
        (
            "已登记",
            fmt.count(p.get("registered")),
            f"新市民 {fmt.count(p.get('newcomers'))}",
            "一家亲扫码登记过的新市民",
            registered,
        ),
        (
            "距截止",
            f"{fmt.num(p.get('days_left'))} 天",
            f"截止 {fmt.day(p.get('deadline'))}",
            "今天到活动截止日的天数",
            (CAMPAIGN,),
        ),
        (
            "近14日日均",
            fmt.count(p.get("pace_14d")),
            "每天新登记",
            "最近 14 天平均每天新登记的人数",
            ("registrations",),
        ),
        (
            "需要日均",
            fmt.count(p.get("needed_pace")),
            "才能按期达标",
            "（目标人数 − 已登记）÷ 距截止天数",
            plan,
        ),
        ("预计完成", fmt.day(finish), verdict, "按近14日日均速度，已登记达到目标人数的日期", plan),
    ]
    return [
        Kpi(label, value, delta=sub, sub=sub, help=help, sources=sources)
        for label, value, sub, help, sources in figures
    ]


def on_track(p: dict) -> bool:
    return bool(p.get("on_track"))


# ---- 口径: what each figure counts, from which data, as of when ----------------------------------------


def source_names(sources: tuple[str, ...]) -> str:
    return "、".join("计划（campaign.toml）" if s == CAMPAIGN else FEEDS[s].label for s in sources) or "—"


def data_times(freshness: pd.DataFrame) -> dict[str, str]:
    """Each feed's data time as shown in the 口径: a snapshot's since it became current, an increment's
    last file ("—" when none arrived)."""
    times: dict[str, str] = {}
    if freshness.empty or "feed" not in freshness:
        return times
    for row in freshness.itertuples(index=False):
        when = getattr(row, "current_since", None)
        if fmt.missing(when):
            when = getattr(row, "last_ingested_at", None)
        times[row.feed] = fmt.moment(when, with_year=True)
    return times


def definitions(figures: list[Kpi], freshness: pd.DataFrame) -> pd.DataFrame:
    """One row per figure: 指标, 当前值, 口径, 数据来源, 数据时间 (the oldest of its feeds)."""
    times = data_times(freshness)
    rows = []
    for kpi in figures:
        feeds = [s for s in kpi.sources if s != CAMPAIGN]
        when = " / ".join(dict.fromkeys(times.get(s, fmt.DASH) for s in feeds)) or fmt.DASH
        rows.append(
            {
                "label": kpi.page_label,
                "value": kpi.exact or kpi.value,
                "help": kpi.help or fmt.DASH,
                "source": source_names(kpi.sources),
                "time": when,
            }
        )
    return pd.DataFrame(rows, columns=["label", "value", "help", "source", "time"])
