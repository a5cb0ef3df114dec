"""Shared fixtures: one small, deterministic demo data set, generated and ingested once per test session."""

import os
import shutil
from pathlib import Path

import pytest

from wangtai.paths import DataPaths

# Tests never depend on the wall clock; every module reads "now" from wangtai.clock.
FROZEN_NOW = "2026-11-27T10:30:00"
os.environ.setdefault("WANGTAI_NOW", FROZEN_NOW)
os.environ["WANGTAI_CONFIG"] = ""  # no wangtai.toml lying around (./ or /etc/wangtai/) changes a test
SMALL_RESIDENTS = 4_000


@pytest.fixture(scope="session", autouse=True)
def _secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway pseudonymization key, so tests never touch the user's real one."""
    secret = tmp_path_factory.mktemp("secret") / "pseudonym.key"
    os.environ["WANGTAI_SECRET_FILE"] = str(secret)
    return secret


@pytest.fixture(scope="session")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """A clean demo data set (no deliberate bad rows) in reference/ and inbox/, not yet ingested.

    Treat as read-only; copy it (``copy_data``) to ingest or modify."""
    from wangtai.demo import generate

    paths = DataPaths(tmp_path_factory.mktemp("demo_raw"))
    generate(paths, residents=SMALL_RESIDENTS, seed=7, bad_rows=0.0)
    return paths


@pytest.fixture(scope="session")
def demo_paths(demo_raw: DataPaths, tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """The demo data set after ingest: a warehouse the queries and pages run on. Read-only."""
    from wangtai.ingest import ingest_all

    paths = copy_data(demo_raw, tmp_path_factory.mktemp("demo_ingested"))
    ingest_all(paths)
    return paths


@pytest.fixture
def app_env(demo_paths: DataPaths, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """The environment an AppTest of a page needs: the demo warehouse, no auto-demo, no ticking fragments.
    (Modules that need more — no live ingest, no login gate — define their own.)"""
    monkeypatch.setenv("WANGTAI_DATA_DIR", str(demo_paths.root))
    monkeypatch.setenv("WANGTAI_AUTO_DEMO", "0")
    monkeypatch.setenv("WANGTAI_REFRESH_SECONDS", "0")
    return demo_paths


def copy_data(source: DataPaths, target_root: Path) -> DataPaths:
    shutil.copytree(source.root, target_root, dirs_exist_ok=True)
    return DataPaths(target_root)


@pytest.fixture(autouse=True)
def _own_user_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Browser tests share one user store among their servers (WANGTAI_AUTH_DIR, set for the session);
    every other test keeps its users in its own data directory, whatever ran before it."""
    if request.node.get_closest_marker("browser") is None:
        monkeypatch.delenv("WANGTAI_AUTH_DIR", raising=False)
