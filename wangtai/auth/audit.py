"""The audit log: append-only JSON lines under ``<data dir>/state/audit/audit.jsonl``, one event a line.

Every line is written whole under a file lock, flushed and fsync'd before the action it records is
reported done, and carries ``prev`` = the SHA-256 of the line before, so a line removed or changed later
breaks the chain. Nothing here ever rewrites or truncates the file. Events never carry a password or a
session token.

A hash chain alone can be cut at its end or rewritten whole. So the chain is anchored with a server key
(``audit_key_file``: outside the repository and the data directory, 0600, beside the pseudonymization
key, created on first use):

- every line ends with ``mac`` = HMAC-SHA256(key, the line without its ``mac``): a line made or changed
  without the key does not verify;
- after every append, the chain's head — line count, byte size, SHA-256 of the last line, with their HMAC —
  is written to an anchor file kept with the key (``anchor_file``), apart from the log: a log shorter than
  its anchor (lines dropped at the end) or whose anchored line differs (rewritten) does not verify.

``check`` says whether the log verifies and why not (Chinese); ``verify`` is its short form. Lines written
before the key existed (no ``mac``) are accepted only as the log's beginning, before the first signed line.

Fields: ``ts`` (local time, ISO 8601 with offset), ``event``, ``user``, ``role``, ``ok`` and, by event,
``page``, ``filter``, ``what``, ``rows``, ``format``, ``batch_id``, ``target``, ``reason``, ``detail``.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from wangtai import settings
from wangtai.clock import SHANGHAI
from wangtai.paths import DataPaths, secret_file

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
    "upload_preview": "上传文件预览",
    "upload_confirmed": "确认导入文件",
}
FORBIDDEN_KEYS = {"password", "token", "session_token", "password_hash"}
COLUMNS = ["ts", "event", "event_label", "user", "role", "ok", "page", "filter", "what", "rows", "detail"]


def audit_file(paths: DataPaths) -> Path:
    return paths.state / "audit" / "audit.jsonl"


# ---- the key and the anchor -----------------------------------------------------------------------------


def audit_key_file() -> Path:
    """The audit key: ``WANGTAI_AUDIT_KEY_FILE``, else ``audit.key`` beside the pseudonymization key
    (outside the repository and the data directory)."""
    return settings.get("audit_key_file") or secret_file().with_name("audit.key")


def anchor_file(paths: DataPaths) -> Path:
    """Where the head of this data directory's log is anchored: with the key, one file per log."""
    log = str(audit_file(paths).resolve())
    return audit_key_file().parent / "audit-anchors" / f"{hashlib.sha256(log.encode()).hexdigest()[:32]}.json"


_KEYS: dict[Path, bytes] = {}


def _key(create: bool) -> bytes | None:
    """The audit key (32 random bytes, 0600 in a 0700 folder, made on first use when ``create``)."""
    path = audit_key_file()
    if path in _KEYS:
        return _KEYS[path]
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it just now
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
                handle.flush()
                os.fsync(handle.fileno())
    key = path.read_bytes()
    if len(key) < 16:
        raise RuntimeError(f"审计密钥文件 {path} 内容过短（应为 32 字节随机数），请检查。")
    _KEYS[path] = key
    return key


def _mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, "sha256").hexdigest()


_SIGNED = re.compile(rb'^(.*), "mac": "([0-9a-f]{64})"\}$', re.DOTALL)


def _signed_line(entry: dict, key: bytes) -> bytes:
    """The line of ``entry``: its JSON with ``mac`` = HMAC of the JSON without it, added at the end."""
    body = json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8")
    return body[:-1] + f', "mac": "{_mac(key, body)}"}}'.encode() + b"\n"


def _anchor_mac(key: bytes, log: str, lines: int, size: int, head: str) -> str:
    return _mac(key, f"{log}\n{lines}\n{size}\n{head}".encode())


