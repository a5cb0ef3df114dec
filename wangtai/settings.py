"""Every setting in one place: the file ``wangtai.toml``, overridden by environment variables.

Which file: ``$WANGTAI_CONFIG`` when set (empty = no file at all), else ``./wangtai.toml`` in the working
directory, else ``/etc/wangtai/wangtai.toml``; none of them = defaults and environment only. The file is
flat ``key = value`` TOML with the keys of ``SETTINGS`` (``wangtai config`` prints the effective values and
where each came from; ``wangtai config --markdown`` prints the README's table). A relative path in the file
is relative to the file's folder; in the environment, to the working directory (as before the file).

Every value is looked up when asked for, so a changed environment (tests) or an edited file (mtime) is
seen at once; the file is parsed again only when it changed. A value that cannot be read falls back to the
default with a warning in the log (``problems()`` lists it for ``wangtai config`` and ``wangtai doctor``);
a ``choice`` is returned as written, for its owner to refuse (an unknown login mode must stop the server,
not fall back).

This module imports nothing from ``wangtai``: the low-level modules (paths, clock) read it.
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("wangtai.settings")

CONFIG_ENV = "WANGTAI_CONFIG"
LOCAL_FILE = Path("wangtai.toml")
SYSTEM_FILE = Path("/etc/wangtai/wangtai.toml")
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """The settings file cannot be read (a clerk's message)."""


@dataclass(frozen=True)
class Setting:
    key: str  # the name in wangtai.toml
    env: str  # the environment variable that overrides it
    kind: str  # text | path | int | float | bool | choice
    default: Any  # None: none, or derived where it is used (``shown`` says how)
    doc: str  # what it does, for the README table and `wangtai config`
    shown: str | None = None  # the default as a person reads it, when not the value itself
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    in_file: bool = True  # False: a test or CI hook, environment only


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "WANGTAI_DATA_DIR", "path", Path("data"), "数据目录", shown="`./data`"),
    Setting(
        "secret_file",
        "WANGTAI_SECRET_FILE",
        "path",
        None,
        "假名化密钥文件（首次使用时生成，仅本人可读；不得放在仓库或数据目录中）",
        shown="`~/.config/wangtai/pseudonym.key`",
    ),
    Setting(
        "audit_key_file",
        "WANGTAI_AUDIT_KEY_FILE",
        "path",
        None,
        "审计日志签名密钥（首次使用时生成，仅本人可读）；链头锚点存于其旁的 `audit-anchors/`",
        shown="假名化密钥旁的 `audit.key`",
    ),
    Setting(
        "address",
        "WANGTAI_ADDRESS",
        "text",
        "127.0.0.1",
        "`wangtai serve` 监听的地址（经 nginx 访问时保持本机地址）",
    ),
    Setting("port", "WANGTAI_PORT", "int", 8501, "`wangtai serve` 监听的端口", minimum=1),
    Setting(
        "auth",
        "WANGTAI_AUTH",
        "choice",
        "local",
        "登录方式：`local`（本地用户库）、`oidc`、`header`；`off` 仅供本机开发（`wangtai serve` 拒绝）",
        choices=("local", "oidc", "header", "off"),
    ),
    Setting(
        "auth_header",
        "WANGTAI_AUTH_HEADER",
        "text",
        "X-Remote-User",
        "`auth = header` 时反向代理传用户名的请求头",
    ),
    Setting(
        "auth_dir",
        "WANGTAI_AUTH_DIR",
        "path",
        None,
        "用户库所在目录（多个数据目录共用一套用户时设置）",
        shown="`<数据目录>/state/auth`",
    ),
    Setting(
        "idle_minutes",
        "WANGTAI_IDLE_MINUTES",
        "float",
        30.0,
        "无操作多少分钟后自动退出（大屏角色除外）",
        minimum=0,
    ),
    Setting(
        "refresh_seconds",
        "WANGTAI_REFRESH_SECONDS",
        "float",
        2.0,
        "页面实时部分检查新数据的间隔（秒；大屏未设置时 30）；`0` 关闭",
        minimum=0,
    ),
    Setting(
        "live_ingest",
        "WANGTAI_LIVE_INGEST",
        "bool",
        True,
        "看板进程自己入库收件箱新文件；`0` 关闭（改由 `wangtai ingest --watch` 服务入库）",
    ),
    Setting(
        "ingest_poll", "WANGTAI_INGEST_POLL", "float", 1.0, "看板进程检查收件箱的间隔（秒）", minimum=0.1
    ),
    Setting(
        "retention_days",
        "WANGTAI_RETENTION_DAYS",
        "int",
        90,
        "原始文件（archive/、quarantine/）保留天数，过期由 `wangtai purge` 删除",
        minimum=1,
    ),
    Setting(
        "tile_url",
        "WANGTAI_TILE_URL",
        "text",
        "",
        "内网矢量瓦片服务地址（`{z}/{x}/{y}`，.pbf/.mvt 或 GeoJSON）；默认不用底图",
        shown="无",
    ),
    Setting("timezone", "WANGTAI_TIMEZONE", "text", "Asia/Shanghai", "“现在”与日志时间所用的时区"),
    Setting(
        "log_level",
        "WANGTAI_LOG_LEVEL",
        "choice",
        "INFO",
        "日志级别（`state/logs/wangtai.log`）",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    Setting("auto_demo", "WANGTAI_AUTO_DEMO", "bool", True, "数据目录为空时看板自动生成演示数据；`0` 关闭"),
    Setting(
        "demo_residents", "WANGTAI_DEMO_RESIDENTS", "int", 69000, "自动生成演示数据的人口规模", minimum=1
    ),
    Setting(
        "demo_accounts", "WANGTAI_DEMO_ACCOUNTS", "bool", True, "演示数据首次启动时创建演示账号；`0` 关闭"
    ),
    Setting(
        "theme",
        "WANGTAI_THEME",
        "choice",
        "dark",
        "没有自选主题的用户看到的主题（`light` 为亮色；每人可在侧栏自选，大屏始终深色）",
        choices=("dark", "light"),
    ),
    Setting(
        "chromium",
        "WANGTAI_CHROMIUM",
        "path",
        Path("/usr/bin/chromium"),
        "大屏截图、会议纪要 PDF 与浏览器测试使用的 Chromium",
    ),
    Setting(
        "now",
        "WANGTAI_NOW",
        "text",
        "",
        "冻结“现在”（ISO 时间，如 `2026-11-27T10:30:00`），用于测试与截图（仅环境变量）",
        shown="系统时间",
        in_file=False,
    ),
    Setting(
        "require_browser",
        "WANGTAI_REQUIRE_BROWSER",
        "bool",
        False,
        "设为 `1` 时缺少 Chromium 算失败而不是跳过（CI 使用；仅环境变量）",
        shown="无",
        in_file=False,
    ),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Effective:
    """A setting's value now and where it came from: ``default``, ``file`` or ``env``."""

    setting: Setting
    value: Any
    source: str
    problem: str | None = None  # why the configured value was not used (Chinese)


# ---- the file ------------------------------------------------------------------------------------------

_cache: dict[Path, tuple[tuple[int, int], dict]] = {}
_cache_lock = threading.Lock()


def config_file() -> Path | None:
    """The settings file in use, or None (see the module's docstring for the order)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit is not None:
        return Path(explicit).expanduser().absolute() if explicit.strip() else None
    for candidate in (LOCAL_FILE, SYSTEM_FILE):
        if candidate.is_file():
            return candidate.absolute()
    return None


def file_values() -> dict[str, Any]:
    """The file's ``key = value`` pairs ({} without a file); parsed again only after it changed."""
    file = config_file()
    if file is None:
        return {}
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise SettingError(f"设置文件 {file} 不存在（{CONFIG_ENV} 指向它）。") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        hit = _cache.get(file)
        if hit and hit[0] == stamp:
            return hit[1]
    try:
        values = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingError(f"设置文件 {file} 格式有误：{error}") from None
    except OSError as error:
        raise SettingError(f"无法读取设置文件 {file}：{error.strerror}") from None
    with _cache_lock:
        _cache[file] = (stamp, values)
    return values


# ---- values --------------------------------------------------------------------------------------------


def _parse(setting: Setting, raw: Any, base: Path | None) -> Any:
    """The typed value of ``raw`` (a TOML value or an environment string); ValueError when it is not one."""
    kind = setting.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE
        raise ValueError(f"应为 1/0、true/false（现为 {raw!r}）")
    if kind in ("int", "float"):
        if isinstance(raw, bool):
            raise ValueError(f"应为数字（现为 {raw!r}）")
        value = int(str(raw).strip()) if kind == "int" else float(str(raw).strip())
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"不能小于 {setting.minimum:g}（现为 {raw!r}）")
        return value
    if not isinstance(raw, str):
        raise ValueError(f"应为文字（现为 {raw!r}）")
    if kind == "path":
        path = Path(raw.strip()).expanduser()
        return base / path if base is not None and not path.is_absolute() else path
    if kind == "choice":
        return raw.strip().upper() if setting.choices[0].isupper() else raw.strip().lower()
    return raw.strip()


