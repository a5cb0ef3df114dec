"""Progress for long work (`wangtai demo` at 10 million, a big `wangtai ingest`, `wangtai bench`): a tqdm
bar on stderr when stderr is a terminal; nothing at all otherwise (tests, logs, systemd), so no stray
carriage returns end up in a log file.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from wangtai.paths import FEEDS, DataPaths


def on_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Steps:
    """A bar over named steps: ``step("人员")`` marks the previous step done and names the next."""

    def __init__(self, total: int, what: str):
        self.bar = tqdm(
            total=total,
            desc=what,
            unit="步",
            disable=not on_terminal(),
            file=sys.stderr,
            bar_format="{desc}: {n_fmt}/{total_fmt} 步 |{bar}| 已用 {elapsed} {postfix}",
            leave=True,
        )
        self.started = False

    def step(self, label: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_postfix_str(label)

    def close(self) -> None:
        if self.started:
            self.bar.update(1)
        self.bar.set_postfix_str("完成")
        self.bar.close()

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.bar.close()


def _waiting(paths: DataPaths) -> int:
    from wangtai.ingest.core import inbox_files

    return sum(len(inbox_files(paths, feed)) for feed in FEEDS)


@contextmanager
def inbox_drain(paths: DataPaths, every: float = 0.5) -> Iterator[None]:
    """While the body ingests: a bar of inbox files processed (files leave the inbox once done)."""
    if not on_terminal():
        yield
        return
    total = _waiting(paths)
    bar = tqdm(total=total, desc="入库", unit="个文件", file=sys.stderr, leave=True)
    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(every):
            bar.n = max(0, total - _waiting(paths))
            bar.refresh()

    watcher = threading.Thread(target=follow, name="wangtai-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        bar.n = max(0, total - _waiting(paths))
        bar.close()
