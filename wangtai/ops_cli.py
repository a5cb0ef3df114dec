"""The operators' verbs of the `wangtai` command: config, serve, backup, restore, doctor.

Kept apart from ``wangtai.cli`` (which calls ``add_parsers``) so that each verb stays a thin call into
its module: ``wangtai.settings``, ``wangtai.serve``, ``wangtai.backup``, ``wangtai.doctor``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from wangtai.paths import DataPaths

log = logging.getLogger("wangtai.ops")


def cmd_config(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import settings

    if args.markdown:
        print(settings.markdown_table(), end="")
        return 0
    print(settings.report())
    return 1 if settings.problems() else 0


def cmd_serve(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import logs, serve

    logs.setup(paths, console=True)
    return serve.run(paths, port=args.port)


def cmd_backup(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import backup, logs

    logs.setup(paths)
    target = Path(args.target)
    try:
        copied = backup.backup(paths, target, archive=args.with_archive, inbox=args.with_inbox)
    except backup.BackupError as error:
        log.warning("backup refused: %s", error)
        print(f"错误: {error}", file=sys.stderr)
        return 2
    log.info("backup of %s into %s: %d files, %d bytes", paths.root, target, copied.files, copied.bytes)
    print(
        f"已备份 {paths.root} → {target.absolute()}：{', '.join(copied.folders)}，"
        f"{copied.files} 个文件，{copied.bytes / 1024**2:.1f} MB。"
    )
    print("提醒：假名化密钥不在备份中（按设计与数据分开保存），请确认它另有一份离线备份。")
    return 0


def cmd_restore(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import backup, logs

    try:
        restored = backup.restore(Path(args.source), paths, force=args.force)
    except backup.BackupError as error:
        print(f"错误: {error}", file=sys.stderr)
        return 2
    logs.setup(paths)
    log.info("restored %s into %s: %d files", args.source, paths.root, restored.files)
    print(f"已恢复 {restored.files} 个文件到 {paths.root}。")
    if restored.moved_aside:
        print(f"原有内容已移到 {restored.moved_aside}（未删除）。")
    if not restored.audit_ok:
        print(f"警告: 恢复后的审计日志第 {restored.audit_broken_line} 行校验不符。", file=sys.stderr)
        return 1
    print("审计日志校验链完整。请运行 `wangtai doctor` 检查安装。")
    return 0


def cmd_doctor(args: argparse.Namespace, paths: DataPaths) -> int:
    from wangtai import doctor

    if args.fix:
        changed = doctor.fix_permissions(paths)
        print(f"已收紧 {changed} 个文件和目录的权限（去掉组和其他用户的权限）。\n")
    findings = doctor.run(paths)
    print(doctor.report(findings))
    return 1 if any(f.level == "problem" for f in findings) else 0


def add_parsers(verbs) -> None:
    config = verbs.add_parser("config", help="显示生效的设置及其来源（默认 / 设置文件 / 环境变量）")
    config.add_argument("--markdown", action="store_true", help="输出 README 的设置表（Markdown）")
    config.set_defaults(handler=cmd_config)

    serve = verbs.add_parser("serve", help="正式启动看板（配置的地址和端口；拒绝演示数据和关闭登录）")
    serve.add_argument("--port", type=int, default=None, help="端口（默认取设置 port；多个进程各用一个）")
    serve.set_defaults(handler=cmd_serve)

    backup = verbs.add_parser("backup", help="备份数据目录（看板运行时也一致：在入库锁下复制）")
    backup.add_argument("target", metavar="DIR", help="备份写入的新目录（不能已有文件）")
    backup.add_argument("--with-archive", action="store_true", help="也备份 archive/（原始文件，含个人信息）")
    backup.add_argument("--with-inbox", action="store_true", help="同时备份收件箱中尚未入库的文件")
    backup.set_defaults(handler=cmd_backup)

    restore = verbs.add_parser("restore", help="把备份恢复到空的数据目录")
    restore.add_argument("source", metavar="DIR", help="wangtai backup 写出的目录")
    restore.add_argument("--force", action="store_true", help="数据目录非空时，先把原有内容移到旁边再恢复")
    restore.set_defaults(handler=cmd_restore)

    doctor = verbs.add_parser("doctor", help="检查安装：权限、密钥、磁盘、数据源、快照、审计日志、Chromium")
    doctor.add_argument("--fix", action="store_true", help="先收紧数据目录的文件权限（0600 / 0700）")
    doctor.set_defaults(handler=cmd_doctor)
