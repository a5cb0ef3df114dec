"""The big figures, defined once: which numbers 总览 and the 大屏 show, their labels, formats and the
comparison with plan — from the one row of the ``overview`` query (``overview``) or of
``campaign_projection`` (``campaign``, the 登记进度 strip).

Each figure carries what both surfaces need: 总览 (dashboard.py) shows ``page_label`` / ``value`` /
``delta`` / ``help`` as ``st.metric``; the 大屏 (wangtai/ui/screen.py) and its snapshot show ``label`` /
``value`` / ``sub``.
"""

from dataclasses import dataclass

from wangtai.ui import format as fmt


@dataclass(frozen=True)
class Kpi:
    label: str  # the short label (大屏, snapshot)
    value: str
    delta: str | None = None  # 总览's line under the value; "+…" / "-…" is coloured
    sub: str | None = None  # the 大屏's line under the value
    help: str = ""
    plan: str | None = None  # the plan figure: 总览 puts it into the label

    @property
    def page_label(self) -> str:
        return f"{self.label}（计划 {self.plan}）" if self.plan is not None else self.label

    @property
    def on_page(self) -> tuple[str, str, str | None, str]:
        return self.page_label, self.value, self.delta, self.help

    @property
    def on_screen(self) -> tuple[str, str, str | None]:
        return self.label, self.value, self.sub


def overview(row: dict) -> list[Kpi]:
    """The eight figures of the ``overview`` query's row (values formatted exactly as tested)."""
    registered, plan_registered = row.get("registered"), row.get("plan_registered")
    rate, plan_rate = row.get("registration_rate"), row.get("plan_rate")
    reg_gap = rate_gap = None
    if registered is not None and plan_registered is not None:
        reg_gap = f"{fmt.signed(registered - plan_registered)} 人"
    if rate is not None and plan_rate is not None:
        rate_gap = fmt.pp(rate - plan_rate)
    last_hour = f"近1小时 {fmt.num(row.get('scans_last_hour'))}"
    rentals = f"出租屋 {fmt.num(row.get('rentals'))} 套"
    return [
        Kpi("实有人口", fmt.num(row.get("residents")), help="现有在住人口（当前实有人口快照）"),
        Kpi("新市民", fmt.num(row.get("newcomers")), help="流动人口：无本地户籍的在住人口"),
        Kpi("新市民占比", fmt.pct(row.get("newcomer_share")), help="新市民 ÷ 实有人口"),
        Kpi(
            "登记人数",
            fmt.num(registered),
            delta=reg_gap,
            sub=f"较计划 {reg_gap}" if reg_gap else None,
            help="一家亲扫码登记过的新市民",
            plan=fmt.num(plan_registered),
        ),
        Kpi(
            "登记率",
            fmt.pct(rate),
            delta=rate_gap,
            sub=f"计划 {fmt.pct(plan_rate)} · {rate_gap}" if rate_gap else None,
            help="登记人数 ÷ 新市民",
            plan=fmt.pct(plan_rate),
        ),
        Kpi("今日扫码", fmt.num(row.get("scans_today")), last_hour, last_hour, "今天的扫码登记次数"),
        Kpi(
            "新发现",
            fmt.num(row.get("discovered")),
            sub="扫码登记但不在实有人口中",
            help="扫码登记了、但不在实有人口中的人",
        ),
        Kpi(
            "出租屋建档率",
            fmt.pct(row.get("rental_archive_rate")),
            rentals,
            rentals,
            "已建档或已复核的出租屋 ÷ 出租屋",
        ),
    ]


def campaign(p: dict, with_year: bool = False) -> list[Kpi]:
    """The six figures of the ``campaign_projection`` row: target, registered, days left, pace, the pace
    needed, the projected finish (``with_year``: its year too, as 登记进度 shows it)."""
    finish = p.get("projected_finish")
    verdict = "可按期完成" if on_track(p) else "将逾期"
    if with_year and finish is not None and hasattr(finish, "year"):
        verdict = f"{finish.year}年 · {verdict}"
    figures = [
        ("目标登记率", fmt.pct(p.get("target_rate")), f"目标 {fmt.num(p.get('target_registered'))} 人"),
        ("已登记", fmt.num(p.get("registered")), f"新市民 {fmt.num(p.get('newcomers'))}"),
        ("距截止", f"{fmt.num(p.get('days_left'))} 天", f"截止 {fmt.day(p.get('deadline'))}"),
        ("近14日日均", f"{fmt.num(p.get('pace_14d'))} 人", "每天新登记"),
        ("需要日均", f"{fmt.num(p.get('needed_pace'))} 人", "才能按期达标"),
        ("预计完成", fmt.day(finish, with_year=False), verdict),
    ]
    return [Kpi(label, value, delta=sub, sub=sub) for label, value, sub in figures]


def on_track(p: dict) -> bool:
    return bool(p.get("on_track"))
