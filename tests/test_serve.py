"""The production start and what installs it: `wangtai serve` binds the configured address and refuses the
demo, login off and an empty user store; the systemd units start commands that exist; the nginx sample is
valid and carries HTTPS, WebSocket upgrade and sticky sessions; `make run` stays on localhost."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import psutil
import pytest
from deploy_helpers import copy_data, nginx_config, production_copy

from wangtai import e2e, logs, serve
from wangtai.auth.testing import make_user
from wangtai.cli import build_parser, main
from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "deploy" / "systemd"
NGINX = REPO / "deploy" / "nginx" / "wangtai.conf"


@pytest.fixture
def production(demo_paths: DataPaths, tmp_path: Path) -> DataPaths:
    paths = production_copy(demo_paths, tmp_path / "data")
    make_user(paths, "管理员")
    return paths


def refused(paths: DataPaths, capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(["--data-dir", str(paths.root), "serve"])
    return str(stopped.value.code)


def test_serve_refuses_the_demo(demo_paths: DataPaths, tmp_path, capsys):
    paths = copy_data(demo_paths, tmp_path / "demo")
    make_user(paths, "管理员")
    message = refused(paths, capsys)
    assert "拒绝启动" in message and "演示数据" in message and "make run" in message


def test_serve_refuses_login_off_and_no_users(demo_paths: DataPaths, tmp_path, monkeypatch, capsys):
    paths = production_copy(demo_paths, tmp_path / "data")
    message = refused(paths, capsys)
    assert "还没有任何用户" in message and "wangtai user add" in message
    make_user(paths, "管理员")
    monkeypatch.setenv("WANGTAI_AUTH", "off")
    assert "登录已关闭" in refused(paths, capsys)
    assert "serve refused" in logs.log_file(paths).read_text(encoding="utf-8")


def test_the_server_flags_follow_the_settings(production: DataPaths, monkeypatch):
    monkeypatch.setenv("WANGTAI_ADDRESS", "0.0.0.0")
    monkeypatch.setenv("WANGTAI_PORT", "8600")
    argv = serve.streamlit_argv()
    flags = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert argv[:2] == ["run", str(REPO / "dashboard.py")]
    assert flags["--server.address"] == "0.0.0.0" and flags["--server.port"] == "8600"
    assert flags["--server.headless"] == "true" and flags["--server.fileWatcherType"] == "none"
    assert serve.streamlit_argv(port=8602)[5] == "8602"
    env = serve.server_environment(production)
    assert (env["WANGTAI_AUTO_DEMO"], env["WANGTAI_DEMO_ACCOUNTS"]) == ("0", "0")


def test_serve_listens_on_the_configured_address_and_stops_cleanly(production: DataPaths, tmp_path: Path):
    port = e2e.free_port()
    config = tmp_path / "wangtai.toml"
    config.write_text(
        f'data_dir = "data"\naddress = "0.0.0.0"\nport = {port}\nlive_ingest = false\n', encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANGTAI_CONFIG": str(config)}
    env.pop("WANGTAI_DATA_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "wangtai", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_healthy(server, f"http://127.0.0.1:{port}")
        listening = {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.Process(server.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }
        assert ("0.0.0.0", port) in listening, listening
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err[-2000:]
    assert "leaked" not in err
    text = logs.log_file(production).read_text(encoding="utf-8")
    assert f"dashboard starting on 0.0.0.0:{port}" in text and "dashboard stopped" in text


def test_serve_ingests_before_anybody_opens_a_page(production: DataPaths, tmp_path: Path):
    """Issue 12 item 9: live ingest does not wait for a visitor (no page is ever requested here)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    archived = sorted((production.archive / "registrations").glob("*.parquet"))[0]
    table = pq.read_table(archived).slice(0, 20)
    table = table.set_column(0, "scan_id", pc.binary_join_element_wise("NOVISIT", table["scan_id"], ""))
    inbox = production.feed_inbox("registrations")
    pq.write_table(table, inbox / "no_visitor.parquet")
    port = e2e.free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANGTAI_CONFIG": "", "WANGTAI_PORT": str(port)}
    env.update({"WANGTAI_DATA_DIR": str(production.root), "WANGTAI_LIVE_INGEST": "1"})
    server = subprocess.Popen(
        [sys.executable, "-m", "wangtai", "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_healthy(server, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while (inbox / "no_visitor.parquet").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (inbox / "no_visitor.parquet").exists(), "the inbox file waited for a visitor"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert list((production.archive / "registrations").glob("*__no_visitor.parquet"))


def _wait_healthy(server: subprocess.Popen, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


# ---- systemd -------------------------------------------------------------------------------------------


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (keys may repeat, as Environment= does)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}: not a unit line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", [p.name for p in sorted(UNITS.glob("*.service"))])
def test_the_systemd_units_run_existing_commands_as_the_service_user(name: str):
    service = unit(UNITS / name)["Service"]
    assert service["User"] == ["wangtai"] and service["Group"] == ["wangtai"]
    assert service["Restart"] == ["on-failure"]
    assert service["UMask"] == ["0077"]
    argv = shlex.split(service["ExecStart"][0].replace("%i", "8502"))
    assert argv[0].endswith("/bin/wangtai")
    build_parser().parse_args(argv[1:])  # exits (fails the test) if the subcommand or a flag is unknown
    env = dict(item.split("=", 1) for item in service.get("Environment", []))
    assert env["WANGTAI_CONFIG"] == "/etc/wangtai/wangtai.toml"
    if "dashboard" in name:
        assert argv[1] == "serve" and env["WANGTAI_LIVE_INGEST"] == "0"  # the ingest service ingests
    else:
        assert argv[1:3] == ["ingest", "--watch"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_systemd_units_pass_systemd_analyze(tmp_path: Path):
    shim = tmp_path / "venv" / "bin" / "wangtai"  # the unit's ExecStart must exist and be executable
    shim.parent.mkdir(parents=True)
    shim.write_text("#!/bin/sh\n", encoding="utf-8")
    shim.chmod(0o755)
    for path in UNITS.glob("*.service"):
        text = path.read_text(encoding="utf-8").replace("/opt/wangtai/venv/bin/wangtai", str(shim))
        name = path.name.replace("@.service", "@8502.service")
        text = text.replace("WorkingDirectory=/opt/wangtai/app", f"WorkingDirectory={tmp_path}")
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert ".service" not in output, output  # no "Unknown key", no "Failed to parse …" on any unit


# ---- nginx and the sample settings ----------------------------------------------------------------------


def test_the_nginx_sample_has_https_websockets_and_sticky_sessions():
    text = NGINX.read_text(encoding="utf-8")
    active = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert re.search(r"listen\s+443\s+ssl", active) and "ssl_certificate " in active
    assert "return 301 https://" in active
    assert "proxy_set_header Upgrade $http_upgrade;" in active
    assert "proxy_set_header Connection $connection_upgrade;" in active
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in active
    upstream = re.search(r"upstream wangtai_dashboard \{(.*?)\}", active, re.S).group(1)
    assert "ip_hash;" in upstream and "server 127.0.0.1:8501;" in upstream


@pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("openssl"), reason="nginx not installed")
def test_the_nginx_sample_is_accepted_by_nginx(tmp_path: Path):
    config = nginx_config(tmp_path, https_port=e2e.free_port(), http_port=e2e.free_port(), upstream=8501)
    done = subprocess.run(["nginx", "-t", "-c", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_sample_settings_file_is_valid(monkeypatch):
    from wangtai import settings

    sample = REPO / "deploy" / "wangtai.toml"
    values = tomllib.loads(sample.read_text(encoding="utf-8"))
    assert set(values) <= set(settings.BY_KEY)
    monkeypatch.setenv("WANGTAI_CONFIG", str(sample))
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    assert settings.problems() == []
    assert settings.get("address") == "127.0.0.1" and settings.get("auth") == "local"
    assert settings.get("live_ingest") is False


def test_make_run_stays_on_localhost_and_make_serve_serves():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "localhost"

    def dry(target: str) -> str:
        return subprocess.run(
            ["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=30
        ).stdout

    run = dry("run")
    assert "streamlit run dashboard.py" in run and "--server.address" not in run
    served = dry("serve")
    assert "wangtai serve" in served and "simulate" not in served and "prepare" not in served