def _read_anchor(paths: DataPaths) -> dict | None:
    try:
        return json.loads(anchor_file(paths).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _anchor_ok(anchor: dict, key: bytes, log: str) -> bool:
    try:
        expected = _anchor_mac(key, log, int(anchor["lines"]), int(anchor["size"]), str(anchor["head"]))
        return anchor["log"] == log and hmac.compare_digest(expected, str(anchor["mac"]))
    except (KeyError, TypeError, ValueError):
        return False


def _write_anchor(paths: DataPaths, key: bytes, size_before: int) -> None:
    """After an append (under the log's lock): the log's head, with its HMAC, into the anchor file."""
    file = audit_file(paths)
    log = str(file.resolve())
    size = file.stat().st_size
    previous = _read_anchor(paths)
    if previous and _anchor_ok(previous, key, log) and previous["size"] == size_before:
        lines = int(previous["lines"]) + 1
    else:  # no anchor yet (a log from before the key) or one left behind by a crash: count once
        with file.open("rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    head = _last_hash(file)
    anchor = {"log": log, "lines": lines, "size": size, "head": head}
    anchor["mac"] = _anchor_mac(key, log, lines, size, head)
    _store_anchor(paths, anchor)


def _store_anchor(paths: DataPaths, anchor: dict) -> None:
    target = anchor_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(anchor))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


PORTABLE = "portable"  # the log name a backup's anchor is signed for: valid wherever the copy lands


def portable_anchor(paths: DataPaths) -> dict | None:
    """The head of this log, signed for a copy (a backup), when the log's own anchor vouches for it now;
    None when there is nothing to vouch for (no key, no anchor, or an anchor that does not match)."""
    key, file = _key(create=False), audit_file(paths)
    anchor = _read_anchor(paths)
    if key is None or anchor is None or not file.exists() or not _anchor_ok(anchor, key, str(file.resolve())):
        return None
    if anchor["size"] != file.stat().st_size or anchor["head"] != _last_hash(file):
        return None
    lines, size, head = int(anchor["lines"]), int(anchor["size"]), str(anchor["head"])
    mac = _anchor_mac(key, PORTABLE, lines, size, head)
    return {"log": PORTABLE, "lines": lines, "size": size, "head": head, "mac": mac}


def adopt_anchor(paths: DataPaths, portable: dict) -> bool:
    """A restored log takes over its backup's anchor when the copy is exactly what was anchored (its size
    and last line) and the anchor is signed with this key; False (nothing written) otherwise."""
    key, file = _key(create=False), audit_file(paths)
    if key is None or not file.exists() or not _anchor_ok(portable, key, PORTABLE):
        return False
    if portable["size"] != file.stat().st_size or portable["head"] != _last_hash(file):
        return False
    log = str(file.resolve())
    lines, size, head = int(portable["lines"]), int(portable["size"]), str(portable["head"])
    _store_anchor(
        paths,
        {
            "log": log,
            "lines": lines,
            "size": size,
            "head": head,
            "mac": _anchor_mac(key, log, lines, size, head),
        },
    )
    return True


# ---- writing ----------------------------------------------------------------------------------------------


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
    try:
        key = _key(create=True)
    except OSError as error:
        raise RuntimeError(f"无法读取或创建审计密钥 {audit_key_file()}：{error}") from error
    entry = {
        "ts": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "event": event,
        "user": user,
        "role": role,
        "ok": ok,
        **{k: v for k, v in fields.items() if v is not None and k != "mac"},
    }
    with _lock(file):
        entry["prev"] = _last_hash(file)
        line = _signed_line(entry, key)
        fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size_before = os.fstat(fd).st_size
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        _write_anchor(paths, key, size_before)
    return entry


# ---- reading and checking ---------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """What this process has read of the log: the lines up to ``size`` bytes, parsed and checked."""

    inode: int = 0
    size: int = 0  # bytes read, always ending at a line end
    digest: Any = field(default_factory=hashlib.sha256)  # SHA-256 of those bytes
    entries: list[dict] = field(default_factory=list)
    lines: int = 0
    previous: str = ""  # SHA-256 of the last line (the next line's "prev")
    hashes: list[bytes] = field(default_factory=list)  # SHA-256 of each line (the anchor names one)
    broken: int = 0  # the first line that does not verify, or 0
    reason: str = ""  # why (Chinese)
    signed: int = 0  # lines carrying a ``mac`` (checked against the key when there is one)
    last_unsigned: int = 0  # the last line without one (only the log's beginning may lack it)
    key: bytes | None = None  # the key the signatures were checked with (None: no key here)
    table: pd.DataFrame | None = None  # the people's table (frame) of the first ``tabled`` entries
    tabled: int = 0


_PARSED: dict[Path, _Parsed] = {}
_PARSED_LOCK = threading.Lock()


def _parsed(paths: DataPaths) -> _Parsed:
    """The log read so far, brought up to the file's end. Only new lines are parsed; the part read before
    is re-hashed (fast) and compared, so an edit, truncation or replacement of old lines is still seen
    and the whole log is read again."""
    file = audit_file(paths)
    key = _key(create=False)
    with _PARSED_LOCK:
        try:
            stat = file.stat()
        except FileNotFoundError:
            _PARSED.pop(file, None)
            return _Parsed(key=key)
        log = _PARSED.get(file)
        if (
            log is None
            or log.key != key
            or log.inode != stat.st_ino
            or stat.st_size < log.size
            or not _same_prefix(file, log)
        ):
            log = _Parsed(inode=stat.st_ino, key=key)
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
    for raw in complete.split(b"\n")[:-1]:
        log.lines += 1
        log.hashes.append(hashlib.sha256(raw).digest())
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
            _broken(log, "不是完整的一条记录")
        if not isinstance(entry, dict) or entry.get("prev", "") != log.previous:
            _broken(log, "与前一行的校验值不符（前面的行被删改过）")
        _check_mac(log, raw)
        log.previous = log.hashes[-1].hex()
        if isinstance(entry, dict):
            entry.pop("mac", None)
            log.entries.append(entry)
    log.digest.update(complete)
    log.size += len(complete)


def _check_mac(log: _Parsed, raw: bytes) -> None:
    match = _SIGNED.match(raw)
    if match is None:
        if log.signed:
            _broken(log, "没有签名（在已签名的行之后）：日志被改写过")
        log.last_unsigned = log.lines
        return
    log.signed += 1
    if log.key is None:
        return  # no key in this process: the signature cannot be checked (``check`` says so)
    if not hmac.compare_digest(_mac(log.key, match.group(1) + b"}"), match.group(2).decode()):
        _broken(log, "签名不符：该行不是本服务器写入的，或写入后被改动过")


def _broken(log: _Parsed, reason: str) -> None:
    if not log.broken:
        log.broken, log.reason = log.lines, reason


def read(paths: DataPaths) -> list[dict]:
    return list(_parsed(paths).entries)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: int = 0  # the first line that does not verify (or the first missing one), 0 when none
    reason: str = ""  # Chinese, for the operator


def check(paths: DataPaths) -> Verdict:
    """Does the log verify — every line's chain link and signature, and its head against the anchor?"""
    log = _parsed(paths)
    if log.broken:
        return Verdict(False, log.broken, f"审计日志第 {log.broken} 行{log.reason}。")
    anchor = _read_anchor(paths)
    if (
        anchor is None and not log.signed
    ):  # no log yet, or one from before the key (anchored by the next event)
        if log.lines:
            return Verdict(True, 0, f"审计日志 {log.lines} 行均为启用签名前写入，尚未锚定。")
        return Verdict(True, 0, "审计日志为空。")
    if log.key is None:
        return Verdict(False, 0, f"找不到审计密钥 {audit_key_file()}，无法核验审计日志的签名。")
    if anchor is None:
        return Verdict(False, 0, f"审计日志的锚点 {anchor_file(paths)} 不见了：无法确认日志末尾完整。")
    if not _anchor_ok(anchor, log.key, str(audit_file(paths).resolve())):
        return Verdict(False, 0, f"审计日志的锚点 {anchor_file(paths)} 签名不符：锚点被改动过。")
    anchored = int(anchor["lines"])
    if log.lines < anchored:
        missing = anchored - log.lines
        return Verdict(
            False, log.lines + 1, f"审计日志比锚点记录的少 {missing} 行：末尾第 {log.lines + 1} 行起被删除。"
        )
    if anchored and log.hashes[anchored - 1].hex() != anchor["head"]:
        return Verdict(False, anchored, f"审计日志第 {anchored} 行与锚点记录不符：日志被改写过。")
    if log.last_unsigned > anchored:
        return Verdict(False, log.last_unsigned, f"审计日志第 {log.last_unsigned} 行没有签名：日志被改写过。")
    return Verdict(True, 0, f"审计日志完整：共 {log.lines} 行，签名与锚点均核验无误。")


def verify(paths: DataPaths) -> tuple[bool, int]:
    """(the log verifies, the first line that does not or 0) — ``check`` says why."""
    verdict = check(paths)
    return verdict.ok, verdict.line


def frame(
    paths: DataPaths,
    since: datetime | None = None,
    until: datetime | None = None,
    events: list[str] | None = None,
    user: str | None = None,
) -> pd.DataFrame:
    """The log as a table for people: newest first, with a Chinese event label; ``ts`` (and ``since`` /
    ``until``) are Asia/Shanghai wall-clock times."""
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
    # shown in Asia/Shanghai whatever the server's own zone (a server in UTC showed UTC times)
    table["ts"] = pd.to_datetime(table["ts"], utc=True, format="ISO8601").dt.tz_convert(SHANGHAI)
    table = table.assign(event_label=table["event"].map(lambda e: EVENTS.get(e, e)))
    detail_columns = [c for c in table.columns if c not in COLUMNS and c not in ("prev", "mac")]
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
