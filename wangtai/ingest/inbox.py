"""The inbox as ingest sees it: only regular files inside the data directory are ever read.

Every regular file is read (Parquet, Excel, CSV) or refused by its type (wangtai.ingest.readers); whatever
else lands in ``inbox/<feed>/`` — a symbolic link, a folder, a named pipe, a device — is refused
with a reason (DESIGN.md: every file that arrives is accounted for) and moved out by renaming the entry
itself, never following it; in quarantine it becomes a plain text note (a folder keeps its files, its
links turned into notes), so quarantine and archive never hold a link. Files are opened relative to the
feed folder's descriptor with ``O_NOFOLLOW``: a link swapped in between listing and opening, or a
feed folder that is itself a link, is never followed.
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from pathlib import Path

from wangtai.ingest.faults import OurFault, is_ours
from wangtai.ingest.readers.kinds import is_temporary
from wangtai.ingest.store import copy_from_handle, move_file, write_private_text
from wangtai.paths import PRIVATE_DIR, PRIVATE_FILE, DataPaths, private_dir

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a named pipe swapped in must not wait for a writer
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

KINDS = {
    "symlink": (
        "符号链接",
        "是符号链接（快捷方式），不是普通文件，已拒收，未读取它指向的内容；请直接放入文件本身。",
    ),
    "directory": (
        "文件夹",
        "是文件夹，不是文件，已拒收（整个文件夹已移入隔离区）；请把其中的文件直接放入收件箱。",
    ),
    "special": (
        "特殊文件",
        "是特殊文件（命名管道、设备或套接字），不是普通文件，已拒收；请直接放入导出的文件本身。",
    ),
}


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    return "special"


def folder_problem(paths: DataPaths, feed: str) -> str | None:
    """Why the feed's inbox folder is not read (a link or not a folder), or None when it is fine/absent."""
    for folder in (paths.inbox, paths.feed_inbox(feed)):
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            return None
        if not stat.S_ISDIR(mode):
            shown = folder.relative_to(paths.root).as_posix()
            what = "符号链接" if stat.S_ISLNK(mode) else "不是文件夹"
            return (
                f"收件箱 {shown} 是{what}，为安全起见其中的文件一律不读取（只读数据目录内的文件）；"
                "请改为数据目录内的普通文件夹。"
            )
    return None


def entries(paths: DataPaths, feed: str) -> list[Path]:
    """What waits in the feed's inbox, oldest first (mtime, then name): every entry — files of any type
    (ingest reads or refuses each), links, folders — except temporary names, which are left alone: a
    writer's hidden name, Excel's ``~$`` lock file, a partial download (``readers.is_temporary``)."""
    folder = paths.feed_inbox(feed)
    if folder_problem(paths, feed) is not None or not os.path.isdir(folder):
        return []
    found = []
    for entry in os.scandir(folder):
        if is_temporary(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        found.append((info.st_mtime_ns, entry.name, Path(entry.path)))
    return [path for _, _, path in sorted(found)]


def open_file(paths: DataPaths, feed: str, name: str):
    """The inbox file opened for reading without following any link, or the kind of entry found instead
    (``symlink``, ``directory``, ``special``). Raises FileNotFoundError when it is gone."""
    inbox = os.open(paths.inbox, _DIR_FLAGS)
    try:
        folder = os.open(feed, _DIR_FLAGS, dir_fd=inbox)
    finally:
        os.close(inbox)
    try:
        before = os.lstat(name, dir_fd=folder)
        if not stat.S_ISREG(before.st_mode):
            return kind_of(before.st_mode)  # decided without opening it: a device is never opened
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
        except OSError as error:
            if error.errno == errno.ELOOP:  # swapped for a link since the lstat
                return "symlink"
            if error.errno in (errno.ENXIO, errno.EISDIR):
                return "special" if error.errno == errno.ENXIO else "directory"
            if is_ours(error):
                raise OurFault(error) from error
            raise
    finally:
        os.close(folder)
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):
        os.close(fd)
        return kind_of(opened.st_mode)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def same_entry(path: Path, opened: os.stat_result) -> bool:
    """Is the entry at path (not what it may point to) still the file that was opened, unchanged?"""
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return (now.st_ino, now.st_size, now.st_mtime_ns) == (opened.st_ino, opened.st_size, opened.st_mtime_ns)


def release(path: Path, handle, opened: os.stat_result, target: Path) -> None:
    """Move the processed inbox file to target. When another entry took its name meanwhile (a new file, a
    link) copy the bytes that were read instead, and leave that entry in the inbox for its own turn."""
    if not same_entry(path, opened):
        copy_from_handle(handle, target)
        return
    try:
        move_file(path, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        copy_from_handle(handle, target)  # across file systems: our bytes, then our entry goes
        if same_entry(path, opened):
            path.unlink()
        return
    moved = os.lstat(target)
    if moved.st_ino != opened.st_ino:  # swapped between the check and the rename: put it back
        _return_to_inbox(target, path)
        copy_from_handle(handle, target)


def _return_to_inbox(moved: Path, path: Path) -> None:
    """An entry renamed out of the inbox by mistake goes back, under its name if still free."""
    back = path
    while True:
        try:
            os.link(moved, back, follow_symlinks=False)  # fails rather than replace an entry there
            break
        except FileExistsError:
            back = path.with_name(f"{path.stem}.{uuid.uuid4().hex[:6]}{path.suffix}")
    moved.unlink()


def move_entry(path: Path, entry: os.stat_result, target: Path) -> None:
    """Move a refused non-regular entry out of the inbox (renaming the entry itself) and neutralize it in
    quarantine: a link or special file becomes a text note; a folder keeps its files, privately."""
    private_dir(target.parent)
    try:
        os.rename(path, target)
    except OSError as error:
        raise OurFault(error) from error
    moved = os.lstat(target)
    if moved.st_ino != entry.st_ino:
        _return_to_inbox(target, path)
        return
    neutralize(target)


def neutralize(target: Path) -> None:
    """Turn a link or special file into a text note that says what it was; in a folder, every such entry
    within (without following links), and make it all private."""
    info = os.lstat(target)
    kind = kind_of(info.st_mode)
    if kind == "file":
        os.chmod(target, PRIVATE_FILE)
    elif kind == "directory":
        for root, dirs, files in os.walk(target):  # os.walk does not follow links by default
            os.chmod(root, PRIVATE_DIR)
            for name in dirs + files:
                inner = Path(root) / name
                if os.path.islink(inner) or not os.path.isdir(inner):
                    neutralize(inner)
    else:
        write_private_text(target, note(target, info))


def note(path: Path, info: os.stat_result) -> str:
    kind = kind_of(info.st_mode)
    if kind == "symlink":
        return f"此处原为符号链接，指向：{os.readlink(path)}\n链接本身已拒收，未读取它指向的内容。\n"
    return f"此处原为{KINDS[kind][0]}（类型 {stat.filemode(info.st_mode)}），已拒收。\n"
