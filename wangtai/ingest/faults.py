"""Failures of ours during ingest, kept apart from verdicts on files (DESIGN.md: "A failure of ours (disk
full, permissions) leaves the file in the inbox to retry; it never turns into a verdict on the file").

- ``OurFault`` — an operation of ours failed (a write, a rename, the lock, reading with an errno that says
  the machine failed, not the file): the file's half-written outputs are discarded, it gets no manifest
  row and stays in the inbox; ingest is *paused* until a run goes through.
- A file whose processing raised something unexpected (a defect of ours) is *set aside*: left in the
  inbox, recorded once, skipped until ``SET_ASIDE_SECONDS`` (doubling per attempt) have passed or the
  file changes; the other files go on.
- A feed folder that is a symbolic link (or not a folder) is not read at all.

The state lives in ``state/ingest_status.json`` (for 数据状态 and other processes) and in memory (a full
disk may refuse even that small file); readers take the newer of the two. Each change is logged once.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import logging
import os
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wangtai import clock
from wangtai.ingest.errors import IngestError
from wangtai.paths import PRIVATE_FILE, DataPaths

log = logging.getLogger("wangtai.ingest")

STATUS_FILE = "ingest_status.json"
SET_ASIDE_SECONDS = 60.0  # first wait before a set-aside file is tried again; doubles, up to a day
SET_ASIDE_MAX = 24 * 3600.0

# errno → what failed, for the operator (数据状态, the log). These say "the machine", never "the file".
MACHINE = {
    errno.ENOSPC: "数据目录磁盘已满",
    errno.EDQUOT: "数据目录超出磁盘配额",
    errno.EROFS: "数据目录所在磁盘只读",
    errno.EACCES: "数据目录权限不足",
    errno.EPERM: "数据目录权限不足",
    errno.EIO: "磁盘读写错误",
    errno.EMFILE: "打开的文件过多",
    errno.ENFILE: "打开的文件过多",
    errno.ENOMEM: "内存不足",
    errno.ENOLCK: "无法加锁",
}
# Every later file would fail the same way: stop the run instead of trying each one.
STOPS_RUN = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
WAIT_FOR = {errno.ENOSPC: "空间恢复后自动重试", errno.EDQUOT: "空间恢复后自动重试"}


class OurFault(OSError):
    """An operation of ours failed; the file it concerned stays in the inbox and is tried again. (An
    OSError still, with the original errno, for callers that catch those.)"""

    def __init__(self, error: BaseException):
        super().__init__(getattr(error, "errno", None), str(error))
        self.error = error

    @property
    def stops_run(self) -> bool:
        return self.errno in STOPS_RUN

    def describe(self) -> str:
        """入库暂停：数据目录磁盘已满（No space left on device），文件留在收件箱，空间恢复后自动重试。"""
        what = MACHINE.get(self.errno, "入库程序写文件失败")
        detail = os.strerror(self.errno) if self.errno else str(self.error)
        retry = WAIT_FOR.get(self.errno, "问题解决后自动重试")
        return f"入库暂停：{what}（{detail}），文件留在收件箱，{retry}。"


def is_ours(error: BaseException) -> bool:
    """An error that says the machine failed (disk, permissions, memory), not that the input is bad."""
    return isinstance(error, OurFault) or (
        isinstance(error, OSError) and getattr(error, "errno", None) in MACHINE
    )


def as_fault(error: BaseException) -> OurFault:
    return error if isinstance(error, OurFault) else OurFault(error)


# ---- the recorded state ---------------------------------------------------------------------------------


@dataclass
class Status:
    """What 数据状态 shows about ingest itself (not about files' verdicts)."""

    updated: float = 0.0
    pause: dict | None = None  # {"message", "since"}: a failure of ours stopped files from landing
    set_aside: dict[str, dict] = field(default_factory=dict)  # "<feed>/<name>" → message, since, retry_at…
    folders: dict[str, str] = field(default_factory=dict)  # feed → why its inbox folder is not read

    @property
    def healthy(self) -> bool:
        return self.pause is None and not self.set_aside and not self.folders

    def messages(self) -> list[str]:
        """Every problem, one Chinese line each, for 数据状态 and the CLI."""
        lines = [self.pause["message"]] if self.pause else []
        lines += list(self.folders.values())
        lines += [entry["message"] for _, entry in sorted(self.set_aside.items())]
        return list(dict.fromkeys(lines))  # a linked inbox/ is one problem, not one per feed


_memory: dict[str, Status] = {}
_memory_lock = threading.Lock()


def _file(paths: DataPaths) -> Path:
    return paths.state / STATUS_FILE


def load(paths: DataPaths) -> Status:
    """The newer of this process's record and the file's (another process may have ingested since)."""
    saved = Status()
    try:
        raw = json.loads(_file(paths).read_text(encoding="utf-8"))
        saved = Status(
            float(raw.get("updated", 0)), raw.get("pause"), raw.get("set_aside", {}), raw.get("folders", {})
        )
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    with _memory_lock:
        mine = _memory.get(str(paths.root))
        if mine is not None and mine.updated >= saved.updated:
            return copy.deepcopy(mine)  # the caller may change it while a page reads ours
    return saved


def save(paths: DataPaths, status: Status) -> None:
    """Keep it in memory, then write the file if the disk lets us (a full disk must not hide the pause)."""
    status.updated = time.time()
    with _memory_lock:
        _memory[str(paths.root)] = copy.deepcopy(status)
    target = _file(paths)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(status), handle, ensure_ascii=False)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def file_key(feed: str, name: str) -> str:
    return f"{feed}/{name}"


