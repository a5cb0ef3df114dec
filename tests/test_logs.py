"""One logging setup: a rotating file under state/logs/ with Asia/Shanghai times; ingest results and errors
with tracebacks in it; no "leaked" noise when a process with a live ingest thread exits."""

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from deploy_helpers import copy_data

from wangtai import logs
from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent
SHANGHAI_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 ")


def _env(**extra: str) -> dict[str, str]:
    # TZ=UTC: the server's own zone differs from the log's, so +08:00 proves the setting is used
    return {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", **extra}


def test_an_ingest_run_logs_its_results_with_shanghai_time(demo_raw: DataPaths, tmp_path: Path):
    paths = copy_data(demo_raw, tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "wangtai", "--data-dir", str(paths.root), "ingest"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    file = logs.log_file(paths)
    lines = file.read_text(encoding="utf-8").splitlines()
    results = [line for line in lines if "已入库" in line]
    assert len(results) >= 4, lines[:5]
    assert all(SHANGHAI_STAMP.match(line) for line in results), results[0]
    assert "\r" not in done.stderr  # no progress bar when stderr is not a terminal
    assert (file.stat().st_mode & 0o077, file.parent.stat().st_mode & 0o077) == (0, 0)


def test_errors_are_logged_with_their_traceback(tmp_path: Path):
    paths = DataPaths(tmp_path)
    logs.setup(paths)
    try:
        try:
            {}["missing"]
        except KeyError:
            logging.getLogger("wangtai.test").exception("something failed")
    finally:
        _reset()
    text = logs.log_file(paths).read_text(encoding="utf-8")
    assert "ERROR wangtai.test" in text and "Traceback" in text and "KeyError: 'missing'" in text


def test_a_file_rotated_by_another_process_is_reopened(tmp_path: Path):
    file = tmp_path / "wangtai.log"
    first = logs.SharedRotatingFileHandler(file, maxBytes=200, backupCount=3)
    second = logs.SharedRotatingFileHandler(file, maxBytes=10**6, backupCount=3)
    record = logging.LogRecord("wangtai", logging.INFO, __file__, 1, "x" * 120, None, None)
    try:
        second.emit(record)
        first.emit(record)
        first.emit(record)  # over 200 bytes: the first process rotates the file away
        second.emit(logging.LogRecord("wangtai", logging.INFO, __file__, 1, "after", None, None))
    finally:
        first.close()
        second.close()
    assert "after" in file.read_text(encoding="utf-8")  # not written into the rotated wangtai.log.1
    assert "after" not in (tmp_path / "wangtai.log.1").read_text(encoding="utf-8")


def test_a_process_with_a_live_ingest_thread_exits_without_leak_warnings(demo_paths: DataPaths):
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from wangtai.paths import DataPaths\n"
        "from wangtai.runner import Runner\n"
        "from wangtai.live_ingest import LiveIngest\n"
        f"paths = DataPaths(Path({str(demo_paths.root)!r}))\n"
        "runner = Runner(paths)\n"
        "LiveIngest(paths, 0.2, follow=runner.refresh, ingest=False).start()\n"
        "runner.run('overview')\n"
        "del runner\n"
        "time.sleep(1)\n"  # the thread is polling when the interpreter exits
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr, done.stderr[:500]


def test_the_ingest_service_logs_to_the_file_and_stderr(demo_raw: DataPaths, tmp_path: Path):
    paths = copy_data(demo_raw, tmp_path / "data")
    waiting = sorted((paths.inbox / "registrations").glob("*.parquet"))
    for extra in waiting[1:]:  # one file is enough for the service to report
        extra.unlink()
    for feed in ("residents", "houses", "source_records"):
        for file in (paths.inbox / feed).glob("*.parquet"):
            file.unlink()
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wangtai",
            "--data-dir",
            str(paths.root),
            "ingest",
            "--watch",
            *("--interval", "0.2"),
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        file = logs.log_file(paths)
        while time.monotonic() < deadline and "已入库" not in _text(file):
            assert service.poll() is None, service.communicate()
            time.sleep(0.2)
    finally:
        service.send_signal(signal.SIGTERM)
        out, err = service.communicate(timeout=30)
    text = file.read_text(encoding="utf-8")
    assert "ingest service watching" in text and "已入库" in text
    assert "已入库" in err and out == ""  # operational messages: log and stderr (journald), never print
    assert pd.read_parquet(paths.warehouse / "manifest").shape[0] >= 1


def _text(file: Path) -> str:
    return file.read_text(encoding="utf-8") if file.exists() else ""


def _reset() -> None:
    logger = logging.getLogger("wangtai")
    for handler in list(logger.handlers):
        if getattr(handler, "_wangtai", False):
            logger.removeHandler(handler)
            handler.close()