def lookup(key: str) -> Effective:
    """The setting's effective value: the environment, else the file, else the default."""
    setting = BY_KEY[key]
    configured: list[tuple[str, Any, Path | None]] = []
    env = os.environ.get(setting.env)
    if env is not None and env.strip():  # an empty variable counts as unset (as it always did)
        configured.append(("env", env, None))
    if setting.in_file:
        values = file_values()
        if key in values:
            file = config_file()
            configured.append(("file", values[key], file.parent if file else None))
    if not configured:
        return Effective(setting, setting.default, "default")
    source, raw, base = configured[0]
    try:
        value = _parse(setting, raw, base)
    except ValueError as error:
        where = setting.env if source == "env" else f"{config_file()} 中的 {key}"
        problem = f"{where}：{error}".replace("invalid literal", "无法识别")
        log.warning("setting %s ignored: %s", key, problem)
        return Effective(setting, setting.default, "default", problem)
    problem = None
    if setting.choices and value not in setting.choices:
        where = setting.env if source == "env" else f"{config_file()} 中的 {key}"
        problem = f"{where}：可选 {', '.join(setting.choices)}（现为 {raw!r}）"
    return Effective(setting, value, source, problem)


def get(key: str) -> Any:
    """A setting's typed value (a Path for paths; None when it has no default and is not set)."""
    return lookup(key).value


