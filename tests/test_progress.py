"""Long commands show progress on a terminal (a tqdm bar on stderr) and stay quiet when stderr is a file or
a pipe (tests, logs, systemd)."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent


def on_a_terminal(args: list[str], timeout: float = 300) -> tuple[int, str]:
    """Run ``wangtai ARGS`` with stderr on a pseudo-terminal; returns (exit code, what it showed)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column window
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "wangtai", *args], stdout=subprocess.DEVNULL, stderr=follower, env=env
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise TimeoutError(args)
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=60), shown.decode("utf-8", "replace")


def test_demo_and_ingest_show_progress_on_a_terminal(tmp_path: Path):
    root = str(tmp_path / "data")
    code, shown = on_a_terminal(["--data-dir", root, "demo", "--residents", "3000"])
    assert code == 0, shown
    assert "生成演示数据（3,000 人）" in shown and "7/7 步" in shown and "\r" in shown
    code, shown = on_a_terminal(["--data-dir", root, "ingest"])
    assert code == 0, shown
    waiting = sum(1 for _ in (tmp_path / "data" / "archive").rglob("*.parquet"))
    assert "入库" in shown and f"{waiting}/{waiting}" in shown


def test_no_progress_when_stderr_is_not_a_terminal(demo_raw: DataPaths, tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "wangtai", "--data-dir", str(tmp_path / "d"), "demo", "--residents", "3000"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "步" not in done.stderr
