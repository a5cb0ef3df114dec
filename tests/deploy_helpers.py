"""Shared by the deployment tests (serve, logs, backup, doctor; the browser one too): a copy of a data set,
the demo as production data, deploy/nginx/wangtai.conf in a throwaway nginx on local ports. (Not in conftest:
`from conftest import` is ambiguous once tests/browser/conftest.py is loaded.)"""

import os
import shutil
import subprocess
from pathlib import Path

from wangtai.paths import DataPaths

REPO = Path(__file__).resolve().parent.parent
NGINX = REPO / "deploy" / "nginx" / "wangtai.conf"


def copy_data(source: DataPaths, target_root: Path) -> DataPaths:
    shutil.copytree(source.root, target_root, dirs_exist_ok=True)
    return DataPaths(target_root)


def production_copy(demo_paths: DataPaths, root: Path) -> DataPaths:
    """The demo's warehouse as if it were real data: campaign.toml without ``demo = true``, no users."""
    shutil.copytree(demo_paths.root, root, dirs_exist_ok=True)
    paths = DataPaths(root)
    shutil.rmtree(paths.state / "auth", ignore_errors=True)  # no users yet: others' tests may have made some
    campaign = paths.reference / "campaign.toml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace("demo = true", ""), encoding="utf-8")
    return paths


def nginx_config(folder: Path, https_port: int, http_port: int, upstream: int) -> Path:
    """deploy/nginx/wangtai.conf in a throwaway nginx on local ports, with a self-signed certificate."""
    cert, key = folder / "wangtai.crt", folder / "wangtai.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = NGINX.read_text(encoding="utf-8")
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/nginx/ssl/wangtai.crt", str(cert)),
        ("/etc/nginx/ssl/wangtai.key", str(key)),
        ("server 127.0.0.1:8501;", f"server 127.0.0.1:{upstream};"),
        ("wangtai.example.gov.cn", "localhost"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = folder / "temp"
    temp.mkdir()
    main_conf = folder / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    main_conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n"
        f" fastcgi_temp_path {temp}/fcgi;\n uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n"
        f" include {folder}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return main_conf
