"""The production setup in a real browser: `wangtai serve` behind deploy/nginx/wangtai.conf (HTTPS, with a
self-signed certificate, on local ports). A login through the form works over nginx (the page's WebSocket
passes the proxy), survives a reload, and the session cookie is marked Secure."""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from deploy_helpers import nginx_config, production_copy

from wangtai import e2e
from wangtai.auth.testing import make_user
from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parents[2]
LOGIN_FORM = 'h1:has-text("智慧王台 · 登录")'

pytestmark = pytest.mark.skipif(
    not shutil.which("nginx") or not shutil.which("openssl"), reason="nginx or openssl not installed"
)


def _wait(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    import ssl

    context = ssl._create_unverified_context()  # the test's own self-signed certificate
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def behind_nginx(browser_data: DataPaths, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("deploy")
    paths = production_copy(browser_data, folder / "data")
    port, https_port = e2e.free_port(), e2e.free_port()
    config = folder / "wangtai.toml"
    config.write_text(
        f'data_dir = "data"\naddress = "127.0.0.1"\nport = {port}\nlive_ingest = false\n', encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANGTAI_CONFIG": str(config)}
    env.pop("WANGTAI_DATA_DIR", None)
    username, password = make_user(paths, "领导")
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "wangtai", "serve"], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    nginx = None
    try:
        _wait(f"http://127.0.0.1:{port}", server)
        nginx_conf = nginx_config(folder, https_port=https_port, http_port=e2e.free_port(), upstream=port)
        nginx = subprocess.Popen(["nginx", "-c", str(nginx_conf)], stderr=subprocess.PIPE, text=True)
        url = f"https://localhost:{https_port}"
        _wait(url, nginx)
        yield url, username, password
    finally:
        for process in (nginx, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM if process is server else signal.SIGQUIT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        log.close()
    # stopped after a browser session (so with its live-ingest thread): no nanobind "leaked" lines at exit
    stopped = (folder / "serve.log").read_text(encoding="utf-8")
    assert "dashboard stopped" in stopped and "leaked" not in stopped


def test_login_over_https_through_nginx_sets_a_secure_cookie(raw_browser, behind_nginx):
    url, username, password = behind_nginx
    context = raw_browser.new_context(ignore_https_errors=True, viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{url}/")
        e2e.wait_ready(page, LOGIN_FORM, timeout_ms=60_000)
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        e2e.wait_ready(page, 'h1:has-text("总览")', timeout_ms=60_000)  # drawn over the proxied WebSocket
        page.wait_for_function("document.cookie.includes('wangtai_session=')", timeout=10_000)
        cookie = next(c for c in context.cookies() if c["name"] == "wangtai_session")
        assert cookie["secure"] is True
        assert cookie["sameSite"] == "Strict"
        page.reload()
        e2e.wait_ready(page, 'h1:has-text("总览")', timeout_ms=60_000)
        assert page.locator(LOGIN_FORM).count() == 0
    finally:
        context.close()
