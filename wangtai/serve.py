"""`wangtai serve`: the production start of the dashboard (the demo's is `make run`).

It binds the configured ``address``/``port`` (``wangtai.toml``; behind nginx keep 127.0.0.1), and refuses
to start when the installation would show the wrong thing to the wrong people:

- the data directory holds the synthetic demo (``campaign.toml`` says ``demo = true``);
- login is off (``auth = off``) or the settings have errors;
- the user store is empty (no one could log in; ``wangtai user add`` first).

It never generates demo data or demo accounts (``auto_demo`` and ``demo_accounts`` are forced off for the
server) and never starts the simulator. Streamlit runs in this process (one PID for systemd; the file log
is set up first) with the flags a server needs, from the project folder, where ``.streamlit/config.toml``
and the pages are.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from wangtai import settings
from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent
ENTRY = REPO / "dashboard.py"
log = logging.getLogger("wangtai.serve")


def refusals(paths: DataPaths) -> list[str]:
    """Why the dashboard must not be served from here, in Chinese ([] = go)."""
    from wangtai.ui.bootstrap import reference_says_demo

    reasons = [f"设置有误：{issue}" for issue in settings.problems()]
    if settings.get("auth") == "off":
        reasons.append('登录已关闭（auth = off）：正式服务必须登录。请在 wangtai.toml 中设 auth = "local"。')
    if reference_says_demo(paths):
        reasons.append(
            f"数据目录 {paths.root} 是合成演示数据（reference/campaign.toml 中 demo = true）。"
            "演示请用 `make run`；正式服务请指向真实数据目录（data_dir 设置）。"
        )
    if not _has_users(paths):
        reasons.append(
            "还没有任何用户，无人能登录。先建第一个管理员："
            "`wangtai user add admin --role 管理员`（密码交互输入）。"
        )
    if not ENTRY.is_file():
        reasons.append(f"找不到看板入口 {ENTRY}：程序目录不完整，请重新安装。")
    return reasons


def _has_users(paths: DataPaths) -> bool:
    from wangtai.auth.store import UserStore, auth_dir

    if not (auth_dir(paths) / "users.sqlite").is_file():
        return False
    return UserStore(paths).count() > 0


def streamlit_argv(port: int | None = None) -> list[str]:
    """`streamlit run` with the server's flags (they override .streamlit/config.toml's demo values)."""
    return [
        "run",
        str(ENTRY),
        "--server.address",
        str(settings.get("address")),
        "--server.port",
        str(port or settings.get("port")),
        "--server.headless",
        "true",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.enableXsrfProtection",
        "true",
        "--server.enableStaticServing",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
    ]


def server_environment(paths: DataPaths) -> dict[str, str]:
    """What the server process must see whatever the environment says: the data directory resolved, the
    settings file pinned (the process runs from the project folder, where ./wangtai.toml would differ),
    no demo generation, no demo accounts."""
    config = settings.config_file()
    return {
        "WANGTAI_DATA_DIR": str(paths.root),
        settings.CONFIG_ENV: str(config) if config else "",
        "WANGTAI_AUTO_DEMO": "0",
        "WANGTAI_DEMO_ACCOUNTS": "0",
    }


def run(paths: DataPaths, port: int | None = None) -> int:
    """Check, then run the server until it is stopped (SIGTERM from systemd, Ctrl+C)."""
    reasons = refusals(paths)
    if reasons:
        for reason in reasons:
            log.error("serve refused: %s", reason)
        raise SystemExit("拒绝启动：\n" + "\n".join(f"  - {reason}" for reason in reasons))
    os.environ.update(server_environment(paths))
    argv = streamlit_argv(port)
    log.info("dashboard starting on %s:%s over %s", argv[3], argv[5], paths.root)
    os.chdir(REPO)
    from wangtai import live_ingest

    if live_ingest.live_ingest_enabled():  # ingest from the start, not when the first visitor opens a page
        live_ingest.process_ingest(paths)
    from streamlit.web import cli

    try:
        cli.main(args=argv, prog_name="streamlit", standalone_mode=False)
    finally:
        log.info("dashboard stopped")
    return 0
