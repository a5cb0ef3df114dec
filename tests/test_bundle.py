"""The offline install, end to end: `make bundle` builds one archive; on a machine with no index its
install.sh gives a working `wangtai` that answers a query. Slow (builds and installs every wheel): it runs
when WANGTAI_TEST_BUNDLE=1, which CI (.ci/run) sets."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.skipif(
        os.environ.get("WANGTAI_TEST_BUNDLE") != "1", reason="slow: set WANGTAI_TEST_BUNDLE=1 (CI does)"
    ),
]


def offline_env(**extra: str) -> dict[str, str]:
    """No index, no pip configuration, no local wheel folders: only what the bundle carries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and not k.startswith("WANGTAI_")}
    return {**env, "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, **extra}


def test_the_bundle_installs_and_runs_without_an_index(tmp_path: Path):
    built = subprocess.run(
        ["make", "bundle", f"PYTHON={sys.executable}"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stderr[-3000:]
    archive = REPO / "dist" / f"wangtai-bundle-{VERSION}.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "media", filter="data")
    bundle = tmp_path / "media" / f"wangtai-bundle-{VERSION}"
    assert (bundle / "install.sh").is_file() and any((bundle / "wheels").glob("duckdb-*.whl"))

    prefix = tmp_path / "opt" / "wangtai"
    python = shutil.which("python3.11") or sys._base_executable
    installed = subprocess.run(
        ["sh", str(bundle / "install.sh")],
        env=offline_env(PREFIX=str(prefix), PYTHON=python),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    shutil.rmtree(tmp_path / "media")  # the installation must not need the bundle any more

    wangtai = prefix / "venv" / "bin" / "wangtai"
    data = tmp_path / "data"
    run_env = offline_env(
        WANGTAI_CONFIG="", WANGTAI_NOW="2026-11-27T10:30:00", WANGTAI_SECRET_FILE=str(tmp_path / "key")
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(wangtai), "--data-dir", str(data), *args],
            cwd=tmp_path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    assert "serve" in run("--help") and "doctor" in run("--help")
    run("demo", "--residents", "2000")
    run("ingest")
    overview = json.loads(run("query", "overview", "--format", "json"))[0]
    assert overview["residents"] > 1500 and 0 < overview["newcomer_share"] < 1
