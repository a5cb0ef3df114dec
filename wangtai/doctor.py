"""`wangtai doctor`: is this installation sound? What an operator should know, each in Chinese.

Checks: the settings, the data directory and its permissions (personal data: files 0600 in folders 0700,
owned by the service's user), the pseudonymization key (present, private, outside the repository and the
data directory), free disk space, feeds that are late (``wangtai.live_ingest.stale_feeds``), held snapshots,
the audit chain (``wangtai.auth.audit.verify``), Chromium and Chinese fonts for the 大屏 snapshots and PDFs,
and the log file. A **problem** (✗) makes the command exit 1; a **note** (!) is shown but does not.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wangtai import settings
from wangtai.paths import DataPaths, secret_file

REPO = Path(__file__).resolve().parent.parent
PRIVATE_FOLDERS = ("inbox", "archive", "quarantine", "reference", "warehouse", "state")
MIN_FREE_BYTES = 2 * 1024**3  # below this, the next snapshot or backup may not fit
MIN_FREE_SHARE = 0.05
EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    check: str  # what was checked (Chinese)
    level: str  # ok | note | problem
    text: str  # what was found and what to do (Chinese)

    @property
    def mark(self) -> str:
        return {"ok": "✓", "note": "!", "problem": "✗"}[self.level]


def ok(check: str, text: str) -> Finding:
    return Finding(check, "ok", text)


def note(check: str, text: str) -> Finding:
    return Finding(check, "note", text)


def problem(check: str, text: str) -> Finding:
    return Finding(check, "problem", text)


# ---- the checks ----------------------------------------------------------------------------------------


def check_settings(paths: DataPaths) -> Iterator[Finding]:
    issues = settings.problems()
    for issue in issues:
        yield problem("设置", f"{issue}。请修改设置文件或环境变量（`wangtai config` 显示当前值和来源）。")
    mode = settings.get("auth")
    if mode == "off":
        yield problem(
            "登录", "登录已关闭（auth = off），任何人都能看到全部数据：仅供本机开发，真实数据必须改为 local。"
        )
    if not issues:
        where = settings.config_file()
        yield ok("设置", f"设置文件：{where}" if where else "未使用设置文件（默认值与环境变量）")


def check_data_dir(paths: DataPaths) -> Iterator[Finding]:
    root = paths.root
    if not root.is_dir():
        yield problem(
            "数据目录", f"{root} 不存在。请检查 data_dir 设置，或先运行 `wangtai restore` / 接入数据。"
        )
        return
    if not os.access(root, os.W_OK):
        yield problem(
            "数据目录", f"{root} 当前用户不可写：看板和入库服务应以数据目录的属主（如 wangtai 用户）运行。"
        )
    missing = [name for name in ("reference", "warehouse", "state") if not (root / name).is_dir()]
    if missing:
        yield note("数据目录", f"{root} 中还没有 {', '.join(missing)}/：尚未接入参考数据或尚未入库。")
    else:
        yield ok("数据目录", str(root))


def _private_problems(paths: DataPaths) -> tuple[list[Path], list[Path], list[Path]]:
    """(folders open to others, files open to others, entries owned by another user)."""
    me = os.geteuid()
    open_dirs, open_files, foreign = [], [], []
    candidates = [paths.root] + [paths.root / name for name in PRIVATE_FOLDERS]
    for top in candidates:
        if not top.is_dir():
            continue
        entries = [top] if top == paths.root else _walk_all(top)
        for entry in entries:
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            if info.st_uid != me:
                foreign.append(entry)
            if info.st_mode & 0o077:
                (open_dirs if stat.S_ISDIR(info.st_mode) else open_files).append(entry)
    return open_dirs, open_files, foreign


def _walk_all(top: Path) -> Iterator[Path]:
    yield top
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            yield Path(root) / name


def _examples(paths: DataPaths, entries: list[Path]) -> str:
    shown = "、".join(
        str(e.relative_to(paths.root)) if e != paths.root else "（数据目录本身）" for e in entries[:EXAMPLES]
    )
    return shown + (f" 等 {len(entries)} 项" if len(entries) > EXAMPLES else "")


def check_permissions(paths: DataPaths) -> Iterator[Finding]:
    if not paths.root.is_dir():
        return
    open_dirs, open_files, foreign = _private_problems(paths)
    if open_files:
        yield problem(
            "文件权限",
            f"含个人信息的文件其他用户可读：{_examples(paths, open_files)}。"
            f"应为 0600（仅属主可读写）：`wangtai doctor --fix` 或 `chmod -R go-rwx {paths.root}`。",
        )
    if open_dirs:
        yield problem(
            "目录权限",
            f"目录其他用户可进入：{_examples(paths, open_dirs)}。应为 0700："
            f"`wangtai doctor --fix` 或 `chmod -R go-rwx {paths.root}`。",
        )
    if foreign:
        yield problem(
            "属主",
            f"不属于当前用户：{_examples(paths, foreign)}。服务以数据目录属主运行，"
            f"请 `chown -R wangtai:wangtai {paths.root}`（以 root 执行）。",
        )
    if not (open_files or open_dirs or foreign):
        yield ok("权限", "数据目录的文件均为 0600、目录均为 0700，属于当前用户")


def fix_permissions(paths: DataPaths) -> int:
    """Take group and other permissions away under the data directory; returns how many entries changed."""
    open_dirs, open_files, _ = _private_problems(paths)
    for entry in open_dirs + open_files:
        os.chmod(entry, entry.lstat().st_mode & 0o700)
    return len(open_dirs) + len(open_files)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_key(paths: DataPaths) -> Iterator[Finding]:
    key = secret_file().expanduser()
    check = "假名化密钥"
    has_warehouse = (paths.warehouse / "manifest").is_dir()
    if not key.is_file():
        if has_warehouse:
            yield problem(
                check,
                f"密钥文件 {key} 不存在，但仓库里已有数据：用新密钥入库的人员将无法与已有数据关联。"
                "请从密钥备份恢复该文件（0600），或检查 secret_file 设置。",
            )
        else:
            yield note(
                check, f"密钥文件 {key} 尚不存在，首次入库时自动生成。生成后请另行备份（不随数据备份）。"
            )
        return
    found = False
    if _inside(key, paths.root):
        found = True
        yield problem(
            check,
            f"密钥文件 {key} 在数据目录里：拿到数据（或数据备份）的人同时拿到了密钥。"
            "请移到数据目录之外（如 /etc/wangtai/pseudonym.key，属主 wangtai，0600），"
            "并修改 secret_file 设置。",
        )
    if _inside(key, REPO):
        found = True
        yield problem(check, f"密钥文件 {key} 在程序目录里：可能被复制或提交。请移到程序和数据目录之外。")
    mode = key.stat().st_mode
    if mode & 0o077:
        found = True
        yield problem(
            check, f"密钥文件 {key} 权限为 {stat.filemode(mode)}，其他用户可读。请 `chmod 600 {key}`。"
        )
    if key.stat().st_uid != os.geteuid():
        found = True
        yield problem(check, f"密钥文件 {key} 不属于当前用户。请 `chown wangtai:wangtai {key}`。")
    if not found:
        yield ok(check, f"{key}（0600，不在程序和数据目录中；请确认另有一份离线备份）")


def check_disk(paths: DataPaths) -> Iterator[Finding]:
    folder = paths.root if paths.root.is_dir() else paths.root.parent
    if not folder.is_dir():
        return
    usage = shutil.disk_usage(folder)
    free_gib = usage.free / 1024**3
    if usage.free < MIN_FREE_BYTES or usage.free < usage.total * MIN_FREE_SHARE:
        yield problem(
            "磁盘空间",
            f"数据目录所在磁盘只剩 {free_gib:.1f} GiB（{usage.free / usage.total:.0%}）。"
            "空间不足时入库会暂停；请清理或扩容，过期原始文件可用清理命令删除。",
        )
    else:
        yield ok("磁盘空间", f"剩余 {free_gib:.1f} GiB（{usage.free / usage.total:.0%}）")


def check_feeds(paths: DataPaths) -> Iterator[Finding]:
    if not (paths.warehouse / "manifest").is_dir():
        return
    from wangtai import clock
    from wangtai.live_ingest import stale_feeds
    from wangtai.runner import Runner

    try:
        freshness = Runner(paths).run("data_freshness")
    except Exception as error:  # a broken warehouse is itself the finding
        yield problem("数据源", f"无法读取各数据源的状态：{error}")
        return
    late = stale_feeds(freshness, clock.now())
    for feed in late:
        yield problem(
            "数据源",
            f"{feed['label']}超时未到：最近一次 {feed['last_ingested_at']:%Y-%m-%d %H:%M}，"
            f"预期 {feed['expected']}。请联系该数据源的提供部门，或检查其导出任务。",
        )
    if not late:
        yield ok("数据源", "各数据源均按预期到达")


def check_held(paths: DataPaths) -> Iterator[Finding]:
    if not (paths.warehouse / "manifest").is_dir():
        return
    from wangtai.ingest import list_held

    held = list_held(paths)
    if held.empty:
        yield ok("待确认快照", "没有")
        return
    for row in held.to_dict("records"):
        yield problem(
            "待确认快照",
            f"{row['feed_label']}快照 {row['file_name']}（批次 {row['batch_id']}）未生效：{row['reason']}。"
            "请核对后在「用户与审计」页或用 `wangtai held --accept 批次号` 接受，或等待新的快照。",
        )


def check_audit(paths: DataPaths) -> Iterator[Finding]:
    from wangtai.auth import audit

    if not audit.audit_file(paths).exists():
        yield note("审计日志", "尚无审计日志（还没有人登录过）。")
        return
    verdict = audit.check(paths)
    key = audit.audit_key_file()
    if verdict.ok:
        yield ok("审计日志", f"校验链完整，签名密钥 {key}，链头锚点 {audit.anchor_file(paths)}")
    else:
        yield problem(
            "审计日志",
            f"{verdict.reason}（签名密钥 {key}）。日志可能被改动、截断或损坏：请保留现场、"
            "与备份中的审计日志比对，并报告安全管理员。",
        )


def check_chromium(paths: DataPaths) -> Iterator[Finding]:
    chromium = Path(settings.get("chromium"))
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        yield problem(
            "Chromium",
            f"找不到 {chromium}：大屏截图和会议纪要 PDF 无法生成。请安装 Debian 的 chromium 软件包"
            "（离线安装见 README「部署」），或用 chromium 设置指定其路径。",
        )
        return
    yield ok("Chromium", str(chromium))
    fonts = shutil.which("fc-list")
    if fonts:
        listed = subprocess.run([fonts, ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
        if not listed.stdout.strip():
            yield note("中文字体", "没有中文字体：截图和 PDF 中的汉字会显示为方框。请安装 fonts-noto-cjk。")


def check_log(paths: DataPaths) -> Iterator[Finding]:
    from wangtai.logs import log_file

    file = log_file(paths)
    folder = file.parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        yield problem("日志", f"{folder} 不可写：服务的日志无法写入文件。")
    elif file.exists():
        yield ok("日志", str(file))


CHECKS: tuple[Callable[[DataPaths], Iterator[Finding]], ...] = (
    check_settings,
    check_data_dir,
    check_permissions,
    check_key,
    check_disk,
    check_feeds,
    check_held,
    check_audit,
    check_chromium,
    check_log,
)


def run(paths: DataPaths) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(paths))
        except Exception as error:  # one broken check must not hide the others
            findings.append(problem(check.__name__.removeprefix("check_"), f"检查本身出错：{error}"))
    return findings


def report(findings: list[Finding]) -> str:
    lines = [f"{f.mark} {f.check}：{f.text}" for f in findings]
    problems = sum(f.level == "problem" for f in findings)
    notes = sum(f.level == "note" for f in findings)
    if problems:
        lines.append(
            f"\n发现 {problems} 个问题" + (f"、{notes} 条提示" if notes else "") + "，请按上面的说明处理。"
        )
    else:
        lines.append("\n没有发现问题。" + (f"（{notes} 条提示）" if notes else ""))
    return "\n".join(lines)
