"""The audit log: append-only JSON lines under ``<data dir>/state/audit/audit.jsonl``, one event a line.

Every line is written whole under a file lock, flushed and fsync'd before the action it records is
reported done, and carries ``prev`` = the SHA-256 of the line before, so a line removed or changed later
breaks the chain (``verify``). Nothing here ever rewrites or truncates the file. Events never carry a
password or a session token.

Fields: ``ts`` (local time, ISO 8601 with offset), ``event``, ``user``, ``role``, ``ok`` and, by event,
``page``, ``filter``, ``what``, ``rows``, ``format``, ``batch_id``, ``target``, ``reason``, ``detail``.
"""

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from wangtai.paths import DataPaths

EVENTS = {
    "login": "登录成功",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "session_expired": "会话过期",
    "page_view": "查看页面",
    "page_denied": "无权访问页面",
    "export": "导出名单",
    "held_accepted": "接受待确认快照",
    "user_added": "新增用户",
    "user_disabled": "停用用户",
    "user_enabled": "启用用户",
    "password_changed": "修改密码",
    "user_unlocked": "解除锁定",
    "audit_exported": "导出审计日志",
    "raw_purged": "清除过期原始文件",
}
FORBIDDEN_KEYS = {"password", "token", "session_token", "password_hash"}
COLUMNS = ["ts", "event", "event_label", "user", "role", "ok", "page", "filter", "what", "rows", "detail"]


def audit_file(paths: DataPaths) -> Path:
    return paths.state / "audit" / "audit.jsonl"


def _lock(file: Path) -> FileLock:
    return FileLock(str(file.with_name(".audit.lock")), timeout=30)


def _last_hash(file: Path) -> str:
    """SHA-256 of the last line (reads only the file's tail)."""
    if not file.exists() or file.stat().st_size == 0:
        return ""
    with file.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        block = min(size, 65536)
        handle.seek(size - block)
        tail = handle.read().rstrip(b"\n")
    last = tail.rsplit(b"\n", 1)[-1]
    return hashlib.sha256(last).hexdigest()


def record(
    paths: DataPaths, event: str, user: str | None, role: str | None = None, ok: bool = True, **fields
):
    """Append one event; returns it. Raises on a write failure (an action must not pass unrecorded)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    leaked = FORBIDDEN_KEYS & set(fields)
    if leaked:
        raise ValueError(f"audit events never carry {sorted(leaked)}")
    file = audit_file(paths)
    file.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(file.parent, 0o700)
    entry = {
        "ts": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "event": event,
        "user": user,
        "role": role,
        "ok": ok,
        **{k: v for k, v in fields.items() if v is not None},
    }
    with _lock(file):
        entry["prev"] = _last_hash(file)
        line = json.dumps(entry, ensure_ascii=False, default=str, sort_keys=False).encode("utf-8") + b"\n"
        fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return entry


@dataclass
class _Parsed:
    """What this process has read of the log: the lines up to ``size`` bytes, parsed and chain-checked."""

    inode: int = 0
    size: int = 0  # bytes read, always ending at a line end
    digest: Any = field(default_factory=hashlib.sha256)  # SHA-256 of those bytes
    entries: list[dict] = field(default_factory=list)
    lines: int = 0
    previous: str = ""  # SHA-256 of the last line (the next line's "prev")
    broken: int = 0  # the first line whose "prev" does not match, or 0
    table: pd.DataFrame | None = None  # the people's table (frame) of the first ``tabled`` entries
    tabled: int = 0


_PARSED: dict[Path, _Parsed] = {}
_PARSED_LOCK = threading.Lock()


def _parsed(paths: DataPaths) -> _Parsed:
    """The log read so far, brought up to the file's end. Only new lines are parsed; the part read before
    is re-hashed (fast) and compared, so an edit, truncation or replacement of old lines is still seen
    and the whole log is read again."""
    file = audit_file(paths)
    with _PARSED_LOCK:
        try:
            stat = file.stat()
        except FileNotFoundError:
            _PARSED.pop(file, None)
            return _Parsed()
        log = _PARSED.get(file)
        if log is None or log.inode != stat.st_ino or stat.st_size < log.size or not _same_prefix(file, log):
            log = _Parsed(inode=stat.st_ino)
        if stat.st_size > log.size:
            _read_from(file, log)
        _PARSED[file] = log
        return log


def _same_prefix(file: Path, log: _Parsed) -> bool:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        remaining = log.size
        while remaining:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                return False
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest() == log.digest.hexdigest()


def _read_from(file: Path, log: _Parsed) -> None:
    with file.open("rb") as handle:
        handle.seek(log.size)
        data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]  # a line still being appended waits for the next read
    for raw in complete.splitlines():
        log.lines += 1
        if not raw.strip():
            continue
        entry = json.loads(raw)
        if not log.broken and entry.get("prev", "") != log.previous:
            log.broken = log.lines
        log.previous = hashlib.sha256(raw).hexdigest()
        log.entries.append(entry)
    log.digest.update(complete)
    log.size += len(complete)


def read(paths: DataPaths) -> list[dict]:
    return list(_parsed(paths).entries)


def verify(paths: DataPaths) -> tuple[bool, int]:
    """(chain intact, number of the first broken line or 0)."""
    broken = _parsed(paths).broken
    return broken == 0, broken


def frame(
    paths: DataPaths,
    since: datetime | None = None,
    until: datetime | None = None,
    events: list[str] | None = None,
    user: str | None = None,
) -> pd.DataFrame:
    """The log as a table for people: newest first, with a Chinese event label."""
    log = _parsed(paths)
    if log.table is None or log.tabled < len(log.entries):  # only the new entries are turned into rows
        new = _table(log.entries[log.tabled :])
        log.table = new if log.table is None or log.table.empty else pd.concat([log.table, new])
        log.tabled = len(log.entries)
    table = log.table
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    if since is not None:
        table = table[table["ts"] >= pd.Timestamp(since).tz_localize(table["ts"].dt.tz)]
    if until is not None:
        table = table[table["ts"] < pd.Timestamp(until).tz_localize(table["ts"].dt.tz)]
    if events:
        table = table[table["event"].isin(events)]
    if user:
        table = table[table["user"] == user]
    table = table.assign(ts=table["ts"].dt.tz_localize(None))
    return table[COLUMNS].sort_values("ts", ascending=False).reset_index(drop=True)


def _table(entries: list[dict]) -> pd.DataFrame:
    """All entries as the people's table (local times, labels, details), before any filter."""
    table = pd.DataFrame(entries)
    if table.empty:
        return table
    table["ts"] = pd.to_datetime(table["ts"], utc=True, format="ISO8601").dt.tz_convert(
        datetime.now().astimezone().tzinfo
    )
    table = table.assign(event_label=table["event"].map(lambda e: EVENTS.get(e, e)))
    detail_columns = [c for c in table.columns if c not in COLUMNS and c != "prev"]
    if "detail" in table.columns:
        detail_columns = ["detail", *detail_columns]

    def detail(row) -> str:
        return "；".join(
            str(row[c]) if c == "detail" else f"{c}={row[c]}" for c in detail_columns if _present(row[c])
        )

    table["detail"] = table.apply(detail, axis=1) if detail_columns else ""
    for column in COLUMNS:
        if column not in table:
            table[column] = None
    return table[COLUMNS]


def _present(value) -> bool:
    if value is None:
        return False
    try:
        return not pd.isna(value)
    except (TypeError, ValueError):
        return True