def forget_gone(status: Status, listed: set[str]) -> None:
    """Set-aside files no longer in the inbox (taken out by an operator) are no longer a problem."""
    for key in [key for key in status.set_aside if key not in listed]:
        del status.set_aside[key]


def identity(stat: os.stat_result) -> list[int]:
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def waiting(status: Status, feed: str, path: Path) -> bool:
    """True when the file was set aside and is neither due for another try nor changed since."""
    entry = status.set_aside.get(file_key(feed, path.name))
    if entry is None:
        return False
    try:
        current = identity(os.lstat(path))
    except OSError:
        return False
    return current == entry.get("identity") and time.time() < entry.get("retry_at", 0)


def set_aside(status: Status, feed: str, path: Path, error: BaseException) -> None:
    """Record (and log, once per new message) a file left in the inbox after an unexpected error."""
    key = file_key(feed, path.name)
    previous = status.set_aside.get(key, {})
    attempts = previous.get("attempts", 0) + 1
    try:
        ident = identity(os.lstat(path))
    except OSError:
        ident = None
    message = (
        f"文件 {path.name} 入库时程序出错（{type(error).__name__}），已跳过并留在收件箱，其他文件照常入库；"
        "稍后自动重试，也可把文件重新放入收件箱。请把日志交给维护人员。"
    )
    wait = min(SET_ASIDE_SECONDS * 2 ** (attempts - 1), SET_ASIDE_MAX)
    if isinstance(error, IngestError):  # something an administrator fixes (column_names.toml): it says what
        message = f"文件 {path.name} 暂未入库，留在收件箱：{error} 改正后自动重试，其他文件照常入库。"
        wait = SET_ASIDE_SECONDS  # no back-off: the fix is not a change of the file
    detail = where(error)
    if previous.get("detail") != detail:
        stack = "".join(traceback.format_tb(error.__traceback__))  # code lines only, no values
        log.error("%s 位置：%s\n%s", message, detail, stack)
    status.set_aside[key] = {
        "message": message,
        "detail": detail,
        "since": previous.get("since") or clock.now().isoformat(timespec="seconds"),
        "attempts": attempts,
        "retry_at": time.time() + wait,
        "identity": ident,
    }


def where(error: BaseException) -> str:
    """The exception's type and the line that raised it — not its message, which may quote a value from
    the file (logs never hold a personal value, DATA_CONTRACT.md §5)."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}" if frames else "?"
    return f"{type(error).__name__} @ {place}"


def paused(status: Status, fault: OurFault | None) -> None:
    """Set or clear the pause; log when it starts, changes or ends."""
    if fault is None:
        if status.pause is not None:
            log.warning("入库已恢复：%s 的问题已解决。", status.pause.get("since"))
        status.pause = None
        return
    message = fault.describe()
    if status.pause is None or status.pause.get("message") != message:
        log.error("%s 详情：%r", message, fault.error)
        status.pause = {"message": message, "since": clock.now().isoformat(timespec="seconds")}


def folder_problem(status: Status, feed: str, message: str | None) -> None:
    if message is None:
        status.folders.pop(feed, None)
        return
    if status.folders.get(feed) != message:
        log.error(message)
    status.folders[feed] = message