def configured(key: str) -> Any:
    """The value when the environment or the file sets it, else None (for a caller with its own default)."""
    effective = lookup(key)
    return None if effective.source == "default" else effective.value


def effective() -> list[Effective]:
    return [lookup(setting.key) for setting in SETTINGS]


def problems() -> list[str]:
    """What is wrong with the configuration, in Chinese ([] when nothing)."""
    try:
        values = file_values()
    except SettingError as error:
        return [str(error)]
    found = [e.problem for e in effective() if e.problem]
    for key in values:
        setting = BY_KEY.get(key)
        if setting is None:
            found.append(f"{config_file()}：没有名为 {key} 的设置（拼写错误？可用的见 `wangtai config`）")
        elif not setting.in_file:
            found.append(f"{config_file()}：{key} 只能用环境变量 {setting.env} 设置")
    return found


# ---- for people ----------------------------------------------------------------------------------------

SOURCES = {"default": "默认", "file": "设置文件", "env": "环境变量"}


def shown_default(setting: Setting) -> str:
    if setting.shown is not None:
        return setting.shown
    if setting.kind == "bool":
        return "`1`" if setting.default else "`0`"
    value = setting.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def markdown_table() -> str:
    """The README's settings table (tests/test_settings.py keeps the README equal to it)."""
    lines = ["| 设置（wangtai.toml） | 环境变量 | 默认 | 作用 |", "|---|---|---|---|"]
    for setting in SETTINGS:
        key = f"`{setting.key}`" if setting.in_file else "—"
        lines.append(f"| {key} | `{setting.env}` | {shown_default(setting)} | {setting.doc} |")
    return "\n".join(lines) + "\n"


def report() -> str:
    """`wangtai config`: every setting, its value now and where it came from."""
    file = config_file()
    lines = [f"设置文件：{file if file else '无（使用默认值与环境变量）'}", ""]
    for item in effective():
        value = "" if item.value is None else item.value
        source = SOURCES[item.source]
        if item.source == "env":
            source += f" {item.setting.env}"
        lines.append(f"{item.setting.key:<16} = {value!s:<40} # {source}")
    issues = problems()
    if issues:
        lines += ["", "问题："] + [f"  - {issue}" for issue in issues]
    return "\n".join(lines)
