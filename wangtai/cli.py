"""The `wangtai` command: demo data, ingest, queries, operations; each verb a thin call into the library."""

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from wangtai.paths import FEEDS, DataPaths

log = logging.getLogger("wangtai.cli")


def _parse_params(pairs: Sequence[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"参数格式应为 名称=值: {pair!r}")
        params[name] = value
    return params


def cmd_demo(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.demo import generate

    summary = generate(paths, residents=args.residents, seed=args.seed, bad_rows=args.bad_rows)
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_prepare(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.firstrun import ensure_demo_data
    from wangtai.ingest import ingest_all

    if ensure_demo_data(paths, residents=args.residents):
        print(f"已在 {paths.root} 生成并入库演示数据（合成数据）。")
    else:
        ingest_all(paths)
        print(f"数据目录 {paths.root} 已有数据，已入库收件箱中的新文件。")
    from wangtai.auth.cli import demo_accounts_after_prepare

    demo_accounts_after_prepare(paths)  # the demo only: one account per role, passwords printed once
    return 0


def cmd_ingest(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import logs, progress
    from wangtai.ingest import ingest_all, watch

    if args.watch:  # a service: its reports go to the log file and stderr (journald), not to print
        logs.setup(paths, console=True)
        log.info("ingest service watching %s every %g s", paths.inbox, args.interval)
        watch(paths, interval=args.interval, report=None)  # ingest logs each file's result itself
        return 0
    from wangtai.ingest import faults

    logs.setup(paths)
    with progress.inbox_drain(paths):
        results = ingest_all(paths)
    for result in results:  # ingest has logged them; the operator at the terminal reads them here
        print(result.describe())
    problems = faults.load(paths).messages()  # a pause of ours, files set aside: not verdicts on files
    for message in problems:
        print(message, file=sys.stderr)
    if not results and not problems:
        print("收件箱没有新文件。")
    return 1 if faults.load(paths).pause else 0


def cmd_held(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.ingest import accept_held, list_held

    if args.accept:
        from wangtai.auth import audit
        from wangtai.auth.cli import _actor

        accept_held(paths, args.accept, operator=args.operator)
        audit.record(paths, "held_accepted", _actor(), batch_id=args.accept, operator=args.operator)
        print(f"已接受快照 {args.accept}，现为当前快照。")
        return 0
    held = list_held(paths)
    if held.empty:
        print("没有待确认的快照。")
    else:
        print(held.to_string(index=False))
    return 0


def cmd_purge(args: argparse.Namespace, paths: DataPaths) -> int:
    """Delete raw files (archive/, quarantine/) older than the retention; audited. --dry-run only lists."""
    from wangtai.ingest import upkeep

    days = args.days if args.days is not None else upkeep.retention_days()
    found = upkeep.purge(paths, days=days, dry_run=args.dry_run)
    verb = "将删除" if args.dry_run else "已删除"
    for item in found:
        print(f"{verb} {item.path.relative_to(paths.root).as_posix()}（入库于 {item.kept_since:%Y-%m-%d}）")
    total = sum(item.bytes for item in found)
    print(f"{verb} {len(found)} 个超过保留期 {days} 天的原始文件，共 {total / 2**20:.1f} MB。")
    if not args.dry_run:
        from wangtai.auth import audit
        from wangtai.auth.cli import _actor

        audit.record(
            paths,
            "raw_purged",
            _actor(),
            what="archive/ quarantine/",
            rows=len(found),
            detail=f"保留期 {days} 天；删除 {len(found)} 个文件，{total} 字节",
        )
    return 0


def cmd_migrate(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.ingest.migrate import migrate

    if not paths.warehouse.is_dir():
        print(f"数据目录 {paths.root} 中没有数据仓库，无需迁移。")
        return 0
    print(migrate(paths, waiting=print).summary())
    return 0


def cmd_query(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.runner import QueryError, Runner

    try:
        runner = Runner(paths)
        if args.list or not args.name:
            for name in runner.names():
                print(f"{name}\t{runner.spec(name).returns}")
            return 0
        frame = runner.run(args.name, _parse_params(args.param))
    except QueryError as error:
        print(f"查询失败: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=2))
    elif args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        print(frame.to_string(index=False))
    return 0


def cmd_models(args: argparse.Namespace, paths: DataPaths) -> int:
    """The declared in-memory models (wangtai.models): their refresh order, or the graph as Mermaid."""
    from wangtai import models

    try:
        graph = models.load_graph()
    except models.ModelError as error:
        print(f"错误: {error}", file=sys.stderr)
        return 2
    print(models.mermaid(graph) if args.graph else models.describe(graph), end="")
    return 0


def cmd_simulate(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import simulate

    try:
        simulate.run(
            paths,
            rate=args.rate,
            interval=args.interval,
            snapshot_every=args.snapshot_every,
            bad_share=args.bad_share,
            batches=args.batches,
            seed=args.seed,
            while_pid=args.while_pid,
            report=lambda line: print(line, flush=True),
        )
    except simulate.SimulationError as error:
        print(f"错误: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def cmd_template(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai.contract import FEEDS
    from wangtai.ingest.readers.template import example_codes, write_template

    label = FEEDS[args.feed].label
    out = Path(args.output or f"{label}导入模板.xlsx")
    write_template(args.feed, out, codes=example_codes(paths))
    print(f"已生成{label}（{args.feed}）的导入模板：{out}（第 2 行是虚构示例，填写前请删除）")
    return 0


def cmd_bench(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import bench
    from wangtai.bench import harness

    if args.browser:  # what a viewer feels, in headless Chromium (wangtai.bench.browser)
        from wangtai.bench import browser

        args.scales = args.scales or "69000"
        args.argv = ["--browser", f"--scales {args.scales}", f"--rounds {args.rounds}"]
        args.argv += ["--reuse"] if args.reuse else []
        return browser.main(args)
    args.scales = args.scales or ",".join(str(s) for s in bench.DEFAULT_SCALES)
    command = [f"--scales {args.scales}"]
    if args.quick:
        args.repeats, args.page_repeats, args.budget = 5, 2, 0.2
        command.append("--quick")
    if args.no_baseline:
        command.append("--no-baseline")
    if args.reuse:
        command.append("--reuse")
    args.argv = command
    return harness.main(args)


# argparse's own words (usage, errors, help), in Chinese: argparse looks each one up through its module's
# ``_`` (gettext) when it is used, so ``chinese_argparse`` swaps that function while the parser is built
# and while it parses. A message not listed stays as argparse wrote it.
ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "需要以下参数之一：%s",
    "ignored explicit argument %r": "多余的值 %r 被忽略",
}


@contextlib.contextmanager
def chinese_argparse() -> Iterator[None]:
    """argparse speaks Chinese inside this block (its ``usage:``/``error:`` and messages)."""
    english = argparse._
    argparse._ = lambda text: ARGPARSE_ZH.get(text, english(text))
    try:
        yield
    finally:
        argparse._ = english


def build_parser() -> argparse.ArgumentParser:
    with chinese_argparse():
        return _build_parser()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wangtai", description="智慧王台 — 数据与运维命令")
    parser.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认取设置 data_dir，见 wangtai config）"
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="命令")

    demo = verbs.add_parser("demo", help="生成演示数据（合成数据）到 reference/ 和 inbox/")
    demo.add_argument("--residents", type=int, default=69_000, help="实有人口规模（默认 69000）")
    demo.add_argument("--seed", type=int, default=20260315)
    demo.add_argument("--bad-rows", type=float, default=0.002, help="故意写入的坏行比例，演示隔离区")
    demo.set_defaults(handler=cmd_demo)

    prepare = verbs.add_parser("prepare", help="首次启动：数据目录为空时生成并入库演示数据，否则入库新文件")
    prepare.add_argument("--residents", type=int, default=69_000)
    prepare.set_defaults(handler=cmd_prepare)

    ingest = verbs.add_parser("ingest", help="校验并入库收件箱中的文件")
    ingest.add_argument("--watch", action="store_true", help="持续监视收件箱")
    ingest.add_argument("--interval", type=float, default=1.0, help="监视间隔（秒）")
    ingest.set_defaults(handler=cmd_ingest)

    sim = verbs.add_parser("simulate", help="演示：实时向收件箱写入一家亲扫码登记批次（合成数据）")
    sim.add_argument("--rate", type=float, default=6.0, help="平均每分钟扫码次数（默认 6）")
    sim.add_argument("--interval", type=float, default=60.0, help="每隔多少秒写一个批次文件（默认 60）")
    sim.add_argument("--snapshot-every", type=int, default=60, help="每几个批次发一次实有人口快照（0=不发）")
    sim.add_argument("--bad-share", type=float, default=0.01, help="故意写错的行比例（默认 1%%）")
    sim.add_argument("--batches", type=int, default=0, help="写多少个批次后停止（0 = 一直写）")
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument("--while-pid", type=int, default=None, help="该进程结束时随之停止（make run 用）")
    sim.set_defaults(handler=cmd_simulate)

    held = verbs.add_parser("held", help="列出待确认的快照，或接受其中一个")
    held.add_argument("--accept", metavar="BATCH_ID", help="接受该快照，使其成为当前快照")
    held.add_argument("--operator", default="cli", help="操作人")
    held.set_defaults(handler=cmd_held)

    purge = verbs.add_parser("purge", help="删除超过保留期的原始文件（archive/、quarantine/），记入审计日志")
    purge.add_argument(
        "--days", type=int, default=None, help="保留天数（默认环境变量 WANGTAI_RETENTION_DAYS，否则 90）"
    )
    purge.add_argument("--dry-run", action="store_true", help="只列出将删除的文件，不删除")
    purge.set_defaults(handler=cmd_purge)
    migrate = verbs.add_parser(
        "migrate",
        help="把旧格式的数据仓库改写为当前格式（删除出生日期等字段，缩短未成年人的脱敏身份证号）；可重复运行",
    )
    migrate.set_defaults(handler=cmd_migrate)

    from wangtai.auth.cli import add_parsers as add_auth_parsers

    add_auth_parsers(verbs)  # user add/list/disable/enable/passwd/unlock, audit

    from wangtai.ops_cli import add_parsers as add_ops_parsers

    add_ops_parsers(verbs)  # config, serve, backup, restore, doctor
    template = verbs.add_parser("template", help="生成某个数据源的 Excel 导入模板（中文列名、填写说明）")
    template.add_argument("feed", choices=FEEDS, help="数据源：" + "、".join(FEEDS))
    template.add_argument("-o", "--output", help="输出文件（默认：<数据源中文名>导入模板.xlsx）")
    template.set_defaults(handler=cmd_template)

    query = verbs.add_parser("query", help="运行一个命名查询")
    query.add_argument("name", nargs="?")
    query.add_argument("--param", action="append", default=[], metavar="名称=值")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--list", action="store_true", help="列出所有查询")
    query.set_defaults(handler=cmd_query)

    model_graph = verbs.add_parser("models", help="内存表模型：刷新顺序、物化方式与读取的表")
    model_graph.add_argument("--graph", action="store_true", help="输出依赖图（Mermaid 格式）")
    model_graph.set_defaults(handler=cmd_models)

    bench = verbs.add_parser("bench", help="性能基准：三个规模的演示数据，入库、查询、页面，对比 pandas 基线")
    bench.add_argument(
        "--scales", default=None, help="实有人口规模，逗号分隔（默认三个规模；--browser 时 69000）"
    )
    bench.add_argument("--data-root", default="bench-data", help="基准数据目录（已被 git 忽略）")
    bench.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"),
        help="结果写入的 Markdown 文件（空字符串 = 不写）",
    )
    bench.add_argument("--seed", type=int, default=20260315)
    bench.add_argument("--repeats", type=int, default=20, help="每个查询的热运行次数（至少）")
    bench.add_argument("--page-repeats", type=int, default=5, help="每个页面的热渲染次数")
    bench.add_argument("--budget", type=float, default=0.5, help="每项重复测量的时间预算（秒）")
    bench.add_argument("--quick", action="store_true", help="少量重复，快速试跑")
    bench.add_argument("--no-baseline", action="store_true", help="不跑 pandas 基线")
    bench.add_argument("--reuse", action="store_true", help="沿用已入库的基准数据（不测生成与入库）")
    bench.add_argument(
        "--browser", action="store_true", help="在无头 Chromium 中计时：点击到绘制、重新加载、登录、实时更新"
    )
    bench.add_argument("--rounds", type=int, default=5, help="--browser：每项测量的轮数")
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from wangtai.ingest import IngestError
    from wangtai.settings import SettingError

    with chinese_argparse():
        args = build_parser().parse_args(argv)
    try:
        paths = DataPaths.from_env() if not args.data_dir else DataPaths(Path(args.data_dir).resolve())
        return args.handler(args, paths)
    except (IngestError, SettingError) as error:  # a clerk's message, not a traceback
        log.warning("wangtai %s: %s", args.verb, error)
        print(f"错误: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `wangtai query … | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
