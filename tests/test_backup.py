"""Backup and restore: a consistent copy while the dashboard writes (sessions, audit lines), taken under the
ingest lock; restored into an empty directory it gives the same answers to every query and a valid
audit chain."""

import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from deploy_helpers import copy_data

from wangtai import backup
from wangtai.auth import audit
from wangtai.auth.store import UserStore
from wangtai.auth.testing import make_user
from wangtai.cli import main
from wangtai.ingest.core import lock
from wangtai.paths import DataPaths
from wangtai.runner import Runner


@pytest.fixture
def live(demo_paths: DataPaths, tmp_path: Path) -> DataPaths:
    """An ingested demo with users, sessions and audit lines, as a running dashboard leaves it."""
    paths = copy_data(demo_paths, tmp_path / "data")
    _, password = make_user(paths, "领导", username="boss")
    (paths.root / ".password").write_text(password, encoding="utf-8")  # for the test's logins, not data
    assert UserStore(paths).login("boss", password).ok
    for n in range(5):
        audit.record(paths, "page_view", "boss", "领导", page=f"p{n}")
    return paths


def _answers(paths: DataPaths) -> dict[str, pd.DataFrame]:
    runner = Runner(paths)
    return {name: runner.run(name) for name in runner.names()}


def test_a_restored_backup_gives_identical_answers_and_a_valid_audit_chain(live: DataPaths, tmp_path: Path):
    stop = threading.Event()

    def dashboard_at_work() -> None:  # page views and logins keep being written during the backup
        store = UserStore(live)
        password = (live.root / ".password").read_text(encoding="utf-8")
        n = 0
        while not stop.is_set():
            audit.record(live, "page_view", "boss", "领导", page=f"busy{n}")
            store.login("boss", password)
            n += 1

    worker = threading.Thread(target=dashboard_at_work)
    worker.start()
    try:
        time.sleep(0.3)
        assert main(["--data-dir", str(live.root), "backup", str(tmp_path / "backup")]) == 0
    finally:
        stop.set()
        worker.join()

    restored = DataPaths(tmp_path / "restored")
    assert main(["--data-dir", str(restored.root), "restore", str(tmp_path / "backup")]) == 0
    before, after = _answers(live), _answers(restored)
    assert before.keys() == after.keys() and len(before) >= 10
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=True, obj=name)
    assert audit.verify(restored) == (True, 0)
    pages = [e.get("page") for e in audit.read(restored)]
    start = pages.index("p0")  # (the shared demo data set may carry earlier events)
    assert pages[start : start + 5] == [f"p{n}" for n in range(5)] and "busy0" in pages
    assert UserStore(restored).get("boss").role.label == "领导"
    # a self-contained SQLite file: no -wal beside it, and it opens as a whole database
    users = restored.state / "auth" / "users.sqlite"
    assert not users.with_name("users.sqlite-wal").exists()
    with sqlite3.connect(users) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_backup_whose_audit_log_was_cut_restores_with_the_cut_shown(live: DataPaths, tmp_path: Path):
    """The anchor travels with the backup signed for the copy: a log cut short in the backup folder does
    not adopt it, so the restored chain reports the cut instead of starting afresh."""
    assert main(["--data-dir", str(live.root), "backup", str(tmp_path / "backup")]) == 0
    copied = tmp_path / "backup" / "state" / "audit" / "audit.jsonl"
    lines = copied.read_bytes().splitlines(keepends=True)
    copied.write_bytes(b"".join(lines[:-1]))  # the last event dropped
    manifest = tmp_path / "backup" / backup.MANIFEST
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(  # sizes made to agree again
            f'"state/audit/audit.jsonl": {sum(map(len, lines))}',
            f'"state/audit/audit.jsonl": {sum(map(len, lines[:-1]))}',
        ),
        encoding="utf-8",
    )
    restored = DataPaths(tmp_path / "restored")
    assert (
        main(["--data-dir", str(restored.root), "restore", str(tmp_path / "backup")]) == 1
    )  # restored, warned
    assert audit.audit_file(restored).read_bytes() == b"".join(lines[:-1])
    assert not audit.check(restored).ok


def test_the_backup_is_private_and_leaves_out_locks_logs_and_raw_inbox(live: DataPaths, tmp_path: Path):
    (live.state / "logs").mkdir(parents=True, exist_ok=True)
    (live.state / "logs" / "wangtai.log").write_text("x", encoding="utf-8")
    backup.backup(live, tmp_path / "b")
    files = [p for p in (tmp_path / "b").rglob("*") if p.is_file()]
    assert files and all(p.stat().st_mode & 0o077 == 0 for p in files)
    assert all(p.stat().st_mode & 0o077 == 0 for p in (tmp_path / "b").rglob("*") if p.is_dir())
    names = {str(p.relative_to(tmp_path / "b")) for p in files}
    assert not any(n.endswith(".lock") or n.startswith(("state/logs", "inbox", "archive")) for n in names)
    assert {"BACKUP.json", "state/auth/users.sqlite", "state/audit/audit.jsonl"} <= names


def test_the_backup_waits_for_a_running_ingest(live: DataPaths, tmp_path: Path):
    done = threading.Event()
    held = lock(live)
    held.acquire()  # an ingest is running
    try:
        thread = threading.Thread(target=lambda: (backup.backup(live, tmp_path / "b"), done.set()))
        thread.start()
        time.sleep(1.0)
        assert not done.is_set() and not (tmp_path / "b").exists()
    finally:
        held.release()
    thread.join(60)
    assert done.is_set() and (tmp_path / "b" / "BACKUP.json").exists()


def test_restore_refuses_a_non_empty_directory_unless_forced(live: DataPaths, tmp_path: Path, capsys):
    backup.backup(live, tmp_path / "b")
    other = tmp_path / "other"
    (other / "warehouse").mkdir(parents=True)
    (other / "warehouse" / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["--data-dir", str(other), "restore", str(tmp_path / "b")]) == 2
    assert "不是空的" in capsys.readouterr().err
    assert main(["--data-dir", str(other), "restore", str(tmp_path / "b"), "--force"]) == 0
    aside = next(tmp_path.glob("other-replaced-*"))
    assert (aside / "warehouse" / "keep.txt").read_text(encoding="utf-8") == "mine"  # moved, never deleted
    assert audit.verify(DataPaths(other)) == (True, 0)


def test_backup_refuses_an_existing_target_and_restore_a_damaged_backup(
    live: DataPaths, tmp_path: Path, capsys
):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")
    assert main(["--data-dir", str(live.root), "backup", str(tmp_path / "full")]) == 2
    assert main(["--data-dir", str(live.root), "backup", str(live.root / "inside")]) == 2
    backup.backup(live, tmp_path / "b")
    victim = next((tmp_path / "b" / "warehouse" / "residents").glob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:100])
    assert main(["--data-dir", str(tmp_path / "new"), "restore", str(tmp_path / "b")]) == 2
    assert "不完整" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
