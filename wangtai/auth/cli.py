"""`wangtai user add/list/disable/enable/passwd/unlock` and `wangtai audit`: the command-line side of
wangtai.auth. Passwords are read without echo (or from stdin with --password-stdin), never from an
argument, so they do not land in the shell history or the process list. Every change is audited with the
operating-system user as the actor."""

import argparse
import getpass
import sys
from datetime import date, datetime, time, timedelta

from wangtai import settings
from wangtai.auth import audit
from wangtai.auth.roles import ROLES
from wangtai.auth.store import AuthError, UserStore
from wangtai.paths import DataPaths

ROLE_CHOICES = [r.label for r in ROLES.values()] + list(ROLES)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _password(args: argparse.Namespace) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码（至少 8 位）：")
    if getpass.getpass("再输入一次：") != first:
        raise AuthError("两次输入的密码不一致。")
    return first


def cmd_user(args: argparse.Namespace, paths: DataPaths) -> int:
    store = UserStore(paths.ensure())
    actor = _actor()
    try:
        if args.action == "list":
            users = store.users()
            if not users:
                print("还没有用户。用 `wangtai user add 用户名 --role 管理员` 创建第一个。")
            for u in users:
                state = "已停用" if u.disabled else "正常"
                print(f"{u.username}\t{u.display_name}\t{u.role.label}\t{u.scope_text}\t{state}")
            return 0
        if args.action == "add":
            user = store.add(
                args.username, _password(args), args.role, args.name, args.community or (), args.area or ()
            )
            audit.record(
                paths,
                "user_added",
                actor,
                target=user.username,
                detail=f"角色 {user.role.label}；{user.scope_text}",
            )
            print(f"已新增用户 {user.username}（{user.role.label}，{user.scope_text}）。")
        elif args.action == "disable":
            store.set_disabled(args.username, True)
            audit.record(paths, "user_disabled", actor, target=args.username)
            print(f"已停用 {args.username}，其登录会话全部失效。")
        elif args.action == "enable":
            store.set_disabled(args.username, False)
            audit.record(paths, "user_enabled", actor, target=args.username)
            print(f"已启用 {args.username}。")
        elif args.action == "passwd":
            store.set_password(args.username, _password(args))
            audit.record(paths, "password_changed", actor, target=args.username)
            print(f"已为 {args.username} 设置新密码，其原有登录会话全部失效。")
        elif args.action == "unlock":
            store.unlock(args.username)
            audit.record(paths, "user_unlocked", actor, target=args.username)
            print(f"已解除 {args.username} 的登录锁定。")
    except (AuthError, ValueError) as error:
        print(f"错误: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_audit(args: argparse.Namespace, paths: DataPaths) -> int:
    """The audit log as a table or CSV, e.g. `wangtai audit --day yesterday --event export`; with
    `--verify` only the check of its chain, signatures and anchor (exit 3 when it does not verify)."""
    if args.verify:
        verdict = audit.check(paths)
        print(
            verdict.reason if verdict.ok else f"错误: {verdict.reason}",
            file=sys.stdout if verdict.ok else sys.stderr,
        )
        return 0 if verdict.ok else 3
    day = {"today": date.today(), "yesterday": date.today() - timedelta(days=1)}.get(args.day or "")
    if args.day and day is None:
        day = date.fromisoformat(args.day)
    since = datetime.combine(day, time.min) if day else None
    until = since + timedelta(days=1) if since else None
    log = audit.frame(paths, since=since, until=until, events=args.event or None, user=args.user)
    verdict = audit.check(paths)
    intact = verdict.ok
    if not intact:
        print(f"警告: {verdict.reason}", file=sys.stderr)
    audit.record(paths, "audit_exported", _actor(), rows=len(log), format=args.format, detail="命令行")
    if args.format == "csv":
        log.to_csv(sys.stdout, index=False)
    elif log.empty:
        print("没有符合条件的记录。")
    else:
        print(
            log.drop(columns=["event"])
            .astype(object)
            .where(log.drop(columns=["event"]).notna(), "")
            .to_string(index=False)
        )
    return 0 if intact else 3


def add_parsers(verbs) -> None:
    user = verbs.add_parser("user", help="用户管理：add / list / disable / enable / passwd / unlock")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="新增用户（密码交互输入，不回显）")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES, help="领导 / 工作人员 / 大屏 / 管理员")
    add.add_argument("--name", help="姓名（显示用）")
    add.add_argument("--community", action="append", metavar="社区代码", help="工作人员负责的社区（可多次）")
    add.add_argument("--area", action="append", metavar="片区", help="工作人员负责的片区（可多次）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码（脚本用）")
    actions.add_parser("list", help="列出用户")
    for name, text in (("disable", "停用"), ("enable", "启用"), ("unlock", "解除登录锁定")):
        actions.add_parser(name, help=text).add_argument("username")
    passwd = actions.add_parser("passwd", help="重设密码")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    user.set_defaults(handler=cmd_user)

    log = verbs.add_parser("audit", help="查看审计日志，例如 --day yesterday --event export")
    log.add_argument("--day", help="today、yesterday 或 YYYY-MM-DD；默认全部")
    log.add_argument("--event", action="append", choices=list(audit.EVENTS), help="事件（可多次）")
    log.add_argument("--user", help="只看该用户")
    log.add_argument("--format", choices=("table", "csv"), default="table")
    log.add_argument(
        "--verify", action="store_true", help="只核验审计日志（哈希链、签名、锚点）是否完整；不完整时退出码 3"
    )
    log.set_defaults(handler=cmd_audit)


def demo_accounts_after_prepare(paths: DataPaths) -> None:
    """`wangtai prepare` on the demo: create the demo accounts on the first start (printed once)."""
    from wangtai.firstrun import has_data
    from wangtai.ui.bootstrap import reference_says_demo

    if has_data(paths) and reference_says_demo(paths) and settings.get("demo_accounts"):
        from wangtai.auth.demo import ensure_demo_accounts

        ensure_demo_accounts(paths)
