"""`wangtai doctor`: a sound installation passes (exit 0); each planted problem is found, explained in
Chinese, and makes it exit non-zero."""

import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
from deploy_helpers import copy_data

from wangtai import doctor
from wangtai.auth import audit
from wangtai.cli import main
from wangtai.ingest import ingest_all
from wangtai.paths import DataPaths, secret_file


@pytest.fixture
def sound(demo_paths: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """An installation as it should be: private files, a key outside, a clean audit log, a browser."""
    paths = copy_data(demo_paths, tmp_path / "data")
    audit.record(paths, "login", "boss", "领导")
    audit.record(paths, "page_view", "boss", "领导", page="总览")
    doctor.fix_permissions(paths)
    os.chmod(paths.root, 0o700)
    key = tmp_path / "etc" / "pseudonym.key"
    key.parent.mkdir()
    shutil.copy(secret_file(), key)
    os.chmod(key, 0o600)
    monkeypatch.setenv("WANGTAI_AUDIT_KEY_FILE", str(audit.audit_key_file()))  # the log keeps its key
    monkeypatch.setenv("WANGTAI_SECRET_FILE", str(key))
    browser = tmp_path / "bin" / "chromium"  # the check is that the configured browser is there
    browser.parent.mkdir()
    browser.write_text("#!/bin/sh\n", encoding="utf-8")
    os.chmod(browser, 0o755)
    monkeypatch.setenv("WANGTAI_CHROMIUM", str(browser))
    return paths


def doctor_says(paths: DataPaths, capsys) -> tuple[int, str]:
    code = main(["--data-dir", str(paths.root), "doctor"])
    return code, capsys.readouterr().out


def test_a_sound_installation_passes(sound: DataPaths, capsys):
    code, out = doctor_says(sound, capsys)
    assert code == 0, out
    assert "没有发现问题" in out and "✗" not in out
    for check in ("权限", "假名化密钥", "磁盘空间", "数据源", "待确认快照", "审计日志", "Chromium"):
        assert f"✓ {check}" in out, check


def test_a_world_readable_warehouse_file_is_found(sound: DataPaths, capsys):
    victim = next((sound.warehouse / "residents").glob("*.parquet"))
    os.chmod(victim, 0o644)
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ 文件权限" in out and victim.name in out and "0600" in out
    assert main(["--data-dir", str(sound.root), "doctor", "--fix"]) == 0
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


def test_a_key_inside_the_data_directory_is_found(sound: DataPaths, tmp_path, monkeypatch, capsys):
    inside = sound.state / "pseudonym.key"
    shutil.copy(secret_file(), inside)
    os.chmod(inside, 0o600)
    monkeypatch.setenv("WANGTAI_SECRET_FILE", str(inside))
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ 假名化密钥" in out and "在数据目录里" in out


def test_a_readable_or_missing_key_is_found(sound: DataPaths, monkeypatch, capsys):
    os.chmod(secret_file(), 0o644)
    code, out = doctor_says(sound, capsys)
    assert code == 1 and "其他用户可读" in out
    monkeypatch.setenv("WANGTAI_SECRET_FILE", str(sound.root.parent / "nowhere.key"))
    code, out = doctor_says(sound, capsys)
    assert code == 1 and "不存在，但仓库里已有数据" in out


def test_a_broken_audit_line_is_found(sound: DataPaths, capsys):
    file = audit.audit_file(sound)
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    # the fixture's own line (the shared demo data may carry earlier events from other tests)
    edited = next(n for n, line in enumerate(lines) if '"user": "boss"' in line)
    lines[edited] = lines[edited].replace("boss", "bos2")
    file.write_text("".join(lines), encoding="utf-8")
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ 审计日志" in out and f"第 {edited + 1} 行" in out, out


def test_a_held_snapshot_is_found(sound: DataPaths, capsys):
    latest = sorted((sound.archive / "residents").glob("*.parquet"))[-1]
    half = pd.read_parquet(latest)
    half = half.iloc[: len(half) // 2]
    target = sound.feed_inbox("residents") / "residents_half.parquet"
    half.to_parquet(target.with_name(".tmp.parquet"), index=False)
    target.with_name(".tmp.parquet").rename(target)
    ingest_all(sound)
    doctor.fix_permissions(sound)
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ 待确认快照" in out and "residents_half.parquet" in out and "wangtai held --accept" in out


def test_a_missing_browser_low_disk_and_login_off_are_found(sound: DataPaths, monkeypatch, capsys):
    monkeypatch.setenv("WANGTAI_CHROMIUM", str(sound.root.parent / "no-chromium"))
    monkeypatch.setenv("WANGTAI_AUTH", "off")
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 1 << 62)
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ Chromium" in out and "✗ 磁盘空间" in out and "✗ 登录" in out


def test_a_late_feed_is_found(sound: DataPaths, monkeypatch, capsys):
    monkeypatch.setenv("WANGTAI_NOW", "2026-12-05T10:30:00")  # eight days without a file
    code, out = doctor_says(sound, capsys)
    assert code == 1
    assert "✗ 数据源" in out and "超时未到" in out


def test_a_missing_data_directory_is_explained(tmp_path, capsys):
    code, out = doctor_says(DataPaths(tmp_path / "nothing"), capsys)
    assert code == 1 and "不存在" in out
    assert not (tmp_path / "nothing").exists()  # the check creates nothing
